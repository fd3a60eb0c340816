"""Plan/apply on real tables that already hold data: every kind of change, including the
destructive and the refused ones. A refused plan must change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from cairn.errors import Conflict, Invalid
from cairn.runtime import Runtime
from cairn.schema import engine, service
from cairn.tenancy.service import Project
from tests.factories import apply_yaml, insert_rows

BLOG = """
collections:
  - name: authors
    fields:
      name: {type: text, required: true}
      email: {type: email, unique: true}
  - name: posts
    fields:
      title: {type: text, required: true, max_length: 200}
      body: {type: text}
      status: {type: select, values: [draft, published], default: draft}
      score: {type: number, min: 0}
      views: {type: integer, default: 0}
      published: {type: boolean, default: false}
      due: {type: date}
      posted_at: {type: datetime}
      meta: {type: json}
      tags: {type: select, values: [a, b, c], multiple: true}
      author: {type: relation, collection: authors, on_delete: restrict}
      reviewers: {type: relation, collection: authors, multiple: true}
    indexes: [{fields: [status, posted_at]}, {fields: [title]}]
    rules: {list: "", view: "", create: "@request.auth.id != ''", delete: null}
  - name: comments
    fields:
      post: {type: relation, collection: posts, on_delete: cascade, required: true}
      text: {type: text, required: true}
"""


def columns(runtime: Runtime, project: Project, table: str) -> dict[str, tuple[str, bool]]:
    with runtime.db.owner(project.id) as conn:
        rows = conn.execute(
            text(
                "SELECT column_name, data_type, udt_name, is_nullable = 'YES' "
                "FROM information_schema.columns WHERE table_schema = :s AND table_name = :t"
            ),
            {"s": project.schema_name, "t": table},
        ).all()
    return {r[0]: (r[1] if r[1] != "ARRAY" else r[2], r[3]) for r in rows}


def select_all(runtime: Runtime, project: Project, table: str, order: str = "id") -> list[Any]:
    with runtime.db.owner(project.id) as conn:
        return list(
            conn.execute(
                text(f'SELECT * FROM "{project.schema_name}"."{table}" ORDER BY {order}')
            ).mappings()
        )


def plan_actions(plan: Any) -> list[tuple[str, str | None]]:
    return [(s.action, s.subject) for s in plan.steps]


@pytest.fixture
def blog(runtime: Runtime, project: Project) -> Project:
    apply_yaml(runtime, project, BLOG)
    return project


def test_create_makes_typed_leakproof_columns(runtime: Runtime, blog: Project) -> None:
    posts = columns(runtime, blog, "posts")
    assert posts == {
        "id": ("uuid", False),
        "created_at": ("timestamp with time zone", False),
        "updated_at": ("timestamp with time zone", False),
        "version": ("bigint", False),
        "owner": ("uuid", True),
        "title": ("text", False),
        "body": ("text", True),
        "status": ("text", True),
        "score": ("double precision", True),
        "views": ("bigint", True),
        "published": ("boolean", True),
        "due": ("date", True),
        "posted_at": ("timestamp with time zone", True),
        "meta": ("jsonb", True),
        "tags": ("_text", True),
        "author": ("uuid", True),
        "reviewers": ("_uuid", True),
    }


def test_create_binds_each_table_to_its_project(runtime: Runtime, blog: Project) -> None:
    with runtime.db.owner(blog.id) as conn:
        tables = conn.execute(
            text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid), "
                "pg_get_userbyid(c.relowner) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :s AND c.relkind = 'r' ORDER BY 1"
            ),
            {"s": blog.schema_name},
        ).all()
    assert [tuple(t) for t in tables] == [
        (name, True, True, 1, runtime.db.owner_role) for name in ("authors", "comments", "posts")
    ]


def test_applying_the_same_definition_twice_is_a_no_op(runtime: Runtime, blog: Project) -> None:
    assert apply_yaml(runtime, blog, BLOG).empty
    assert apply_yaml(runtime, blog, BLOG, dry_run=True).empty


def test_export_reapplies_as_a_no_op(runtime: Runtime, blog: Project) -> None:
    from cairn.tenancy import project_file

    with runtime.db.tenant(blog.id) as conn:
        exported = project_file.dump({"collections": service.export_collections(conn, blog)})
    assert apply_yaml(runtime, blog, exported).empty
    assert exported.index("title:") < exported.index("body:") < exported.index("status:")


def test_dry_run_changes_nothing(runtime: Runtime, project: Project) -> None:
    plan = apply_yaml(runtime, project, BLOG, dry_run=True)
    assert plan_actions(plan)[:3] == [
        ("create_collection", None),
        ("create_collection", None),
        ("create_collection", None),
    ]
    assert columns(runtime, project, "posts") == {}
    with runtime.db.tenant(project.id) as conn:
        assert service.registered(conn, project) == {}


def test_relations_may_form_cycles_and_point_at_themselves(
    runtime: Runtime, project: Project
) -> None:
    apply_yaml(
        runtime,
        project,
        """
        collections:
          - name: people
            fields:
              team: {type: relation, collection: teams}
              mentor: {type: relation, collection: people, on_delete: set_null}
          - name: teams
            fields:
              lead: {type: relation, collection: people, on_delete: set_null}
        """,
    )
    assert columns(runtime, project, "people")["mentor"] == ("uuid", True)


def test_relation_to_an_unknown_collection_is_invalid(runtime: Runtime, project: Project) -> None:
    with pytest.raises(Invalid) as caught:
        apply_yaml(
            runtime,
            project,
            "collections: [{name: posts, fields: {author: {type: relation, collection: nobody}}}]",
        )
    assert "posts.fields.author.collection" in caught.value.errors
    assert columns(runtime, project, "posts") == {}


def _with(document: str, old: str, new: str) -> str:
    assert old in document
    return document.replace(old, new)


def test_add_optional_field_keeps_data(runtime: Runtime, blog: Project) -> None:
    insert_rows(runtime, blog, "authors", [{"name": "Ann"}])
    plan = apply_yaml(
        runtime,
        blog,
        _with(
            BLOG,
            "email: {type: email, unique: true}",
            "email: {type: email, unique: true}\n      bio: {type: text}",
        ),
    )
    assert plan_actions(plan) == [("add_field", "bio")]
    assert [(r["name"], r["bio"]) for r in select_all(runtime, blog, "authors")] == [("Ann", None)]


def test_add_required_field_without_default_to_rows_is_blocked(
    runtime: Runtime, blog: Project
) -> None:
    insert_rows(runtime, blog, "authors", [{"name": "Ann"}, {"name": "Bob"}])
    changed = _with(
        BLOG,
        "name: {type: text, required: true}",
        "name: {type: text, required: true}\n      country: {type: text, required: true}",
    )
    with pytest.raises(Conflict) as caught:
        apply_yaml(runtime, blog, changed, allow_destructive=True)
    step = caught.value.extra["plan"]["steps"][0]
    assert step["blocked"].startswith("2 existing record(s) would have no country")
    assert "country" not in columns(runtime, blog, "authors")
    # With a default the existing rows are filled.
    apply_yaml(
        runtime,
        blog,
        changed.replace(
            "country: {type: text, required: true}",
            "country: {type: text, required: true, default: NZ}",
        ),
    )
    assert {r["country"] for r in select_all(runtime, blog, "authors")} == {"NZ"}


def test_drop_field_is_destructive(runtime: Runtime, blog: Project) -> None:
    insert_rows(runtime, blog, "posts", [{"title": "t", "body": "kept?"}])
    without_body = _with(BLOG, "      body: {type: text}\n", "")
    with pytest.raises(Conflict, match="destructive"):
        apply_yaml(runtime, blog, without_body)
    assert "body" in columns(runtime, blog, "posts")
    plan = apply_yaml(runtime, blog, without_body, allow_destructive=True)
    assert plan_actions(plan) == [("drop_field", "body")]
    assert "1 value(s) lost" in plan.steps[0].summary
    assert "body" not in columns(runtime, blog, "posts")


def test_rename_with_a_hint_keeps_data_and_constraints(runtime: Runtime, blog: Project) -> None:
    insert_rows(runtime, blog, "authors", [{"name": "Ann", "email": "ann@example.com"}])
    renamed = _with(
        BLOG,
        "email: {type: email, unique: true}",
        "mail: {type: email, unique: true, renamed_from: email}",
    )
    plan = apply_yaml(runtime, blog, renamed)
    assert plan_actions(plan) == [("rename_field", "mail")]
    assert [r["mail"] for r in select_all(runtime, blog, "authors")] == ["ann@example.com"]
    assert apply_yaml(runtime, blog, renamed).empty  # the hint is harmless once applied
    with pytest.raises(IntegrityError, match="uq_authors_mail"):
        insert_rows(runtime, blog, "authors", [{"name": "Bob", "mail": "ann@example.com"}])
    # The renamed unique index can still be dropped by its new name.
    apply_yaml(runtime, blog, renamed.replace("unique: true, renamed_from: email", ""))
    insert_rows(runtime, blog, "authors", [{"name": "Bob", "mail": "ann@example.com"}])


def test_rename_from_a_field_that_does_not_exist_is_invalid(
    runtime: Runtime, blog: Project
) -> None:
    with pytest.raises(Invalid) as caught:
        apply_yaml(
            runtime,
            blog,
            _with(BLOG, "body: {type: text}", "body2: {type: text, renamed_from: nope}"),
        )
    assert "posts.fields.body2.renamed_from" in caught.value.errors


@pytest.mark.parametrize(
    ("old", "new", "rows", "outcome", "after"),
    [
        # widening: safe, data kept
        (
            "views: {type: integer, default: 0}",
            "views: {type: number, default: 0}",
            [{"views": 3}],
            "safe",
            [3.0],
        ),
        (
            "views: {type: integer, default: 0}",
            "views: {type: text}",
            [{"views": 3}],
            "safe",
            ["3"],
        ),
        ("due: {type: date}", "due: {type: datetime}", [{"due": "2024-05-01"}], "safe", None),
        ("body: {type: text}", "body: {type: json}", [{"body": "hi"}], "safe", ["hi"]),
        # narrowing: destructive, and blocked when the data does not fit
        (
            "score: {type: number, min: 0}",
            "score: {type: integer}",
            [{"score": 2.0}],
            "destructive",
            [2],
        ),
        (
            "score: {type: number, min: 0}",
            "score: {type: integer}",
            [{"score": 2.5}],
            "blocked",
            None,
        ),
        ("body: {type: text}", "body: {type: integer}", [{"body": "42"}], "destructive", [42]),
        ("body: {type: text}", "body: {type: integer}", [{"body": "forty"}], "blocked", None),
        ("body: {type: text}", "body: {type: email}", [{"body": "not an email"}], "blocked", None),
        (
            "posted_at: {type: datetime}",
            "posted_at: {type: date}",
            [{"posted_at": "2024-05-01T10:00:00Z"}],
            "destructive",
            None,
        ),
        (
            "tags: {type: select, values: [a, b, c], multiple: true}",
            "tags: {type: select, values: [a, b, c]}",
            [{"tags": ["a"]}],
            "destructive",
            ["a"],
        ),
        (
            "tags: {type: select, values: [a, b, c], multiple: true}",
            "tags: {type: select, values: [a, b, c]}",
            [{"tags": ["a", "b"]}],
            "blocked",
            None,
        ),
        (
            "status: {type: select, values: [draft, published], default: draft}",
            "status: {type: select, values: [draft, published], default: draft, multiple: true}",
            [{"status": "draft"}],
            "invalid",
            None,
        ),
    ],
)
def test_type_changes(
    runtime: Runtime,
    blog: Project,
    old: str,
    new: str,
    rows: list[dict[str, Any]],
    outcome: str,
    after: list[Any] | None,
) -> None:
    insert_rows(runtime, blog, "posts", [{"title": "t", **r} for r in rows])
    field = new.split(":")[0]
    before = columns(runtime, blog, "posts")[field]
    changed = _with(BLOG, old, new)
    if outcome == "invalid":
        with pytest.raises(Invalid):
            apply_yaml(runtime, blog, changed, allow_destructive=True)
    elif outcome == "blocked":
        with pytest.raises(Conflict, match="current data does not allow"):
            apply_yaml(runtime, blog, changed, allow_destructive=True)
    elif outcome == "destructive":
        with pytest.raises(Conflict, match="destructive"):
            apply_yaml(runtime, blog, changed)
        apply_yaml(runtime, blog, changed, allow_destructive=True)
    else:
        apply_yaml(runtime, blog, changed)
    if outcome in ("invalid", "blocked"):
        assert columns(runtime, blog, "posts")[field] == before
    else:
        assert columns(runtime, blog, "posts")[field] != before
        if after is not None:
            assert [r[field] for r in select_all(runtime, blog, "posts")] == after


def test_relation_cannot_change_type_or_target(runtime: Runtime, blog: Project) -> None:
    for new in ("author: {type: text}", "author: {type: relation, collection: posts}"):
        with pytest.raises(Invalid):
            apply_yaml(
                runtime,
                blog,
                _with(
                    BLOG, "author: {type: relation, collection: authors, on_delete: restrict}", new
                ),
                allow_destructive=True,
            )


def test_require_a_field_with_nulls_is_blocked(runtime: Runtime, blog: Project) -> None:
    insert_rows(runtime, blog, "posts", [{"title": "t", "body": None}])
    required = _with(BLOG, "body: {type: text}", "body: {type: text, required: true}")
    with pytest.raises(Conflict) as caught:
        apply_yaml(runtime, blog, required)
    assert caught.value.extra["plan"]["steps"][0]["blocked"] == "1 record(s) have no body"
    assert columns(runtime, blog, "posts")["body"] == ("text", True)
    with runtime.db.owner(blog.id) as conn:
        conn.execute(text(f"UPDATE \"{blog.schema_name}\".posts SET body = 'x'"))
    apply_yaml(runtime, blog, required)
    assert columns(runtime, blog, "posts")["body"] == ("text", False)


def test_unique_with_duplicates_is_blocked(runtime: Runtime, blog: Project) -> None:
    insert_rows(runtime, blog, "posts", [{"title": "same"}, {"title": "same"}])
    unique = _with(BLOG, "max_length: 200}", "max_length: 200, unique: true}")
    with pytest.raises(Conflict) as caught:
        apply_yaml(runtime, blog, unique)
    assert caught.value.extra["plan"]["steps"][0]["blocked"] == "2 record(s) share a value"
    with runtime.db.owner(blog.id) as conn:
        conn.execute(
            text(
                f'DELETE FROM "{blog.schema_name}".posts WHERE ctid IN '
                f'(SELECT ctid FROM "{blog.schema_name}".posts LIMIT 1)'
            )
        )
    apply_yaml(runtime, blog, unique)
    with pytest.raises(IntegrityError):
        insert_rows(runtime, blog, "posts", [{"title": "same"}])


def test_select_values(runtime: Runtime, blog: Project) -> None:
    insert_rows(runtime, blog, "posts", [{"title": "t", "status": "published"}])
    narrowed = _with(
        BLOG,
        "values: [draft, published], default: draft",
        "values: [draft, archived], default: draft",
    )
    with pytest.raises(Conflict, match="current data"):
        apply_yaml(runtime, blog, narrowed)
    widened = _with(
        BLOG,
        "values: [draft, published], default: draft",
        "values: [draft, published, archived], default: draft",
    )
    apply_yaml(runtime, blog, widened)
    insert_rows(runtime, blog, "posts", [{"title": "t", "status": "archived"}])
    with pytest.raises(IntegrityError):
        insert_rows(runtime, blog, "posts", [{"title": "t", "status": "bogus"}])


def test_indexes_add_and_drop(runtime: Runtime, blog: Project) -> None:
    changed = _with(
        BLOG,
        "indexes: [{fields: [status, posted_at]}, {fields: [title]}]",
        "indexes: [{fields: [status, posted_at]}, {fields: [views], unique: true}]",
    )
    plan = apply_yaml(runtime, blog, changed)
    assert sorted(plan_actions(plan)) == [
        ("add_index", "ux_posts_views"),
        ("drop_index", "ix_posts_title"),
    ]
    with runtime.db.owner(blog.id) as conn:
        names = set(
            conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE schemaname = :s"),
                {"s": blog.schema_name},
            ).scalars()
        )
    assert "ux_posts_views" in names and "ix_posts_title" not in names
    assert "ix_posts_status_posted_at" in names


def test_drop_collection_is_destructive_and_blocked_while_related(
    runtime: Runtime, blog: Project
) -> None:
    without_authors = (
        BLOG[: BLOG.index("  - name: authors")] + BLOG[BLOG.index("  - name: posts") :]
    )
    with pytest.raises(Invalid, match="refer to things that do not exist"):
        apply_yaml(runtime, blog, without_authors, allow_destructive=True)
    without_comments = BLOG[: BLOG.index("  - name: comments")]
    with pytest.raises(Conflict, match="destructive"):
        apply_yaml(runtime, blog, without_comments)
    plan = apply_yaml(runtime, blog, without_comments, allow_destructive=True)
    assert plan_actions(plan) == [("drop_collection", None)]
    assert columns(runtime, blog, "comments") == {}


def test_a_refused_plan_leaves_every_step_unapplied(runtime: Runtime, blog: Project) -> None:
    """A safe step next to a blocked one: nothing at all happens."""
    insert_rows(runtime, blog, "posts", [{"title": "t"}])
    changed = _with(
        BLOG,
        "body: {type: text}",
        "body: {type: text}\n      extra: {type: text}\n      must: {type: text, required: true}",
    )
    with pytest.raises(Conflict):
        apply_yaml(runtime, blog, changed, allow_destructive=True)
    assert "extra" not in columns(runtime, blog, "posts")


def test_changes_are_audited_and_bump_the_version(runtime: Runtime, blog: Project) -> None:
    with runtime.db.tenant(blog.id) as conn:
        before = service.get_collection(conn, blog, "posts").version
        authors = service.get_collection(conn, blog, "authors").version
    apply_yaml(runtime, blog, _with(BLOG, "delete: null}", 'delete: ""}'))
    with runtime.db.tenant(blog.id) as conn:
        assert service.get_collection(conn, blog, "posts").version > before
        assert service.get_collection(conn, blog, "authors").version == authors
        actions = conn.execute(text("SELECT action FROM cairn.audit_log")).scalars().all()
    assert actions.count("collections.applied") == 2


def test_rename_and_change_in_one_plan(runtime: Runtime, blog: Project) -> None:
    """Checks run against today's column name, the cast after the rename."""
    insert_rows(
        runtime, blog, "posts", [{"title": "t", "score": 4.0}, {"title": "u", "score": 5.0}]
    )
    changed = _with(
        BLOG,
        "score: {type: number, min: 0}",
        "points: {type: integer, required: true, unique: true, renamed_from: score}",
    )
    plan = apply_yaml(runtime, blog, changed, allow_destructive=True)
    assert [a for a, _ in plan_actions(plan)][:2] == ["rename_field", "alter_field"]
    assert sorted(r["points"] for r in select_all(runtime, blog, "posts")) == [4, 5]
    assert columns(runtime, blog, "posts")["points"] == ("bigint", False)


def _valid_indexes(runtime: Runtime, project: Project, table: str) -> set[str]:
    with runtime.db.owner(project.id) as conn:
        return set(
            conn.execute(
                text(
                    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE i.indrelid = CAST(:t AS regclass) AND i.indisvalid"
                ),
                {"t": f'"{project.schema_name}"."{table}"'},
            ).scalars()
        )


def test_indexes_on_large_tables_are_built_concurrently_after_the_commit(
    runtime: Runtime, blog: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    insert_rows(runtime, blog, "posts", [{"title": f"t{i}"} for i in range(20)])
    with runtime.db.owner(blog.id) as conn:
        conn.execute(text(f'ANALYZE "{blog.schema_name}".posts'))
    monkeypatch.setattr(engine, "CONCURRENT_INDEX_ROWS", 10)
    changed = _with(
        BLOG,
        "indexes: [{fields: [status, posted_at]}, {fields: [title]}]",
        "indexes: [{fields: [status, posted_at]}, {fields: [title]}, {fields: [views]}]",
    )
    plan = apply_yaml(runtime, blog, changed)
    [step] = plan.steps
    assert step.concurrent and "built concurrently" in step.summary
    assert step.to_dict()["concurrent"] is True
    assert "ix_posts_views" not in _valid_indexes(runtime, blog, "posts")  # not yet
    with runtime.db.owner_autocommit() as conn:
        service.build_concurrently(conn, blog, plan)
    assert "ix_posts_views" in _valid_indexes(runtime, blog, "posts")


def test_a_missing_index_is_planned_again(runtime: Runtime, blog: Project) -> None:
    """The plan is diffed against the live table too: an index lost to an interrupted
    concurrent build (or dropped by hand) comes back on the next apply."""
    with runtime.db.owner(blog.id) as conn:
        conn.execute(text(f'DROP INDEX "{blog.schema_name}".ix_posts_title'))
        conn.execute(text(f'DROP INDEX "{blog.schema_name}".ix_posts_author'))
    plan = apply_yaml(runtime, blog, BLOG)
    assert sorted(s.subject or "" for s in plan.steps) == ["ix_posts_author", "ix_posts_title"]
    assert {"ix_posts_title", "ix_posts_author"} <= _valid_indexes(runtime, blog, "posts")
    assert apply_yaml(runtime, blog, BLOG).empty
