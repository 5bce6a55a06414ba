"""`OmSimplifiedWorkflow`: the automated O&M track (spec 3.2), from the problem to validation.

Reads like the seed flowchart: hazard first, problem identified (remote fix), FS case,
scheduling (texts, calls), appointment, outcome branches, performance validation. It ends
closed, or continued under the same workflow ID as `OmManualWorkflow`: at the second failed
appointment, after too many follow-up visits, when nobody can be reached on a hazardous case,
when there is no usable phone, or on an operator's escalation."""

from __future__ import annotations

from typing import cast

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.effects import FieldServiceActivities
    from domain.base import describe_span
    from domain.effects import HealthCheckResult, MonitoringRequest
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
    from domain.reminders import Cadence
    from workflows.case_base import CASE_MANAGER, Close, ContinueAs, Ending, EventSpec, events_table
    from workflows.om_case import ISSUE_REPORTED, OmCaseWorkflow
    from workflows.reminders import wait_with_reminders
    from workflows.visits import VisitScheduling, visit_event_specs

PROBLEM = "problem_identified"
FINDINGS_REVIEW = "pending_findings_review"
EQUIPMENT = "awaiting_replacement_equipment"
VALIDATION = "pending_performance_validation"
SES_SUPPORT = "ses_support"
MANUAL_WORKFLOW = "OmManualWorkflow"
NO_USABLE_PHONE = "no usable phone: texts and calls are not possible"


def to_manual(reason: str) -> ContinueAs:
    """The case leaves the simplified track for the manual one."""
    return ContinueAs(MANUAL_WORKFLOW, reason=reason, outcome="escalated_to_manual")


@workflow.defn(name="OmSimplifiedWorkflow")
class OmSimplifiedWorkflow(OmCaseWorkflow):
    """The simplified O&M track, one execution per case (`om-{system_id}`)."""

    PROCESS = "om_simplified"
    EVENTS = events_table(
        ISSUE_REPORTED,
        EventSpec(RemoteFixResult, stages=frozenset({PROBLEM})),
        *visit_event_specs(AppointmentOutcome, lambda c: c.visit),
        EventSpec(FindingsReviewed, stages=frozenset({FINDINGS_REVIEW})),
        EventSpec(EquipmentAvailable, stages=frozenset({EQUIPMENT})),
        EventSpec(SystemHealthReported, stages=frozenset({VALIDATION})),
    )

    @workflow.init
    def __init__(self, inp: OmCaseInput) -> None:
        self._setup(inp)
        self.visits = VisitScheduling(self, state=self.case.visit, policy=inp.policy,
                                      outcome=AppointmentOutcome, case_manager=CASE_MANAGER)

    @workflow.run
    async def run(self, inp: OmCaseInput) -> OmCase:
        """Run the case to its outcome (or into the manual track)."""
        self.start_run()
        return await self.run_case(self._flow)

    async def _flow(self) -> Ending:
        c = self.case
        if c.hazardous:
            await self.hazard_first()
        if c.eligibility and c.eligibility.track == "manual":
            return to_manual("not eligible for the simplified track: "
                             + "; ".join(c.eligibility.reasons))
        if not self.inp.homeowner.phone:
            await self.record_failure("texts and calls", self.key("no-phone"), NO_USABLE_PHONE)
            return to_manual(NO_USABLE_PHONE)
        self.enter_stage(PROBLEM)
        if not c.hazardous and await self._problem_identified():
            return Close("resolved_remotely")
        if c.fs_case_id is None:
            receipt = await self.crm_record(
                self.key("fs-case"), "fs_case", "create the FS case", system_id=c.system_id,
                market=c.market, reason=self.inp.case_reason,
                priority="P1" if c.hazardous else "normal")
            c.fs_case_id = receipt.record_id if receipt else None
        while True:
            booking = await self.visits.book_visit(skip_texts=c.hazardous)
            if booking == "no_usable_contact":
                return to_manual(NO_USABLE_PHONE)
            if booking == "unreachable":
                return await self._unreachable()
            if booking == "reached_not_booked":
                return to_manual("homeowner reached by phone but no appointment booked")
            ending = await self._after_appointment(await self.visits.await_outcome())
            if ending is not None:
                return ending

    async def _problem_identified(self) -> bool:
        """Stage 1: the remote fix; True when monitoring resolved the problem."""
        await self.effect(FieldServiceActivities.request_remote_fix,
                          MonitoringRequest(key=self.key("remote-fix"), case_id=self.case.case_id,
                                            system_id=self.case.system_id),
                          what="request a remote fix", summary="request a remote fix from "
                                                               "monitoring")
        timeout = self.inp.policy.remote_fix_timeout
        got = await self.next_of(RemoteFixResult, deadline=workflow.now() + timeout,
                                 waiting_for="remote fix result",
                                 summary=f"wait {describe_span(timeout)} for the remote fix")
        return got is not None and got.resolved

    async def _unreachable(self) -> Ending:
        if self.case.hazardous:
            # Spec 2.1: a hazardous case is never closed PG-void; it is escalated at once.
            await self.assign(self.key("hazard-unreachable"), CASE_MANAGER,
                              "HAZARDOUS case: homeowner unreachable after all calls",
                              summary="urgent assignment to the case manager", priority="p1")
            return to_manual("hazardous case: homeowner unreachable after all calls")
        await self.message_homeowner("letter", "pg_void_breach_of_agreement",
                                     self.key("pg-void-notice"),
                                     "PG void + breach of agreement notice")
        await self.assign(self.key("unreachable-assignment"), CASE_MANAGER,
                          "homeowner unreachable after all texts and calls",
                          summary="assign the unreachable case to the case manager")
        return Close("unreachable_pg_void")

    async def _after_appointment(self, outcome: AppointmentOutcome) -> Ending | None:
        """Act on the field tech's outcome; an ending when the case leaves this track."""
        c, p = self.case, self.inp.policy
        c.asset_update_needed = c.asset_update_needed or outcome.asset_update_needed
        if outcome.result == "not_completed":
            return self._failed_appointment("appointment not completed")
        if outcome.result == "completed":
            if await self._pending_performance_validation():
                if c.asset_update_needed:
                    await self.crm_record(self.key("asset-update"), "asset_update",
                                          "create the asset update task", system_id=c.system_id)
                return Close("resolved")
            return self._failed_appointment("system not healthy after the visit")
        follow_ups = c.bump("follow_up_visits")
        if follow_ups >= p.follow_up_visits_to_escalate:
            return to_manual(f"{follow_ups} follow-up visits without resolution")
        if not outcome.clear_path and not await self._pending_findings_review():
            return to_manual("no clear path to resolution after SES support review")
        if not outcome.equipment_available:
            await self._awaiting_replacement_equipment()
        return None

    def _failed_appointment(self, reason: str) -> Ending | None:
        failed = self.case.bump("failed_appointments")
        if failed >= self.inp.policy.failed_appointments_to_escalate:
            return to_manual(f"{failed} failed appointments (last: {reason})")
        return None

    async def _pending_findings_review(self) -> bool:
        """SES support reviews a follow-up with no clear path; True when it found one."""
        self.enter_stage(FINDINGS_REVIEW)
        visit = self.case.visit.visit_no
        await self.assign(self.key(f"visit{visit}", "ses-review"), SES_SUPPORT,
                          "follow-up required with no clear path to resolution",
                          summary="assign the findings review to SES support")

        async def remind(n: int) -> None:
            await self.assign(self.key("ses-review-reminder", n), SES_SUPPORT,
                              "findings review still pending", summary=f"review reminder {n}")

        got = await wait_with_reminders(
            self, FindingsReviewed, series="ses-review",
            cadence=Cadence(every=self.inp.policy.manual_reminder_interval),
            waiting_for="SES support findings review", remind=remind)
        return cast(FindingsReviewed, got).clear_path

    async def _awaiting_replacement_equipment(self) -> None:
        """Until the equipment arrives, with a weekly ETA check by the case manager."""
        self.enter_stage(EQUIPMENT)

        async def eta_check(n: int) -> None:
            self.case.bump("equipment_eta_checks")
            await self.assign(self.key("eta-check", n), CASE_MANAGER,
                              "weekly ETA check on replacement equipment",
                              summary=f"weekly equipment ETA check {n}")

        await wait_with_reminders(
            self, EquipmentAvailable, series="equipment-eta",
            cadence=Cadence(every=self.inp.policy.equipment_eta_check_interval),
            waiting_for="replacement equipment", remind=eta_check)

    async def _pending_performance_validation(self) -> bool:
        """Stage 4: a period of production, then the health check; True when healthy."""
        self.enter_stage(VALIDATION)
        p, visit = self.inp.policy, self.case.visit.visit_no
        got = await self.next_of(
            SystemHealthReported, deadline=workflow.now() + p.performance_validation_period,
            waiting_for="production data for validation",
            summary=f"wait {describe_span(p.performance_validation_period)} of production")
        if got is not None:
            return got.healthy
        result = await self.effect(
            FieldServiceActivities.check_system_health,
            MonitoringRequest(key=self.key(f"visit{visit}", "health-check"),
                              case_id=self.case.case_id, system_id=self.case.system_id),
            what="check system health", summary="check system health with monitoring")
        if isinstance(result, HealthCheckResult) and result.healthy is not None:
            return result.healthy

        async def remind(n: int) -> None:
            await self.assign(self.key("health-reminder", n), CASE_MANAGER,
                              "system health not reported after validation",
                              summary=f"health report reminder {n}")

        reported = await wait_with_reminders(
            self, SystemHealthReported, series="health-report",
            cadence=Cadence(every=p.outcome_reminder_after),
            waiting_for="system health report", remind=remind)
        return cast(SystemHealthReported, reported).healthy

    async def on_escalate(self, cmd: Escalate) -> Ending | None:
        """Ops escalate: the case leaves for the manual track."""
        return to_manual(f"escalated by operator: {cmd.reason}")
