"""infra/'s monitoring (Prometheus scrape config and alert rules, Grafana provisioning and
dashboard) fits the metrics `serve` exposes: every query names a metric the collector yields
and only labels docs/OPERATIONS.md lists for it, the scrape reaches the web service of
compose.yaml with the metrics token, and every alert is explained in docs/OPERATIONS.md."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import yaml

from archive_ingest.monitoring.figures import ArchiveFigures
from archive_ingest.monitoring.metrics import ArchiveCollector

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
OPERATIONS = (ROOT / "docs" / "OPERATIONS.md").read_text()
METRIC = re.compile(r"\barchive_ingest_[a-z_]+")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
PROMQL_WORDS = {"le", "by", "without", "on", "ignoring"}


def _exposed() -> set[str]:
    now = dt.datetime.now(dt.UTC)
    families = list(ArchiveCollector(lambda: ArchiveFigures(generated_at=now)).collect())
    # a counter's samples are named NAME_total, the name a query uses
    return {f"{f.name}_total" if f.type == "counter" else f.name for f in families}


def _documented_labels() -> dict[str, set[str]]:
    """metric -> labels, from the table of docs/OPERATIONS.md's Metrics section."""
    table: dict[str, set[str]] = {}
    for line in OPERATIONS.splitlines():
        row = re.match(r"\| `(archive_ingest_[a-z_]+)` \|([^|]*)\|", line)
        if row:
            table[row.group(1)] = set(re.findall(r"`([a-z_]+)`", row.group(2)))
    return table


def _base(name: str, exposed: set[str]) -> str:
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in exposed:
            return name[: -len(suffix)]
    return name


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (INFRA / "grafana" / "dashboards" / "archive-ingest.json").read_text()
    )
    return loaded


def _rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((INFRA / "prometheus" / "alerts.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _expressions() -> list[str]:
    exprs = [t["expr"] for p in _dashboard()["panels"] for t in p["targets"]]
    return exprs + [rule["expr"] for rule in _rules()]


def test_every_query_names_an_exposed_metric_with_documented_labels() -> None:
    exposed = _exposed()
    documented = _documented_labels()
    assert exposed and set(documented) == exposed, set(documented) ^ exposed
    used: set[str] = set()
    for expr in _expressions():
        for match in METRIC.finditer(expr):
            name = _base(match.group(0), exposed)
            assert name in exposed, f"{match.group(0)} in {expr!r} is not exposed"
            used.add(name)
            selector = re.match(r"\{([^}]*)\}", expr[match.end() :])
            labels = set(re.findall(r"([a-z_]+)\s*[=!~]", selector.group(1))) if selector else set()
            assert labels <= documented[name], (expr, labels - documented[name])
        for grouping in re.findall(r"\bby \(([^)]*)\)", expr):
            names = {label.strip() for label in grouping.split(",")} - PROMQL_WORDS
            metrics = {_base(m, exposed) for m in METRIC.findall(expr)}
            assert any(names <= documented[m] for m in metrics), (expr, names)
    # the dashboard shows the core of the archive's health
    for needed in (
        "archive_ingest_items",
        "archive_ingest_copies",
        "archive_ingest_audit_findings",
        "archive_ingest_review_queue_oldest_age_seconds",
        "archive_ingest_last_success_timestamp_seconds",
        "archive_ingest_stage_duration_seconds",
    ):
        assert needed in used, needed


def test_dashboard_panels_use_the_provisioned_data_source() -> None:
    source = yaml.safe_load(
        (INFRA / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"][0]
    assert source["url"] == "http://prometheus:9090"
    dashboard = _dashboard()
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) >= 10
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        assert panel["targets"] and panel["description"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == source["uid"]
    provider = yaml.safe_load(
        (INFRA / "grafana" / "provisioning" / "dashboards" / "archive-ingest.yml").read_text()
    )["providers"][0]
    compose = yaml.safe_load((INFRA / "compose.yaml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in mounts


def test_prometheus_scrapes_the_web_service_with_the_metrics_token() -> None:
    config = yaml.safe_load((INFRA / "prometheus" / "prometheus.yml").read_text())
    compose = yaml.safe_load((INFRA / "compose.yaml").read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    [target] = job["static_configs"][0]["targets"]
    host, port = target.split(":")
    web = compose["services"][host]
    assert f"--port {port}" in web["command"]
    assert "ARCHIVE_INGEST_METRICS_TOKEN" in web["environment"]
    prometheus = compose["services"]["prometheus"]
    [secret] = prometheus["secrets"]
    assert job["authorization"]["credentials_file"] == f"/run/secrets/{secret['target']}"
    assert secret["source"] in compose["secrets"]
    mounted = {volume.split(":")[1] for volume in prometheus["volumes"]}
    assert set(config["rule_files"]) <= mounted
    for service in ("prometheus", "grafana"):  # published on the host's loopback only
        assert all(p.startswith("127.0.0.1:") for p in compose["services"][service]["ports"])


def test_every_alert_rule_is_explained_in_the_operations_guide() -> None:
    rules = _rules()
    assert len(rules) >= 6
    for rule in rules:
        assert rule["alert"] in OPERATIONS, rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
