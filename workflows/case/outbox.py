"""The outbox (spec 2.2): every homeowner notice, update, commitment and thank-you. A message
never holds a stage: the flow queues it with the condition under which it still holds and moves
on at once. The outbox sends it now when it may (an e-mail; a text inside contact hours), else
in the homeowner's next contact-hours opening with the send-by rule of spec 2.1, checking the
condition again first: a message that no longer holds is dropped and recorded in
`status.dropped_messages`, never sent. The queue lives in the case state, so it survives
continue-as-new and worker restarts; the case's waits wake for it (`next_at`), and a closed
case stays running until its last message is sent or dropped."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.case import keep_last
    from domain.outbox import (
        MAX_DROPPED,
        DroppedMessage,
        Holds,
        QueuedMessage,
        no_longer_holds,
        notice_channel,
    )
    from domain.rules.contact_hours import next_contact_instant, send_by
    from domain.rules.zones import calendar_zone
    from workflows.case.effects import SendWindowClosed

if TYPE_CHECKING:
    from workflows.case.base import CaseWorkflow

Told = Literal["sent", "queued", "failed"]


class Outbox:
    """The homeowner notices of one case."""

    def __init__(self, host: CaseWorkflow[Any]) -> None:
        self.host = host
        # Runs recorded before the outbox waited for contact hours in place (see `tell`).
        self.queues = True

    async def tell(self, template: str, key: str, summary: str, *, holds: Holds | None = None,
                   letter: bool = False, private: Mapping[str, str] | None = None,
                   fields: Mapping[str, str] | None = None, **params: str) -> Told:
        """Tell the homeowner something with a named template, once per key: by e-mail when
        one is on file, else by text inside contact hours, or by letter (`letter`). The
        message is queued and goes out at the case's next wait, or in the next contact-hours
        opening. `holds`: when the message is still true (it is dropped, not sent, once it is
        not). `private`: text filled into the message but never stored in the record store
        (closure comments). The template's fields: `fields` and the keyword arguments."""
        host = self.host
        params = {**(fields or {}), **params}
        channel = "letter" if letter else notice_channel(host.homeowner())
        now = workflow.now()
        msg = QueuedMessage(key=key, template=template, channel=channel or "text",
                            summary=summary, params=params, private=dict(private or {}),
                            holds=holds or Holds(), queued_at=now, not_before=now)
        if not self.queues:
            # A run recorded before the outbox: an e-mail went at once, a text or letter waited
            # for contact hours in place (a homeowner with neither: a failed text).
            if channel == "email":
                return await self._deliver(msg)
            sent = await host.contact.send("letter" if letter else "text", template, key,
                                           summary, private=private, fields=params)
            return "sent" if sent == "sent" else "failed"
        if channel is None:
            await self._unreachable(msg)
            return "failed"
        # Sent by the case's next wait (at once when it may go now: an e-mail, a text inside
        # contact hours), so the flow first moves on: its stage, work orders and child cases
        # never wait for the message.
        self._queue(msg)
        return "queued"

    def _queue(self, msg: QueuedMessage) -> None:
        self.host.case.outbox.append(msg)
        self.host.view.refresh()

    async def _deliver(self, msg: QueuedMessage) -> Told:
        """Send one message now; a text not delivered before its send-by instant is queued
        for the next opening."""
        host = self.host
        send_by_at = (send_by(workflow.now(), host.case.time_zone, host.hours)
                      if msg.channel == "text" else None)
        try:
            receipt = await host.effects.notify(msg.channel, msg.template, msg.key, msg.summary,
                                                params=msg.params, private=msg.private,
                                                send_by_at=send_by_at)
        except SendWindowClosed:
            host.case.bump("sends_deferred")
            msg.not_before = send_by_at or workflow.now()
            self._queue(msg)
            return "queued"
        return "sent" if receipt is not None else "failed"

    async def unreachable(self) -> None:
        """The homeowner has no e-mail and no phone: the case records one failure for a
        person (spec 2.2), however many notices cannot reach them."""
        host = self.host
        if host.case.bump("notices_unreachable") == 1:
            await host.effects.record_failure(
                "homeowner notices", host.key("notices", "no-contact"),
                "no e-mail or phone on file: tell the homeowner another way")

    async def _unreachable(self, msg: QueuedMessage) -> None:
        await self.unreachable()
        self._drop(msg, "no e-mail or phone on file")

    # ---- the queue ----------------------------------------------------------------------

    def _opens_at(self, msg: QueuedMessage) -> datetime:
        start = max(workflow.now(), msg.not_before)
        if msg.channel != "text":
            return start
        return next_contact_instant(start, self.host.case.time_zone, self.host.hours)

    def next_at(self) -> datetime | None:
        """When the next queued message may go (None: nothing queued)."""
        return min((self._opens_at(m) for m in self.host.case.outbox), default=None)

    def due(self) -> bool:
        """Whether a queued message may go now."""
        at = self.next_at()
        return at is not None and at <= workflow.now()

    def wait_summary(self) -> str:
        """What the timer of the next queued message says in the Web UI."""
        case = self.host.case
        soonest = min(case.outbox, key=self._opens_at)
        local = self._opens_at(soonest).astimezone(calendar_zone(case.time_zone))
        where = case.time_zone or "UTC, inside contact hours in every served zone"
        return f"{soonest.channel} at {local:%H:%M} {where}: {soonest.summary}"

    async def flush(self) -> None:
        """Send every queued message whose opening has come, oldest first, each checked again:
        one that no longer holds is dropped and recorded."""
        host, case = self.host, self.host.case
        for msg in [m for m in case.outbox if self._opens_at(m) <= workflow.now()]:
            host.check_interrupt()  # no await before the message leaves the queue
            case.outbox.remove(msg)
            reason = no_longer_holds(msg.holds, stage=case.stage, outcome=case.outcome,
                                     counters=case.attempts)
            if reason is not None:
                self._drop(msg, reason)
                continue
            await self._deliver(msg)
        host.view.refresh()

    def drop_all(self, reason: str) -> None:
        """Drop every queued message (a cancelled case sends nothing more)."""
        for msg in list(self.host.case.outbox):
            self.host.case.outbox.remove(msg)
            self._drop(msg, reason)

    def _drop(self, msg: QueuedMessage, reason: str) -> None:
        case = self.host.case
        case.dropped_messages.append(DroppedMessage(
            template=msg.template, summary=msg.summary, reason=reason, queued_at=msg.queued_at,
            dropped_at=workflow.now()))
        case.dropped_total += 1
        keep_last(case.dropped_messages, MAX_DROPPED)
        workflow.logger.info("homeowner message dropped",
                             extra={"case_id": case.case_id, "template": msg.template})
        self.host.view.refresh()
