"""The mailer: mails are rows of `cairn.mails`, sent over SMTP by the `email` queue or, with no
SMTP configured, kept as the project's local mailbox (see service.py and tasks.py).

This module holds what configuration needs — reading CAIRN_SMTP_URL and CAIRN_MAIL_FROM —
and imports the standard library only, so config.py can validate them at start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_FROM = "Cairn <noreply@localhost>"
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


@dataclass(frozen=True)
class SmtpUrl:
    """`smtp://[user:pass@]host[:port][?from=...]` (STARTTLS when the server offers it) or
    `smtps://…` (TLS from the first byte). Default ports: 25 and 465. A `from` parameter
    overrides CAIRN_MAIL_FROM."""

    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str | None = None


def parse_smtp_url(url: str) -> SmtpUrl:
    """Raises ValueError with a message that never repeats the URL (it may hold a password)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError("must be a URL starting with smtp:// or smtps://")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError("must name the SMTP server's host")
    if parts.path not in ("", "/"):
        raise ValueError("must not have a path")
    params = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(params) - {"from"})
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r} (only 'from' is known)")
    sender = params["from"][-1].strip() if "from" in params else None
    if sender is not None:
        check_sender(sender)
    return SmtpUrl(
        host=parts.hostname,
        port=port or DEFAULT_PORTS[parts.scheme],
        implicit_tls=parts.scheme == "smtps",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        sender=sender,
    )


def check_sender(sender: str) -> str:
    """A From value: `Name <address>` or a bare address. Raises ValueError."""
    _, address = parseaddr(sender)
    local, _, domain = address.rpartition("@")
    if not local or not domain or "\n" in sender or "\r" in sender:
        raise ValueError("the sender must be an address such as 'Cairn <noreply@example.com>'")
    return sender
