"""The worker and the CLI when the Temporal server is down: one plain sentence and the
documented exit code, never a transport dump or a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOWHERE = {**os.environ, "TEMPORAL_ADDRESS": "127.0.0.1:1", "TEMPORAL_NAMESPACE": "default"}


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env={**NOWHERE, **env},
                          capture_output=True, text=True, timeout=60, check=False)


def test_starter_status_with_the_server_down_exits_4_in_one_sentence() -> None:
    done = _run("starter", "status", "om-SYS-1")
    assert done.returncode == 4
    assert done.stderr.startswith("error: the Temporal server at 127.0.0.1:1 could not be "
                                  "reached")
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


def test_worker_retries_then_gives_up_with_a_clear_message() -> None:
    done = _run("workers", FIELD_SERVICE_CONNECT_TIMEOUT_SECONDS="2",
                FIELD_SERVICE_LOG_FORMAT="json", FIELD_SERVICE_STORE=":memory:")
    assert done.returncode != 0
    assert "Temporal server not reachable yet; retrying" in done.stderr
    assert "cannot reach the Temporal server at 127.0.0.1:1" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_opening_that_sets_an_internal_field_is_refused_before_any_server(
        tmp_path: Path) -> None:
    """Spec 3.4: only the R&R project says a claim is damage found on its job (`project_id`,
    which skips the intake tree); the CLI refuses it like the gateway does (422)."""
    import json

    from tests.workflows.harness import claim_input

    body = claim_input(entitlements=[]).model_dump(mode="json") | {"project_id": "rr-SYS-1-P1"}
    path = tmp_path / "claim.json"
    path.write_text(json.dumps(body))
    done = _run("starter", "open", "damage", str(path))
    assert done.returncode == 2, done.stderr
    assert "project_id: set by the project only" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_event_without_an_event_id_gets_one_derived_from_what_it_says() -> None:
    """Issue 20: `starter event` without an event_id gave each run a random one, so a re-run
    (a retry after a timeout) was a second event. Now, like `ops`, the same case, event and
    payload (in any key order) give the same id; anything different, another."""
    from starter.__main__ import stable_event_id

    one = stable_event_id("om-SYS-1", "remote_fix_result", {"resolved": False, "actor": "a"})
    assert one == stable_event_id("om-SYS-1", "remote_fix_result",
                                  {"actor": "a", "resolved": False})
    assert one.startswith("cli-remote_fix_result-")
    assert len({one,
                stable_event_id("om-SYS-2", "remote_fix_result", {"resolved": False,
                                                                  "actor": "a"}),
                stable_event_id("om-SYS-1", "remote_fix_result", {"resolved": True,
                                                                  "actor": "a"}),
                stable_event_id("om-SYS-1", "call_attempt_result", {"resolved": False,
                                                                    "actor": "a"})}) == 4


def test_list_link_prints_the_web_ui_link_of_a_view_without_a_server() -> None:
    done = _run("starter", "list", "--waiting-on", "case_manager", "--link")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "http://localhost:8233/namespaces/default/workflows?query=ExecutionStatus%20%3D%20"
        "%22Running%22%20AND%20WaitingOn%20%3D%20%22case_manager%22")
