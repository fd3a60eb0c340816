"""The platform's mail templates (the auth mails: address verification, password reset).

Each template is three files under templates/: `<name>.subject.txt`, `<name>.txt` and
`<name>.html`. HTML is autoescaped (a project name is user input); subject and text are plain
text and are not. A variable a template uses but the caller did not pass is an error
(StrictUndefined), never an empty string in a mail.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

TEMPLATES = ("verify_email", "password_reset", "email_change")

_env = Environment(
    loader=PackageLoader("cairn.mail", "templates"),
    autoescape=select_autoescape(),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


class Rendered(NamedTuple):
    subject: str
    text: str
    html: str


def render(template: str, **context: Any) -> Rendered:
    """Subject, text and HTML of `template`. The auth mails take `project_name`, `link` (an
    http(s) URL) and `expires_in` (a timedelta, or text such as "24 hours").

    Raises ValueError for an unknown template or a link that is not http(s), and
    jinja2.UndefinedError when a variable the template uses is missing."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown mail template {template!r}; choose from {', '.join(TEMPLATES)}")
    link = context.get("link")
    if link is not None and not str(link).startswith(("https://", "http://")):
        raise ValueError("link: must be an http:// or https:// URL")
    if isinstance(context.get("expires_in"), timedelta):
        context["expires_in"] = describe_duration(context["expires_in"])
    subject = _env.get_template(f"{template}.subject.txt").render(context)
    return Rendered(
        # One line: a header may not carry line breaks (a project name could hold one).
        subject=" ".join(subject.split()),
        text=_env.get_template(f"{template}.txt").render(context),
        html=_env.get_template(f"{template}.html").render(context),
    )


def describe_duration(value: timedelta) -> str:
    """A lifetime for people, in its largest whole unit: "2 days", "1 hour", "30 minutes"."""
    seconds = int(value.total_seconds())
    # Days from two on: "24 hours" reads better than "1 day" for a link's lifetime.
    for unit, size, least in (("day", 86400, 2 * 86400), ("hour", 3600, 3600), ("minute", 60, 60)):
        if seconds >= least and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    if seconds >= 60:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
