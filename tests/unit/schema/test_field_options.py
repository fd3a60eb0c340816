"""`field_options`: what each field type may declare, as the admin UI's editor shows it."""

from __future__ import annotations

import pytest

from cairn.errors import Invalid
from cairn.schema.definitions import FIELD_TYPES, field_options, load_collection


def test_every_type_has_its_options() -> None:
    assert field_options("text") >= {"type", "required", "max_length", "pattern"}
    assert "values" in field_options("select") and "values" not in field_options("text")
    assert {"collection", "on_delete"} <= field_options("relation")
    assert "default" not in field_options("relation")
    assert "unique" not in field_options("boolean") | field_options("json")


@pytest.mark.parametrize("kind", FIELD_TYPES)
def test_an_option_outside_the_list_is_refused(kind: str) -> None:
    extra = next(o for o in ("values", "min", "pattern") if o not in field_options(kind))
    with pytest.raises(Invalid) as caught:
        load_collection({"name": "c", "fields": {"f": {"type": kind, extra: 1}}})
    assert f"fields.f.{extra}" in caught.value.errors
