"""The docs run as written (issue 20, item 9): every shell command of README.md,
docs/operators.md and docs/integrations.md (and the integration guide's Python client), in
that order, against a fresh `./dev up` in a copy of the project, the way a newcomer runs them.
The docs once reused a demo case the README had moved on, named cases that did not exist and
showed a pair of commands meant to differ that printed the same thing; each of those now fails
here.

Only the ports differ from what a newcomer types: the stack runs on free ports (so it runs
beside a developer's own `./dev up`), which the test writes into the commands and gives the
CLIs as `TEMPORAL_ADDRESS`."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_encrypted_stack import _doc_examples, _python_example
from tests.e2e.test_local_stack import ROOT, free_port

DOCS = ("README.md", "docs/operators.md", "docs/integrations.md")
UP_TIMEOUT_S = 400


@dataclass
class DevStack:
    """`./dev up` running in a copy of the project, on ports of its own."""

    project: Path
    server_port: int
    ui_port: int
    gateway_port: int
    log: Path

    def localize(self, text: str) -> str:
        """The documented commands with this stack's ports."""
        return (text.replace("localhost:8088", f"localhost:{self.gateway_port}")
                .replace("localhost:8233", f"localhost:{self.ui_port}")
                .replace("localhost:7233", f"localhost:{self.server_port}"))

    def env(self) -> dict[str, str]:
        """A newcomer's shell: none of the test's own settings, the stack's address."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("FIELD_SERVICE_", "TEMPORAL_", "OTEL_"))}
        env["TEMPORAL_ADDRESS"] = f"localhost:{self.server_port}"
        return env


def _copy_project(to: Path) -> Path:
    """The project's files as a clone has them (tracked and new, not ignored), with this
    checkout's installed .venv (what `./dev up` would install is the same lock)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, to / name)
    (to / ".venv").symlink_to(ROOT / ".venv")
    return to


@pytest.fixture
def dev_up(tmp_path: Path) -> Iterator[DevStack]:
    """`./dev up`, as the README says, until it prints that the stack is up; stopped with
    TERM afterwards, as the README says."""
    project = _copy_project(tmp_path / "project")
    stack = DevStack(project, free_port(), free_port(), free_port(), tmp_path / "up.log")
    env = {**stack.env(), "FIELD_SERVICE_DEV_SERVER_PORT": str(stack.server_port),
           "FIELD_SERVICE_DEV_UI_PORT": str(stack.ui_port),
           "FIELD_SERVICE_GATEWAY_PORT": str(stack.gateway_port)}
    env.pop("TEMPORAL_ADDRESS")
    with stack.log.open("w") as out:
        up = subprocess.Popen(["./dev", "up"], cwd=project, env=env, stdout=out,
                              stderr=subprocess.STDOUT)
    try:
        end = time.monotonic() + UP_TIMEOUT_S
        while "Local stack is up" not in stack.log.read_text():
            assert up.poll() is None, stack.log.read_text()[-3000:]
            assert time.monotonic() < end, stack.log.read_text()[-3000:]
            time.sleep(1)
        yield stack
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
            raise


def _shell_blocks(doc: str) -> list[str]:
    """A doc's `bash` blocks, but those of `./dev` itself (this test runs `./dev up`; `./dev
    test` is what runs this test)."""
    text = (ROOT / doc).read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    def runs_dev(block: str) -> bool:
        lines = [ln.strip() for ln in block.splitlines()
                 if ln.strip() and not ln.strip().startswith("#")]
        return all(ln.startswith("./dev ") for ln in lines)
    return [b for b in blocks if not runs_dev(b)]


def _script(stack: DevStack) -> tuple[str, list[str]]:
    """One shell session running every block in order, a marker line before each; and the
    names of the blocks."""
    parts, names = ["set -e"], []
    for doc in DOCS:
        blocks = _shell_blocks(doc)
        if doc == "docs/integrations.md":
            code, _ = _python_example()
            (stack.project / "var" / "client_example.py").write_text(stack.localize(code))
            blocks.append(".venv/bin/python var/client_example.py\n")
        for n, block in enumerate(blocks, 1):
            name = f"{doc} #{n}"
            names.append(name)
            parts.append(f"echo '=== {name}'; echo '=== {name}' >&2")
            parts.append(stack.localize(block))
    return "\n".join(parts) + "\n", names


def _outputs(out: str) -> dict[str, str]:
    chunks = re.split(r"^=== (.+)$", out, flags=re.M)
    return {chunks[i]: chunks[i + 1] for i in range(1, len(chunks) - 1, 2)}


@pytest.mark.timeout(900)
def test_every_documented_command_runs_as_written_in_order(dev_up: DevStack) -> None:
    script, names = _script(dev_up)
    assert len(names) >= 15
    done = subprocess.run(["bash", "-x", "-c", script], cwd=dev_up.project, env=dev_up.env(),
                          capture_output=True, text=True, timeout=600)
    out = _outputs(done.stdout)
    failed_in = list(out)[-1] if out else "the first block"
    assert done.returncode == 0, (f"a documented command failed in {failed_in}:\n"
                                  f"{done.stderr[-4000:]}\n--- stdout:\n{done.stdout[-2000:]}")
    assert list(out) == names

    # README: the encrypted-history pair differs as it says.
    readme = [out[n] for n in names if n.startswith("README.md")]
    pair = next(o for o in readme if "input.payloads[0].data" in o)
    assert "input[0].acquisition_channel: retail" in pair
    assert pair.index("input.payloads[0].data") < pair.index("input[0].acquisition_channel")
    # operators.md: the same event sent twice is one event (the CLI derives its event_id).
    acting = next(out[n] for n in names if n.startswith("docs/operators.md")
                  and '"duplicate": true' in out[n])
    assert acting.count('"duplicate": false') >= 1
    # integrations.md: each example answers with the statuses the doc shows under it.
    shown = [codes for _, codes in _doc_examples()]
    answered = [re.findall(r"^HTTP (\d{3})$", out[n], flags=re.M)
                for n in names if n.startswith("docs/integrations.md")][:len(shown)]
    assert answered == shown
    assert out[names[-1]].split() == ["200", "rr-SYS-1001-P-3", "200", "removal_reinstall"]

    # The UI decodes through the gateway from its own origin: a stack on other ports lets that
    # origin in (CORS), or every case page says "Codec Server could not connect".
    origin = f"http://localhost:{dev_up.ui_port}"
    answer = httpx.options(f"http://localhost:{dev_up.gateway_port}/codec/t/x/decode",
                           headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                    "Access-Control-Request-Headers": "content-type"})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == origin
