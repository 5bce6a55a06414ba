"""Demo cases of every process in different stages (O&M cases, damage claims, R&R projects,
reactivations, third-party follow-ups, support inquiries), so
the local Web UI has something to show under each `ProcessType` and `CaseStage`.

Seeded once: a demo case that exists already (open or closed) is left alone, so re-running
`./dev up` never restarts a closed demo case. The script waits on stages through search
attributes, never by polling the `status` query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

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
           "party_contacted"}
# An event is sent once its case has reached this stage.
SEND_IN = {"remote_fix_result": "problem_identified", "step_blocked": "removal",
           "payment_verified": "back_office_verification",
           "partner_decision": "dispatched_to_partner"}
HOMEOWNER = BASE["homeowner"]
Events = list[tuple[str, dict[str, Any]]]


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


def _support_plans(now: datetime) -> list[tuple[ProcessSpec, BaseModel, Events]]:
    """Reactivations, follow-ups and inquiries (an inquiry joins DEMO-001's O&M case)."""
    today = now.date().isoformat()
    return [
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
    ]


# The install partner takes the claim dispatched to it (claims wait for its decision).
PARTNER_ACCEPTS: Events = [("partner_decision", {"event_id": "demo-partner-accepts",
                                                 "accepted": True})]


def demo_plans(now: datetime) -> list[tuple[ProcessSpec, BaseModel, Events]]:
    """The demo cases (every process) and the events that take each to its stage."""
    return [(OM, case, events) for case, events in _om_plans(now)] + [
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
    ] + _support_plans(now)


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
    ]


async def seed_demo_cases(client: Client, task_queue: str) -> list[str]:
    """Open the demo cases that do not exist yet and drive each to its stage; one line per
    case."""
    lines = []
    for process, case, events in demo_plans(datetime.now(UTC)):
        case_id = process.workflow_id(case)
        try:
            stage, running = await current_stage(client, case_id)
            lines.append(f"{case_id}: already there (stage={stage}, "
                         f"{'open' if running else 'closed'})")
            continue
        except CaseNotFound:
            pass
        opened = await open_case(client, process, case, task_queue)
        for name, payload in events:
            if name in SEND_IN:
                await wait_for_stage(client, opened.case_id, {SEND_IN[name]})
            await send_event(client, opened.case_id, name, payload)
        settled = RESTING - ({"problem_identified"} if process is OM and events else set())
        stage = await wait_for_stage(client, opened.case_id, settled)
        lines.append(f"{opened.case_id}: {opened.workflow_type} stage={stage}")
    return lines
