"""Demo O&M cases in different stages, so the local Web UI has something to show. Re-running it
is harmless: reports join the open cases and repeated event IDs are ignored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client

from domain.om import OmCaseInput
from starter.client import case_status, open_om_case, send_event, wait_for_stage

BASE: dict[str, Any] = {
    "case_reason": "system_failure", "source": "sunrun_monitoring", "installer": "sunrun",
    "installer_accepting_service_work": True, "agreement_type": "ppa",
    "acquisition_channel": "retail", "zip": "94103", "market": "CA",
    "homeowner": {"name": "Demo Homeowner", "phone": "+14155550100",
                  "email": "demo@example.com"},
    "description": "inverter shows error 21",
}


def _case(system_id: str, **changes: Any) -> OmCaseInput:
    return OmCaseInput.model_validate({**BASE, "system_id": system_id, **changes})


async def seed_demo_cases(client: Client, task_queue: str) -> list[str]:
    """Open the demo cases and drive each to its stage; returns one line per case."""
    lines = []
    in_3_days = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    not_fixed = {"event_id": "demo-remote-fix", "resolved": False}
    plans: list[tuple[OmCaseInput, list[tuple[str, dict[str, Any]]]]] = [
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
    for case, events in plans:
        opened = await open_om_case(client, case, task_queue)
        for name, payload in events:
            status = await case_status(client, opened.case_id)
            if payload["event_id"] in status.seen_event_ids:
                continue  # seeded before
            if name == "remote_fix_result":
                await wait_for_stage(client, opened.case_id, {"problem_identified"})
            await send_event(client, opened.case_id, name, payload)
        # A case that was sent events has left problem_identified; wait until it has.
        settled = {"self_scheduling_texts", "outbound_calls", "appointment_scheduled",
                   "findings_review", "closed"} | (set() if events else {"problem_identified"})
        status = await wait_for_stage(client, opened.case_id, settled)
        lines.append(f"{opened.case_id}: {opened.workflow_type} stage={status.stage}"
                     + (f" outcome={status.outcome}" if status.outcome else ""))
    return lines
