"""Behind an ingress (CAIRN_PROXY_HOPS > 0), the client address and scheme come from
X-Forwarded-For / X-Forwarded-Proto; without it, those headers are ignored."""

from __future__ import annotations

from dataclasses import replace

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from cairn.app import create_app
from cairn.config import Settings
from cairn.runtime import Runtime

FORWARDED = {"X-Forwarded-For": "203.0.113.9, 10.1.2.3", "X-Forwarded-Proto": "https"}


def _app(settings: Settings, runtime: Runtime, hops: int) -> Flask:
    app = create_app(replace(settings, proxy_hops=hops), runtime)

    def probe() -> ResponseReturnValue:
        return jsonify(
            remote_addr=request.remote_addr, is_secure=request.is_secure, url=request.url_root
        )

    app.add_url_rule("/_probe", "probe", probe)
    return app


def test_one_hop_trusts_the_last_proxy(settings: Settings, runtime: Runtime) -> None:
    client = _app(settings, runtime, 1).test_client()
    body = client.get("/_probe", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.5"}).json
    assert body == {"remote_addr": "10.1.2.3", "is_secure": True, "url": "https://localhost/"}


def test_two_hops_reach_the_client(settings: Settings, runtime: Runtime) -> None:
    client = _app(settings, runtime, 2).test_client()
    # A CDN terminates TLS and appends, then the ingress appends its own view.
    headers = {**FORWARDED, "X-Forwarded-Proto": "https, http"}
    body = client.get("/_probe", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.5"}).json
    assert body is not None
    assert body["remote_addr"] == "203.0.113.9" and body["is_secure"] is True


def test_without_proxy_hops_forwarded_headers_are_ignored(
    settings: Settings, runtime: Runtime
) -> None:
    assert settings.proxy_hops == 0
    client = _app(settings, runtime, 0).test_client()
    body = client.get("/_probe", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.5"}).json
    assert body == {"remote_addr": "10.0.0.5", "is_secure": False, "url": "http://localhost/"}


def test_the_health_check_still_answers_behind_a_proxy(
    settings: Settings, runtime: Runtime
) -> None:
    client = _app(settings, runtime, 1).test_client()
    assert client.get("/healthz", headers=FORWARDED).status_code == 200
