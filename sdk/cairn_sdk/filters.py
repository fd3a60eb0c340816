"""Typed filters: build the API's filter language from Python, checked by mypy.

A generated SDK declares one class of fields per collection (`filters.Post.score`, a
`Field[float]`); comparing a field with a value gives an `Expr`, and `&` (and), `|` (or) and
`~` (not) combine them. `str(expr)` is the filter text the API reads, and every `list()`
takes an `Expr` where it takes a filter string:

    from shop_sdk.filters import Post

    published = Post.status.eq("published") & (Post.score >= 10)
    str(published)  # 'status = "published" && score >= 10'
    client.posts.list(filter=published | Post.title.contains("news"))

Mind Python's operator precedence: `&`, `|` and `~` bind tighter than `==`, `>=` and the
other comparisons, so comparisons joined with `&` or `|` must be parenthesised, or written
with the methods `.eq()`, `.ne()`, `.gt()`, `.gte()`, `.lt()` and `.lte()`, which need no
parentheses. Forgetting them never builds a wrong filter silently:
`Post.score >= 10 & Post.status.eq("published")` is `Post.score >= (10 & …)`, which mypy
rejects (`int & Expr` is not defined) and which raises `TypeError` at run time; so do
`a and b`, `a or b`, `not a` and chained comparisons such as `1 < Post.score < 5`, because an
`Expr` refuses to be used as a bool.

Values are written the way the server reads them: strings are quoted with `\\` and `"`
escaped (the server's own `quote()` rules), numbers must be finite, `None` is `null`, dates
and datetimes are ISO 8601 strings, and relations take a record id (or any object with an
`id`, such as a generated record). `NOW` (`@now`) and `AUTH_ID` (`@request.auth.id`) are the
server-side values a filter may name. `Expr.raw()` wraps filter text written by hand.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Generic, NoReturn, Protocol, TypeVar

__all__ = [
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
    "all_of",
    "any_of",
    "quote",
]

T = TypeVar("T")
S = TypeVar("S", bound=str)

# Binding strength of an expression's top operator: `||` < `&&` < a comparison, a negation
# or a parenthesised group (the server's grammar: `!` binds tightest, then `&&`, then `||`).
_OR, _AND, _ATOM = 0, 1, 2

_PRECEDENCE_HINT = (
    "comparisons bind looser than '&', '|' and '~' in Python: parenthesise them, "
    "(Post.score >= 10) & (Post.status == 'draft'), or use .gte()/.eq() methods"
)


def quote(text: str) -> str:
    """`text` as a string literal of the filter language: in double quotes, with `\\` and `"`
    escaped, exactly as the server's own `quote()` writes it."""
    if "\x00" in text:
        raise ValueError("a filter value cannot contain a NUL character (\\x00)")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"a filter number must be finite, not {value!r}")
    return repr(value)


class Macro:
    """A value the server fills in per request, such as `@now` or `@request.auth.id`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        """`name` is the macro as the filter language writes it (`@request.auth.id`)."""
        if not name.startswith("@"):
            raise ValueError(f"a macro starts with '@': {name!r}")
        self.name = name

    def __repr__(self) -> str:
        return f"Macro({self.name!r})"


NOW = Macro("@now")
"""The server's current time (for date and datetime fields)."""
AUTH_ID = Macro("@request.auth.id")
"""The id of the signed-in end user making the request (empty for API keys)."""


class HasId(Protocol):
    """Anything with a string `id`, such as a generated record: relations compare by id."""

    @property
    def id(self) -> str: ...


class Expr:
    """A filter expression. `str(expr)` is the text of the API's filter language.

    Combine with `&` (and), `|` (or) and `~` (not). An `Expr` is not a bool: `and`, `or`,
    `not`, `if expr:` and chained comparisons raise `TypeError` instead of quietly dropping
    a part of the filter.
    """

    __slots__ = ("_level", "_text")

    def __init__(self, text: str, _level: int = _ATOM) -> None:
        """Wrap filter text; prefer the fields' operators, or `Expr.raw()` for hand-written
        text."""
        self._text = text
        self._level = _level

    @classmethod
    def raw(cls, text: str) -> Expr:
        """Filter text written by hand (`'title ~ "news" || score > 3'`). It is sent as is
        and parenthesised when combined with other expressions."""
        if not text.strip():
            raise ValueError("a filter expression cannot be empty")
        return cls(text, _OR)

    def _operand(self, level: int) -> str:
        return self._text if self._level >= level else f"({self._text})"

    def __and__(self, other: Expr) -> Expr:
        """Both `self` and `other` (`&&`)."""
        if not isinstance(other, Expr):
            return NotImplemented
        return Expr(f"{self._operand(_AND)} && {other._operand(_AND)}", _AND)

    def __or__(self, other: Expr) -> Expr:
        """Either `self` or `other` (`||`)."""
        if not isinstance(other, Expr):
            return NotImplemented
        return Expr(f"{self._operand(_OR)} || {other._operand(_OR)}", _OR)

    def __invert__(self) -> Expr:
        """Not `self` (`!`): the exact complement, records with a null value included."""
        return Expr(f"!({self._text})")

    def __bool__(self) -> NoReturn:
        raise TypeError(
            "a filter expression is not a bool: combine expressions with '&', '|' and '~' "
            "(not 'and', 'or', 'not'), and compare a field once per expression "
            "((Post.score > 1) & (Post.score < 5), not 1 < Post.score < 5)"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Expr({self._text!r})"

    if not TYPE_CHECKING:
        # At run time only: type checkers must keep reporting `10 & expr` as an error.
        def __rand__(self, other: object) -> NoReturn:
            raise TypeError(f"unsupported operand types for &: {_PRECEDENCE_HINT}")

        def __ror__(self, other: object) -> NoReturn:
            raise TypeError(f"unsupported operand types for |: {_PRECEDENCE_HINT}")


def all_of(*exprs: Expr) -> Expr:
    """Every one of `exprs` (`a && b && …`)."""
    return _join(exprs, "&&", _AND)


def any_of(*exprs: Expr) -> Expr:
    """At least one of `exprs` (`a || b || …`)."""
    return _join(exprs, "||", _OR)


def _join(exprs: Iterable[Expr], operator: str, level: int) -> Expr:
    parts = list(exprs)
    if not parts:
        raise ValueError("at least one expression is needed")
    if len(parts) == 1:
        return parts[0]
    return Expr(f" {operator} ".join(part._operand(level) for part in parts), level)


class _Field:
    """What every field has: its name, and null tests."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        """A field of the collection, by its API name."""
        self.name = name

    def _compare(self, operator: str, value: str) -> Expr:
        return Expr(f"{self.name} {operator} {value}")

    def is_null(self) -> Expr:
        """The field is null (`field = null`)."""
        return self._compare("=", "null")

    def is_not_null(self) -> Expr:
        """The field has a value (`field != null`)."""
        return self._compare("!=", "null")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def __bool__(self) -> NoReturn:
        raise TypeError(f"field {self.name!r} is not a bool: compare it with a value")

    __hash__ = object.__hash__

    if not TYPE_CHECKING:

        def __rand__(self, other: object) -> NoReturn:
            raise TypeError(f"unsupported operand types for &: {_PRECEDENCE_HINT}")

        def __ror__(self, other: object) -> NoReturn:
            raise TypeError(f"unsupported operand types for |: {_PRECEDENCE_HINT}")


class EqualityField(_Field, Generic[T]):
    """A field compared for equality only (`==`, `!=`, `.eq()`, `.ne()`, `.one_of()`)."""

    __slots__ = ()

    def _value(self, value: T | Macro | None) -> str:
        if value is None:
            return "null"
        if isinstance(value, Macro):
            return value.name
        return self._render(value)

    def _render(self, value: T) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return _number(value)
        if isinstance(value, str):
            return quote(value)
        raise TypeError(f"field {self.name!r} cannot be compared with {value!r}")

    def eq(self, value: T | Macro | None) -> Expr:
        """The field equals `value` (`None`: the field is null)."""
        return self._compare("=", self._value(value))

    def ne(self, value: T | Macro | None) -> Expr:
        """The field differs from `value` (records where it is null included)."""
        return self._compare("!=", self._value(value))

    def one_of(self, *values: T) -> Expr:
        """The field equals one of `values` (`f = a || f = b || …`)."""
        return any_of(*(self.eq(value) for value in values))

    def __eq__(self, value: T | Macro | None) -> Expr:  # type: ignore[override]
        return self.eq(value)

    def __ne__(self, value: T | Macro | None) -> Expr:  # type: ignore[override]
        return self.ne(value)

    __hash__ = object.__hash__


class Field(EqualityField[T]):
    """A field that is also ordered: `==`, `!=`, `>`, `>=`, `<`, `<=` and the methods
    `.eq() .ne() .gt() .gte() .lt() .lte()`. Numbers are `Field[int]` or `Field[float]`."""

    __slots__ = ()

    def gt(self, value: T | Macro) -> Expr:
        """The field is greater than `value` (nulls never match)."""
        return self._compare(">", self._value(value))

    def gte(self, value: T | Macro) -> Expr:
        """The field is greater than or equal to `value`."""
        return self._compare(">=", self._value(value))

    def lt(self, value: T | Macro) -> Expr:
        """The field is less than `value` (nulls never match)."""
        return self._compare("<", self._value(value))

    def lte(self, value: T | Macro) -> Expr:
        """The field is less than or equal to `value`."""
        return self._compare("<=", self._value(value))

    def between(self, low: T | Macro, high: T | Macro) -> Expr:
        """`low <= field <= high`."""
        return self.gte(low) & self.lte(high)

    def __gt__(self, value: T | Macro) -> Expr:
        return self.gt(value)

    def __ge__(self, value: T | Macro) -> Expr:
        return self.gte(value)

    def __lt__(self, value: T | Macro) -> Expr:
        return self.lt(value)

    def __le__(self, value: T | Macro) -> Expr:
        return self.lte(value)


class _Contains:
    """`~` and `!~`: case-insensitive substring match of text fields."""

    __slots__ = ()
    name: str

    def contains(self, text: str) -> Expr:
        """The field contains `text`, ignoring case (`field ~ "text"`; `%` and `_` are
        taken literally)."""
        return Expr(f"{self.name} ~ {quote(text)}")

    def not_contains(self, text: str) -> Expr:
        """The field does not contain `text` (records where it is null included)."""
        return Expr(f"{self.name} !~ {quote(text)}")


class TextField(_Contains, Field[str]):
    """A text, email or url field: ordered comparisons, `.contains()` and `.not_contains()`."""

    __slots__ = ()


class SelectField(_Contains, Field[S]):
    """A select field: compared with its allowed values, `SelectField[Literal["a", "b"]]`."""

    __slots__ = ()


class BoolField(EqualityField[bool]):
    """A boolean field: `==`, `!=`, `.eq()`, `.ne()`, and `.is_true()` / `.is_false()`."""

    __slots__ = ()

    def is_true(self) -> Expr:
        """The field is true."""
        return self.eq(True)

    def is_false(self) -> Expr:
        """The field is false (not null)."""
        return self.eq(False)


class DateField(Field[date | str]):
    """A date field: compared with a `date` (a `datetime` counts by its date) or an ISO
    `YYYY-MM-DD` string."""

    __slots__ = ()

    def _render(self, value: date | str) -> str:
        if isinstance(value, datetime):
            value = value.date()
        return quote(value if isinstance(value, str) else value.isoformat())


class DateTimeField(Field[datetime | str]):
    """A datetime field (and `created_at`, `updated_at`): compared with a `datetime` (a
    naive one is read as UTC), an ISO 8601 string, or `NOW`."""

    __slots__ = ()

    def _render(self, value: datetime | str) -> str:
        return quote(value if isinstance(value, str) else value.isoformat())


def _id(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    record_id = getattr(value, "id", None)
    if isinstance(record_id, str | uuid.UUID):
        return str(record_id)
    raise TypeError(f"a record id (or a record with an id) is needed, not {value!r}")


class IdField(EqualityField[str | uuid.UUID | HasId]):
    """A record id (`id`, `owner`): equality only, with an id, a record or `AUTH_ID`."""

    __slots__ = ()

    def _render(self, value: str | uuid.UUID | HasId) -> str:
        return quote(_id(value))


class RelationField(IdField):
    """A single relation: equality with the related record's id (or the record itself)."""

    __slots__ = ()


class _Multiple(_Field, Generic[T]):
    """A field holding several values: `.contains(v)` (one of them is `v`)."""

    __slots__ = ()

    def _render(self, value: T) -> str:
        raise NotImplementedError

    def contains(self, value: T) -> Expr:
        """One of the field's values is `value` (`field = value`)."""
        return self._compare("=", self._render(value))

    def not_contains(self, value: T) -> Expr:
        """None of the field's values is `value` (records where it is null included)."""
        return self._compare("!=", self._render(value))


class MultiSelectField(_Multiple[S]):
    """A select field with `multiple: true`: `.contains("a")`, `.not_contains("a")`."""

    __slots__ = ()

    def _render(self, value: S) -> str:
        return quote(value)


class MultiRelationField(_Multiple[str | uuid.UUID | HasId]):
    """A relation with `multiple: true`: `.contains(record_or_id)`."""

    __slots__ = ()

    def _render(self, value: str | uuid.UUID | HasId) -> str:
        return quote(_id(value))


class JsonField(_Field):
    """A json field: only `.is_null()` and `.is_not_null()` apply."""

    __slots__ = ()
