"""Who may do what at the ingress (spec 6.1): `FIELD_SERVICE_INTEGRATIONS` holds a JSON object
(or `@/path/to/file.json` naming a file of it) giving each integration its secrets (several
while one rotates) and its permissions:

    {"crm": {"secrets": ["..."], "open": ["om", "damage"], "events": ["*"],
             "ops": ["add_note", "escalate"], "read": true},
     "dialer": {"secrets": ["..."], "events": ["call_attempt_result"]}}

`open` lists process prefixes, `events` event names, `ops` ops commands (`"*"` allows all but
the events cases send each other, `project_ended`, which only naming grants);
`read` allows `GET /v1/cases/{id}`. Anything else is 403 and reaches no workflow. A setting that
does not parse is refused at start, naming the integration and the field, never a secret."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, ValidationError, field_validator

from domain.base import StrictModel, describe_fields
from domain.rr import ProjectEnded

INTEGRATIONS_ENV = "FIELD_SERVICE_INTEGRATIONS"
# A webhook secret shorter than this is refused: it could be guessed offline from one request.
MIN_SECRET = 16
ALL = "*"
# Events the cases send each other (an R&R project telling its parent it ended): `"*"` does not
# grant them; an integration named for one (an operator's repair tool) may send it.
CASE_TO_CASE_EVENTS = frozenset({ProjectEnded.EVENT})


class IntegrationSettingError(ValueError):
    """`FIELD_SERVICE_INTEGRATIONS` is not usable; the message says where (never a secret)."""


class Integration(StrictModel):
    """One integration: its secrets and what it may do."""

    secrets: list[str] = Field(min_length=1)
    open: list[str] = Field(default_factory=list)
    events: list[str] = Field(default_factory=list)
    ops: list[str] = Field(default_factory=list)
    read: bool = False

    @field_validator("secrets")
    @classmethod
    def _strong(cls, value: list[str]) -> list[str]:
        if any(len(s) < MIN_SECRET for s in value):
            raise ValueError(f"every secret needs at least {MIN_SECRET} characters")
        return value

    def may_open(self, process: str) -> bool:
        """Whether it may open (or join) a case of `process` (its workflow-ID prefix)."""
        return ALL in self.open or process in self.open

    def may_send(self, event: str) -> bool:
        """Whether it may send the event `event`."""
        if event in CASE_TO_CASE_EVENTS:
            return event in self.events
        return ALL in self.events or event in self.events

    def may_run(self, command: str) -> bool:
        """Whether it may run the ops command `command`."""
        return ALL in self.ops or command in self.ops

    @property
    def secret_bytes(self) -> tuple[bytes, ...]:
        """Its secrets, as the signature check takes them."""
        return tuple(s.encode() for s in self.secrets)


def parse_integrations(setting: str) -> dict[str, Integration]:
    """The integrations of a `FIELD_SERVICE_INTEGRATIONS` value (JSON, or `@file`)."""
    text = setting.strip()
    if not text:
        return {}
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text()
        except OSError as err:
            raise IntegrationSettingError(
                f"{INTEGRATIONS_ENV}: cannot read {text[1:]!r} ({err.strerror})") from None
    try:
        raw = json.loads(text)
    except ValueError:
        raise IntegrationSettingError(f"{INTEGRATIONS_ENV} is not JSON") from None
    if not isinstance(raw, dict):
        raise IntegrationSettingError(f"{INTEGRATIONS_ENV} must be a JSON object of "
                                      "integrations")
    found: dict[str, Integration] = {}
    for name, entry in raw.items():
        if not isinstance(name, str) or not name or len(name) > 80 or '"' in name:
            raise IntegrationSettingError(f"{INTEGRATIONS_ENV}: an integration name must be "
                                          "1-80 characters without quotes")
        try:
            found[name] = Integration.model_validate(entry)
        except ValidationError as exc:
            raise IntegrationSettingError(
                f"{INTEGRATIONS_ENV}: integration {name!r}: {describe_fields(exc)}") from None
    return found


def integrations_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Integration]:
    """The integrations the gateway serves."""
    env = environ if environ is not None else os.environ
    return parse_integrations(env.get(INTEGRATIONS_ENV, ""))
