"""`DamageClaimWorkflow`: a property-damage or roof-leak claim (spec 3.4), read like the seed's
"Roof Leak Response" map: hazard first, intake (the roof-leak tree, or the non-leak path),
claim creation and assignment recommendation, the partner path or the investigation visit (the
visit part the O&M case uses, under the claim's own stage name), liability, resolution: a
repair with R&R goes to the system's open project or a new one, and the claim waits for it
(spec 2.3).

The flow is a loop over the claim's stage, so a run continued for a fresh history (a claim
waiting weeks for a person) resumes where it stood."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():

    from domain.damage import (
        AtFault,
        ClaimLiabilityDetermined,
        DamageClaim,
        DamageClaimInput,
        FieldAssessment,
        PartnerFindings,
    )
    from domain.links import hazard_report_for_claim, rr_request_for_claim
    from domain.om import OmCaseInput, RepairCompleted, SettlementAccepted, SettlementDeclined
    from domain.outbox import Holds
    from domain.processes import DAMAGE, RR
    from domain.rr import RemovalReinstallInput
    from domain.rules.hazard import hazard_reasons
    from domain.rules.warranty import claim_intake
    from workflows.case import (
        CASE_MANAGER,
        CaseCommon,
        CaseWorkflow,
        Close,
        Ending,
        EventSpec,
        Series,
        events_table,
    )
    from workflows.case.projects import PARENT_WAITS, PROJECT, PROJECT_ENDED, ProjectParent
    from workflows.case.visits import VisitScheduling, VisitStages, visit_event_specs

INTAKE = "intake"
CLAIM_CREATED = "claim_created"
PARTNER = "partner_in_progress"
INVESTIGATION = "investigation"
LIABILITY = "liability_determination"
RESOLUTION = "resolution"
SETTLEMENT = "settlement_quoting"

# The investigation visit shows one stage, `investigation`, however far its booking has got
# (texts, calls, booked, waiting for the assessment): `waiting_for` and the counters say more.
INVESTIGATION_STAGES = VisitStages(ready=INVESTIGATION, texts=INVESTIGATION, calls=INVESTIGATION,
                                   scheduled=INVESTIGATION, findings=INVESTIGATION)


def _stage(*names: str) -> frozenset[str]:
    return frozenset(names)


@workflow.defn(name="DamageClaimWorkflow")
class DamageClaimWorkflow(CaseWorkflow[DamageClaim]):
    """One execution per claim (`damage-{system_id}-{claim_no}`)."""

    PROCESS = "damage_claim"
    SPEC = DAMAGE
    inp: DamageClaimInput
    EVENTS = events_table(
        *visit_event_specs(FieldAssessment, lambda c: c.visit, INVESTIGATION_STAGES),
        EventSpec(PartnerFindings, stages=_stage(PARTNER)),
        EventSpec(ClaimLiabilityDetermined, stages=_stage(LIABILITY)),
        EventSpec(RepairCompleted, stages=_stage(RESOLUTION)),
        EventSpec(SettlementAccepted, stages=_stage(SETTLEMENT)),
        EventSpec(SettlementDeclined, stages=_stage(SETTLEMENT)),
        PROJECT_ENDED,
    )

    @workflow.init
    def __init__(self, inp: DamageClaimInput) -> None:
        def new_case(common: CaseCommon) -> DamageClaim:
            reasons = hazard_reasons(inp.hazard)
            return DamageClaim(**common, system_id=inp.system_id, claim_no=inp.claim_no,
                               roof_leak=inp.roof_leak, hazardous=bool(reasons),
                               hazard_reasons=reasons, source_project_id=inp.project_id)

        self.init_case(inp, new_case)
        self.visits = VisitScheduling(self, state=self.case.visit, policy=inp.policy,
                                      outcome=FieldAssessment, stages=INVESTIGATION_STAGES,
                                      case_manager=CASE_MANAGER)
        self.projects = ProjectParent(self, liability_stage=LIABILITY, key_prefix="claim")

    @workflow.run
    async def run(self, inp: DamageClaimInput) -> DamageClaim:
        """Run the claim to its outcome."""
        self.start_run()
        return await self.run_case(lambda: self.run_stages({
            "created": self._intake, INTAKE: self._intake, CLAIM_CREATED: self._assignment,
            PARTNER: self._partner_findings, INVESTIGATION: self._investigation,
            LIABILITY: self._liability, RESOLUTION: self._repair, SETTLEMENT: self._settlement,
            PROJECT: self.projects.wait}))

    def _reminder(self, what: str, series: str) -> Series:
        """The reminder to the case manager of a wait for a person or a party."""
        return self.reminder(series, self.inp.policy.reminder_interval, what, "claim")

    # ---- 1-2: intake, claim, assignment ----------------------------------------------------

    async def _intake(self) -> Ending | None:
        """Hazard first (handed to the system's O&M case); the intake tree; the claim record
        and the case manager."""
        c = self.case
        self.enter_stage(INTAKE)
        if c.hazardous and not c.hazard_handled:
            await self.hazard_first()
        c.intake = claim_intake(self.inp)
        if c.intake.decision == "denied":
            await self.outbox.tell("claim_denied", self.key("claim", "denied-notice"),
                                   "tell the homeowner the claim is denied, and why",
                                   reason=c.intake.reason)
            return Close("denied")
        receipt = await self.effects.crm_record(self.key("claim", "record"), "claim",
                                                "create the damage claim", None,
                                                system_id=c.system_id, claim_no=c.claim_no,
                                                roof_leak=str(c.roof_leak).lower())
        c.claim_record_id = receipt.record_id if receipt else None
        await self.effects.assign_case_manager(self.key("claim", "case-manager"),
                                               f"damage claim: {c.intake.reason}",
                                               summary="assign the claim to a case manager")
        self.enter_stage(CLAIM_CREATED)
        return None

    async def _assignment(self) -> Ending | None:
        """The assignment recommendation: the partner path, or the company's investigation."""
        c = self.case
        if c.intake is not None and c.intake.recommendation == "partner":
            await self.effects.crm_record(self.key("claim", "partner-dispatch"), "dispatch",
                                          "create the field-service dispatch to the partner",
                                          None, system_id=c.system_id, claim_no=c.claim_no)
            self.enter_stage(PARTNER)
        else:
            self.enter_stage(INVESTIGATION)
        return None

    async def _partner_findings(self) -> Ending | None:
        got = await self.wait_for(
            PartnerFindings, waiting_for="the partner's findings",
            reminders=[self._reminder("the partner's findings", "partner-findings")])
        self.case.investigation_result = "partner_findings"
        return await self._at_fault(got.at_fault)

    # ---- 3: the investigation ---------------------------------------------------------------

    async def _investigation(self) -> Ending | None:
        """Book the investigation visit (texts, calls, appointment: the shared visit part) and
        wait for its assessment; another visit when the assessment asks for one."""
        c, p = self.case, self.inp.policy
        assessment = await self.visits.visit(skip_texts=c.hazardous)
        if isinstance(assessment, str):
            return await self._not_booked(assessment)
        c.bump("investigation_visits")
        if not assessment.follow_up_required:
            c.investigation_result = "assessed"
            return await self._at_fault(assessment.at_fault)
        if c.visit.visit_no >= p.investigation_visits_max:
            c.investigation_result = "follow_up_limit"
            return await self._at_fault("undetermined", why=(
                f"{c.visit.visit_no} investigation visits without a final assessment"))
        c.bump("follow_up_visits")
        return None

    async def _not_booked(self, booking: str) -> Ending | None:
        """Nobody could be reached, or there is no usable phone: never a failed claim (spec
        2.1). The case manager takes it (urgently, and escalated, when hazardous) and decides
        liability."""
        c = self.case
        c.investigation_result = booking
        if c.hazardous or booking == "no_usable_contact":
            c.escalation_reason = (f"hazardous claim, homeowner not booked ({booking})"
                                   if c.hazardous else "no usable phone for the investigation")
            self.view.mark(escalated=True)
        await self.effects.assign(self.key("claim", "not-booked"), CASE_MANAGER,
                                  f"investigation not booked ({booking}): contact the homeowner "
                                  "and determine liability",
                                  summary="assign the unbooked investigation",
                                  priority="p1" if c.hazardous else "high")
        self.enter_stage(LIABILITY)
        return None

    async def _at_fault(self, at_fault: AtFault, why: str | None = None) -> Ending | None:
        """Company not at fault: denied. At fault, or undetermined: the case manager
        determines liability (and the resolution)."""
        c = self.case
        c.at_fault = at_fault
        if at_fault == "not_company":
            await self.outbox.tell("claim_denied", self.key("claim", "denied-notice"),
                                   "tell the homeowner the claim is denied, and why",
                                   reason="the investigation found the company not at fault")
            return Close("denied")
        reason = why or ("the company is at fault: decide repair, settlement or R&R"
                         if at_fault == "company" else "fault could not be determined")
        await self.effects.assign(self.key("claim", "liability", c.bump("liability_requests")),
                                  CASE_MANAGER, f"determine liability: {reason}",
                                  summary="assign the liability determination",
                                  priority="high" if at_fault == "undetermined" else "normal")
        self.enter_stage(LIABILITY)
        return None

    # ---- 4-5: liability and resolution --------------------------------------------------------

    async def _liability(self) -> Ending | None:
        """The decision: the homeowner told (never holding the stage), then the resolution:
        denied, a settlement offer, an R&R project, or a repair."""
        c = self.case
        liability = await self.wait_for(
            ClaimLiabilityDetermined, waiting_for="liability determination",
            reminders=[self._reminder("liability determination", "liability")])
        c.liability = liability
        n = c.bump("liability_decisions")
        await self.outbox.tell(f"liability_{liability.decision}",
                               self.key("claim", "liability-notice", n),
                               "tell the homeowner the liability decision",
                               holds=Holds(counter="liability_decisions", count=n),
                               decision=liability.decision)
        if liability.decision == "deny":
            return Close("denied")
        if liability.decision == "settle":
            self.enter_stage(SETTLEMENT)
            return None
        if liability.rr_required:
            def own_project() -> RemovalReinstallInput:
                return rr_request_for_claim(self.inp, c.case_id, c.time_zone, c.holidays)

            if not workflow.patched(PARENT_WAITS):  # recorded before spec 2.3
                c.project_id = await self.links.start_case(RR, own_project())
                return Close("project_created")
            await self.projects.to_project(own_project, description=self.inp.description,
                                           source_project_id=c.source_project_id)
            return None
        if liability.repair_by == "service_partner":
            await self.effects.crm_record(self.key("claim", "repair", n), "dispatch",
                                          "dispatch the repair to a service partner", None,
                                          system_id=c.system_id, claim_no=c.claim_no)
        else:
            await self.effects.crm_record(self.key("claim", "repair", n), "work_order",
                                          "create the internal repair work order", None,
                                          system_id=c.system_id, claim_no=c.claim_no)
        self.enter_stage(RESOLUTION)
        return None

    async def _repair(self) -> Ending | None:
        await self.wait_for(RepairCompleted, waiting_for="repair",
                            reminders=[self._reminder("repair", "repair")])
        return Close("repaired")

    async def _settlement(self) -> Ending | None:
        got = await self.wait_for(
            SettlementAccepted, SettlementDeclined, waiting_for="settlement answer",
            reminders=[self._reminder("settlement answer", "settlement")])
        if isinstance(got, SettlementAccepted):
            return Close("settled")
        # Declined: the case manager decides again (a new offer, a repair, or a denial).
        self.case.bump("settlements_declined")
        self.enter_stage(LIABILITY)
        return None

    # ---- what the base asks of a process ----------------------------------------------------

    def hazard_report(self) -> OmCaseInput:
        """The claim's hazard, for the system's O&M case (spec 2.3)."""
        c = self.case
        return hazard_report_for_claim(self.inp, c.case_id, c.time_zone, c.holidays)

    def dispatch_fields(self) -> dict[str, str]:
        """Dispatches name the system and the claim."""
        return {"system_id": self.case.system_id, "claim_no": self.case.claim_no}

    def detail_lines(self) -> list[str]:
        """Claim lines of the UI details (no personal data)."""
        c = self.case
        lines = [f"**Claim:** {c.claim_no} on system {c.system_id} ({c.market}, "
                 f"{c.time_zone or 'zone unknown'})"
                 f" — {'roof leak' if c.roof_leak else 'damage'}"]
        if c.intake:
            lines.append(f"**Intake:** {c.intake.decision}: {c.intake.reason}")
        if c.at_fault:
            lines.append(f"**At fault:** {c.at_fault}")
        if c.liability:
            lines.append(f"**Liability:** {c.liability.decision}"
                         + (" (R&R required)" if c.liability.rr_required else ""))
        if c.project_id:
            lines.append(f"**R&R project:** {c.project_id}"
                         + (" (repairs added to the system's open project)"
                            if c.project_repairs_added else ""))
        if c.source_project_id:
            lines.append(f"**Found during R&R project:** {c.source_project_id}")
        if c.hazard_reasons:
            lines.append(f"**Hazard:** {'; '.join(c.hazard_reasons)}")
        return lines
