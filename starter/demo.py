"""Demo O&M cases in different stages, so the local Web UI has something to show.

Seeded once: a demo case that exists already (open or closed) is left alone, so re-running
`./dev up` never restarts a closed demo case. The script waits on stages through search
attributes, never by polling the `status` query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client

from domain.om import OmCaseInput
from domain.processes import OM, om_case_id
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
           "appointment_scheduled", "findings_review", "closed"}


def _case(system_id: str, **changes: Any) -> OmCaseInput:
    return OmCaseInput.model_validate({**BASE, "system_id": system_id, **changes})


def demo_plans(now: datetime) -> list[tuple[OmCaseInput, list[tuple[str, dict[str, Any]]]]]:
    """The demo cases and the events that take each to its stage."""
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
    for case, events in demo_plans(datetime.now(UTC)):
        case_id = om_case_id(case.system_id)
        try:
            stage, running = await current_stage(client, case_id)
            lines.append(f"{case_id}: already there (stage={stage}, "
                         f"{'open' if running else 'closed'})")
            continue
        except CaseNotFound:
            pass
        opened = await open_case(client, OM, case, task_queue)
        for name, payload in events:
            if name == "remote_fix_result":
                await wait_for_stage(client, opened.case_id, {"problem_identified"})
            await send_event(client, opened.case_id, name, payload)
        stage = await wait_for_stage(client, opened.case_id,
                                     RESTING - (set() if not events else {"problem_identified"}))
        lines.append(f"{opened.case_id}: {opened.workflow_type} stage={stage}")
    return lines
