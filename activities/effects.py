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

from activities.cancel_requests import cancel_request_details
from activities.http_delivery import DeliveryRefused
from activities.projects import add_repairs_to_open_project
from activities.store import RecordStore, StoredRecord
from domain.effects import (
    CONTACT_UNUSABLE,
    SEND_WINDOW_CLOSED,
    Assignment,
    CancelRequest,
    CancelRequestDetails,
    CloseRecordsRequest,
    CrmRecordRequest,
    EffectReceipt,
    HealthCheckResult,
    HolidayCalendar,
    HolidayRequest,
    MonitoringRequest,
    Notification,
    PartyEmail,
    ProjectRepairsRequest,
    ProjectRepairsResult,
)
from domain.homeowner import Homeowner, mask_phone
from domain.rules.business_days import us_federal_holidays
from domain.templates import TEMPLATES, render
from infra import metric_names
from starter.client import InvalidEvent

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


def _count(metric: str, **labels: str) -> None:
    """Add one to a project counter on the worker's meter (nothing outside an activity)."""
    if activity.in_activity():
        activity.metric_meter().create_counter(metric, metric_names.DESCRIPTIONS[metric]).add(
            1, labels)


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
        if created:
            _count(metric_names.SIDE_EFFECTS, kind=kind)
        if record.delivered_at is None:
            try:
                await self.delivery.deliver(record, request)
            except DeliveryRefused as refused:
                # The receiving system will never take it (a number the SMS gateway rejects):
                # retrying only hides it; the workflow's failure policy takes over.
                _count(metric_names.DELIVERIES_FAILED, kind=kind, failure="refused")
                raise activity_error(str(refused), CONTACT_UNUSABLE) from None
            except Exception:
                _count(metric_names.DELIVERIES_FAILED, kind=kind, failure="retried")
                raise
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
        request = req.model_dump(mode="json")
        if req.template in TEMPLATES:
            request["message"] = message_for(req.template, to, req.params, req.private)
        return await self._record(req.key, req.case_id, req.channel, payload, request)

    @activity.defn(name="email_party")
    async def email_party(self, req: PartyEmail) -> EffectReceipt:
        """E-mail a third party (installer, Omnidian, GTR) with a named template about the
        homeowner, copying the homeowner when the case says so. The stored record names the
        party's role and domain and whether the homeowner was copied; the message itself, with
        the homeowner's details, goes only to the delivery."""
        cc = [req.about.email] if req.cc_homeowner and req.about.email else []
        payload = {"channel": "email", "template": req.template, "to_role": req.to.role,
                   "to": "@" + req.to.email.rsplit("@", 1)[-1],
                   "cc": ["homeowner (email on file)"] if cc else [], "params": req.params}
        request = req.model_dump(mode="json")
        request["message"] = message_for(req.template, req.about, req.params, req.private)
        request["cc"] = cc
        return await self._record(req.key, req.case_id, "party_email", payload, request)

    @activity.defn(name="assign")
    async def assign(self, req: Assignment) -> EffectReceipt:
        """Assign the case, or a task on it, to a team or a person."""
        payload = {"assignee": req.assignee, "assignee_type": req.assignee_type,
                   "reason": req.reason, "priority": req.priority}
        return await self._record(req.key, req.case_id, "assignment", payload,
                                  req.model_dump(mode="json"))

    @activity.defn(name="create_crm_record")
    async def create_crm_record(self, req: CrmRecordRequest) -> EffectReceipt:
        """Create an FS case, work order, dispatch, asset update, project, claim, support case,
        referral or disposition in the CRM. The homeowner's details and private text go to the
        CRM only; the stored record says they were on file."""
        payload: dict[str, Any] = dict(req.fields)
        if req.contact is not None:
            payload["contact"] = "homeowner details on file"
        if req.private:
            payload["private_fields"] = sorted(req.private)
        request = req.model_dump(mode="json")
        if req.template is not None:
            payload["template"] = req.template
            request["message"] = message_for(req.template, req.contact or NO_CONTACT,
                                             req.fields, req.private)
        return await self._record(req.key, req.case_id, req.kind, payload, request)

    @activity.defn(name="close_crm_records")
    async def close_crm_records(self, req: CloseRecordsRequest) -> EffectReceipt:
        """Close the FS case, work orders and dispatches a case opened, with its outcome."""
        payload: dict[str, Any] = {"record_ids": req.record_ids, "outcome": req.outcome}
        if req.comments:
            payload["comments"] = req.comments
        return await self._record(req.key, req.case_id, "crm_close", payload,
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


    @activity.defn(name="add_repairs_to_open_project")
    async def add_repairs_to_open_project(self, req: ProjectRepairsRequest
                                          ) -> ProjectRepairsResult:
        """A claim's damage repairs to the system's open R&R project (spec 2.3): through
        Temporal, not the record store (`activities.projects`)."""
        try:
            return await add_repairs_to_open_project(req)
        except InvalidEvent as bad:
            raise activity_error(str(bad), "InvalidEvent") from None


    @activity.defn(name="cancel_request_details")
    async def cancel_request_details(self, req: CancelRequest) -> CancelRequestDetails:
        """Who asked Temporal to cancel a case, and why, from its history
        (`activities.cancel_requests`)."""
        return await cancel_request_details(req)


@activity.defn(name="resolve_holidays")
async def resolve_holidays(req: HolidayRequest) -> HolidayCalendar:
    """The US federal holidays of the requested years, resolved outside workflow code so the
    calendar a case uses is recorded in its history."""
    return HolidayCalendar(holidays=sorted(set(us_federal_holidays(req.years))))


# Who signs the support procedures' messages when a workflow does not say.
DEFAULT_AGENT = "Customer Support"
NO_CONTACT = Homeowner(name="(no contact on file)")


def message_for(template: str, homeowner: Homeowner, params: dict[str, str],
                private: dict[str, str]) -> dict[str, str]:
    """A named template filled with the case's params, its private text and the homeowner's
    details (delivery only: the result holds personal data)."""
    values = {
        "agent": DEFAULT_AGENT, **params, **private,
        "homeowner_name": homeowner.name, "homeowner_address": homeowner.address or "(not on file)",
        "homeowner_phone": homeowner.phone or "(no phone on file)",
        "homeowner_email": homeowner.email or "(no e-mail on file)",
    }
    values.setdefault("best_time_to_reach", "any time")
    try:
        msg = render(template, values)
    except ValueError as exc:
        # A workflow that leaves a placeholder empty will not fill it on a retry.
        raise activity_error(str(exc), "TemplateIncomplete") from None
    return {"template": msg.template, "subject": msg.subject, "body": msg.body}


def activity_error(message: str, error_type: str) -> Exception:
    """A non-retryable failure: retrying a request that cannot succeed only hides it."""
    from temporalio.exceptions import ApplicationError

    return ApplicationError(message, type=error_type, non_retryable=True)


def all_activities(acts: FieldServiceActivities) -> list[Any]:
    """Every activity a worker registers."""
    return [
        acts.notify_homeowner,
        acts.email_party,
        acts.assign,
        acts.create_crm_record,
        acts.close_crm_records,
        acts.request_remote_fix,
        acts.check_system_health,
        acts.add_repairs_to_open_project,
        acts.cancel_request_details,
        resolve_holidays,
    ]


