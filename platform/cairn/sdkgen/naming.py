"""Python names for a project's collections and fields, collision-free and stable.

Collection `blog_posts` gives the record class `BlogPost` (the last word made singular), its
`BlogPostCreate` / `BlogPostUpdate` / `BlogPostExpand` TypedDicts, `BlogPostSortKey` and
`BlogPostExpandKey` literals, the resources `BlogPostsResource` / `AsyncBlogPostsResource`
and the client attribute `client.blog_posts`. A field keeps its name as a Python attribute
unless that name is a keyword or would shadow a name the generated code relies on; then an
underscore is appended (`class` → `class_`). The JSON keys (TypedDict keys, request bodies)
always keep the API's names.

Names are handed out by `Names` in a fixed order (collections sorted by name, fields in
document order): a name already taken moves a collection to its next candidate
(`BlogPost` → `BlogPosts` → `BlogPostsRecord` → `BlogPostsRecord2` …), so regenerating an
unchanged schema always gives the same names.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable

from cairn.openapi.document import pascal

# Names every generated module may define or import at module level.
FIXED_NAMES = frozenset(
    {
        # models.py
        "NOT_GIVEN",
        "NotGiven",
        "Any",
        "Literal",
        "NotRequired",
        "TypeAlias",
        "TypedDict",
        "Mapping",
        "Sequence",
        "Callable",
        "TypeVar",
        "Self",
        # resources.py
        "CollectionResource",
        "AsyncCollectionResource",
        "Page",
        "AsyncPage",
        # __init__.py
        "Client",
        "AsyncClient",
        # filters.py (cairn_sdk.filters)
        "AUTH_ID",
        "NOW",
        "BoolField",
        "DateField",
        "DateTimeField",
        "EqualityField",
        "Expr",
        "Field",
        "HasId",
        "IdField",
        "JsonField",
        "Macro",
        "MultiRelationField",
        "MultiSelectField",
        "RelationField",
        "SelectField",
        "TextField",
    }
)

# Builtins the generated class bodies use in annotations.
_ANNOTATION_BUILTINS = frozenset({"str", "int", "float", "bool", "tuple", "list", "dict", "object"})

# Field attributes that would shadow what a generated class body or method relies on:
# builtins used in annotations, the record's `from_dict`, and the methods' own parameters.
_FIELD_RESERVED = _ANNOTATION_BUILTINS | frozenset(
    {
        "isinstance",
        "from_dict",
        "self",
        "cls",
        "if_match",
        "idempotency_key",
        "expand",
    }
)

# Client attributes of the runtime (cairn_sdk.Client / AsyncClient) and what the generated
# client class body uses; a collection with such a name gets `name_` on the client.
CLIENT_RESERVED = frozenset(
    {
        "aclose",
        "api_key",
        "auth",
        "base_url",
        "batch",
        "close",
        "collection",
        "copy",
        "credential",
        "functools",
        "get_page",
        "http_client",
        "max_retries",
        "project",
        "project_url",
        "request",
        "timeout",
        "token",
        "with_options",
    }
)

_IRREGULAR = {
    "people": "person",
    "children": "child",
    "men": "man",
    "women": "woman",
    "news": "news",
    "series": "series",
    "species": "species",
}


def singular(word: str) -> str:
    """A plural English word made singular, by the common rules only (`posts` → `post`,
    `categories` → `category`, `boxes` → `box`); anything else stays as it is."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]
    if len(word) > 1 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def singular_pascal(collection: str) -> str:
    """`blog_posts` → `BlogPost`: the collection's last word made singular."""
    head, _, last = collection.rpartition("_")
    word = singular(last)
    if not word or not word[0].isalpha():
        return pascal(collection)
    return pascal(f"{head}_{word}" if head else word)


def attribute(name: str, taken: Iterable[str] = (), reserved: Iterable[str] = ()) -> str:
    """`name` as a Python attribute: with `_` appended while it is a keyword, reserved or
    already taken."""
    avoid = set(taken) | set(reserved)
    out = name
    while keyword.iskeyword(out) or out in avoid:
        out += "_"
    return out


def field_attribute(name: str, taken: Iterable[str]) -> str:
    """A field's attribute on records, inputs and filter classes."""
    return attribute(name, taken, _FIELD_RESERVED)


def client_attribute(name: str, taken: Iterable[str]) -> str:
    """A collection's attribute on the generated client (`client.posts`)."""
    return attribute(name, taken, CLIENT_RESERVED)


def needs_functional_typeddict(keys: Iterable[str]) -> bool:
    """Whether TypedDict class syntax cannot hold these keys (a keyword, or a name that
    would shadow a builtin used in its annotations)."""
    return any(keyword.iskeyword(k) or k in _ANNOTATION_BUILTINS for k in keys)


class Names:
    """Hands out module-level names, each once."""

    def __init__(self, taken: Iterable[str] = FIXED_NAMES) -> None:
        self.taken: set[str] = set(taken)

    def claim_group(self, candidates: Iterable[str], derive: dict[str, str]) -> str:
        """The first candidate base for which every derived name (`derive` maps a key to a
        format such as `"{}Create"`) is free; claims them all and returns the base."""
        for base in _numbered(candidates):
            names = {fmt.format(base) for fmt in derive.values()}
            if len(names) == len(derive) and not names & self.taken:
                self.taken |= names
                return base
        raise AssertionError("unreachable: numbered candidates never run out")

    def claim(self, candidates: Iterable[str]) -> str:
        """The first free name among `candidates` (then numbered variants of the last)."""
        for name in _numbered(candidates):
            if name not in self.taken:
                self.taken.add(name)
                return name
        raise AssertionError("unreachable: numbered candidates never run out")


def _numbered(candidates: Iterable[str]) -> Iterable[str]:
    last = ""
    for name in candidates:
        last = name
        yield name
    n = 2
    while True:
        yield f"{last}{n}"
        n += 1
