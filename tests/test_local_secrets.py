"""`./dev up`'s local secrets (starter/local_secrets.py): generated once, owner-only, usable as
they are by the codec, the gateway and the starter, and never overriding the environment."""

from __future__ import annotations

import stat
from pathlib import Path

from gateway.signing import SECRETS_ENV, parse_secrets
from infra.encryption import KEYS_ENV, KeyRing
from starter.local_secrets import (
    LOCAL_INTEGRATION,
    TOKENS_ENV,
    load_local_secrets,
    read_env_file,
    write_local_secrets,
)


def test_the_secrets_are_created_once_owner_only_and_valid(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secrets.env"
    assert write_local_secrets(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = read_env_file(path)
    assert set(values) == {KEYS_ENV, TOKENS_ENV, SECRETS_ENV}
    ring = KeyRing.parse(values[KEYS_ENV])
    assert ring.current == "local-1" and len(ring.keys["local-1"]) == 32
    assert len(values[TOKENS_ENV]) >= 32 and "," not in values[TOKENS_ENV]
    assert list(parse_secrets(values[SECRETS_ENV])) == [LOCAL_INTEGRATION]
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
