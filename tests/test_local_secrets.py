"""`./dev up`'s local secrets (starter/local_secrets.py): generated once, owner-only, usable as
they are by the codec, the gateway and the starter, and never overriding the environment."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gateway.codec import TOKENS_ENV
from gateway.integrations import INTEGRATIONS_ENV, parse_integrations
from infra.encryption import KEYS_ENV, KeyRing, new_key_setting
from starter.local_secrets import (
    LIMITED_INTEGRATION,
    LOCAL_INTEGRATION,
    LocalSecretsError,
    load_local_secrets,
    read_env_file,
    write_local_secrets,
)


def test_the_secrets_are_created_once_owner_only_and_valid(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secrets.env"
    integrations = tmp_path / "var" / "integrations.json"
    assert write_local_secrets(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(integrations.stat().st_mode) == 0o600
    values = read_env_file(path)
    assert set(values) == {KEYS_ENV, TOKENS_ENV, INTEGRATIONS_ENV}
    ring = KeyRing.parse(values[KEYS_ENV])
    assert ring.current == "local-1" and len(ring.keys["local-1"]) == 32
    assert len(values[TOKENS_ENV]) >= 32 and "," not in values[TOKENS_ENV]
    local = parse_integrations(values[INTEGRATIONS_ENV])
    assert list(local) == [LOCAL_INTEGRATION, LIMITED_INTEGRATION]
    crm = local[LOCAL_INTEGRATION]
    assert crm.read and crm.may_open("om") and crm.may_send("x") and crm.may_run("cancel_case")
    dialer = local[LIMITED_INTEGRATION]
    assert dialer.may_send("call_attempt_result")
    assert not (dialer.read or dialer.may_open("om") or dialer.may_send("payment_verified")
                or dialer.may_run("cancel_case"))
    # A second run keeps them: the local cases are encrypted with this key.
    before = path.read_text()
    assert write_local_secrets(path) is False
    assert path.read_text() == before


def test_loading_fills_only_what_the_environment_leaves_unset(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    write_local_secrets(path)
    env: dict[str, str] = {TOKENS_ENV: "my-own-token"}
    assert load_local_secrets(env, path) is True
    assert env[KEYS_ENV] == read_env_file(path)[KEYS_ENV]
    assert env[TOKENS_ENV] == "my-own-token"
    # A key setting in the environment, even an empty one (no encryption), decides alone.
    for decided in ({KEYS_ENV: ""}, {KEYS_ENV: "prod-1:xyz"}):
        env = dict(decided)
        assert load_local_secrets(env, path) is False
        assert env == decided
    assert load_local_secrets({}, tmp_path / "missing.env") is False


def test_a_file_others_may_read_or_one_setting_more_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    write_local_secrets(path)
    path.chmod(0o644)
    with pytest.raises(LocalSecretsError, match="chmod 600"):
        load_local_secrets({}, path)
    path.chmod(0o600)
    with path.open("a") as fh:
        fh.write("TEMPORAL_ADDRESS=evil.example:7233\n")
    env: dict[str, str] = {}
    with pytest.raises(LocalSecretsError, match="TEMPORAL_ADDRESS"):
        load_local_secrets(env, path)
    assert "TEMPORAL_ADDRESS" not in env


def test_an_older_checkouts_file_is_upgraded_keeping_its_key(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secrets.env"
    path.parent.mkdir()
    key = new_key_setting("local-1")
    path.write_text(f"{KEYS_ENV}={key}\n{TOKENS_ENV}=short\n"
                    "FIELD_SERVICE_WEBHOOK_SECRETS=crm:old-secret\n")
    path.chmod(0o644)
    assert write_local_secrets(path) is False  # not new: upgraded
    values = read_env_file(path)
    assert values[KEYS_ENV] == key  # the local cases stay readable
    assert set(values) == {KEYS_ENV, TOKENS_ENV, INTEGRATIONS_ENV}
    assert len(values[TOKENS_ENV]) >= 32  # a weak token is replaced
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_local_secrets({}, path) is True
