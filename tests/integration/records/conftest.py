from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from cairn.auth.keys import IssuedKey
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.conftest import auth
from tests.factories import apply_yaml

BLOG = """
collections:
  - name: authors
    fields:
      name: {type: text, required: true}
      email: {type: email, unique: true}
    rules: {list: "", view: "name !~ 'secret'", create: "", update: "", delete: ""}
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
      link: {type: url}
      tags: {type: select, values: [a, b, c], multiple: true}
      author: {type: relation, collection: authors, on_delete: restrict}
      reviewers: {type: relation, collection: authors, multiple: true, on_delete: set_null}
    indexes: [{fields: [status, posted_at]}]
  - name: comments
    fields:
      post: {type: relation, collection: posts, on_delete: cascade, required: true}
      text: {type: text, required: true}
"""


class Api:
    """A small client for one project's records API."""

    def __init__(self, client: FlaskClient, project: Project, key: IssuedKey | str) -> None:
        self.client = client
        self.project = project
        self.headers = auth(key)

    def url(self, collection: str, suffix: str = "") -> str:
        return f"/api/v1/projects/{self.project.slug}/collections/{collection}/records{suffix}"

    def create(self, collection: str, body: Any, **kw: Any) -> Any:
        return self.client.post(self.url(collection), json=body, headers={**self.headers, **kw})

    def get(self, collection: str, record_id: str = "", query: str = "", **kw: Any) -> Any:
        path = self.url(collection, f"/{record_id}" if record_id else "")
        return self.client.get(
            path + (f"?{query}" if query else ""), headers={**self.headers, **kw}
        )

    def patch(self, collection: str, record_id: str, body: Any, **kw: Any) -> Any:
        return self.client.patch(
            self.url(collection, f"/{record_id}"), json=body, headers={**self.headers, **kw}
        )

    def delete(self, collection: str, record_id: str, **kw: Any) -> Any:
        return self.client.delete(
            self.url(collection, f"/{record_id}"), headers={**self.headers, **kw}
        )

    def made(self, collection: str, body: Any) -> dict[str, Any]:
        response = self.create(collection, body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def blog(runtime: Runtime, project: Project) -> Project:
    apply_yaml(runtime, project, BLOG)
    return project


@pytest.fixture
def api(client: FlaskClient, blog: Project, admin_key: IssuedKey) -> Api:
    return Api(client, blog, admin_key)


@pytest.fixture
def api_for(client: FlaskClient, blog: Project) -> Callable[[IssuedKey | str], Api]:
    return lambda key: Api(client, blog, key)
