"""Secrets as files (issue 19): every secret setting may be given as a file, `NAME_FILE`
naming it, so a cluster mounts its Secret as files instead of putting secrets in environment
variables (which leak into process listings, crash dumps and child processes). Read once at
start, into the process's own settings; a variable set directly wins."""

from __future__ import annotations

import os
from collections.abc import Iterable, MutableMapping
from pathlib import Path

# The settings that hold secrets (and what reads them): the store URI with its password, the
# payload keys, the delivery signing secret, the codec tokens, the integrations' secrets, a
# Temporal Cloud API key.
SECRET_SETTINGS = (
    "FIELD_SERVICE_STORE",
    "FIELD_SERVICE_ENCRYPTION_KEYS",
    "FIELD_SERVICE_DELIVERY_SECRET",
    "FIELD_SERVICE_CODEC_TOKENS",
    "FIELD_SERVICE_INTEGRATIONS",
    "TEMPORAL_API_KEY",
)
# The same names with the suffix, spelled out (the deploy tests check every variable a
# manifest sets is one the code reads).
SECRET_FILE_SETTINGS = (
    "FIELD_SERVICE_STORE_FILE",
    "FIELD_SERVICE_ENCRYPTION_KEYS_FILE",
    "FIELD_SERVICE_DELIVERY_SECRET_FILE",
    "FIELD_SERVICE_CODEC_TOKENS_FILE",
    "FIELD_SERVICE_INTEGRATIONS_FILE",
    "TEMPORAL_API_KEY_FILE",
)


class SecretFileError(ValueError):
    """A `_FILE` setting names a file that cannot be read."""


def load_secret_files(env: MutableMapping[str, str] | None = None,
                      names: Iterable[str] = SECRET_SETTINGS) -> list[str]:
    """Set each secret setting from the file its `_FILE` variable names (trailing newline
    stripped), unless the setting is set directly; the names set."""
    target = os.environ if env is None else env
    loaded = []
    for name in names:
        path = target.get(f"{name}_FILE")
        if not path or target.get(name):
            continue
        try:
            target[name] = Path(path).read_text().rstrip("\n")
        except OSError as err:
            raise SecretFileError(f"{name}_FILE: cannot read {path} ({err.strerror})") from None
        loaded.append(name)
    return loaded
