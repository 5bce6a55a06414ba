"""Texts and calls whose attempt *is* the stage (spec 2.2): the visit part's self-scheduling
texts, dialer calls and appointment reminders, and the safety notice. Each goes out once per
key inside contact hours with a send-by instant (the end of the opening, spec 2.1); one not
delivered by then waits for the next opening and is tried again under the same key. The case
waits for the opening itself (that wait belongs to the stage); notices that must not hold a
stage go through the outbox instead."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.effects import Channel
    from domain.rules.contact_hours import next_contact_instant, send_by
    from workflows.case.effects import SendWindowClosed

if TYPE_CHECKING:
    from workflows.case.base import CaseWorkflow

Sent = Literal["sent", "skipped", "failed"]


class Contact:
    """The homeowner texts and calls of one case that wait for contact hours in place."""

    def __init__(self, host: CaseWorkflow[Any]) -> None:
        self.host = host

    async def send(self, channel: Channel, template: str, key: str, summary: str, *,
                   contact_hours: bool = True, unless: Callable[[], bool] | None = None,
                   private: Mapping[str, str] | None = None,
                   fields: Mapping[str, str] | None = None, **params: str) -> Sent:
        """Send the homeowner a message (or queue a dialer call) once per key.

        Texts and calls go out inside contact hours with a send-by instant; one not delivered
        by then waits for the next opening. `contact_hours=False` is for safety notices. A
        text or call with no phone on file is not attempted: the failure policy records it.
        `unless`: stop waiting and skip the message when it becomes true (say, the homeowner
        booked). The template's fields: `fields` and the keyword arguments."""
        host = self.host
        params = {**(fields or {}), **params}
        phone_needed = channel in ("text", "call_task")
        if phone_needed and not host.homeowner().phone:
            await host.effects.record_failure(f"{channel} {template}", key,
                                              "no usable phone: the homeowner has no phone on "
                                              "file")
            return "failed"
        not_before = workflow.now()
        while True:
            send_by_at = None
            if phone_needed and contact_hours:
                zone, hours = host.case.time_zone, host.hours
                opening = next_contact_instant(max(workflow.now(), not_before), zone, hours)
                if opening > workflow.now():
                    host.view.set_wait(f"contact hours for {summary}", opening, "schedule")
                    if await host.wait(unless or (lambda: False), deadline=opening,
                                       summary=f"wait for contact hours: {summary}"):
                        return "skipped"
                send_by_at = send_by(workflow.now(), zone, hours)
            if unless is not None and unless():
                return "skipped"
            try:
                receipt = await host.effects.notify(channel, template, key, summary,
                                                    params=params, private=private,
                                                    send_by_at=send_by_at)
            except SendWindowClosed:
                # Not delivered in this opening: the next one, never later tonight.
                host.case.bump("sends_deferred")
                not_before = send_by_at or workflow.now()
                continue
            return "sent" if receipt is not None else "failed"
