"""What operators see of a case (spec 2): the one writer of its stage, what it waits for and
until when, its flags, its search attributes and the Web UI's current details. Search-attribute
changes are collected and written once per workflow task (each upsert is a history event)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from domain.base import as_utc_iso
    from domain.case import CaseState, StageEntry, WaitingOn
    from domain.rules.zones import homeowner_local
    from infra import metric_names
    from workflows import search_attributes as sa


class Visibility:
    """The stage, wait, flags, search attributes and current details of one case."""

    def __init__(self, case: CaseState, process: str,
                 detail_lines: Callable[[], list[str]]) -> None:
        self.case = case
        self.process = process
        self._detail_lines = detail_lines
        self._pending: dict[str, SearchAttributeUpdate[Any]] = {}
        # Runs recorded before the base collected its upserts wrote each change at once.
        self.batched = True
        # Runs recorded before `WaitingOn` and `StageEnteredAt` (spec 2) kept neither.
        self.tracks_waiting_on = False

    def set(self, *updates: SearchAttributeUpdate[Any]) -> None:
        """Queue search-attribute changes for the next write."""
        for update in updates:
            self._pending[update.key.name] = update
        if not self.batched:
            self.flush()

    def flush(self) -> None:
        """Write the search-attribute changes collected since the last write, in one upsert
        (one history event per workflow task instead of one per change)."""
        if self._pending:
            workflow.upsert_search_attributes(list(self._pending.values()))
            self._pending = {}

    def open_run(self) -> None:
        """Every search attribute at the start of a run (a run continued from a closed one
        starts open again)."""
        c = self.case
        # One write, as runs recorded before `SystemId` made (one upsert command).
        system_id = getattr(c, "system_id", None)
        self.set(
            sa.CASE_ID.value_set(c.case_id), sa.PROCESS_TYPE.value_set(self.process),
            sa.CASE_STAGE.value_set(c.stage), sa.MARKET.value_set(c.market or "-"),
            sa.ESCALATED.value_set(c.escalated), sa.HAZARDOUS.value_set(c.hazardous),
            sa.CASE_OUTCOME.value_unset(), sa.NEXT_DEADLINE.value_unset(),
            *([sa.SYSTEM_ID.value_set(system_id)] if system_id else []),
            *self._waiting_on_updates(),
        )
        self.refresh()

    def _waiting_on_updates(self) -> list[SearchAttributeUpdate[Any]]:
        c = self.case
        if not self.tracks_waiting_on:
            return []
        if c.stage_entered_at is None and c.stage_history:
            c.stage_entered_at = c.stage_history[-1].entered_at
        if c.waiting_on is None:
            c.waiting_on = "none" if c.outcome is not None else "schedule"
        return [sa.WAITING_ON.value_set(c.waiting_on),
                *([sa.STAGE_ENTERED_AT.value_set(c.stage_entered_at)]
                  if c.stage_entered_at else [])]

    def enter_stage(self, stage: str) -> str | None:
        """Move the case to `stage` (history, search attribute, details); returns the stage it
        left, or None when it was already there."""
        if self.case.stage == stage:
            return None
        old = self.case.stage
        self.case.stage = stage
        self.case.stage_history.append(StageEntry(stage=stage, entered_at=workflow.now()))
        self.case.next_deadline = None
        self.case.waiting_for = None
        self.set(sa.CASE_STAGE.value_set(stage), sa.NEXT_DEADLINE.value_unset())
        if self.tracks_waiting_on:
            self.case.stage_entered_at = workflow.now()
            self.set(sa.STAGE_ENTERED_AT.value_set(workflow.now()))
        workflow.logger.info("stage entered", extra={"case_id": self.case.case_id,
                                                    "stage": stage})
        return old

    def set_wait(self, waiting_for: str, deadline: datetime | None,
                 waiting_on: WaitingOn | None = None) -> None:
        """Record what the case waits for, until when, and who must act (status, search
        attributes); without `waiting_on`, who it waits on stays as it was."""
        self.case.waiting_for = waiting_for
        if waiting_on is not None:
            self.waiting_on(waiting_on)
        self.show_deadline(deadline)
        self.refresh()

    def waiting_on(self, party: WaitingOn) -> None:
        """Who must act next (`WaitingOn`): written only when it changes."""
        if self.case.waiting_on == party:
            return
        self.case.waiting_on = party
        if self.tracks_waiting_on:
            self.set(sa.WAITING_ON.value_set(party))

    def show_deadline(self, deadline: datetime | None) -> None:
        """The instant the case's next timer fires (status, `NextDeadline`)."""
        if deadline != self.case.next_deadline:
            self.case.next_deadline = deadline
            self.set(sa.NEXT_DEADLINE.value_set(deadline) if deadline
                     else sa.NEXT_DEADLINE.value_unset())

    def mark(self, *, escalated: bool | None = None, hazardous: bool | None = None) -> None:
        """Set the Escalated / Hazardous flags in the status and the search attributes."""
        if escalated is not None:
            if escalated and not self.case.escalated:
                workflow.metric_meter().create_counter(
                    metric_names.CASES_ESCALATED,
                    metric_names.DESCRIPTIONS[metric_names.CASES_ESCALATED]).add(
                    1, {"process": self.case.process})
            self.case.escalated = escalated
            self.set(sa.ESCALATED.value_set(escalated))
        if hazardous is not None:
            self.case.hazardous = hazardous
            self.set(sa.HAZARDOUS.value_set(hazardous))
        self.refresh()

    def closed(self, outcome: str | None) -> None:
        """The search attribute of a run's outcome (and nobody to wait on any more)."""
        if outcome is not None:
            self.set(sa.CASE_OUTCOME.value_set(outcome))
            self.waiting_on("none")

    def refresh(self) -> None:
        """The Temporal UI's current details: stage, counters, deadline, what the case waits
        for, queued messages. No personal data."""
        c = self.case
        counters = ", ".join(f"{k} {v}" for k, v in sorted(c.attempts.items())) or "none"
        lines = [
            f"**Stage:** {c.stage}" + (f" — **outcome:** {c.outcome}" if c.outcome else ""),
            f"**Waiting for:** {c.waiting_for or '-'}"
            + (f" — **on:** {c.waiting_on}" if c.waiting_on else "")
            + (f" — **stage since:** {as_utc_iso(c.stage_entered_at)}"
               if c.stage_entered_at else ""),
            f"**Next deadline:** {as_utc_iso(c.next_deadline)}"
            + (f" ({local})" if (local := homeowner_local(c.next_deadline, c.time_zone))
               else ""),
            f"**Counters:** {counters}",
            "**Flags:** " + (", ".join(f for f, on in (("escalated", c.escalated),
                                                      ("hazardous", c.hazardous)) if on)
                             or "none"),
            f"**Rejected events:** {c.rejected_total}",
        ]
        if c.outbox:
            nxt = c.outbox[0]
            lines.append(f"**Messages waiting for contact hours:** {len(c.outbox)} "
                         f"(next: {nxt.summary})")
        if c.dropped_total:
            last = c.dropped_messages[-1]
            lines.append(f"**Messages dropped:** {c.dropped_total} "
                         f"(last: {last.summary}: {last.reason})")
        if c.hazard_case_id:
            lines.append(f"**Hazard owned by:** {c.hazard_case_id} (safety notice, P1 dispatch "
                         "and calls)")
        notes = [o for o in c.ops if o.command == "add_note"]
        if notes:
            lines.append(f"**Notes:** {len(notes)} (last, {as_utc_iso(notes[-1].at)}: "
                         f"{notes[-1].text[:200]})")
        if c.failures:
            lines.append(f"**Failed side effects:** {len(c.failures)} "
                         f"(last: {c.failures[-1].effect}: {c.failures[-1].reason})")
        workflow.set_current_details("\n\n".join([*lines, *self._detail_lines()]))
