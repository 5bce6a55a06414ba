"""Homeowner messages that wait for contact hours (spec 2.2): the queued message with the
condition under which it still holds, the record of a message dropped because it no longer
held, and the pure rules that decide the channel and whether a message still holds.

A notice goes by e-mail when the homeowner has one (e-mail is not held to contact hours), else
by text inside contact hours; a homeowner with neither gets none (the case records one failure
for a person). A queued text is checked again when its opening comes: one that no longer holds
(the step it reports on is done, the case it promises to chase is resolved, a newer decision
replaced it) is dropped and recorded, never sent."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from domain.base import Instant, StrictModel
from domain.homeowner import Homeowner

NoticeChannel = Literal["email", "text", "letter"]

# Dropped messages the status keeps (newest), with a total.
MAX_DROPPED = 50


class Holds(StrictModel):
    """When a queued message is still true: the case still open (`while_open`), still in
    `in_stage`, and the counter `counter` still at `count` (the decision it reports is the
    latest). Every condition given must hold."""

    while_open: bool = False
    in_stage: str | None = None
    counter: str | None = None
    count: int | None = None


class QueuedMessage(StrictModel):
    """A notice queued for the homeowner's next contact-hours opening."""

    key: str
    template: str
    channel: NoticeChannel
    summary: str
    params: dict[str, str] = Field(default_factory=dict)
    # Personal text filled into the message (closure comments): delivered, never put in the
    # record store.
    private: dict[str, str] = Field(default_factory=dict)
    holds: Holds = Field(default_factory=Holds)
    queued_at: Instant
    # Not tried before this instant (the next opening after a send window closed).
    not_before: Instant


class DroppedMessage(StrictModel):
    """A queued notice that was not sent, and why (spec 2.2: never sent once untrue)."""

    template: str
    summary: str
    reason: str
    queued_at: Instant
    dropped_at: Instant


def notice_channel(homeowner: Homeowner) -> NoticeChannel | None:
    """How a notice reaches the homeowner: e-mail when on file, else a text, else nothing."""
    if homeowner.email:
        return "email"
    if homeowner.phone:
        return "text"
    return None


def no_longer_holds(holds: Holds, *, stage: str, outcome: str | None,
                    counters: dict[str, int]) -> str | None:
    """Why a queued message no longer holds for a case in `stage` with `outcome` and
    `counters` (None: it still holds)."""
    if outcome == "cancelled":
        return "the case was cancelled"
    if holds.while_open and outcome is not None:
        return f"the case closed ({outcome}) before it could be sent"
    if holds.in_stage is not None and stage != holds.in_stage:
        return f"the case left stage {holds.in_stage!r} (now {stage!r}) before it could be sent"
    if holds.counter is not None and counters.get(holds.counter, 0) != holds.count:
        return (f"superseded: {holds.counter.replace('_', ' ')} is now "
                f"{counters.get(holds.counter, 0)}, the message was about {holds.count}")
    return None
