"""The filter and rule language: `title ~ "hi" && (score >= 10 || owner = @request.auth.id)`.

One grammar serves `?filter=` and collection access rules. Text is parsed once (cached by text)
into a small frozen AST; the AST is compiled per request against the collection's typed columns,
because macro values (`@request.auth.id`, …) differ between requests.

Compiled SQL always compares the bare column with a bound parameter of the column's own type, so
the B-tree/GIN indexes on the typed columns serve the filter even under row-level security. A
value from the expression or from a macro never becomes SQL text.

The logic is two-valued: a comparison is true or false, never unknown. A NULL column matches
nothing except `= null`, and every negation (`!=`, `!~`, `!(…)`) is the exact complement of its
positive form, so `!=` and `!(…)` match the rows whose column is NULL.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, TypeAlias, cast

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Double,
    Text,
    Uuid,
    and_,
    false,
    literal,
    not_,
    or_,
    true,
)
from sqlalchemy.types import TypeEngine

from cairn.errors import BadRequest
from cairn.records.fields import TEXT_TYPES, UUID_TYPES, FieldRef

MAX_EXPRESSION_LENGTH = 4096
MAX_DEPTH = 16
MAX_COMPARISONS = 64


class FilterError(BadRequest):
    """A filter or rule that cannot be parsed or does not fit the collection's fields."""


# --- The AST ------------------------------------------------------------------------------------
# Positions are 1-based character offsets into the expression, for messages only; `depth` is
# bookkeeping for the nesting bound. Neither takes part in equality, so `(a = 1)` == `a = 1`.

Operator: TypeAlias = Literal["=", "!=", ">", ">=", "<", "<=", "~", "!~"]
ValueKind: TypeAlias = Literal["string", "number", "boolean", "null"]


@dataclass(frozen=True)
class Field:
    name: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Value:
    """A literal written in the expression."""

    value: str | int | float | bool | None
    kind: ValueKind
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Macro:
    """`@now`, `@request.auth.id`, …: resolved from the caller's macros at compile time."""

    name: str
    position: int = field(default=0, compare=False)


Operand: TypeAlias = Field | Value | Macro


@dataclass(frozen=True)
class Comparison:
    left: Operand
    operator: Operator
    right: Operand
    position: int = field(default=0, compare=False)
    depth: int = field(default=0, compare=False)


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]
    depth: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]
    depth: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Not:
    operand: Node
    depth: int = field(default=0, compare=False)


Node: TypeAlias = Comparison | And | Or | Not

# --- Parsing ------------------------------------------------------------------------------------
# Precedence comes from the rule nesting: `!` binds tightest, then `&&`, then `||`. Field names
# may hold dots only so that `author.name` gets a helpful message instead of a bare syntax error.

_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: unary (_AND unary)*
?unary: _NOT unary -> negation
      | atom
?atom: comparison
     | _LPAR or_expr _RPAR -> group
comparison: operand op operand
op: EQ | NE | GT | GE | LT | LE | LIKE | NLIKE
?operand: FIELD | STRING | NUMBER | TRUE | FALSE | NULL | MACRO

_OR: "||"
_AND: "&&"
_NOT: "!"
_LPAR: "("
_RPAR: ")"
EQ: "="
NE: "!="
GT: ">"
GE: ">="
LT: "<"
LE: "<="
LIKE: "~"
NLIKE: "!~"
TRUE: "true"
FALSE: "false"
NULL: "null"
FIELD: /[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/
MACRO: /@[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/
NUMBER: /-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/
STRING: /"(?:[^"\\]|\\.)*"/s | /'(?:[^'\\]|\\.)*'/s

%ignore /\s+/
"""

_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPABLE = frozenset("\"'\\")
_INTEGER = re.compile(r"-?[0-9]+")


def _position(token: Token) -> int:
    return (token.start_pos or 0) + 1


def _unquote(token: Token) -> str:
    def unescape(match: re.Match[str]) -> str:
        char = match.group(1)
        if char not in _ESCAPABLE:
            # Strict, so that a future escape (\n, \u…) cannot silently change a filter's meaning.
            at = _position(token) + 1 + match.start()
            raise FilterError(
                f"unknown escape '\\{char}' at position {at}; only \\\", \\' and \\\\ are allowed"
            )
        return char

    return _ESCAPE.sub(unescape, str(token)[1:-1])


def _number(token: Token) -> int | float:
    text = str(token)
    if _INTEGER.fullmatch(text):
        return int(text)
    number = float(text)
    if not math.isfinite(number):
        raise FilterError(f"number {_shorten(text)} at position {_position(token)} is out of range")
    return number


def _operand(token: Token) -> Operand:
    at = _position(token)
    match token.type:
        case "FIELD":
            return _field(token, at)
        case "MACRO":
            return Macro(str(token), at)
        case "STRING":
            return Value(_unquote(token), "string", at)
        case "NUMBER":
            return Value(_number(token), "number", at)
        case "TRUE" | "FALSE":
            return Value(token.type == "TRUE", "boolean", at)
        case _:
            return Value(None, "null", at)


def _field(token: Token, at: int) -> Field:
    name = str(token)
    if "." in name:
        head = name.split(".", 1)[0]
        raise FilterError(
            f"field path '{name}' at position {at} is not supported; filter on a relation by id, "
            f'e.g. {head} = "<record id>"'
        )
    return Field(name, at)


def _bounded(node: Node) -> Node:
    # Checked while the parser reduces, so a pathologically nested text fails at the 17th level
    # instead of building (and later recursing over) a deep tree.
    if node.depth > MAX_DEPTH:
        raise FilterError(
            f"expression is nested too deeply; at most {MAX_DEPTH} levels of parentheses, "
            "'!', '&&' and '||' are allowed"
        )
    return node


def _deepest(nodes: Collection[Node]) -> int:
    return max(node.depth for node in nodes)


class _AstBuilder(Transformer[Token, Node]):
    """Callbacks run by the LALR parser as it reduces each rule: the tree is never built twice."""

    def comparison(self, children: list[Any]) -> Node:
        left, operator, right = children
        return Comparison(_operand(left), operator, _operand(right), _position(left))

    def op(self, children: list[Token]) -> str:
        return str(children[0])

    def and_expr(self, children: list[Node]) -> Node:
        return _bounded(And(tuple(children), _deepest(children) + 1))

    def or_expr(self, children: list[Node]) -> Node:
        return _bounded(Or(tuple(children), _deepest(children) + 1))

    def negation(self, children: list[Node]) -> Node:
        return _bounded(Not(children[0], children[0].depth + 1))

    def group(self, children: list[Node]) -> Node:
        inner = children[0]
        return _bounded(_with_depth(inner, inner.depth + 1))


def _with_depth(node: Node, depth: int) -> Node:
    match node:
        case Comparison():
            return Comparison(node.left, node.operator, node.right, node.position, depth)
        case And():
            return And(node.operands, depth)
        case Or():
            return Or(node.operands, depth)
        case Not():
            return Not(node.operand, depth)


_PARSER = Lark(_GRAMMAR, parser="lalr", transformer=_AstBuilder(), maybe_placeholders=False)

_EXPECTATIONS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"FIELD"}), "a field"),
    (frozenset({"STRING", "NUMBER", "TRUE", "FALSE", "NULL", "MACRO"}), "a value"),
    (frozenset({"_NOT"}), "'!'"),
    (frozenset({"_LPAR"}), "'('"),
    (frozenset({"EQ", "NE", "GT", "GE", "LT", "LE", "LIKE", "NLIKE"}), "an operator"),
    (frozenset({"_AND"}), "'&&'"),
    (frozenset({"_OR"}), "'||'"),
    (frozenset({"_RPAR"}), "')'"),
    (frozenset({"$END"}), "the end of the expression"),
)


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _acceptable(exc: UnexpectedToken) -> Collection[str]:
    # LALR's own `expected` is the state's lookahead set, which can name tokens that would
    # fail one step later; asking the parser what it accepts here is exact.
    parser: Any = exc.interactive_parser  # lark leaves accepts() unannotated
    try:
        return set(parser.accepts())
    except Exception:  # a trial reduction may raise (e.g. the depth bound): fall back
        return cast(Collection[str], exc.expected)


def _describe_expected(expected: Collection[str]) -> str:
    wanted = [words for names, words in _EXPECTATIONS if names & set(expected)]
    if not wanted:
        return "something else"
    return wanted[0] if len(wanted) == 1 else ", ".join(wanted[:-1]) + " or " + wanted[-1]


def _syntax_error(exc: UnexpectedInput, text: str) -> FilterError:
    if isinstance(exc, UnexpectedCharacters):
        at = exc.pos_in_stream or 0
        char = text[at]
        if char in "\"'":
            return FilterError(f"unterminated string starting at position {at + 1}")
        if char == "@":
            return FilterError(
                f"'@' at position {at + 1} must start a macro such as @request.auth.id"
            )
        return FilterError(f"unexpected character {char!r} at position {at + 1}")
    if isinstance(exc, UnexpectedToken):
        expected = _describe_expected(_acceptable(exc))
        if exc.token.type == "$END":
            return FilterError(f"unexpected end of expression; expected {expected}")
        return FilterError(
            f"unexpected '{_shorten(str(exc.token))}' at position {_position(exc.token)}; "
            f"expected {expected}"
        )
    return FilterError("the expression is not valid")


def _count_comparisons(node: Node) -> int:
    match node:
        case Comparison():
            return 1
        case Not():
            return _count_comparisons(node.operand)
        case And() | Or():
            return sum(_count_comparisons(operand) for operand in node.operands)


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> Node:
    """The AST of a filter or rule; raises FilterError with the position of the first problem."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise FilterError(
            f"expression is {len(text)} characters long; at most {MAX_EXPRESSION_LENGTH} "
            "are allowed"
        )
    if not text.strip():
        raise FilterError("the expression is empty")
    if "\x00" in text:
        raise FilterError("the expression contains a NUL character (\\u0000)")
    try:
        # The transformer turns the parse tree into our AST; lark's annotation cannot say so.
        tree = cast(Node, _PARSER.parse(text))
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    except LarkError:
        raise FilterError("the expression is not valid") from None
    comparisons = _count_comparisons(tree)
    if comparisons > MAX_COMPARISONS:
        raise FilterError(
            f"expression has {comparisons} comparisons; at most {MAX_COMPARISONS} are allowed"
        )
    return tree


# --- Values -------------------------------------------------------------------------------------

_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

_TYPE_NAMES: dict[str, str] = {
    "text": "text",
    "email": "an email",
    "url": "a url",
    "select": "a select",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a datetime (ISO 8601)",
    "json": "json",
    "relation": "a relation (a record id)",
    "uuid": "a uuid",
}

# Bind types for comparisons between two constants, where no column supplies one.
_CONSTANT_TYPES: dict[str, TypeEngine[Any]] = {
    "text": Text(),
    "integer": BigInteger(),
    "number": Double(),
    "boolean": Boolean(),
    "date": Date(),
    "datetime": DateTime(timezone=True),
    "uuid": Uuid(),
}


class _NotCoercible(Exception):
    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


def _coerce(value: object, type_: str) -> object:
    """`value` as the Python value of a column of `type_`, or _NotCoercible."""
    if type_ in TEXT_TYPES:
        if isinstance(value, str):
            return value
    elif type_ == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            if not _BIGINT_MIN <= value <= _BIGINT_MAX:
                raise _NotCoercible("out of range")
            return value
    elif type_ == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _finite_float(value)
    elif type_ == "boolean":
        if isinstance(value, bool):
            return value
    elif type_ == "date":
        return _as_date(value)
    elif type_ == "datetime":
        return _as_datetime(value)
    elif type_ in UUID_TYPES:
        return _as_uuid(value)
    raise _NotCoercible


def _finite_float(value: int | float) -> float:
    try:
        number = float(value)
    except OverflowError:
        raise _NotCoercible("out of range") from None
    if not math.isfinite(number):
        raise _NotCoercible("out of range")
    return number


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return _aware(value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _NotCoercible


def _as_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return _aware(datetime.fromisoformat(value))
        except ValueError:
            pass
    raise _NotCoercible


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _as_uuid(value: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise _NotCoercible


def _kind_of(value: object) -> str | None:
    """The field type a server-side value naturally has; None when it has none we compare."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, uuid.UUID):
        return "uuid"
    return None


def _render(value: Value) -> str:
    if value.kind == "string":
        return _shorten(json.dumps(value.value, ensure_ascii=False))
    if value.kind == "boolean":
        return "true" if value.value else "false"
    if value.kind == "null":
        return "null"
    return _shorten(str(value.value))


def quote(text: str) -> str:
    """`text` as a string literal of the language, for expressions built by code."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _contains_pattern(text: str) -> str:
    """An ILIKE pattern matching `text` anywhere, with its own %, _ and \\ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- Compilation --------------------------------------------------------------------------------

_ORDERING = frozenset({">", ">=", "<", "<="})
_MIRRORED: dict[str, str] = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "=", "~": "~"}
# `!=` and `!~` compile as the negation of their positive forms.
_POSITIVE: dict[str, tuple[str, bool]] = {
    "=": ("=", False),
    "!=": ("=", True),
    "~": ("~", False),
    "!~": ("~", True),
    ">": (">", False),
    ">=": (">=", False),
    "<": ("<", False),
    "<=": ("<=", False),
}
# Types whose values are compared with each other when both sides are fields.
_COMPARABLE_GROUP: dict[str, str] = {
    **{type_: "text" for type_ in TEXT_TYPES},
    **{type_: "uuid" for type_ in UUID_TYPES},
    "integer": "number",
    "number": "number",
}
_UNORDERED = frozenset({"boolean", "json", *UUID_TYPES})
_NOW = "@now"


@dataclass(frozen=True)
class _Predicate:
    """A positive comparison and the columns whose NULL would make it unknown rather than false."""

    sql: ColumnElement[bool]
    nullable: tuple[ColumnElement[Any], ...] = ()

    def negated(self) -> ColumnElement[bool]:
        # NOT of a comparison on a NULL column is NULL, which would drop the row; in this
        # language a NULL simply does not match, so its negation does.
        return or_(not_(self.sql), *(column.is_(None) for column in self.nullable))


_FALSE = _Predicate(false())


def _nullable(column: ColumnElement[Any]) -> tuple[ColumnElement[Any], ...]:
    if isinstance(column, Column) and not column.nullable:
        return ()
    return (column,)


def _compare(operator: str, left: ColumnElement[Any], right: ColumnElement[Any]) -> Any:
    if operator == "=":
        return left == right
    if operator == ">":
        return left > right
    if operator == ">=":
        return left >= right
    if operator == "<":
        return left < right
    return left <= right


def _type_name(ref: FieldRef) -> str:
    return _TYPE_NAMES[ref.type]


def _json_error(ref: FieldRef) -> FilterError:
    return FilterError(
        f"field '{ref.name}' is json; it can only be compared with null "
        f"({ref.name} = null or {ref.name} != null)"
    )


def _null_operator_error() -> FilterError:
    return FilterError("null can only be compared with = or !=")


class _Compiler:
    def __init__(self, fields: Mapping[str, FieldRef], macros: Mapping[str, object]) -> None:
        self.fields = fields
        self.macros = macros

    def compile(self, node: Node, negate: bool = False) -> ColumnElement[bool]:
        # Negation is pushed down to the comparisons (De Morgan) so each one can be negated in
        # the two-valued way described in the module docstring.
        match node:
            case Not():
                return self.compile(node.operand, not negate)
            case And():
                parts = [self.compile(operand, negate) for operand in node.operands]
                return or_(*parts) if negate else and_(*parts)
            case Or():
                parts = [self.compile(operand, negate) for operand in node.operands]
                return and_(*parts) if negate else or_(*parts)
            case Comparison():
                positive, negative = _POSITIVE[node.operator]
                predicate = self.comparison(node, positive)
                return predicate.negated() if negate != negative else predicate.sql

    def comparison(self, node: Comparison, operator: str) -> _Predicate:
        match node.left, node.right:
            case Field() as left, Field() as right:
                return self.field_with_field(self.field(left), node.operator, self.field(right))
            case Field() as left, (Value() | Macro()) as right:
                return self.field_with_constant(self.field(left), node.operator, operator, right)
            case (Value() | Macro()) as left, Field() as right:
                if operator == "~":
                    raise FilterError(
                        f"'{node.operator}' needs the field on its left, e.g. "
                        f'{right.name} {node.operator} "text"'
                    )
                mirrored = _MIRRORED[operator]
                return self.field_with_constant(self.field(right), node.operator, mirrored, left)
            case (Value() | Macro()) as left, (Value() | Macro()) as right:
                return self.constant_with_constant(left, operator, right)
        raise AssertionError("unreachable: every operand is a field, value or macro")

    def field(self, operand: Field) -> FieldRef:
        ref = self.fields.get(operand.name)
        if ref is None:
            hint = difflib.get_close_matches(operand.name, list(self.fields), n=1)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
            raise FilterError(f"unknown field '{operand.name}'{suggestion}")
        return ref

    def macro(self, operand: Macro) -> object:
        if operand.name in self.macros:
            return self.macros[operand.name]
        if operand.name == _NOW:
            return datetime.now(UTC)
        raise FilterError(f"unknown macro '{operand.name}' at position {operand.position}")

    # field <op> field

    def field_with_field(self, left: FieldRef, written: str, right: FieldRef) -> _Predicate:
        for ref in (left, right):
            if ref.type == "json":
                raise _json_error(ref)
            if ref.multiple:
                raise FilterError(
                    f"field '{ref.name}' holds several values; compare it with a single value"
                )
        if written in ("~", "!~"):
            raise FilterError(
                f"the right side of '{written}' must be a text value, not field '{right.name}'"
            )
        if _COMPARABLE_GROUP.get(left.type, left.type) != _COMPARABLE_GROUP.get(
            right.type, right.type
        ):
            raise FilterError(
                f"field '{left.name}' is {_type_name(left)} and field '{right.name}' is "
                f"{_type_name(right)}; they cannot be compared"
            )
        operator = _POSITIVE[written][0]
        self.check_operator(left, written, operator)
        sql = _compare(operator, left.column, right.column)
        return _Predicate(sql, _nullable(left.column) + _nullable(right.column))

    # field <op> literal or macro

    def field_with_constant(
        self, ref: FieldRef, written: str, operator: str, constant: Value | Macro
    ) -> _Predicate:
        if isinstance(constant, Value) and constant.kind == "null":
            if operator != "=":
                raise _null_operator_error()
            return _Predicate(ref.column.is_(None))
        self.check_operator(ref, written, operator)
        if isinstance(constant, Macro):
            if constant.name == _NOW and ref.type not in ("date", "datetime"):
                raise FilterError(f"field '{ref.name}' is {_type_name(ref)}; @now is a datetime")
            try:
                value = _coerce(self.macro(constant), ref.type)
            except _NotCoercible:
                # A server value that does not fit (an anonymous caller's empty auth id) matches
                # nothing; its negation matches everything.
                return _FALSE
        else:
            value = self.coerce_literal(ref, constant)
        return self.typed(ref, operator, value)

    def check_operator(self, ref: FieldRef, written: str, operator: str) -> None:
        if ref.type == "json":
            raise _json_error(ref)
        if operator == "~":
            if ref.multiple:
                raise FilterError(
                    f"'{written}' does not apply to field '{ref.name}', which holds several "
                    f'values; use {ref.name} = "value" to find records that contain a value'
                )
            if ref.type not in TEXT_TYPES:
                raise FilterError(
                    f"'{written}' only applies to text; field '{ref.name}' is {_type_name(ref)}"
                )
        elif operator in _ORDERING:
            if ref.multiple:
                raise FilterError(
                    f"field '{ref.name}' holds several values; it cannot be compared with "
                    f"'{written}'"
                )
            if ref.type in _UNORDERED:
                raise FilterError(
                    f"field '{ref.name}' is {_type_name(ref)}; it cannot be compared with "
                    f"'{written}'"
                )

    def coerce_literal(self, ref: FieldRef, value: Value) -> object:
        try:
            return _coerce(value.value, ref.type)
        except _NotCoercible as exc:
            verdict = f"is {exc.reason}" if exc.reason else "is not"
            raise FilterError(
                f"field '{ref.name}' is {_type_name(ref)}; {_render(value)} {verdict}"
            ) from None

    def typed(self, ref: FieldRef, operator: str, value: object) -> _Predicate:
        column = ref.column
        if ref.multiple:
            # `@>` rather than `= ANY(…)`: a GIN index on the array column can serve it.
            contains = column.op("@>", is_comparison=True)(literal([value], column.type))
            return _Predicate(contains, _nullable(column))
        if operator == "~":
            pattern = literal(_contains_pattern(str(value)), column.type)
            return _Predicate(column.ilike(pattern, escape="\\"), _nullable(column))
        return _Predicate(
            _compare(operator, column, literal(value, column.type)), _nullable(column)
        )

    # literal or macro <op> literal or macro

    def constant_with_constant(
        self, left: Value | Macro, operator: str, right: Value | Macro
    ) -> _Predicate:
        for side, other in ((left, right), (right, left)):
            if isinstance(side, Value) and side.kind == "null":
                if operator != "=":
                    raise _null_operator_error()
                # Only a written `null` tests for absence; it is decided here, not in SQL.
                return _Predicate(true() if self.constant(other) is None else false())
        left_value, right_value = self.constant(left), self.constant(right)
        type_ = self.common_type(left, left_value, right, right_value)
        if type_ is None:
            return _FALSE
        if operator == "~" and type_ != "text":
            if isinstance(left, Value) and isinstance(right, Value):
                raise FilterError("'~' only applies to text")
            return _FALSE
        try:
            left_coerced = self.coerce_constant(left, left_value, type_)
            right_coerced = self.coerce_constant(right, right_value, type_)
        except _NotCoercible:
            return _FALSE
        bind_type = _CONSTANT_TYPES[type_]
        left_sql = literal(left_coerced, bind_type)
        if operator == "~":
            pattern = literal(_contains_pattern(str(right_coerced)), bind_type)
            return _Predicate(left_sql.ilike(pattern, escape="\\"))
        return _Predicate(_compare(operator, left_sql, literal(right_coerced, bind_type)))

    def constant(self, operand: Value | Macro) -> object:
        return operand.value if isinstance(operand, Value) else self.macro(operand)

    def common_type(
        self, left: Value | Macro, left_value: object, right: Value | Macro, right_value: object
    ) -> str | None:
        kinds = {_kind_of(left_value), _kind_of(right_value)}
        if None in kinds:
            return None
        if kinds <= {"integer", "number"}:
            return "number" if "number" in kinds else "integer"
        if len(kinds) == 1:
            return kinds.pop()
        if "text" in kinds and len(kinds - {"text", "date", "datetime", "uuid"}) == 0:
            # A string against a server value of a richer type (@now, a uuid) is read as one.
            (richer,) = kinds - {"text"}
            return richer
        if isinstance(left, Value) and isinstance(right, Value):
            raise FilterError(
                f"{_render(left)} and {_render(right)} are of different types; "
                "they cannot be compared"
            )
        return None

    def coerce_constant(self, operand: Value | Macro, value: object, type_: str) -> object:
        if isinstance(operand, Macro):
            return _coerce(value, type_)
        try:
            return _coerce(value, type_)
        except _NotCoercible:
            raise FilterError(
                f"{_render(operand)} is not {_TYPE_NAMES[type_]}; it cannot be compared here"
            ) from None


def compile_expression(
    text: str,
    fields: Mapping[str, FieldRef],
    macros: Mapping[str, object] | None = None,
) -> ColumnElement[bool]:
    """`text` as a parametrized boolean SQL expression over the columns in `fields`.

    `macros` maps full macro tokens (`"@request.auth.id"`) to their values for this request;
    `@now` defaults to the current time when absent.
    """
    return _Compiler(fields, macros or {}).compile(parse(text))


class _Unresolved:
    """A macro value known only by name: it fits no type, so only static checks run."""


def validate_expression(
    text: str, fields: Mapping[str, FieldRef], macro_names: Collection[str]
) -> None:
    """Raise FilterError unless `text` parses, names only known fields and macros, and compares
    each field with a literal or macro it can hold. For checking rules when they are declared."""
    placeholders: dict[str, object] = {name: _Unresolved() for name in macro_names if name != _NOW}
    compile_expression(text, fields, placeholders)
