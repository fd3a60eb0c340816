from __future__ import annotations

import pytest
from sqlalchemy import text

from cairn.errors import Conflict, Invalid, NotFound
from cairn.runtime import Runtime
from cairn.tenancy import service
from tests.factories import make_key, make_project, unique_slug


def test_create_gives_the_project_its_own_schema(runtime: Runtime) -> None:
    slug = unique_slug()
    project = make_project(runtime, slug, name="Shop")
    assert (project.slug, project.name) == (slug, "Shop")
    assert project.schema_name == f"prj_{project.id.hex}"
    with runtime.db.owner() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"),
                {"s": project.schema_name},
            ).scalar()
            == 1
        )


def test_name_defaults_to_slug(runtime: Runtime) -> None:
    project = make_project(runtime)
    assert project.name == project.slug


@pytest.mark.parametrize(
    "slug",
    ["", "a", "A-shop", "1shop", "-shop", "shop_1", "shop.1", "shöp", "x" * 64, "sh op", "'; --"],
)
def test_bad_slugs_are_refused_and_nothing_is_created(runtime: Runtime, slug: str) -> None:
    with runtime.db.unscoped() as conn:
        before = len(service.list_projects(conn))
    with pytest.raises(Invalid) as caught:
        make_project(runtime, slug)
    assert "slug" in caught.value.errors
    with runtime.db.unscoped() as conn:
        assert len(service.list_projects(conn)) == before


@pytest.mark.parametrize("slug", ["ab", "shop", "my-shop-2", "a" + "b" * 62])
def test_good_slugs(runtime: Runtime, slug: str) -> None:
    # The session database is new for every run and other tests use `t-…` slugs.
    assert make_project(runtime, slug).slug == slug


def test_duplicate_slug_is_a_conflict_and_creates_no_schema(runtime: Runtime) -> None:
    project = make_project(runtime)
    with runtime.db.owner() as conn:
        schemas_before = conn.execute(
            text("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'prj_%'")
        ).scalar()
    with pytest.raises(Conflict, match="already exists"):
        make_project(runtime, project.slug)
    with runtime.db.owner() as conn:
        schemas_after = conn.execute(
            text("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'prj_%'")
        ).scalar()
    assert schemas_after == schemas_before


def test_get_and_list(runtime: Runtime) -> None:
    a, b = make_project(runtime), make_project(runtime)
    with runtime.db.unscoped() as conn:
        assert service.get_project(conn, a.slug) == a
        slugs = [p.slug for p in service.list_projects(conn)]
    assert {a.slug, b.slug} <= set(slugs)
    assert slugs == sorted(slugs)


@pytest.mark.parametrize("slug", ["nope-not-here", "BAD SLUG", ""])
def test_get_unknown_is_not_found(runtime: Runtime, slug: str) -> None:
    with runtime.db.unscoped() as conn, pytest.raises(NotFound):
        service.get_project(conn, slug)


def test_delete_drops_schema_and_every_row_of_the_project(runtime: Runtime) -> None:
    doomed, kept = make_project(runtime), make_project(runtime)
    make_key(runtime, doomed)
    make_key(runtime, kept)
    with runtime.db.owner() as conn:
        service.delete_project(conn, doomed.slug)
    with runtime.db.owner() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"),
                {"s": doomed.schema_name},
            ).scalar()
            == 0
        )
    with runtime.db.tenant(doomed.id) as conn:
        for table in ("api_keys", "audit_log"):
            assert conn.execute(text(f"SELECT count(*) FROM cairn.{table}")).scalar() == 0
    with runtime.db.tenant(kept.id) as conn:
        assert conn.execute(text("SELECT count(*) FROM cairn.api_keys")).scalar() == 1
    with runtime.db.unscoped() as conn, pytest.raises(NotFound):
        service.get_project(conn, doomed.slug)


def test_delete_unknown_is_not_found(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        with runtime.db.owner() as conn:
            service.delete_project(conn, unique_slug())
