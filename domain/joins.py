"""A second opening of an open case (spec 2.3, 3.6, 3.7): a reactivation or a follow-up opened
again (a new payment proof, a new concern) is joined, not duplicated, and what it brought is
recorded in the case as a joined request instead of being dropped. The starter and a case that
starts another send it as the `request_joined` event, only when an open case was joined."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from domain.base import Instant, StrictModel

REQUEST_JOINED = "request_joined"
# Joined requests a case keeps (the oldest are dropped; the count goes on).
MAX_JOINED = 20
# Fields of an input that are not the request (the policy, the case carried across runs).
NOT_THE_REQUEST = frozenset({"policy", "carried_case"})


def request_fields(inp: BaseModel) -> dict[str, Any]:
    """The request's own fields of a process input, as JSON."""
    return inp.model_dump(mode="json", exclude=set(NOT_THE_REQUEST))


def request_digest(fields: dict[str, Any]) -> str:
    """A digest telling two requests apart without keeping their personal data: the opening
    request arriving again (a double submit) is not a new one."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def joined_event(inp: BaseModel) -> tuple[str, dict[str, Any]]:
    """The `request_joined` event of a second opening: the request's fields flat beside an
    `event_id` naming the request, so a retried opening is recorded once."""
    fields = request_fields(inp)
    return REQUEST_JOINED, {"event_id": f"join-{request_digest(fields)}", **fields}


def record_joined(case: Any, event: Any, received_at: Any, **facts: Any) -> None:
    """Record a joined request in `case` (a state with `opening_digest`, `joined_requests`
    and `joined_total`), unless it is the opening request arriving again."""
    if request_digest(request_fields_of_event(event)) == case.opening_digest:
        return
    case.joined_total += 1
    case.joined_requests.append(JoinedRequest(received_at=received_at, actor=event.actor,
                                              **facts))
    del case.joined_requests[:-MAX_JOINED]


def request_fields_of_event(event: BaseModel) -> dict[str, Any]:
    """The request's own fields of a `request_joined` event (without the event's fields)."""
    return event.model_dump(mode="json", exclude={"event_id", "occurred_at", "actor",
                                                  "actor_note"})


class JoinedRequest(StrictModel):
    """What a second opening brought: when, who sent it, and its new facts (a payment date and
    proof; a concern, kept for the back office and never shown in the UI details)."""

    received_at: Instant
    actor: str | None = None
    payment_date: date | None = None
    payment_proof: str | None = None
    concern: str | None = Field(default=None, max_length=1000)
