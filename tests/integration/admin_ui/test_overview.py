"""A project's overview page: figures, the hourly traffic chart drawn as SVG on the server,
records per collection and queue depths."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from cairn.runtime import Runtime
from tests.conftest import auth
from tests.factories import apply_yaml, make_key, make_project


def test_an_empty_project_says_what_to_do(admin_client: FlaskClient, runtime: Runtime) -> None:
    project = make_project(runtime)
    page = admin_client.get(f"/admin/p/{project.slug}/")
    assert page.status_code == 200
    assert "No API requests yet" in page.text and "No collections yet" in page.text
    assert "<svg" not in page.text.split("Requests in the last 24 hours")[1].split("</section>")[0]


def test_traffic_and_records_show_up(
    admin_client: FlaskClient, client: FlaskClient, runtime: Runtime
) -> None:
    project = make_project(runtime)
    apply_yaml(runtime, project, "collections: [{name: notes, fields: {body: {type: text}}}]")
    key = auth(make_key(runtime, project, "service"))
    notes = f"/api/v1/projects/{project.slug}/collections/notes/records"
    for _ in range(3):
        assert client.post(notes, json={"body": "x"}, headers=key).status_code == 201
    assert client.get(notes + "/not-a-uuid", headers=key).status_code == 404
    runtime.traffic.flush()
    page = admin_client.get(f"/admin/p/{project.slug}/").text
    assert "4 requests, 1 errors" in page
    chart = page.split('<svg class="chart"')[1].split("</svg>")[0]
    assert chart.count('class="bar"') == 24 and chart.count('class="bar-error"') == 1
    assert '<title id="traffic-title">Requests and errors per hour</title>' in chart
    assert re.search(r'<span class="hbar-name">notes</span>', page)
    assert "default" in page and "webhooks" in page and "email" in page  # queue depths


def test_the_overview_reads_only_its_own_project(
    admin_client: FlaskClient, client: FlaskClient, runtime: Runtime
) -> None:
    busy, quiet = make_project(runtime), make_project(runtime)
    key = auth(make_key(runtime, busy, "admin"))
    assert client.get(f"/api/v1/projects/{busy.slug}/api-keys", headers=key).status_code == 200
    runtime.traffic.flush()
    assert "No API requests yet" in admin_client.get(f"/admin/p/{quiet.slug}/").text
