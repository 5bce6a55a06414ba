"""The alert rules and the dashboard against what the processes really export (issue 19,
finding 4): a worker and a gateway on a real dev server are driven through the events the
rules watch (cases opened and escalated, stages left, a delivery refused for good, a payload
under a key the worker lacks, a bad signature, a codec call); then every rule and every
dashboard query must parse (what `promtool check rules` checks of PromQL) and name only
metrics in the two scrapes, and both scrapes follow Prometheus's naming conventions."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import promql_parser
import yaml

from infra.encryption import new_key_setting
from tests.e2e.test_local_stack import ROOT, Stack, free_port, om_report, running, until_live

MONITORING = ROOT / "deploy" / "monitoring"
# SDK metrics that exist only once their event has happened, which this run cannot cause
# without a broken build: a workflow task failing (the rule's whole point is that it never
# does). Everything else the rules and the dashboard name is in the scrapes below.
ONLY_AFTER_A_FAILURE = {"temporal_workflow_task_execution_failed_total"}


def _queries() -> list[tuple[str, str]]:
    rules = yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    queries = []
    for group in rules["groups"]:
        assert group["name"] and group["rules"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            assert rule["alert"].startswith("Fieldservice") and rule["labels"]["severity"]
            assert rule["annotations"]["summary"] and rule["annotations"]["description"]
            if "for" in rule:
                assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["for"]
            queries.append((rule["alert"], rule["expr"]))
    dashboard = json.loads((MONITORING / "dashboard.json").read_text())
    for panel in dashboard["panels"]:
        queries += [(panel["title"], t["expr"]) for t in panel["targets"]]
    return queries


def _metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (parsed: a syntax error fails here)."""
    normal = str(promql_parser.parse(expr))
    return set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", normal))


def _exported(text: str) -> set[str]:
    """Every series name an exposition offers (declared families and their samples)."""
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE):
        names.add(name)
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        if kind == "counter" and not name.endswith("_total"):
            names.add(f"{name}_total")
    names |= set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.MULTILINE))
    return names


def _conventional(text: str) -> list[str]:
    """What `promtool check metrics` would say about naming."""
    problems = []
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE):
        if kind == "counter" and not name.endswith("_total"):
            problems.append(f"{name}: a counter without _total")
        if kind != "counter" and name.endswith("_total"):
            problems.append(f"{name}: _total on a {kind}")
        if "millisecond" in name or name.endswith("_ms"):
            problems.append(f"{name}: not in base units")
    if re.search(r'[{,]namespace="', text):
        problems.append("a `namespace` label (Kubernetes discovery's)")
    return problems


class Refusing:
    """A delivery endpoint that refuses every record for good (422)."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(422)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/effects"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


async def _scrape(url: str, until: str, seconds: float = 45) -> str:
    end = time.monotonic() + seconds
    while True:
        try:
            async with httpx.AsyncClient(timeout=5) as http:
                text = (await http.get(url)).text
            if until in text:
                return text
        except httpx.TransportError:
            text = ""
        assert time.monotonic() < end, f"{url}: no {until} in\n{text[:2000]}"
        await asyncio.sleep(0.5)


async def test_every_rule_and_panel_names_what_the_processes_export(tmp_path: Path) -> None:
    refusing = Refusing()
    worker_key, other_key = new_key_setting("mon-1"), new_key_setting("mon-2")
    async with running(Stack, tmp_path) as stack:
        metrics, health = free_port(), free_port()
        stack.vars.update({"FIELD_SERVICE_METRICS_PORT": str(metrics),
                           "FIELD_SERVICE_HEALTH_PORT": str(health),
                           "FIELD_SERVICE_METRICS_HOST": "127.0.0.1",
                           "FIELD_SERVICE_ENCRYPTION_KEYS": worker_key,
                           "FIELD_SERVICE_DELIVERY_URL": refusing.url})
        stack.start_worker()
        code, _, err = await stack.starter("open", "om", "-", stdin=json.dumps(
            om_report("SYS-MON-1")))
        assert code == 0, err
        code, _, err = await stack.starter("event", "om-SYS-MON-1", "remote_fix_result",
                                           '{"event_id": "m-1", "resolved": false}')
        assert code == 0, err
        code, _, err = await stack.starter("ops", "om-SYS-MON-1", "escalate", "monitoring test")
        assert code == 0, err
        code, _, err = await stack.starter("event", "om-SYS-MON-1", "remote_fix_result",
                                           '{"event_id": "m-2", "resolved": true}')
        assert code == 2, err  # refused (invalid): the manual track takes no such event
        code, _, err = await stack.starter("ops", "om-SYS-MON-1", "cancel_case", "done")
        assert code == 0, err
        # A client with a key the worker lacks (a rotation in the wrong order).
        stack.vars["FIELD_SERVICE_ENCRYPTION_KEYS"] = other_key
        code, _, err = await stack.starter("open", "om", "-", stdin=json.dumps(
            om_report("SYS-MON-2")))
        assert code == 0, err
        worker_text = await _scrape(f"http://127.0.0.1:{metrics}/metrics",
                                    "fieldservice_payloads_unknown_key_total")
        worker_text = await _scrape(f"http://127.0.0.1:{metrics}/metrics",
                                    "fieldservice_side_effects_failed_total")
        worker_text = await _scrape(f"http://127.0.0.1:{metrics}/metrics",
                                    "fieldservice_stage_duration_seconds_bucket")
        worker_text = await _scrape(f"http://127.0.0.1:{metrics}/metrics",
                                    "fieldservice_cases_closed_total")

        gw_port, gw_metrics = free_port(), free_port()
        token = "t" * 32
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELD_SERVICE_")}
        env.update({"FIELD_SERVICE_GATEWAY_PORT": str(gw_port),
                    "FIELD_SERVICE_GATEWAY_METRICS_PORT": str(gw_metrics),
                    "FIELD_SERVICE_METRICS_HOST": "127.0.0.1",
                    "FIELD_SERVICE_CODEC_TOKENS": token,
                    "FIELD_SERVICE_INTEGRATIONS": json.dumps({"crm": {
                        "secrets": ["x" * 32], "open": ["*"], "events": ["*"]}}),
                    "TEMPORAL_ADDRESS": stack.vars["TEMPORAL_ADDRESS"]})
        log = (tmp_path / "gateway.log").open("wb")
        gateway = subprocess.Popen([sys.executable, "-m", "gateway"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        stack.procs.append(gateway)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gw_port}",
                                     timeout=5) as http:
            await until_live(http)
            r = await http.post("/v1/cases/om", json={"system_id": "x"},
                                headers={"Signature-Input": "sig=();keyid=\"crm\"",
                                         "Signature": "sig=:AAAA:"})
            assert r.status_code == 401
            r = await http.post(f"/codec/t/{token}/decode", json={"payloads": []})
            assert r.status_code == 200
        gateway_text = await _scrape(f"http://127.0.0.1:{gw_metrics}/metrics",
                                     "fieldservice_gateway_codec_calls_total{")

    exported = _exported(worker_text) | _exported(gateway_text)
    assert _conventional(worker_text) == [] and _conventional(gateway_text) == []
    queries = _queries()
    assert len(queries) >= 20
    named = {name for _, expr in queries for name in _metric_names(expr)}
    missing = sorted(named - exported - ONLY_AFTER_A_FAILURE)
    assert missing == []
    # Each family the task asked for is on the dashboard.
    dashboard = " ".join(expr for title, expr in queries)
    for family in ("fieldservice_cases_opened_total", "fieldservice_cases_closed_total",
                   "fieldservice_stage_duration_seconds_bucket",
                   "fieldservice_cases_escalated_total", "fieldservice_side_effects_failed_total",
                   "fieldservice_events_rejected_total",
                   "temporal_workflow_task_schedule_to_start_latency_seconds_bucket",
                   "fieldservice_payloads_unknown_key_total"):
        assert family in dashboard, family
