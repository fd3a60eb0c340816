"""Static checks of the Helm chart in helm/cairn (no helm binary here, so nothing is rendered).

Templates are Go templates, so they are inspected textually: delimiters and blocks balance,
every `.Values` path exists in values.yaml, and the workloads carry probes, resources and a
hardened securityContext (resolved through `toYaml .Values.x` to values.yaml's content).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

CHART = Path(__file__).resolve().parents[3] / "helm" / "cairn"
TEMPLATES = CHART / "templates"
WORKLOADS = {
    "web-deployment.yaml": "web",
    "worker-deployment.yaml": "worker",
    "scheduler-deployment.yaml": "scheduler",
    "migrate-job.yaml": "migrations",
}

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_VALUES_PATH = re.compile(r"(?<![\w$])\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
_OPENERS = ("if", "range", "with", "define", "block")


def _values() -> dict[str, Any]:
    data = yaml.safe_load((CHART / "values.yaml").read_text())
    assert isinstance(data, dict)
    return data


def _schema() -> dict[str, Any]:
    data = json.loads((CHART / "values.schema.json").read_text())
    assert isinstance(data, dict)
    return data


def _template(name: str) -> str:
    return (TEMPLATES / name).read_text()


def _all_templates() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(TEMPLATES.iterdir()) if p.is_file()}


# --- checkers (pure functions over text, so they can be fed broken input) -----------------


def delimiter_problems(text: str) -> list[str]:
    """Unbalanced `{{ }}`, and block actions without their `end` (or `end`s without a block)."""
    problems = []
    opens, closes = text.count("{{"), text.count("}}")
    if opens != closes:
        problems.append(f"{opens} '{{{{' but {closes} '}}}}'")
    stack: list[str] = []
    for match in _ACTION.finditer(text):
        body = match.group(1)
        if body.startswith("/*"):
            if not body.endswith("*/"):
                problems.append("unterminated comment")
            continue
        word = body.split(None, 1)[0] if body.split() else ""
        if word in _OPENERS:
            stack.append(word)
        elif word == "end":
            if not stack:
                problems.append("'end' without an open block")
            else:
                stack.pop()
        elif word == "else" and not stack:
            problems.append("'else' outside a block")
    if stack:
        problems.append(f"unclosed blocks: {', '.join(stack)}")
    if _ACTION.sub("", text).count("{{") or _ACTION.sub("", text).count("}}"):
        problems.append("stray delimiter outside a complete action")
    return problems


def values_paths(text: str) -> set[str]:
    return {m.group(1).lstrip(".") for m in _VALUES_PATH.finditer(text)}


def lookup(values: Any, path: str) -> tuple[bool, Any]:
    node = values
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return False, None
        node = node[key]
    return True, node


def missing_values(text: str, values: dict[str, Any]) -> list[str]:
    return sorted(p for p in values_paths(text) if not lookup(values, p)[0])


def _blocks_after(text: str, key: str) -> list[Any]:
    """What each `key:` in the template holds: the values.yaml object a following
    `toYaml .Values.x` names, or the literal indented YAML block."""
    found: list[Any] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(rf"^(\s*){re.escape(key)}:\s*(.*)$", line)
        if not m:
            continue
        indent = len(m.group(1))
        body = [m.group(2)] if m.group(2) else []
        for nxt in lines[i + 1 :]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                break
            body.append(nxt)
        joined = "\n".join(body)
        ref = re.search(r"toYaml\s+\$?\.Values((?:\.\w+)+)", joined)
        if ref:
            ok, node = lookup(_values(), ref.group(1).lstrip("."))
            found.append(node if ok else None)
            continue
        literal = "\n".join(x for x in body if "{{" not in x)
        try:
            found.append(yaml.safe_load(_dedent(literal)))
        except yaml.YAMLError:
            found.append(None)
    return found


def _dedent(text: str) -> str:
    lines = [x for x in text.splitlines() if x.strip()]
    cut = min((len(x) - len(x.lstrip()) for x in lines), default=0)
    return "\n".join(x[cut:] for x in lines)


def workload_problems(text: str, *, web: bool = False) -> list[str]:
    problems = []
    contexts = [c for c in _blocks_after(text, "securityContext") if isinstance(c, dict)]

    def some(pred: Any) -> bool:
        return any(pred(c) for c in contexts)

    if not some(lambda c: c.get("runAsNonRoot") is True):
        problems.append("no securityContext with runAsNonRoot: true")
    if not some(lambda c: c.get("readOnlyRootFilesystem") is True):
        problems.append("no securityContext with readOnlyRootFilesystem: true")
    if not some(lambda c: c.get("allowPrivilegeEscalation") is False):
        problems.append("no securityContext with allowPrivilegeEscalation: false")
    if not some(lambda c: "ALL" in ((c.get("capabilities") or {}).get("drop") or [])):
        problems.append("no securityContext dropping ALL capabilities")
    if not some(lambda c: (c.get("seccompProfile") or {}).get("type") == "RuntimeDefault"):
        problems.append("no RuntimeDefault seccomp profile")
    resources = _blocks_after(text, "resources")
    if not any(isinstance(r, dict) and (r.get("requests") or r.get("limits")) for r in resources):
        problems.append("no resources with requests or limits")
    if not re.search(r"mountPath:\s*/tmp\s*$", text, re.M) or "emptyDir:" not in text:
        problems.append("no emptyDir mounted at /tmp")
    if web:
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            m = re.search(rf"^\s*{probe}:\s*\n(?:\s+.*\n)*?\s+path:\s*(\S+)", text, re.M)
            if not m or m.group(1) != path:
                problems.append(f"no {probe} on {path}")
    return problems


# --- values.yaml and values.schema.json ---------------------------------------------------


def _errors(values: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(_schema())
    return [e.message for e in validator.iter_errors(values)]


def test_schema_is_valid_and_accepts_the_default_values() -> None:
    jsonschema.Draft7Validator.check_schema(_schema())
    assert _errors(_values()) == []


def _mutated(path: str, value: Any) -> dict[str, Any]:
    values = copy.deepcopy(_values())
    *parents, last = path.split(".")
    node = values
    for key in parents:
        node = node[key]
    node[last] = value
    return values


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("scheduler.replicaCount", 2),
        ("scheduler.replicaCount", 0),
        ("web.replicaCount", -1),
        ("worker.replicaCount", -3),
        ("worker.replicaCount", "two"),
        ("unknownTopLevel", True),
        ("web.surprise", 1),
        ("securityContext.readOnlyRootFilesystem", False),
        ("securityContext.allowPrivilegeEscalation", True),
        ("securityContext.capabilities", {"drop": ["NET_RAW"]}),
        ("podSecurityContext.runAsNonRoot", False),
        ("secrets.secretKey", "too-short"),
        ("secrets.databaseUrl", "mysql://db/cairn"),
        ("secrets.redisUrl", "http://redis"),
        ("config.logLevel", "VERBOSE"),
        ("config.tenantContext", "session"),
        ("config.forwardedAllowIps", "the ingress"),
        ("config.proxyHops", 11),
        ("image.pullPolicy", "Sometimes"),
        ("service.type", "ExternalName"),
        ("web.autoscaling.maxReplicas", 0),
    ],
)
def test_schema_rejects_bad_values(path: str, value: Any) -> None:
    assert _errors(_mutated(path, value)), f"{path}={value!r} was accepted"


def test_every_value_is_documented_with_a_comment() -> None:
    """Each key has a comment above it, unless it is a section whose keys are documented or
    it sits inside a documented value (e.g. the keys of a documented securityContext)."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    undocumented = []
    ancestors: list[tuple[int, bool]] = []  # (indent, documented) of enclosing keys
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)([A-Za-z][A-Za-z0-9]*):(.*)$", line)
        if not m:
            continue
        indent = len(m.group(1))
        while ancestors and ancestors[-1][0] >= indent:
            ancestors.pop()
        commented = i > 0 and lines[i - 1].strip().startswith("#")
        inherited = any(doc for _, doc in ancestors)
        is_section = m.group(3).strip() == ""
        if not (commented or inherited or is_section):
            undocumented.append(m.group(2))
        ancestors.append((indent, commented or inherited))
    assert undocumented == []


def test_config_keys_cover_cairn_settings() -> None:
    config = Path(__file__).resolve().parents[3] / "platform" / "cairn" / "config.py"
    names = set(re.findall(r'data_key="(CAIRN_[A-Z0-9_]+)"', config.read_text()))
    chart = "\n".join(_all_templates().values())
    missing = sorted(n for n in names if n not in chart)
    assert missing == [], f"CAIRN_* settings the chart cannot set: {missing}"


# --- templates ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(_all_templates()))
def test_template_delimiters_balance(name: str) -> None:
    assert delimiter_problems(_template(name)) == []


@pytest.mark.parametrize("name", sorted(_all_templates()))
def test_every_values_path_exists(name: str) -> None:
    assert missing_values(_template(name), _values()) == []


def test_templates_use_values() -> None:
    used = set().union(*(values_paths(t) for t in _all_templates().values()))
    assert {"web.resources", "scheduler.replicaCount", "existingSecret"} <= used


@pytest.mark.parametrize(("name", "component"), sorted(WORKLOADS.items()))
def test_workloads_are_hardened_and_resourced(name: str, component: str) -> None:
    text = _template(name)
    assert workload_problems(text, web=component == "web") == []
    assert f".Values.{component}.resources" in text


def test_scheduler_is_a_single_recreated_replica() -> None:
    text = _template("scheduler-deployment.yaml")
    assert re.search(r"^  replicas:\s*1\s*$", text, re.M)
    assert re.search(r"^  strategy:\s*\n    type:\s*Recreate\s*$", text, re.M)
    assert "HorizontalPodAutoscaler" not in text


def test_web_has_autoscaler_and_disruption_budget() -> None:
    templates = _all_templates()
    assert "kind: HorizontalPodAutoscaler" in templates["web-hpa.yaml"]
    assert "kind: PodDisruptionBudget" in templates["web-pdb.yaml"]
    web = templates["web-deployment.yaml"]
    assert 'prometheus.io/scrape: "true"' in web and "prometheus.io/path: /metrics" in web


def test_migration_job_is_a_pre_install_pre_upgrade_hook() -> None:
    text = _template("migrate-job.yaml")
    assert "kind: Job" in text
    assert re.search(r'"?helm\.sh/hook"?:\s*"?pre-install,pre-upgrade"?\s*$', text, re.M)
    assert re.search(r'args:\s*\["db",\s*"upgrade"\]', text)
    hook_secret = _template("migrate-secret.yaml")
    weight = re.search(r'hook-weight"?:\s*"(-?\d+)"', hook_secret)
    job_weight = re.search(r'hook-weight"?:\s*"(-?\d+)"', text)
    assert weight and job_weight and int(weight.group(1)) < int(job_weight.group(1))


def test_secret_is_skipped_for_an_existing_secret() -> None:
    secret = _template("secret.yaml")
    assert secret.lstrip().startswith("{{- if not .Values.existingSecret }}")
    for key in ("CAIRN_DATABASE_URL", "CAIRN_REDIS_URL", "CAIRN_SECRET_KEY", "CAIRN_SMTP_URL"):
        assert key in _template("_helpers.tpl")


def test_notes_explain_the_first_admin_project_and_key() -> None:
    notes = _template("NOTES.txt")
    assert "exec -it deploy/{{ $web }} -- cairn admins create you@example.com" in notes
    assert "cairn projects create" in notes and "cairn keys create" in notes


def test_chart_metadata_and_readme() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "cairn"
    readme = (CHART / "README.md").read_text()
    for topic in ("existingSecret", "CloudNativePG", "Citus", "helm install"):
        assert topic in readme


# --- the checkers can fail ----------------------------------------------------------------


@pytest.mark.parametrize(
    "broken",
    [
        "{{- if .Values.a }}\nx: 1\n",
        "x: {{ .Values.a }\n",
        "{{- range .Values.b }}\n{{- end }}\n{{- end }}\n",
        '{{- define "x" -}}\n{{- with .Values.c }}{{ . }}\n{{- end }}\n',
        "y: }}\n",
    ],
)
def test_delimiter_checker_complains(broken: str) -> None:
    assert delimiter_problems(broken)


def test_values_checker_complains_about_an_unknown_path() -> None:
    text = _template("web-deployment.yaml").replace(
        ".Values.web.resources", ".Values.web.resourcez"
    )
    assert missing_values(text, _values()) == ["web.resourcez"]


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ("path: /readyz", "path: /healthz", "no readinessProbe on /readyz"),
        ("livenessProbe:", "startupProbe:", "no livenessProbe on /healthz"),
        ("toYaml .Values.securityContext ", "toYaml .Values.podLabels ", "readOnlyRootFilesystem"),
        ("toYaml .Values.web.resources", "toYaml .Values.web.affinity", "no resources"),
        ("mountPath: /tmp", "mountPath: /scratch", "no emptyDir mounted at /tmp"),
    ],
)
def test_workload_checker_complains(old: str, new: str, complaint: str) -> None:
    text = _template("web-deployment.yaml")
    assert old in text
    problems = workload_problems(text.replace(old, new), web=True)
    assert any(complaint in p for p in problems), problems


def test_workload_checker_reads_literal_security_contexts() -> None:
    literal = """
spec:
  template:
    spec:
      containers:
        - name: x
          resources:
            limits:
              memory: 1Gi
          securityContext:
            runAsNonRoot: true
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
            capabilities:
              drop: [ALL]
            seccompProfile:
              type: RuntimeDefault
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: {}
"""
    assert workload_problems(literal) == []
    assert workload_problems(literal.replace("drop: [ALL]", "drop: [NET_RAW]")) == [
        "no securityContext dropping ALL capabilities"
    ]
