"""Demo cases of every process in different stages (O&M cases, damage claims, R&R projects,
reactivations, third-party follow-ups, support inquiries), so
the local Web UI has something to show under each `ProcessType` and `CaseStage`.

Every operator view has a case to show (docs/operators.md): escalated (`om-DEMO-008`, on the
manual track, waiting on the case manager), hazardous (`om-DEMO-004`, `damage-DEMO-104-C1`), a
claim with its R&R project (`damage-DEMO-105-C1` and `rr-DEMO-105-C1`), and an overdue case
(`om-DEMO-009`). A real clock cannot age a case three days, so the overdue one is overdue the
way cases get overdue in production when no worker runs them: it was run by a worker of its
own task queue (`STALLED_QUEUE`) until it waited on the case manager with a reminder due in a
minute, and that worker then stopped. Its reminder stays due, its `NextDeadline` passes, and
its status answers from visibility alone (`"source": "visibility"`).

Seeded once: a demo case that exists already (open or closed) is left alone, so re-running
`./dev up` never restarts a closed demo case. The script waits on stages through search
attributes, never by polling the `status` query."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from pydantic import BaseModel
from temporalio.client import Client

from domain.damage import DamageClaimInput
from domain.followup import FollowUpInput
from domain.inquiry import SupportInquiryInput
from domain.om import OmCaseInput
from domain.processes import DAMAGE, FOLLOWUP, INQUIRY, OM, REACTIVATION, RR, ProcessSpec
from domain.reactivation import ReactivationInput
from domain.rr import RemovalReinstallInput
from starter.client import CaseNotFound, current_stage, open_case, send_event, wait_for_stage

BASE: dict[str, Any] = {
    "case_reason": "system_failure", "source": "sunrun_monitoring", "installer": "sunrun",
    "installer_accepting_service_work": True, "agreement_type": "ppa",
    "acquisition_channel": "retail", "zip": "94103", "market": "CA",
    "homeowner": {"name": "Demo Homeowner", "phone": "+14155550100",
                  "email": "demo@example.com"},
    "description": "inverter shows error 21",
}
# The stages a demo case rests in once its events are in.
RESTING = {"problem_identified", "self_scheduling_texts", "outbound_calls",
           "appointment_scheduled", "findings_review", "closed",
           # claims
           "investigation", "partner_in_progress", "liability_determination",
           # projects
           "removal", "verify_removal",
           # reactivations, follow-ups (inquiries rest closed)
           "waiting_for_payment_to_clear", "back_office_verification", "om_reactivation",
           "party_contacted",
           # the manual O&M track, a claim waiting for its project
           "project_in_progress"}
# An event is sent once its case has reached this stage (`process.event` for one process).
SEND_IN = {"remote_fix_result": "problem_identified", "step_blocked": "removal",
           "payment_verified": "back_office_verification",
           "partner_decision": "dispatched_to_partner", "escalate": "problem_identified",
           "findings_submitted": "findings_review",
           "liability_determined": "liability_determination",
           # a claim's visit is booked in its investigation (an O&M case's at any time)
           "damage.appointment_scheduled": "investigation"}
# The task queue of the overdue demo case: served while it is seeded, by no worker after.
STALLED_QUEUE = "fieldservice-demo-stalled"
# How soon the stalled case's reminder to the case manager is due (then overdue).
STALLED_REMINDER = timedelta(minutes=1)
HOMEOWNER = BASE["homeowner"]
Events = list[tuple[str, dict[str, Any]]]


class Plan(NamedTuple):
    """One demo case: its process, its input, the events that take it to its resting stage;
    `stalled`: run on `STALLED_QUEUE`, whose worker stops once the case rests."""

    process: ProcessSpec
    case: BaseModel
    events: Events
    stalled: bool = False


def _case(system_id: str, **changes: Any) -> OmCaseInput:
    return OmCaseInput.model_validate({**BASE, "system_id": system_id, **changes})


def _claim(system_id: str, **changes: Any) -> DamageClaimInput:
    return DamageClaimInput.model_validate({
        "system_id": system_id, "claim_no": "C1", "roof_leak": True, "reported_on": "2026-11-20",
        "entitlements": [{"kind": "roof_penetration", "active_until": "2035-01-01"}],
        "market": "CA", "zip": "94103", "homeowner": HOMEOWNER,
        "description": "water stain under the array", **changes})


def _project(system_id: str, **changes: Any) -> RemovalReinstallInput:
    return RemovalReinstallInput.model_validate({
        "system_id": system_id, "project_no": "P1", "variant": "elective", "market": "HI",
        "reason": "homeowner is replacing the roof", "homeowner": HOMEOWNER, **changes})


def _reactivation(contract_id: str, paid: str, **changes: Any) -> ReactivationInput:
    return ReactivationInput.model_validate({
        "contract_id": contract_id, "homeowner": HOMEOWNER, "payment_date": paid,
        "payment_proof": f"CONF-{contract_id}", "market": "CA", "zip": "94103", **changes})


def _followup(case_id: str, **changes: Any) -> FollowUpInput:
    return FollowUpInput.model_validate({
        "case_id": case_id, "party": "installer", "party_email": "service@installer.example",
        "concern": "the system was never connected to the grid", "homeowner": HOMEOWNER,
        "best_time_to_reach": "weekday evenings", "market": "CA", "zip": "94103",
        "account_manager": "Demo AM", "sales_manager": "Demo SM", **changes})


def _inquiry(case_id: str, system_id: str, inquiry: str, **changes: Any) -> SupportInquiryInput:
    details = {"market": "CA", "zip": "94103", "installer": "sunrun",
               "installer_accepting_service_work": True, "description": "no production",
               "installer_email": "service@installer.example",
               "concern": "roof tiles broken during the install"}
    return SupportInquiryInput.model_validate({
        "case_id": case_id, "system_id": system_id, "agreement_type": "ppa",
        "m3_approved": True, "inquiry": inquiry, "homeowner": HOMEOWNER,
        "details": details, **changes})


def _support_plans(now: datetime) -> list[Plan]:
    """Reactivations, follow-ups and inquiries (an inquiry joins DEMO-001's O&M case)."""
    today = now.date().isoformat()
    return [Plan(*p) for p in [
        (REACTIVATION, _reactivation("CON-DEMO-1", today), []),
        (REACTIVATION, _reactivation("CON-DEMO-2", "2026-01-05"), []),
        (REACTIVATION, _reactivation("CON-DEMO-3", "2026-01-05"),
         [("payment_verified", {"event_id": "demo-verified", "approved": True})]),
        (FOLLOWUP, _followup("CS-DEMO-1"), []),
        (FOLLOWUP, _followup("CS-DEMO-2", concert_beam=True, party_email=None), []),
        (FOLLOWUP, _followup("CS-DEMO-3", party="omnidian",
                             party_email="care@service-department.example"), []),
        (INQUIRY, _inquiry("INQ-DEMO-1", "DEMO-301", "cleaning"), []),
        (INQUIRY, _inquiry("INQ-DEMO-2", "DEMO-001", "maintenance_request"), []),
        (INQUIRY, _inquiry("INQ-DEMO-3", "DEMO-302", "personal_property_damage",
                           m3_approved=False), []),
        (INQUIRY, _inquiry("INQ-DEMO-4", "DEMO-303", "monitoring_access",
                           agreement_type="ric"), []),
    ]]


# The install partner takes the claim dispatched to it (claims wait for its decision).
PARTNER_ACCEPTS: Events = [("partner_decision", {"event_id": "demo-partner-accepts",
                                                 "accepted": True})]


def _escalated(reason: str) -> Events:
    """An operator escalates the case to the manual track; its visit's findings come in, and
    it waits on the case manager's liability decision."""
    return [("escalate", {"event_id": "demo-escalate", "reason": reason}),
            ("findings_submitted", {"event_id": "demo-findings",
                                    "summary": "inverter board burnt; cause unclear"})]


def _claim_with_project(now: datetime) -> Events:
    """The investigation visit, the company at fault, a repair that needs R&R: the claim
    starts its project and waits for it."""
    start = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    return [("appointment_scheduled", {"event_id": "demo-claim-appt", "appointment_id": "APT-105",
                                       "window_start": start.isoformat(),
                                       "window_end": (start + timedelta(hours=4)).isoformat()}),
            ("field_assessment", {"event_id": "demo-assessment", "at_fault": "company"}),
            ("liability_determined", {"event_id": "demo-liability", "liable_party": "company",
                                      "decision": "repair", "rr_required": True})]


def demo_plans(now: datetime) -> list[Plan]:
    """The demo cases (every process, every operator view) and the events that take each to
    its stage. The stalled case first: its reminder is due a minute after it rests, by when
    the other cases are seeded."""
    stalled = Plan(OM, _case("DEMO-009", policy={"manual_reminder_interval": "PT1M"}),
                   _escalated("homeowner disputes the remote diagnosis"), stalled=True)
    om = [Plan(OM, case, events) for case, events in _om_plans(now)]
    return [stalled, *om] + [Plan(*p) for p in [
        (DAMAGE, _claim("DEMO-101"), []),
        (DAMAGE, _claim("DEMO-102", installer="partner", installer_accepting_service_work=True,
                        entitlements=[]), PARTNER_ACCEPTS),
        (DAMAGE, _claim("DEMO-103", entitlements=[]), []),
        (DAMAGE, _claim("DEMO-104", roof_leak=False, market="AZ", zip="85004",
                        entitlements=[{"kind": "workmanship", "active_until": "2035-01-01"}],
                        hazard={"water_in_panel": True}), []),
        (RR, _project("DEMO-201"), []),
        (RR, _project("DEMO-202", market="CA", zip="94103"), []),
        (RR, _project("DEMO-203", market="WA", zip="98101"),
         [("step_blocked", {"event_id": "demo-blocked", "reason": "waiting for the permit"})]),
        (DAMAGE, _claim("DEMO-105"), _claim_with_project(now)),
    ]] + _support_plans(now)


def _om_plans(now: datetime) -> list[tuple[OmCaseInput, Events]]:
    """The O&M demo cases and the events that take each to its stage."""
    in_3_days = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    not_fixed = {"event_id": "demo-remote-fix", "resolved": False}
    return [
        (_case("DEMO-001", description="production dropped to zero"), []),
        (_case("DEMO-002", market="AZ", zip="85004"), [("remote_fix_result", not_fixed)]),
        (_case("DEMO-003", market="TX", zip="78701", policy={"text_attempts": 0}),
         [("remote_fix_result", not_fixed)]),
        (_case("DEMO-004", case_reason="hazardous_situation",
               hazard={"burning_smell": True}), []),
        (_case("DEMO-005", market="NJ", zip="07030"),
         [("remote_fix_result", not_fixed),
          ("appointment_scheduled", {"event_id": "demo-appt", "appointment_id": "APT-5",
                                     "window_start": in_3_days.isoformat(),
                                     "window_end": (in_3_days + timedelta(hours=4)).isoformat()})]),
        (_case("DEMO-006", installer="partner", installer_accepting_service_work=False), []),
        (_case("DEMO-007", market="CO", zip="80202"),
         [("remote_fix_result", {"event_id": "demo-fixed", "resolved": True})]),
        (_case("DEMO-008", market="NV", zip="89501"),
         _escalated("homeowner reports a second failure this month")),
    ]


async def seed_demo_cases(client: Client, task_queue: str) -> list[str]:
    """Open the demo cases that do not exist yet and drive each to its stage; one line per
    case."""
    lines = []
    stalled_deadline: datetime | None = None
    for plan in demo_plans(datetime.now(UTC)):
        case_id = plan.process.workflow_id(plan.case)
        try:
            stage, running = await current_stage(client, case_id)
            lines.append(f"{case_id}: already there (stage={stage}, "
                         f"{'open' if running else 'closed'})")
            continue
        except CaseNotFound:
            pass
        if plan.stalled:
            async with _stalled_worker(client):
                line = await _seed(client, plan, STALLED_QUEUE)
            stalled_deadline = datetime.now(UTC) + STALLED_REMINDER
            lines.append(f"{line} (its worker stopped: overdue from "
                         f"{stalled_deadline.isoformat(timespec='seconds')})")
        else:
            lines.append(await _seed(client, plan, task_queue))
    if stalled_deadline is not None:
        # So the overdue view shows it as soon as the seeding is done.
        await asyncio.sleep(max(0.0, (stalled_deadline - datetime.now(UTC)).total_seconds() + 2))
    return lines


async def _seed(client: Client, plan: Plan, task_queue: str) -> str:
    """Open one demo case and send its events, each once the case is ready for it."""
    opened = await open_case(client, plan.process, plan.case, task_queue)
    for name, payload in plan.events:
        gate = SEND_IN.get(f"{plan.process.name}.{name}", SEND_IN.get(name))
        if gate is not None:
            await wait_for_stage(client, opened.case_id, {gate})
        await send_event(client, opened.case_id, name, payload)
    settled = RESTING - ({"problem_identified"} if plan.process is OM and plan.events else set())
    stage = await wait_for_stage(client, opened.case_id, settled)
    return f"{opened.case_id}: {opened.workflow_type} stage={stage}"


@asynccontextmanager
async def _stalled_worker(client: Client) -> AsyncIterator[None]:
    """A worker of `STALLED_QUEUE` in this process, with the local stack's store, for as long
    as the block runs."""
    from activities.effects import FieldServiceActivities  # noqa: PLC0415
    from activities.store import open_store  # noqa: PLC0415
    from workers.config import Settings  # noqa: PLC0415
    from workers.logging_setup import configure_logging  # noqa: PLC0415
    from workers.registry import build_worker  # noqa: PLC0415

    # Its activities' logs are the worker's business, not the seeding's output.
    configure_logging("console", "WARNING")
    store = open_store(Settings().store)
    try:
        async with build_worker(client, STALLED_QUEUE, FieldServiceActivities(store, None)):
            yield
    finally:
        store.close()
