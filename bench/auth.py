"""End-user auth benchmark: what sign-in costs, and what a rule costs on a read.

    .venv/bin/python bench/auth.py [--seconds 8]

Starts its own embedded Postgres and Redis, runs `cairn web` (2 workers x 4 threads) with
the production argon2id parameters (the defaults: t=3, m=64 MiB, p=4) and prints:

 (a) sign-ins per second (argon2-bound), and the same with an unknown email (dummy verify)
 (b) GET by id as a signed-in user under the rule `published = true || owner =
     @request.auth.id` vs the same GET with a service key (no rule), same run
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.serve import free_port  # noqa: E402
from tests.factories import apply_file, insert_rows, make_key, make_project  # noqa: E402

from bench import embedded  # noqa: E402
from bench.records import WORKERS, load, serve  # noqa: E402

DEFINITION = """
collections:
  - name: posts
    fields: {title: {type: text, required: true}, published: {type: boolean}}
    rules:
      list: "published = true || owner = @request.auth.id"
      view: "published = true || owner = @request.auth.id"
      create: "@request.auth.id != ''"
      update: "owner = @request.auth.id"
      delete: "owner = @request.auth.id"
"""
PASSWORD = "a long passphrase for the bench"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    services, env, runtime = embedded.start(
        "cairn-bench-auth-", CAIRN_RATE_LIMIT_AUTH="100000000/minute"
    )
    settings = runtime.settings
    procs: list[subprocess.Popen[bytes]] = []
    try:
        project = apply_file(runtime, make_project(runtime, "bench"), DEFINITION)
        service_key = make_key(runtime, project, "service").secret
        port = free_port()
        procs.append(
            serve(
                [sys.executable, "-m", "cairn", "web"],
                {**os.environ, **env, **WORKERS, "CAIRN_PORT": str(port)},
                port,
            )
        )
        base = f"http://127.0.0.1:{port}"
        auth_url = "/api/v1/projects/bench/auth"
        signed = httpx.post(
            base + auth_url + "/signup", json={"email": "ada@example.test", "password": PASSWORD}
        ).json()
        user_id = uuid.UUID(signed["user"]["id"])
        # Drafts owned by the user: visible only through the rule's owner branch.
        ids = insert_rows(
            runtime,
            project,
            "posts",
            [{"title": f"post {i}", "published": False, "owner": user_id} for i in range(10_000)],
        )
        rows: list[tuple[str, str, str]] = []
        params = (
            f"t={settings.argon2_time_cost}, m={settings.argon2_memory_kib // 1024} MiB, "
            f"p={settings.argon2_parallelism}"
        )

        # (a) sign-in throughput
        login = f"{auth_url}/login"
        body = {"email": "ada@example.test", "password": PASSWORD}
        load(base, [login], {}, 1, method="POST", body=body)
        known = load(base, [login], {}, args.seconds, method="POST", body=body)
        rows.append(("(a) sign-in, req/s", f"{known:.1f}", f"argon2id {params}"))
        started = time.perf_counter()
        unknown = 0
        with httpx.Client(base_url=base, timeout=10) as client:
            while time.perf_counter() - started < args.seconds / 2:
                response = client.post(
                    login, json={"email": "nobody@example.test", "password": PASSWORD}
                )
                assert response.status_code == 401
                unknown += 1
            unknown_each = (time.perf_counter() - started) / unknown
            started = time.perf_counter()
            wrong = 0
            while time.perf_counter() - started < args.seconds / 2:
                response = client.post(
                    login, json={"email": "ada@example.test", "password": "wrong " + PASSWORD}
                )
                assert response.status_code == 401
                wrong += 1
            wrong_each = (time.perf_counter() - started) / wrong
        rows.append(
            (
                "    unknown email vs wrong password, ms",
                f"{unknown_each * 1000:.1f} / {wrong_each * 1000:.1f}",
                f"{unknown_each / wrong_each:.2f}  (target 0.5-2.0)",
            )
        )

        # (b) a ruled GET vs a service-key GET
        paths = [f"/api/v1/projects/bench/collections/posts/records/{i}" for i in ids]
        user_headers = {"Authorization": f"Bearer {signed['token']}"}
        key_headers = {"Authorization": f"Bearer {service_key}"}
        load(base, paths, user_headers, 1)
        load(base, paths, key_headers, 1)
        ruled = load(base, paths, user_headers, args.seconds)
        keyed = load(base, paths, key_headers, args.seconds)
        rows.append(
            (
                "(b) GET by id: session + rule vs service key, req/s",
                f"{ruled:.0f} / {keyed:.0f}",
                f"{ruled / keyed:.2f}",
            )
        )

        width = max(len(r[0]) for r in rows)
        print(f"\n{'measure':<{width}}  {'figures':<24}  ratio / note")
        for name, figures, ratio in rows:
            print(f"{name:<{width}}  {figures:<24}  {ratio}")
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
        runtime.close()
        services.stop()


if __name__ == "__main__":
    main()
