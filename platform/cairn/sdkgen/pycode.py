"""Writing Python source that is already in `ruff format` style, without running ruff.

The generated code is built from a few shapes, each written the one way ruff keeps it:
string literals in ruff's preferred quotes, docstrings wrapped to the line length, and
every bracketed list that does not fit on one line exploded one item per line with a
trailing comma (ruff's "magic trailing comma" keeps it so). Lines stay within `LINE_LENGTH`
(ruff's default, 88) except where nothing can be split, which ruff leaves alone too.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

LINE_LENGTH = 88
INDENT = "    "

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def string(text: str) -> str:
    """`text` as a Python string literal: double quotes unless single quotes need fewer
    escapes (ruff's preference); control and other unprintable characters escaped."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    out: list[str] = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char == quote:
            out.append("\\" + char)
        elif not char.isprintable():
            code = ord(char)
            if code < 0x100:
                out.append(f"\\x{code:02x}")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
        else:
            out.append(char)
    return quote + "".join(out) + quote


def prose(text: str) -> str:
    """One paragraph of untrusted text, safe inside a docstring: whitespace collapsed,
    unprintable characters dropped, backslashes and triple quotes escaped."""
    text = "".join(char if char.isprintable() else " " for char in text)
    text = " ".join(text.split())
    text = text.replace("\\", "\\\\").replace('"""', '""\\"')
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    return text


def sentence(text: str) -> str:
    """`text` with a capital first letter and a closing full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


@dataclass
class Doc:
    """A docstring: paragraphs of prose, and sections of `name: text` items (`Args:`)."""

    blocks: list[str | tuple[str, list[tuple[str, str]]]] = field(default_factory=list)

    def para(self, text: str) -> Doc:
        if text.strip():
            self.blocks.append(text)
        return self

    def section(self, title: str, items: Sequence[tuple[str, str]]) -> Doc:
        if items:
            self.blocks.append((title, list(items)))
        return self

    def lines(self, indent: str) -> list[str]:
        """The docstring's source lines, indented by `indent`."""
        width = LINE_LENGTH - len(indent)
        if len(self.blocks) == 1 and isinstance(self.blocks[0], str):
            one = f'"""{prose(self.blocks[0])}"""'
            if len(one) <= width:
                return [indent + one]
        body: list[str] = []
        for i, block in enumerate(self.blocks):
            if body:
                body.append("")
            lead = '"""' if i == 0 else ""
            if isinstance(block, str):
                body += _wrap(lead + prose(block), width)
            else:
                title, items = block
                body.append(lead + title)
                for name, text in items:
                    body += _wrap(
                        f"{name}: {prose(text)}",
                        width,
                        initial=INDENT,
                        subsequent=INDENT * 2,
                    )
        body.append('"""')
        return [indent + line if line else "" for line in body]


def _wrap(text: str, width: int, initial: str = "", subsequent: str = "") -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=initial,
        subsequent_indent=subsequent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [initial.rstrip()]


def docstring(text: str, indent: str) -> list[str]:
    """A docstring of one paragraph."""
    return Doc().para(text).lines(indent)


def bracketed(head: str, items: Sequence[str], tail: str, indent: str) -> list[str]:
    """`head item, item tail` on one line when it fits (and has items), else exploded one
    item per line with a trailing comma."""
    one = f"{indent}{head}{', '.join(items)}{tail}"
    if items and len(one) <= LINE_LENGTH and not any("\n" in item for item in items):
        return [one]
    return [f"{indent}{head}", *(f"{indent}{INDENT}{item}," for item in items), f"{indent}{tail}"]


def exploded(head: str, items: Sequence[str], tail: str, indent: str) -> list[str]:
    """Always one item per line, with a trailing comma."""
    return [f"{indent}{head}", *(f"{indent}{INDENT}{item}," for item in items), f"{indent}{tail}"]


def annotated(indent: str, name: str, annotation: str, default: str | None = None) -> list[str]:
    """`name: annotation [= default]` in a class body; parenthesised when too long."""
    tail = f" = {default}" if default is not None else ""
    one = f"{indent}{name}: {annotation}{tail}"
    if len(one) <= LINE_LENGTH:
        return [one]
    return [f"{indent}{name}: (", f"{indent}{INDENT}{annotation}", f"{indent}){tail}"]


def parameter(indent: str, name: str, annotation: str, default: str | None = None) -> list[str]:
    """One parameter line of an exploded signature (`name: annotation = default,`); a
    union too long for the line is split before each `|`, as ruff does."""
    tail = f" = {default}," if default is not None else ","
    one = f"{indent}{name}: {annotation}{tail}"
    parts = split_union(annotation)
    if len(one) <= LINE_LENGTH or len(parts) < 2:
        return [one]
    return [
        f"{indent}{name}: {parts[0]}",
        *(f"{indent}| {part}" for part in parts[1:-1]),
        f"{indent}| {parts[-1]}{tail}",
    ]


def split_union(annotation: str) -> list[str]:
    """The top-level members of `A | B[C | D] | E`."""
    parts: list[str] = []
    depth, start = 0, 0
    for i, char in enumerate(annotation):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(annotation[start:i].strip())
            start = i + 1
    parts.append(annotation[start:].strip())
    return parts


def signature(
    indent: str,
    keyword: str,
    name: str,
    params: Sequence[tuple[str, str | None, str | None]],
    returns: str,
) -> list[str]:
    """A `def` line. `params` are (name, annotation, default); `*` and `self` have no
    annotation. One line when it fits with at most two parameters, else one per line."""
    rendered = [_param_text(p) for p in params]
    one = f"{indent}{keyword} {name}({', '.join(rendered)}) -> {returns}:"
    if len(one) <= LINE_LENGTH and len(params) <= 2:
        return [one]
    lines = [f"{indent}{keyword} {name}("]
    inner = indent + INDENT
    for pname, annotation, default in params:
        if annotation is None:
            lines.append(f"{inner}{pname},")
        else:
            lines += parameter(inner, pname, annotation, default)
    lines.append(f"{indent}) -> {returns}:")
    return lines


def _param_text(param: tuple[str, str | None, str | None]) -> str:
    name, annotation, default = param
    if annotation is None:
        return name
    return f"{name}: {annotation}" + (f" = {default}" if default is not None else "")


# -- imports and __all__ (ruff's isort and RUF022 orders) --------------------------------


def _natural(text: str) -> list[tuple[int, int | str]]:
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text)]


def _member_type(name: str) -> int:
    if len(name) > 1 and name.isupper():
        return 0  # CONSTANT
    if name[:1].isupper():
        return 1  # Class
    return 2  # variable or function


def import_order(names: Iterable[str]) -> list[str]:
    """Names of a `from … import` in isort's order-by-type order."""
    return sorted(set(names), key=lambda n: (_member_type(n), _natural(n.lower()), _natural(n)))


def all_order(names: Iterable[str]) -> list[str]:
    """`__all__` in RUF022's isort-style order."""
    return sorted(set(names), key=lambda n: (_member_type(n), _natural(n)))


def from_import(module: str, names: Iterable[str]) -> list[str]:
    """`from module import a, B` (exploded when too long)."""
    ordered = import_order(names)
    one = f"from {module} import {', '.join(ordered)}"
    if len(one) <= LINE_LENGTH:
        return [one]
    return exploded(f"from {module} import (", ordered, ")", "")


def all_list(names: Iterable[str]) -> list[str]:
    return exploded("__all__ = [", [string(n) for n in all_order(names)], "]", "")


def call(
    indent: str,
    prefix: str,
    func: str,
    args: Sequence[str],
    suffix: str = "",
    brackets: str = "()",
) -> list[str]:
    """`prefix func(args)suffix`: on one line if it fits, else the arguments on one line of
    their own, else one per line with a trailing comma (ruff's order of attempts).
    `brackets="[]"` does the same for a subscript."""
    left, right = brackets[0], brackets[1]
    joined = ", ".join(args)
    one = f"{indent}{prefix}{func}{left}{joined}{right}{suffix}"
    if len(one) <= LINE_LENGTH:
        return [one]
    middle = f"{indent}{INDENT}{joined}"
    if args and len(middle) <= LINE_LENGTH:
        return [f"{indent}{prefix}{func}{left}", middle, f"{indent}{right}{suffix}"]
    return exploded(f"{prefix}{func}{left}", args, f"{right}{suffix}", indent)


def assign(indent: str, target: str, value: str) -> list[str]:
    """`target = value`; a value too long for the line goes in parentheses, as ruff does."""
    one = f"{indent}{target} = {value}"
    if len(one) <= LINE_LENGTH:
        return [one]
    return [f"{indent}{target} = (", f"{indent}{INDENT}{value}", f"{indent})"]


def dict_entry(indent: str, key: str, annotation: str) -> list[str]:
    """`key: annotation,` as an item of an exploded dict: a subscript too long for the line
    is split inside its brackets, a union before each `|` (ruff's splits)."""
    one = f"{indent}{key}: {annotation},"
    if len(one) <= LINE_LENGTH:
        return [one]
    parts = split_union(annotation)
    if len(parts) > 1:
        return [
            f"{indent}{key}: {parts[0]}",
            *(f"{indent}| {part}" for part in parts[1:-1]),
            f"{indent}| {parts[-1]},",
        ]
    match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_.]*)\[(.*)\]", annotation)
    if match:
        return [
            f"{indent}{key}: {match.group(1)}[",
            f"{indent}{INDENT}{match.group(2)}",
            f"{indent}],",
        ]
    return [one]


def comment(text: str, indent: str = "") -> list[str]:
    """`# text`, wrapped to the line length."""
    width = LINE_LENGTH - len(indent)
    return [indent + line for line in _wrap(text, width, initial="# ", subsequent="#   ")]
