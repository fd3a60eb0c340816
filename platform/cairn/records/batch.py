"""Batch: up to 100 record writes in one transaction, all or nothing.

A failing operation aborts the whole batch; the error says which operation failed and why,
with the status that operation would have had on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from cairn.auth.principal import Principal
from cairn.errors import CairnError, Invalid
from cairn.records import collection as collections
from cairn.records import service
from cairn.tenancy.service import Project

MAX_OPERATIONS = 100
_PATH = re.compile(r"^/collections/([a-z][a-z0-9_]{0,62})/records(?:/([0-9a-fA-F-]{36}))?$")
_METHODS = ("POST", "PATCH", "DELETE")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    collection: str
    record_id: UUID | None
    body: dict[str, Any]
    if_match: str | None


class OperationFailed(CairnError):
    """One operation's error, re-raised for the whole batch with its index."""

    def __init__(self, index: int, operation: Operation, cause: CairnError) -> None:
        super().__init__(
            f"operation {index} ({operation.method} {operation.path}) failed: {cause.detail}",
            operation=index,
            **cause.extra,
        )
        self.status, self.title, self.slug = cause.status, cause.title, cause.slug
        if isinstance(cause, Invalid):
            self.extra["errors"] = cause.errors


def parse(data: dict[str, Any]) -> list[Operation]:
    raw = data.get("operations")
    unknown = sorted(set(data) - {"operations"})
    if unknown:
        raise Invalid(errors={key: ["unknown field"] for key in unknown})
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_OPERATIONS:
        raise Invalid(
            errors={"operations": [f"must be a list of 1 to {MAX_OPERATIONS} operations"]}
        )
    errors: dict[str, list[str]] = {}
    operations = []
    for index, item in enumerate(raw):
        at = f"operations.{index}"
        if not isinstance(item, dict):
            errors[at] = ["must be an object with method, path and body"]
            continue
        for key in sorted(set(item) - {"method", "path", "body", "if_match"}):
            errors[f"{at}.{key}"] = ["unknown field"]
        method, path, body = item.get("method"), item.get("path"), item.get("body", {})
        if_match = item.get("if_match")
        match = _PATH.fullmatch(path) if isinstance(path, str) else None
        if method not in _METHODS:
            errors[f"{at}.method"] = [f"must be one of {', '.join(_METHODS)}"]
        if match is None:
            errors[f"{at}.path"] = ["must be /collections/{name}/records[/{id}]"]
        elif (method == "POST") != (match.group(2) is None):
            errors[f"{at}.path"] = ["POST takes the collection path; PATCH and DELETE a record's"]
        if body is None:
            body = {}
        if not isinstance(body, dict):
            errors[f"{at}.body"] = ["must be an object"]
        if if_match is not None and not isinstance(if_match, str):
            errors[f"{at}.if_match"] = ["must be a string of ETags"]
        if at in errors or any(k.startswith(f"{at}.") for k in errors):
            continue
        assert match is not None
        try:
            record_id = UUID(match.group(2)) if match.group(2) else None
        except ValueError:
            errors[f"{at}.path"] = ["the record id is not a UUID"]
            continue
        operations.append(
            Operation(str(method), str(path), match.group(1), record_id, body, if_match)
        )
    if errors:
        raise Invalid("the batch is not valid; nothing was run", errors=errors)
    return operations


def run(
    conn: Connection, project: Project, principal: Principal, operations: list[Operation]
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    loaded: dict[str, collections.Collection] = {}  # one registry read per collection
    for index, op in enumerate(operations):
        try:
            if op.collection not in loaded:
                loaded[op.collection] = collections.load(conn, project, op.collection)
            results.append(_run_one(conn, loaded[op.collection], principal, op))
        except CairnError as exc:
            raise OperationFailed(index, op, exc) from None
    return results


def _run_one(
    conn: Connection, coll: collections.Collection, principal: Principal, op: Operation
) -> dict[str, Any]:
    pre = service.parse_if_match(op.if_match) if op.if_match is not None else None
    if op.method == "POST":
        row = service.create_record(conn, coll, principal, op.body)
        return {"status": 201, "body": collections.dump(coll, row)}
    assert op.record_id is not None
    if op.method == "PATCH":
        row = service.update_record(conn, coll, principal, op.record_id, op.body, pre)
        return {"status": 200, "body": collections.dump(coll, row)}
    service.delete_record(conn, coll, principal, op.record_id, pre)
    return {"status": 204, "body": None}
