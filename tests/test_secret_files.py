"""Secrets as files (issue 19, finding 6): every secret setting may come from the file its
`_FILE` variable names, so a cluster mounts its Secret as files instead of environment
variables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.secret_files import (
    SECRET_FILE_SETTINGS,
    SECRET_SETTINGS,
    SecretFileError,
    load_secret_files,
)

ROOT = Path(__file__).resolve().parents[1]


def test_a_file_setting_fills_its_secret_and_a_direct_one_wins(tmp_path: Path) -> None:
    keys = tmp_path / "encryption-keys"
    keys.write_text("prod-1:" + "A" * 43 + "=\n")
    env = {"FIELD_SERVICE_ENCRYPTION_KEYS_FILE": str(keys),
           "FIELD_SERVICE_STORE_FILE": str(keys), "FIELD_SERVICE_STORE": "direct"}
    assert load_secret_files(env) == ["FIELD_SERVICE_ENCRYPTION_KEYS"]
    assert env["FIELD_SERVICE_ENCRYPTION_KEYS"] == "prod-1:" + "A" * 43 + "="
    assert env["FIELD_SERVICE_STORE"] == "direct"
    assert [f"{n}_FILE" for n in SECRET_SETTINGS] == list(SECRET_FILE_SETTINGS)


def test_an_unreadable_file_is_named() -> None:
    with pytest.raises(SecretFileError, match="FIELD_SERVICE_STORE_FILE: cannot read /nope"):
        load_secret_files({"FIELD_SERVICE_STORE_FILE": "/nope"})


def test_the_processes_read_their_secrets_from_files(tmp_path: Path) -> None:
    """The starter and the gateway, as the cluster runs them: a secret file that cannot be
    read stops them in one sentence (exit 2); the gateway reads its integrations from one."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FIELD_SERVICE_")},
           "FIELD_SERVICE_INTEGRATIONS_FILE": str(tmp_path / "missing")}
    for module in ("gateway", "workers"):
        done = subprocess.run([sys.executable, "-m", module], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 2, done.stderr
        assert "FIELD_SERVICE_INTEGRATIONS_FILE: cannot read" in done.stderr
