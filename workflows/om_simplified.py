"""`OmSimplifiedWorkflow`: the automated O&M track (spec 3.2), from the problem to validation.

Reads like the seed flowchart, one block per stage: hazard first, problem identified (remote
fix, FS case), the visit (texts, calls, appointment, outcome: the shared visit part), the
findings review, the wait for replacement equipment, performance validation. It ends closed,
or continued under the same workflow ID as `OmManualWorkflow`: at the second failed
appointment, after too many follow-up visits, when nobody can be reached on a hazardous case,
when there is no usable phone, or on an operator's escalation."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.effects import FieldServiceActivities
    from domain.base import describe_span
    from domain.effects import MonitoringRequest
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
    from workflows.case import (
        CASE_MANAGER,
        Close,
        ContinueAs,
        Ending,
        EventSpec,
        Series,
        events_table,
    )
    from workflows.case.visits import OM_STAGES, VisitScheduling, visit_event_specs
    from workflows.om_case import ISSUE_REPORTED, OmCaseWorkflow

PROBLEM = "problem_identified"
FINDINGS_REVIEW = "pending_findings_review"
EQUIPMENT = "awaiting_replacement_equipment"
VALIDATION = "pending_performance_validation"
SES_SUPPORT = "ses_support"
HEALTH_REPORT = "health-report"
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
        return await self.run_case(lambda: self.run_stages({
            "created": self._start, PROBLEM: self._problem_identified,
            **dict.fromkeys(OM_STAGES.all, self._visit),
            FINDINGS_REVIEW: self._findings_review, EQUIPMENT: self._replacement_equipment,
            VALIDATION: self._performance_validation}))

    async def _start(self) -> Ending | None:
        """Hazard first; the manual track when not eligible or with no usable phone."""
        c = self.case
        if c.hazardous:
            await self.hazard_first()
        if c.eligibility and c.eligibility.track == "manual":
            return to_manual("not eligible for the simplified track: "
                             + "; ".join(c.eligibility.reasons))
        if not self.inp.homeowner.phone:
            await self.effects.record_failure("texts and calls", self.key("no-phone"),
                                              NO_USABLE_PHONE)
            return to_manual(NO_USABLE_PHONE)
        self.enter_stage(PROBLEM)
        return None

    async def _problem_identified(self) -> Ending | None:
        """Stage 1: the remote fix (not for a hazard), then the FS case and scheduling."""
        c = self.case
        if not c.hazardous:
            await self.effects.run(
                FieldServiceActivities.request_remote_fix,
                MonitoringRequest(key=self.key("remote-fix"), case_id=c.case_id,
                                  system_id=c.system_id),
                what="request a remote fix", summary="request a remote fix from monitoring")
            timeout = self.inp.policy.remote_fix_timeout
            got = await self.wait_for(RemoteFixResult, deadline=workflow.now() + timeout,
                                      waiting_for="remote fix result", waiting_on="monitoring",
                                      summary=f"wait {describe_span(timeout)} for the remote fix")
            if got is not None and got.resolved:
                return Close("resolved_remotely")
        if c.fs_case_id is None:
            receipt = await self.effects.crm_record(
                self.key("fs-case"), "fs_case", "create the FS case", system_id=c.system_id,
                market=c.market, reason=self.inp.case_reason,
                priority="P1" if c.hazardous else "normal")
            c.fs_case_id = receipt.record_id if receipt else None
        self.enter_stage(OM_STAGES.ready)
        return None

    async def _visit(self) -> Ending | None:
        """Stages 2-6: book a visit and act on the field tech's outcome."""
        result = await self.visits.visit(skip_texts=self.case.hazardous)
        if result == "no_usable_contact":
            return to_manual(NO_USABLE_PHONE)
        if result == "unreachable":
            return await self._unreachable()
        if result == "reached_not_booked":
            return to_manual("homeowner reached by phone but no appointment booked")
        return await self._after_appointment(result)

    async def _unreachable(self) -> Ending:
        if self.case.hazardous:
            # Spec 2.1: a hazardous case is never closed PG-void; it is escalated at once.
            await self.effects.assign(self.key("hazard-unreachable"), CASE_MANAGER,
                                      "HAZARDOUS case: homeowner unreachable after all calls",
                                      summary="urgent assignment to the case manager",
                                      priority="p1")
            return to_manual("hazardous case: homeowner unreachable after all calls")
        await self.outbox.tell("pg_void_breach_of_agreement", self.key("pg-void-notice"),
                               "PG void + breach of agreement notice", letter=True)
        await self.effects.assign(self.key("unreachable-assignment"), CASE_MANAGER,
                                  "homeowner unreachable after all texts and calls",
                                  summary="assign the unreachable case to the case manager")
        return Close("unreachable_pg_void")

    async def _after_appointment(self, outcome: AppointmentOutcome) -> Ending | None:
        """Act on the field tech's outcome: validation, a failed appointment, or a follow-up
        visit (after the findings review and the equipment, when needed)."""
        c, p = self.case, self.inp.policy
        c.asset_update_needed = c.asset_update_needed or outcome.asset_update_needed
        if outcome.result == "not_completed":
            return self._failed_appointment("appointment not completed")
        if outcome.result == "completed":
            self.enter_stage(VALIDATION)
            return None
        follow_ups = c.bump("follow_up_visits")
        if follow_ups >= p.follow_up_visits_to_escalate:
            return to_manual(f"{follow_ups} follow-up visits without resolution")
        c.equipment_pending = not outcome.equipment_available
        if not outcome.clear_path:
            self.enter_stage(FINDINGS_REVIEW)
            await self.effects.assign(self.key(f"visit{c.visit.visit_no}", "ses-review"),
                                      SES_SUPPORT,
                                      "follow-up required with no clear path to resolution",
                                      summary="assign the findings review to SES support")
            return None
        self._after_findings()
        return None

    def _after_findings(self) -> None:
        """The follow-up visit, once replacement equipment (if needed) has arrived."""
        self.enter_stage(EQUIPMENT if self.case.equipment_pending else OM_STAGES.ready)

    def _failed_appointment(self, reason: str) -> Ending | None:
        failed = self.case.bump("failed_appointments")
        if failed >= self.inp.policy.failed_appointments_to_escalate:
            return to_manual(f"{failed} failed appointments (last: {reason})")
        self.enter_stage(OM_STAGES.ready)
        return None

    async def _findings_review(self) -> Ending | None:
        """SES support reviews a follow-up with no clear path (reminded)."""
        async def remind(n: int) -> None:
            await self.effects.assign(self.key("ses-review-reminder", n), SES_SUPPORT,
                                      "findings review still pending",
                                      summary=f"review reminder {n}")

        got = await self.wait_for(
            FindingsReviewed, waiting_for="SES support findings review",
            waiting_on="ses_support",
            reminders=[Series("ses-review",
                              Cadence(every=self.inp.policy.manual_reminder_interval), remind)])
        if not got.clear_path:
            return to_manual("no clear path to resolution after SES support review")
        self._after_findings()
        return None

    async def _replacement_equipment(self) -> Ending | None:
        """Until the equipment arrives, with a weekly ETA check by the case manager."""
        async def eta_check(n: int) -> None:
            self.case.bump("equipment_eta_checks")
            await self.effects.assign(self.key("eta-check", n), CASE_MANAGER,
                                      "weekly ETA check on replacement equipment",
                                      summary=f"weekly equipment ETA check {n}")

        await self.wait_for(
            EquipmentAvailable, waiting_for="replacement equipment", waiting_on="case_manager",
            reminders=[Series("equipment-eta",
                              Cadence(every=self.inp.policy.equipment_eta_check_interval),
                              eta_check)])
        self.case.equipment_pending = False
        self.enter_stage(OM_STAGES.ready)
        return None

    async def _performance_validation(self) -> Ending | None:
        """Stage 4: a period of production, then the health check: resolved, or a failed
        appointment."""
        c = self.case
        if await self._healthy():
            if c.asset_update_needed:
                await self.effects.crm_record(self.key("asset-update"), "asset_update",
                                              "create the asset update task",
                                              system_id=c.system_id)
            return Close("resolved")
        return self._failed_appointment("system not healthy after the visit")

    async def _healthy(self) -> bool:
        c, p = self.case, self.inp.policy
        series = c.reminders.get(HEALTH_REPORT)
        if series is None or not series.running:  # not resumed in the report's long wait
            known = await self._measured_health()
            if known is not None:
                return known

        async def remind(n: int) -> None:
            await self.effects.assign(self.key("health-reminder", n), CASE_MANAGER,
                                      "system health not reported after validation",
                                      summary=f"health report reminder {n}")

        reported = await self.wait_for(
            SystemHealthReported, waiting_for="system health report", waiting_on="monitoring",
            reminders=[Series(HEALTH_REPORT, Cadence(every=p.outcome_reminder_after), remind)])
        return reported.healthy

    async def _measured_health(self) -> bool | None:
        """A reported health during the validation period, else monitoring's answer."""
        c, p = self.case, self.inp.policy
        got = await self.wait_for(
            SystemHealthReported, deadline=workflow.now() + p.performance_validation_period,
            waiting_for="production data for validation", waiting_on="monitoring",
            summary=f"wait {describe_span(p.performance_validation_period)} of production")
        if got is not None:
            return got.healthy
        result = await self.effects.run(
            FieldServiceActivities.check_system_health,
            MonitoringRequest(key=self.key(f"visit{c.visit.visit_no}", "health-check"),
                              case_id=c.case_id, system_id=c.system_id),
            what="check system health", summary="check system health with monitoring")
        return result.healthy if result is not None else None

    async def on_escalate(self, cmd: Escalate) -> Ending | None:
        """Ops escalate: the case leaves for the manual track."""
        return to_manual(f"escalated by operator: {cmd.reason}")
