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
