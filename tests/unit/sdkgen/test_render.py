"""The generator without a server: documents built in memory (the server's own OpenAPI
builder) rendered into packages. Checks the model read from the document, stable and
collision-free names, byte-identical output, and that awkward schemas (Python keywords,
names that shadow builtins or each other, odd select values, long names) still give a
package that imports, passes `mypy --strict`, `ruff check` and `ruff format --check`."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import cairn_sdk
from cairn.errors import Invalid
from cairn.openapi.document import build_document
from cairn.records.collection import Collection, build
from cairn.schema.definitions import load_collection
from cairn.sdkgen import default_package, generate, model, naming, write
from cairn.sdkgen.model import DocumentError
from cairn.sdkgen.pycode import Doc, string
from cairn.tenancy.service import Project

PROJECT = Project(uuid.uuid4(), "shop", "Shop", "prj_test", datetime(2024, 1, 1, tzinfo=UTC))
BIN = Path(sys.executable).parent
RUNTIME_ROOT = str(Path(cairn_sdk.__file__).parent.parent)

SHOP: dict[str, dict[str, Any]] = {
    "authors": {"name": {"type": "text", "required": True}},
    "posts": {
        "title": {"type": "text", "required": True, "min_length": 2, "max_length": 200},
        "status": {"type": "select", "values": ["draft", "published"], "default": "draft"},
        "tags": {"type": "select", "values": ["a", "b"], "multiple": True},
        "score": {"type": "number", "min": 0},
        "due": {"type": "date"},
        "author": {"type": "relation", "collection": "authors"},
        "readers": {"type": "relation", "collection": "authors", "multiple": True},
        "meta": {"type": "json"},
    },
}

LONG = "a_rather_long_field_name_for_wrapping"
# Everything awkward at once.
AWKWARD: dict[str, dict[str, Any]] = {
    # `post`, `posts` and `post_create` all want the class name `Post…`.
    "post": {"title": {"type": "text"}},
    "posts": {
        "class": {"type": "text", "required": True},
        "import": {"type": "select", "values": ["x"], "multiple": True},
        "str": {"type": "integer"},
        "list": {"type": "select", "values": ['say "hi"', "it's", "back\\slash", "é\n", "a"]},
        "date": {"type": "date", "required": True},
        "datetime": {"type": "datetime"},
        "type": {"type": "boolean"},
        "self": {"type": "number"},
        "if_match": {"type": "text"},
        "idempotency_key": {"type": "text"},
        "from_dict": {"type": "text"},
        "isinstance": {"type": "text"},
        "none": {"type": "json", "required": True},
        "sort_key": {"type": "select", "values": ["c"]},
        "post": {"type": "relation", "collection": "post"},
        "parent": {"type": "relation", "collection": "posts"},
        "elsewhere": {"type": "relation", "collection": "gone"},
        LONG: {"type": "select", "values": ["one", "two"]},
        LONG + "_2": {"type": "datetime", "required": True},
        LONG + "_3": {"type": "relation", "collection": "post_create", "multiple": True},
    },
    "post_create": {"x": {"type": "text"}},
    # Collection names that clash with the runtime and the generated modules.
    "client": {"request": {"type": "text"}},
    "auth": {},
    "literal": {"text_fields": {"type": "text"}},
    "text_fields": {},
    "async_posts": {},
    "class": {"lambda": {"type": "relation", "collection": "class"}},
    "a_collection_with_a_fairly_long_name_too": {
        LONG: {"type": "relation", "collection": "a_collection_with_a_fairly_long_name_too"}
    },
}


def collection(name: str, fields: dict[str, Any], version: int = 1) -> Collection:
    return build(PROJECT, load_collection({"name": name, "fields": fields}), version)


def document(schema: dict[str, dict[str, Any]]) -> dict[str, Any]:
    built = [collection(name, fields) for name, fields in schema.items()]
    loaded: dict[str, Any] = json.loads(json.dumps(build_document(PROJECT, built), default=str))
    return loaded


def run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture
def imported(tmp_path: Path) -> Iterator[Path]:
    """`tmp_path` on sys.path; packages imported from it are forgotten afterwards."""
    before = set(sys.modules)
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in set(sys.modules) - before:
        del sys.modules[name]


# -- the model ----------------------------------------------------------------------------


def test_model_recovers_types_relations_and_names() -> None:
    sdk = model.read(document(SHOP), project="shop", package="shop_sdk")
    assert [c.name for c in sdk.collections] == ["authors", "posts"]
    posts = sdk.collections[1]
    assert (posts.record, posts.create, posts.update, posts.expand) == (
        "Post",
        "PostCreate",
        "PostUpdate",
        "PostExpand",
    )
    assert (posts.resource, posts.async_resource, posts.attr) == (
        "PostsResource",
        "AsyncPostsResource",
        "posts",
    )
    by_name = {f.name: f for f in posts.fields}
    assert [f.name for f in posts.fields] == [
        "id", "created_at", "updated_at", "version", "owner",
        "title", "status", "tags", "score", "due", "author", "readers", "meta",
    ]  # fmt: skip
    assert [(f.kind, f.system) for f in posts.fields[:5]] == [
        ("id", True), ("datetime", True), ("datetime", True), ("integer", True), ("id", True),
    ]  # fmt: skip
    title = by_name["title"]
    assert (title.kind, title.required, title.nullable, title.input_nullable) == (
        "text", True, False, False,
    )  # fmt: skip
    assert title.limits == ("2 to 200 characters",)
    status = by_name["status"]
    assert (status.kind, status.values, status.default, status.alias) == (
        "select", ("draft", "published"), "draft", "PostStatus",
    )  # fmt: skip
    assert (by_name["tags"].kind, by_name["tags"].multiple) == ("select", True)
    assert by_name["score"].limits == ("at least 0",)
    assert (by_name["author"].target, by_name["author"].target_record) == ("authors", "Author")
    assert by_name["readers"].multiple and by_name["readers"].target == "authors"
    assert by_name["meta"].kind == "json" and not by_name["meta"].sortable
    assert sdk.version.startswith("0.1.0+")
    assert sdk.collections[0].expand is None  # authors have no relations


def test_names_are_collision_free() -> None:
    sdk = model.read(document(AWKWARD), project="shop", package="shop_sdk")
    colls = {c.name: c for c in sdk.collections}
    assert colls["post"].record == "Post"
    assert colls["post_create"].record == "PostCreateRecord"  # PostCreate: post's input
    assert colls["posts"].record == "Posts"  # Post is taken by `post`
    # Collections claim names in name order: `async_posts` took `AsyncPostsResource`.
    assert colls["async_posts"].resource == "AsyncPostsResource"
    assert colls["posts"].async_resource == "AsyncPostsRecordsResource"
    assert colls["literal"].record == "LiteralRecord" or colls["literal"].record != "Literal"
    assert colls["text_fields"].record == "TextFields"
    assert colls["client"].attr == "client" and colls["auth"].attr == "auth_"
    assert colls["class"].attr == "class_"
    attrs = {f.name: f.attr for f in colls["posts"].fields}
    assert attrs["class"] == "class_" and attrs["import"] == "import_" and attrs["str"] == "str_"
    assert attrs["self"] == "self_" and attrs["if_match"] == "if_match_"
    assert attrs["date"] == "date" and attrs["type"] == "type" and attrs["none"] == "none"
    names: list[str] = []
    for coll in sdk.collections:
        names += [coll.record, coll.create, coll.update, coll.sort_key, coll.resource]
        names += [coll.async_resource, *(f.alias for f in coll.fields if f.alias)]
        names += [n for n in (coll.expand, coll.expand_key) if n]
    assert len(names) == len(set(names))
    assert not set(names) & naming.FIXED_NAMES


@pytest.mark.parametrize(
    ("plural", "singular"),
    [
        ("posts", "post"),
        ("categories", "category"),
        ("boxes", "box"),
        ("classes", "class"),
        ("status", "status"),
        ("analysis", "analysis"),
        ("people", "person"),
        ("news", "news"),
        ("data", "data"),
        ("s", "s"),
    ],
)
def test_singular(plural: str, singular: str) -> None:
    assert naming.singular(plural) == singular


def test_singular_pascal() -> None:
    assert naming.singular_pascal("blog_posts") == "BlogPost"
    assert naming.singular_pascal("v_2") == "V_2"
    assert naming.singular_pascal("a") == "A"


def test_document_errors() -> None:
    with pytest.raises(DocumentError):
        model.read({"swagger": "2.0"}, project="shop", package="p")
    broken = document(SHOP)
    del broken["components"]["schemas"]["PostsRecord"]
    with pytest.raises(DocumentError, match="PostsRecord"):
        model.read(broken, project="shop", package="p")
    bad_version = document(SHOP)
    bad_version["info"]["version"] = "1\n# injected"
    with pytest.raises(DocumentError, match="version"):
        model.read(bad_version, project="shop", package="p")
    with pytest.raises(Invalid):
        generate(document(SHOP), project="shop", package="Not-A-Package")
    with pytest.raises(Invalid):
        generate(document(SHOP), project="shop", package="cairn_sdk")
    assert default_package("my-shop") == "my_shop_sdk"


# -- rendering ----------------------------------------------------------------------------


def test_output_is_stable() -> None:
    doc = document(SHOP)
    files = generate(doc, project="shop", package="shop_sdk")
    assert generate(json.loads(json.dumps(doc)), project="shop", package="shop_sdk") == files
    # The document's key order for collections does not matter; its field order does.
    reordered = document(dict(reversed(SHOP.items())))
    assert generate(reordered, project="shop", package="shop_sdk") == files
    version = doc["info"]["version"]
    for path, text in files.items():
        if path.endswith(".py") or path.endswith(".toml"):
            assert text.splitlines()[:3] == [
                "# Generated by `cairn sdk generate`: do not edit, regenerate instead.",
                "# Command: cairn sdk generate --project shop --package shop_sdk",
                f"# OpenAPI document version: {version}",
            ], path
            assert text.endswith("\n") and not text.endswith("\n\n")
    assert files["shop_sdk/py.typed"] == ""
    # A new version of one definition changes the version, hence every header.
    changed = [collection("authors", SHOP["authors"], 2), collection("posts", SHOP["posts"])]
    other = json.loads(json.dumps(build_document(PROJECT, changed), default=str))
    assert generate(other, project="shop", package="shop_sdk") != files


def test_write_skips_identical_files(tmp_path: Path) -> None:
    files = generate(document(SHOP), project="shop", package="shop_sdk")
    assert len(write(files, tmp_path)) == len(files)
    assert write(files, tmp_path) == []
    (tmp_path / "shop_sdk" / "models.py").write_text("# edited\n")
    assert write(files, tmp_path) == [tmp_path / "shop_sdk" / "models.py"]


def test_docstrings_and_literals_are_safe() -> None:
    assert string('say "hi"') == "'say \"hi\"'"
    assert string("it's") == '"it\'s"'
    assert string("a\\b\n\x01é") == '"a\\\\b\\n\\x01é"'
    assert eval(string("x\"'\\\n\t\u2028")) == "x\"'\\\n\t\u2028"  # noqa: S307
    awkward = 'a """ triple, a \\ slash, and a quote at the end"'
    for prose in (awkward, awkward * 5):
        text = "\n".join(Doc().para(prose).lines("    "))
        namespace: dict[str, Any] = {}
        exec(compile(f"def f():\n{text}\n", "<doc>", "exec"), namespace)  # noqa: S102
        assert " ".join(namespace["f"].__doc__.split()) == " ".join(prose.split())


def test_awkward_schema_gives_a_clean_typed_package(imported: Path) -> None:
    files = generate(document(AWKWARD), project="shop", package="awkward_sdk")
    write(files, imported)
    package = imported / "awkward_sdk"

    ruff = str(BIN / "ruff")
    checked = run(
        ruff, "check", "--isolated", "--target-version", "py311",
        "--select", "E,F,W,I,B,UP,S,SIM,RUF", "--output-format", "concise", ".",
        cwd=imported,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = run(ruff, "format", "--isolated", "--check", "--diff", ".", cwd=imported)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    config = imported / "mypy.ini"
    config.write_text(f"[mypy]\nmypy_path = {RUNTIME_ROOT}\n")
    typed = run(
        str(BIN / "mypy"), "--strict", "--config-file", str(config),
        "--cache-dir", str(imported / ".mypy-cache"), str(package),
        cwd=imported,
    )  # fmt: skip
    assert typed.returncode == 0, typed.stdout + typed.stderr

    sdk: Any = importlib.import_module("awkward_sdk")
    models: Any = importlib.import_module("awkward_sdk.models")
    filters: Any = importlib.import_module("awkward_sdk.filters")
    posts = models.Posts
    assert models.PostsCreate.__required_keys__ == {"class", "date", "none", LONG + "_2"}
    assert models.PostsList.__args__ == ('say "hi"', "it's", "back\\slash", "é\n", "a")
    assert str(filters.Posts.class_.eq("x")) == 'class = "x"'
    assert str(filters.Posts.list_.eq('say "hi"')) == 'list = "say \\"hi\\""'
    record = posts.from_dict(
        {
            "id": "i", "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
            "version": 1, "owner": None, "class": "c", "date": "2024-02-03", "none": [1],
            LONG + "_2": "2024-01-01T10:00:00+02:00", "import": ["x"], "unknown": 1,
            "expand": {"post": None, "elsewhere": {"any": "object"}},
        }
    )  # fmt: skip
    assert record.class_ == "c" and record.date.isoformat() == "2024-02-03"
    assert record.import_ == ("x",) and record.str_ is None and record.none == [1]
    assert record.expand == {"post": None, "elsewhere": {"any": "object"}}
    assert issubclass(sdk.Client, cairn_sdk.Client)
    assert "auth_" in vars(sdk.Client) and "client" in vars(sdk.Client)


def test_client_reserved_names_cover_the_runtime() -> None:
    """Every public attribute of the runtime clients is reserved: a collection named like
    one gets `name_` on the generated client instead of hiding it."""
    public: set[str] = set()
    for cls in (cairn_sdk.Client, cairn_sdk.AsyncClient):
        public |= {n for n in dir(cls) if not n.startswith("_")}
        public |= set(getattr(cls, "__annotations__", {}))
    client = cairn_sdk.Client("http://localhost", "shop")
    public |= {n for n in vars(client) if not n.startswith("_")}
    client.close()
    missing = {n for n in public if re.fullmatch(r"[a-z][a-z0-9_]*", n)} - naming.CLIENT_RESERVED
    assert not missing
