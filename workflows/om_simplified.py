"""`OmSimplifiedWorkflow`: the automated O&M track (spec 3.2), from the problem to validation.

Reads like the seed flowchart: problem identified (remote fix), FS case, scheduling (texts,
calls), appointment, outcome branches, performance validation; the second failed appointment
continues the case as `OmManualWorkflow` under the same workflow ID."""

from __future__ import annotations

from typing import NoReturn

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.base import describe_span
    from domain.case import RejectedEvent
    from domain.effects import EffectReceipt, HealthCheckResult, MonitoringRequest
    from domain.events import Escalate
    from domain.om import (
        AppointmentOutcome,
        EquipmentAvailable,
        FindingsReviewed,
        OmCase,
        OmCaseInput,
        RemoteFixResult,
        SystemHealthReported,
    )
    from workflows.case_base import EventSpec
    from workflows.om_case import CASE_MANAGER, ISSUE_REPORTED, OmCaseWorkflow
    from workflows.visit_scheduling import VisitScheduling, visit_event_specs

PROBLEM = "problem_identified"
FINDINGS_REVIEW = "pending_findings_review"
EQUIPMENT = "awaiting_replacement_equipment"
VALIDATION = "pending_performance_validation"
SES_SUPPORT = "ses_support"
MANUAL_WORKFLOW = "OmManualWorkflow"


class _Escalation(Exception):
    """The case leaves the simplified track (continue-as-new into the manual track)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@workflow.defn(name="OmSimplifiedWorkflow")
class OmSimplifiedWorkflow(OmCaseWorkflow):
    """The simplified O&M track, one execution per case (`om-{system_id}`)."""

    PROCESS = "om_simplified"
    EVENTS = {
        **ISSUE_REPORTED,
        "remote_fix_result": EventSpec(RemoteFixResult, stages=frozenset({PROBLEM})),
        **visit_event_specs("appointment_outcome", AppointmentOutcome, lambda c: c.visit),
        "findings_reviewed": EventSpec(FindingsReviewed, stages=frozenset({FINDINGS_REVIEW})),
        "equipment_available": EventSpec(EquipmentAvailable, stages=frozenset({EQUIPMENT})),
        "system_health_reported": EventSpec(SystemHealthReported,
                                            stages=frozenset({VALIDATION})),
    }

    @workflow.init
    def __init__(self, inp: OmCaseInput) -> None:
        self._setup(inp)
        self._escalate_reason: str | None = None

    @workflow.run
    async def run(self, inp: OmCaseInput) -> OmCase:
        """Run the case to its outcome (or into the manual track)."""
        self.start_run()
        try:
            return await self.run_case(self._flow)
        except _Escalation as esc:
            await self._continue_as_manual(esc.reason)

    async def _flow(self) -> None:
        c, p = self.case, self.inp.policy
        holidays = await self.ensure_holidays()
        if c.eligibility and c.eligibility.track == "manual":
            raise _Escalation("not eligible for the simplified track: "
                              + "; ".join(c.eligibility.reasons))
        self.visits = VisitScheduling(
            self, state=c.visit, policy=p, time_zone=c.time_zone, holidays=holidays,
            outcome_event="appointment_outcome", case_manager=CASE_MANAGER)
        self.enter_stage(PROBLEM)
        if not c.hazardous and await self._remote_fix_resolved():
            await self.close("resolved_remotely")
            return
        if c.fs_case_id is None:
            receipt: EffectReceipt = await self.crm_record(
                self.key("fs-case"), "fs_case", "create the FS case",
                system_id=c.system_id, market=c.market, reason=self.inp.case_reason,
                priority="P1" if c.hazardous else "normal")
            c.fs_case_id = receipt.record_id
        if c.hazardous:
            await self.crm_record(self.key("priority-dispatch"), "dispatch",
                                  "create the priority (P1) dispatch", priority="P1",
                                  system_id=c.system_id, reason="hazardous situation")
        while True:
            booking = await self.visits.book_visit(skip_texts=c.hazardous)
            if booking == "unreachable":
                await self._unreachable()
                return
            if booking == "reached_not_booked":
                raise _Escalation("homeowner reached by phone but no appointment booked")
            if await self._after_appointment(await self.visits.await_outcome()):
                return

    async def _remote_fix_resolved(self) -> bool:
        await self._execute("request_remote_fix",
                            MonitoringRequest(key=self.key("remote-fix"), case_id=self.case.case_id,
                                              system_id=self.case.system_id),
                            EffectReceipt, "request a remote fix from monitoring")
        timeout = self.inp.policy.remote_fix_timeout
        got = await self.next_event({"remote_fix_result"}, timeout=timeout,
                                    waiting_for="remote fix result",
                                    summary=f"wait {describe_span(timeout)} for the remote fix")
        return got is not None and bool(got[1].resolved)

    async def _unreachable(self) -> None:
        await self.notify(self.key("pg-void-notice"), "letter", "pg_void_breach_of_agreement",
                          "PG void + breach of agreement notice")
        await self.assign(self.key("unreachable-assignment"), CASE_MANAGER,
                          "homeowner unreachable after all texts and calls",
                          summary="assign the unreachable case to the case manager")
        await self.close("unreachable_pg_void")

    async def _after_appointment(self, outcome: AppointmentOutcome) -> bool:
        """Act on the field tech's outcome; True when the case is closed."""
        c = self.case
        c.asset_update_needed = c.asset_update_needed or outcome.asset_update_needed
        if outcome.result == "not_completed":
            await self._failed_appointment("appointment not completed")
            return False
        if outcome.result == "completed":
            if await self._system_healthy():
                if c.asset_update_needed:
                    await self.crm_record(self.key("asset-update"), "asset_update",
                                          "create the asset update task",
                                          system_id=c.system_id)
                await self.close("resolved")
                return True
            await self._failed_appointment("system not healthy after the visit")
            return False
        # completed, follow-up visit required
        if not outcome.clear_path and not await self._findings_review_clear():
            raise _Escalation("no clear path to resolution after SES support review")
        if not outcome.equipment_available:
            await self._await_equipment()
        return False

    async def _failed_appointment(self, reason: str) -> None:
        failed = self.case.bump("failed_appointments")
        if failed >= self.inp.policy.failed_appointments_to_escalate:
            raise _Escalation(f"{failed} failed appointments (last: {reason})")

    async def _findings_review_clear(self) -> bool:
        self.enter_stage(FINDINGS_REVIEW)
        visit = self.case.visit.visit_no
        await self.assign(self.key(f"visit{visit}", "ses-review"), SES_SUPPORT,
                          "follow-up required with no clear path to resolution",
                          summary="assign the findings review to SES support")

        async def remind(k: int) -> None:
            await self.assign(self.key(f"visit{visit}", "ses-review-reminder", k), SES_SUPPORT,
                              "findings review still pending", summary=f"review reminder {k}")

        _, event = await self.wait_with_reminders(
            {"findings_reviewed"}, every=self.inp.policy.manual_reminder_interval,
            waiting_for="SES support findings review", first_at=None, remind=remind)
        return bool(event.clear_path)

    async def _await_equipment(self) -> None:
        self.enter_stage(EQUIPMENT)
        visit = self.case.visit.visit_no

        async def eta_check(k: int) -> None:
            self.case.bump("equipment_eta_checks")
            await self.assign(self.key(f"visit{visit}", "eta-check", k), CASE_MANAGER,
                              "weekly ETA check on replacement equipment",
                              summary=f"weekly equipment ETA check {k}")

        await self.wait_with_reminders(
            {"equipment_available"}, every=self.inp.policy.equipment_eta_check_interval,
            waiting_for="replacement equipment", first_at=None, remind=eta_check)

    async def _system_healthy(self) -> bool:
        self.enter_stage(VALIDATION)
        p, visit = self.inp.policy, self.case.visit.visit_no
        got = await self.next_event(
            {"system_health_reported"}, timeout=p.performance_validation_period,
            waiting_for="production data for validation",
            summary=f"wait {describe_span(p.performance_validation_period)} of production")
        if got is not None:
            return bool(got[1].healthy)
        result: HealthCheckResult = await self._execute(
            "check_system_health",
            MonitoringRequest(key=self.key(f"visit{visit}", "health-check"),
                              case_id=self.case.case_id, system_id=self.case.system_id),
            HealthCheckResult, "check system health with monitoring")
        if result.healthy is not None:
            return result.healthy

        async def remind(k: int) -> None:
            await self.assign(self.key(f"visit{visit}", "health-reminder", k), CASE_MANAGER,
                              "system health not reported after validation",
                              summary=f"health report reminder {k}")

        _, event = await self.wait_with_reminders(
            {"system_health_reported"}, every=p.outcome_reminder_after,
            waiting_for="system health report", first_at=None, remind=remind)
        return bool(event.healthy)

    # ---- escalation ------------------------------------------------------------------------

    async def on_escalate(self, cmd: Escalate) -> None:
        """Ops escalate: the case leaves for the manual track."""
        self._escalate_reason = f"escalated by operator: {cmd.reason}"
        self._interrupt = ("escalate", cmd.reason)
        await workflow.wait_condition(lambda: self._finished)

    async def on_interrupt(self, kind: str) -> None:
        """The only non-cancel interrupt here is escalate."""
        raise _Escalation(self._escalate_reason or kind)

    async def _continue_as_manual(self, reason: str) -> NoReturn:
        c = self.case
        c.escalation_reason = reason
        for item in c.pending:
            c.rejected_events.append(RejectedEvent(
                name=item.name, event_id=item.payload.get("event_id"),
                reason="not applied: the case moved to the manual track",
                received_at=workflow.now()))
        c.pending.clear()
        self.mark(escalated=True)
        await self.close("escalated_to_manual")
        await self.finish()
        workflow.continue_as_new(self.carry_input(), workflow=MANUAL_WORKFLOW)  # type: ignore[arg-type]

