"""Side effects with the failure policy (spec 2.1): every activity a case runs goes through
`Effects.run`, which first checks that the case may still act (once a cancel is accepted no
side effect starts), then runs the activity with retries sized to the work, and records a
failure for good in `failures`, assigned to a person, instead of failing the case. Idempotency
keys name the business action and the case instance, from stored counts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState, TimeoutType
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from activities.effects import FieldServiceActivities, resolve_holidays
    from domain.case import MAX_FAILURES, CaseState, Failure, keep_last
    from domain.effects import (
        SEND_WINDOW_CLOSED,
        AssigneeType,
        Assignment,
        Channel,
        CrmRecordRequest,
        EffectReceipt,
        HolidayRequest,
        Notification,
        PartyContact,
        PartyEmail,
        Priority,
        RecordKind,
    )
    from domain.homeowner import Homeowner
    from infra import metric_names

if TYPE_CHECKING:
    from workflows.case.base import CaseWorkflow

A = TypeVar("A", bound=BaseModel)
R = TypeVar("R")

CASE_MANAGER = "case_manager"
# CRM record kinds a case closes with itself (spec 2.1).
CLOSED_WITH_CASE = frozenset({"fs_case", "work_order", "dispatch", "claim", "support_case",
                              "referral"})
# Side effects are a store write and, when configured, one HTTP delivery (10 s timeout): a
# worker killed mid-activity delays the case by this much, not by minutes.
EFFECT_TIMEOUT = timedelta(seconds=30)
# They retry for as long as it takes (idempotency makes that safe); the interval caps how long
# an outage of the CRM or SMS gateway delays a case once it is back.
EFFECT_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2),
                           maximum_interval=timedelta(minutes=10))


class SendWindowClosed(Exception):
    """A homeowner message was not delivered before its send-by instant."""


class Effects:
    """The side effects of one case."""

    def __init__(self, host: CaseWorkflow[Any]) -> None:
        self.host = host

    def key(self, *parts: object) -> str:
        """An idempotency key naming a business action of this case instance: stable across
        retries, replays and continue-as-new, distinct for a later case of the same system."""
        c = self.host.case
        instance = [c.instance] if self.host.KEYS_NAME_THE_RUN else []
        return "/".join([c.case_id, *instance, *(str(p) for p in parts)])

    async def run(
        self, activity: Callable[[FieldServiceActivities, A], Awaitable[R]], arg: A, *,
        what: str, summary: str, send_by_at: datetime | None = None,
    ) -> R | None:
        """Run a side-effect activity. Returns None when it failed for good: the failure is
        recorded in the status and assigned to the case manager, and the case goes on (spec
        2.1: no business data fails a case). With `send_by_at`, an activity not done by then
        raises `SendWindowClosed`."""
        self.host.check_interrupt()
        self.host.view.flush()
        try:
            return await workflow.execute_activity_method(
                activity, arg, start_to_close_timeout=EFFECT_TIMEOUT, retry_policy=EFFECT_RETRY,
                schedule_to_close_timeout=(send_by_at - workflow.now()) if send_by_at else None,
                summary=summary)
        except ActivityError as err:
            cause = err.cause
            if send_by_at is not None and (
                    err.retry_state == RetryState.TIMEOUT
                    or (isinstance(cause, ApplicationError) and cause.type == SEND_WINDOW_CLOSED)
                    or (isinstance(cause, ActivityTimeout)
                        and cause.type == TimeoutType.SCHEDULE_TO_CLOSE)):
                raise SendWindowClosed() from None
            # Non-retryable (business data the receiving system refuses for good), or spent
            # retries: recorded and given to a person; the case itself never fails on it.
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
            await self.record_failure(what, getattr(arg, "key", ""), reason,
                                      assign=activity is not FieldServiceActivities.assign)
            return None

    async def notify(self, channel: Channel, template: str, key: str, summary: str, *,
                     params: Mapping[str, str], private: Mapping[str, str] | None = None,
                     send_by_at: datetime | None = None) -> EffectReceipt | None:
        """Send the homeowner a named template (or queue a dialer call) once per key; with
        `send_by_at`, one not delivered by then raises `SendWindowClosed`. The flows go
        through `Contact.send` (the stage waits for contact hours) or `Outbox.tell`."""
        req = Notification(key=key, case_id=self.host.case.case_id, channel=channel,
                           template=template, recipient=self.host.homeowner(),
                           params=dict(params), private=dict(private or {}), send_by=send_by_at)
        return await self.run(FieldServiceActivities.notify_homeowner, req,
                              what=f"{channel} {template}", summary=summary,
                              send_by_at=send_by_at)

    async def record_failure(self, what: str, key: str, reason: str, *,
                             assign: bool = True) -> None:
        """Record a side effect that failed for good and give it to the case manager."""
        case = self.host.case
        failure = Failure(effect=what, key=key, reason=reason[:500], at=workflow.now(),
                          assigned_to=CASE_MANAGER if assign else None)
        case.failures.append(failure)
        keep_last(case.failures, MAX_FAILURES)
        workflow.logger.warning("side effect failed for good",
                                extra={"case_id": case.case_id, "key": key})
        self.host.view.refresh()
        self.host.count(metric_names.SIDE_EFFECTS_FAILED)
        # The key comes from a stored counter: the list itself is capped and would repeat.
        n = case.bump("failed_side_effects")
        if assign:
            await self.assign(self.key("failure", n), CASE_MANAGER,
                              f"{what} failed: {failure.reason}", summary=f"assign: {what} failed",
                              priority="high")

    async def assign(self, key: str, assignee: str, reason: str, *, summary: str,
                     person: bool = False, priority: Priority = "normal") -> bool:
        """Assign the case or a task on it once per key; False when that failed for good."""
        assignee_type: AssigneeType = "person" if person else "team"
        req = Assignment(key=key, case_id=self.host.case.case_id, assignee=assignee,
                         assignee_type=assignee_type, reason=reason, priority=priority)
        return await self.run(FieldServiceActivities.assign, req, what=f"assign {assignee}",
                              summary=summary) is not None

    async def assign_case_manager(self, key: str, reason: str, *, summary: str) -> bool:
        """The case to its case manager: a hazardous case says so and comes first (p1)."""
        hazardous = self.host.case.hazardous
        return await self.assign(key, CASE_MANAGER,
                                 reason + (" (HAZARDOUS)" if hazardous else ""),
                                 summary=summary, priority="p1" if hazardous else "normal")

    async def crm_record(self, key: str, kind: RecordKind, summary: str,
                         close_with_case: bool | None = None, /,
                         **fields: str) -> EffectReceipt | None:
        """Create a CRM record once per key. FS cases, work orders, dispatches and claims are
        closed with the case (`close_with_case` overrides: an R&R project closes its own
        project record; a project a case starts for others outlives it)."""
        return await self._crm(CrmRecordRequest(key=key, case_id=self.host.case.case_id,
                                                kind=kind, fields=fields),
                               summary, close_with_case)

    async def crm_record_about_homeowner(self, key: str, kind: RecordKind, summary: str, *,
                                         fields: Mapping[str, str],
                                         private: Mapping[str, str] | None = None,
                                         template: str | None = None,
                                         ) -> EffectReceipt | None:
        """`crm_record` for a record that holds the homeowner's details (a support case with
        name and address) and private text (a description), and may carry a named template's
        text (a referral comment): all go to the CRM, not to the record store."""
        return await self._crm(CrmRecordRequest(
            key=key, case_id=self.host.case.case_id, kind=kind, fields=dict(fields),
            contact=self.host.homeowner(), private=dict(private or {}), template=template),
            summary, None)

    async def _crm(self, req: CrmRecordRequest, summary: str,
                   close_with_case: bool | None) -> EffectReceipt | None:
        receipt = await self.run(FieldServiceActivities.create_crm_record, req,
                                 what=f"create {req.kind}", summary=summary)
        closes = close_with_case if close_with_case is not None else req.kind in CLOSED_WITH_CASE
        records = self.host.case.crm_records
        if receipt is not None and closes and receipt.record_id not in records:
            records.append(receipt.record_id)
        return receipt

    async def email_party(self, template: str, key: str, summary: str, to: PartyContact, *,
                          about: Homeowner, cc_homeowner: bool,
                          private: Mapping[str, str] | None = None, **params: str) -> bool:
        """E-mail a third party (installer, Omnidian, GTR) once per key with a named template
        about this case's homeowner; False when it failed for good (recorded, assigned)."""
        req = PartyEmail(key=key, case_id=self.host.case.case_id, template=template, to=to,
                         about=about, cc_homeowner=cc_homeowner, params=params,
                         private=dict(private or {}))
        return await self.run(FieldServiceActivities.email_party, req,
                              what=f"e-mail {to.role} {template}", summary=summary) is not None

    async def business_calendar(self, since: date | None = None) -> list[date]:
        """The case's holiday list: from the policy, or resolved once by an activity when
        business days are first needed (a case that never counts business days never asks),
        then kept in the case so a replay after a library upgrade sees the same calendar.
        It covers this year and the next two, and from the year of `since` (a date business
        days are counted from, such as a payment made last December) when that is earlier."""
        case: CaseState = self.host.case
        if case.holidays is None:
            self.host.check_interrupt()
            year = workflow.now().year
            first = min(year, since.year) if since is not None else year
            cal = await workflow.execute_activity(
                resolve_holidays, HolidayRequest(years=list(range(first, year + 3))),
                start_to_close_timeout=EFFECT_TIMEOUT, retry_policy=EFFECT_RETRY,
                summary="resolve the US federal holiday calendar")
            case.holidays = cal.holidays
        return case.holidays
