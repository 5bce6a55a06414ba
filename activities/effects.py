"""The side-effect activities every process uses.

Each activity records what it did in the `RecordStore` under the request's idempotency key
before it reports success, so a retry (after a crash, a timeout, or a failure after the side
effect) finds the record and makes no second one. The delivery to a real system (SMS gateway,
dialer, CRM) belongs in a `Delivery` adapter, called until it succeeds once per record (a retry
after a failed delivery delivers; a retry after a delivered one does not). The default adapter
delivers nothing, which is what local runs and tests want; `HttpDelivery` posts each record to
a configured endpoint.

Logs carry the case ID, the key and the template, never the homeowner's details."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import structlog
from temporalio import activity

from activities.http_delivery import DeliveryRefused
from activities.store import RecordStore, StoredRecord
from domain.effects import (
    CONTACT_UNUSABLE,
    SEND_WINDOW_CLOSED,
    Assignment,
    CloseRecordsRequest,
    CrmRecordRequest,
    EffectReceipt,
    HealthCheckResult,
    HolidayCalendar,
    HolidayRequest,
    MonitoringRequest,
    Notification,
)
from domain.homeowner import mask_phone
from domain.rules.business_days import us_federal_holidays

log = structlog.get_logger("fieldservice.activities")


class Delivery(Protocol):
    """Hands a new record to the real system of that kind (SMS, dialer, CRM, monitoring)."""

    async def deliver(self, record: StoredRecord, request: dict[str, Any]) -> None:
        """Hand the record to the real system, or raise (the activity then retries). Called
        until one call succeeds, so a delivery may repeat after a failure: the receiving
        system de-duplicates by `record.key`."""
        ...


class NoDelivery:
    """The default: the store is the system of record; nothing leaves the machine."""

    async def deliver(self, record: StoredRecord, request: dict[str, Any]) -> None:
        """Do nothing."""


class FieldServiceActivities:
    """The activity implementations, bound to a store and a delivery adapter."""

    def __init__(self, store: RecordStore, delivery: Delivery | None = None) -> None:
        self.store = store
        self.delivery = delivery or NoDelivery()

    async def _record(
        self, key: str, case_id: str, kind: str, payload: dict[str, Any], request: dict[str, Any]
    ) -> EffectReceipt:
        # The time the workflow asked for the effect: the case's clock, not this machine's.
        at = activity.info().scheduled_time if activity.in_activity() else None
        record, created = await asyncio.to_thread(
            self.store.record_once, key, case_id, kind, payload, at
        )
        if record.delivered_at is None:
            try:
                await self.delivery.deliver(record, request)
            except DeliveryRefused as refused:
                # The receiving system will never take it (a number the SMS gateway rejects):
                # retrying only hides it; the workflow's failure policy takes over.
                raise activity_error(str(refused), CONTACT_UNUSABLE) from None
            await asyncio.to_thread(self.store.mark_delivered, key)
        log.info(
            "side effect recorded" if created else "side effect already recorded",
            case_id=case_id, key=key, kind=kind, record_id=record.record_id,
            attempt=activity.info().attempt if activity.in_activity() else None,
        )
        return EffectReceipt(key=key, record_id=record.record_id, created=created)

    @activity.defn(name="notify_homeowner")
    async def notify_homeowner(self, req: Notification) -> EffectReceipt:
        """Send a text, e-mail or letter to the homeowner, or queue a dialer call task."""
        to = req.recipient
        if req.channel in ("text", "call_task") and not to.phone:
            raise activity_error(f"{req.channel} needs the homeowner's phone, and there is none",
                                 CONTACT_UNUSABLE)
        if req.send_by is not None and activity.in_activity():
            # The case's clock (the server's), not this machine's: when this attempt was
            # scheduled. Past the send-by instant the message waits for the next opening.
            attempt_at = activity.info().current_attempt_scheduled_time
            if attempt_at > req.send_by:
                raise activity_error(f"{req.channel} not sent: its contact-hours window closed "
                                     "before this attempt", SEND_WINDOW_CLOSED)
        masked = {
            "text": mask_phone(to.phone),
            "call_task": mask_phone(to.phone),
            "email": "email on file" if to.email else "no email",
            "letter": "mailing address on file" if to.address else "no address",
        }[req.channel]
        payload = {"channel": req.channel, "template": req.template, "to": masked,
                   "params": req.params}
        return await self._record(req.key, req.case_id, req.channel, payload,
                                  req.model_dump(mode="json"))

    @activity.defn(name="assign")
    async def assign(self, req: Assignment) -> EffectReceipt:
        """Assign the case, or a task on it, to a team or a person."""
        payload = {"assignee": req.assignee, "assignee_type": req.assignee_type,
                   "reason": req.reason, "priority": req.priority}
        return await self._record(req.key, req.case_id, "assignment", payload,
                                  req.model_dump(mode="json"))

    @activity.defn(name="create_crm_record")
    async def create_crm_record(self, req: CrmRecordRequest) -> EffectReceipt:
        """Create an FS case, work order, dispatch, asset update or project in the CRM."""
        return await self._record(req.key, req.case_id, req.kind, dict(req.fields),
                                  req.model_dump(mode="json"))

    @activity.defn(name="close_crm_records")
    async def close_crm_records(self, req: CloseRecordsRequest) -> EffectReceipt:
        """Close the FS case, work orders and dispatches a case opened, with its outcome."""
        return await self._record(req.key, req.case_id, "crm_close",
                                  {"record_ids": req.record_ids, "outcome": req.outcome},
                                  req.model_dump(mode="json"))

    @activity.defn(name="request_remote_fix")
    async def request_remote_fix(self, req: MonitoringRequest) -> EffectReceipt:
        """Ask monitoring to try a remote fix; its answer arrives as `remote_fix_result`."""
        return await self._record(req.key, req.case_id, "remote_fix_request",
                                  {"system_id": req.system_id}, req.model_dump(mode="json"))

    @activity.defn(name="check_system_health")
    async def check_system_health(self, req: MonitoringRequest) -> HealthCheckResult:
        """Ask monitoring for the system's health after the validation period.

        The local adapter has no monitoring feed, so it records the request and answers
        "unknown": the case then waits for `system_health_reported`."""
        await self._record(req.key, req.case_id, "health_check_request",
                           {"system_id": req.system_id}, req.model_dump(mode="json"))
        return HealthCheckResult(healthy=None)


@activity.defn(name="resolve_holidays")
async def resolve_holidays(req: HolidayRequest) -> HolidayCalendar:
    """The US federal holidays of the requested years, resolved outside workflow code so the
    calendar a case uses is recorded in its history."""
    return HolidayCalendar(holidays=sorted(set(us_federal_holidays(req.years))))


def activity_error(message: str, error_type: str) -> Exception:
    """A non-retryable failure: retrying a request that cannot succeed only hides it."""
    from temporalio.exceptions import ApplicationError

    return ApplicationError(message, type=error_type, non_retryable=True)


def all_activities(acts: FieldServiceActivities) -> list[Any]:
    """Every activity a worker registers."""
    return [
        acts.notify_homeowner,
        acts.assign,
        acts.create_crm_record,
        acts.close_crm_records,
        acts.request_remote_fix,
        acts.check_system_health,
        resolve_holidays,
    ]


