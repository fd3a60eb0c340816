from pathlib import Path

import pytest

from cairn.config import load_settings, resolve_secret_key
from cairn.errors import ConfigError

GOOD_KEY = "k" * 40


def test_defaults_mean_embedded_everything() -> None:
    settings = load_settings({})
    assert settings.embedded_database and settings.embedded_redis
    assert settings.port == 8090
    assert settings.data_dir == Path("cairn_data")
    assert settings.mode == "postgres=embedded redis=embedded"


def test_values_are_typed_and_normalised() -> None:
    settings = load_settings(
        {
            "CAIRN_PORT": "9000",
            "CAIRN_LOG_LEVEL": "debug",
            "CAIRN_DATABASE_URL": "postgresql://u:p@db:5432/cairn",
            "CAIRN_REDIS_URL": "redis://cache:6379/0",
            "CAIRN_TENANT_CONTEXT": "SET_LOCAL",
            "CAIRN_HOST": "",  # empty means unset
        }
    )
    assert settings.port == 9000
    assert settings.log_level == "DEBUG"
    assert settings.tenant_context == "set_local"
    assert settings.host == "127.0.0.1"
    assert settings.mode == "postgres=external redis=external"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CAIRN_PORT", "eighty", "CAIRN_PORT: Not a valid integer."),
        ("CAIRN_PORT", "70000", "CAIRN_PORT: Must be greater than or equal to 1"),
        ("CAIRN_LOG_LEVEL", "loud", "CAIRN_LOG_LEVEL: Must be one of"),
        ("CAIRN_DATABASE_URL", "mysql://x/y", "CAIRN_DATABASE_URL: must be a URL starting"),
        ("CAIRN_REDIS_URL", "localhost:6379", "CAIRN_REDIS_URL: must be a URL starting"),
        ("CAIRN_SECRET_KEY", "short", "CAIRN_SECRET_KEY: must be at least 32 characters"),
        ("CAIRN_DB_APP_ROLE", "App-Role", "CAIRN_DB_APP_ROLE: must be a lower-case SQL"),
        ("CAIRN_MAX_BODY_BYTES", "10", "CAIRN_MAX_BODY_BYTES: Must be greater than or equal"),
        ("CAIRN_TENANT_CONTEXT", "guess", "CAIRN_TENANT_CONTEXT: Must be one of"),
        ("CAIRN_WEB_WORKERS", "0", "CAIRN_WEB_WORKERS: Must be greater than or equal to 1"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({variable: value})
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_bad_value_message_never_echoes_a_secret() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"CAIRN_SECRET_KEY": "hunter2"})
    assert "hunter2" not in str(caught.value)


def test_embedded_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings({"CAIRN_DATA_DIR": str(tmp_path / "data")})
    first = resolve_secret_key(settings).secret_key
    second = resolve_secret_key(settings).secret_key
    assert first is not None and len(first) >= 32
    assert first == second
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_explicit_secret_key_wins(tmp_path: Path) -> None:
    settings = load_settings({"CAIRN_DATA_DIR": str(tmp_path), "CAIRN_SECRET_KEY": GOOD_KEY})
    assert resolve_secret_key(settings).secret_key == GOOD_KEY
    assert not (tmp_path / "secret_key").exists()


def test_external_database_requires_a_secret_key() -> None:
    settings = load_settings({"CAIRN_DATABASE_URL": "postgresql://db/cairn"})
    with pytest.raises(ConfigError, match=r"^CAIRN_SECRET_KEY: required"):
        resolve_secret_key(settings)
