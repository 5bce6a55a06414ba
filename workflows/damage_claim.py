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
    from domain.events import Event
    from domain.links import hazard_report_for_claim, rr_request_for_claim
    from domain.om import (
        OmCaseInput,
        PartnerDecision,
        RepairCompleted,
        SettlementAccepted,
        SettlementDeclined,
    )
    from domain.outbox import Holds
    from domain.processes import DAMAGE, RR
    from domain.rr import RemovalReinstallInput
    from domain.rules.claim_resolution import resolution
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
    from workflows.case.partners import await_partner_decision, partner_decision_due
    from workflows.case.projects import PARENT_WAITS, PROJECT, PROJECT_ENDED, ProjectParent
    from workflows.case.visits import VisitScheduling, VisitStages, visit_event_specs

INTAKE = "intake"
CLAIM_CREATED = "claim_created"
TO_PARTNER = "dispatched_to_partner"
PARTNER = "partner_in_progress"
PARTNER_REPAIR = "partner_repair"
INVESTIGATION = "investigation"
LIABILITY = "liability_determination"
RESOLUTION = "resolution"
SETTLEMENT = "settlement_quoting"
# The settlement answer of a repair-and-settle decision may come while the repair is going on.
SETTLEMENT_ANSWERS = frozenset({SETTLEMENT, RESOLUTION, PROJECT})

# Claims recorded before spec 3.4's revision: the partner took the claim without a decision
# step, and damage that is not a roof leak was not checked against the workmanship warranty.
PARTNER_DECISION = "claim-partner-decision"
INTAKE_V2 = "claim-intake-v2"

# The investigation visit shows one stage, `investigation`, however far its booking has got
# (texts, calls, booked, waiting for the assessment): `waiting_for` and the counters say more.
INVESTIGATION_STAGES = VisitStages(ready=INVESTIGATION, texts=INVESTIGATION, calls=INVESTIGATION,
                                   scheduled=INVESTIGATION, findings=INVESTIGATION)


def _stage(*names: str) -> frozenset[str]:
    return frozenset(names)


def _settlement_answer_fits(case: DamageClaim, _: Event) -> str | None:
    if case.stage != SETTLEMENT and case.settlement != "offered":
        return "no settlement offer is waiting for the homeowner's answer"
    return None


@workflow.defn(name="DamageClaimWorkflow")
class DamageClaimWorkflow(CaseWorkflow[DamageClaim]):
    """One execution per claim (`damage-{system_id}-{claim_no}`)."""

    PROCESS = "damage_claim"
    SPEC = DAMAGE
    inp: DamageClaimInput
    EVENTS = events_table(
        *visit_event_specs(FieldAssessment, lambda c: c.visit, INVESTIGATION_STAGES),
        EventSpec(PartnerDecision, stages=_stage(TO_PARTNER)),
        EventSpec(PartnerFindings, stages=_stage(PARTNER)),
        EventSpec(ClaimLiabilityDetermined, stages=_stage(LIABILITY)),
        EventSpec(RepairCompleted, stages=_stage(RESOLUTION, PARTNER_REPAIR)),
        EventSpec(SettlementAccepted, stages=SETTLEMENT_ANSWERS, check=_settlement_answer_fits),
        EventSpec(SettlementDeclined, stages=SETTLEMENT_ANSWERS, check=_settlement_answer_fits),
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
        self.projects = ProjectParent(self, liability_stage=LIABILITY, key_prefix="claim",
                                      after_repair=self._after_repair,
                                      side_events=(SettlementAccepted, SettlementDeclined),
                                      on_side_event=self._settlement_answered)

    @workflow.run
    async def run(self, inp: DamageClaimInput) -> DamageClaim:
        """Run the claim to its outcome."""
        self.start_run()
        return await self.run_case(lambda: self.run_stages({
            "created": self._intake, INTAKE: self._intake, CLAIM_CREATED: self._assignment,
            TO_PARTNER: self._partner_decision, PARTNER: self._partner_findings,
            PARTNER_REPAIR: self._partner_repair, INVESTIGATION: self._investigation,
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
        v2 = workflow.patched(INTAKE_V2)
        report = self.inp
        if v2 and c.source_project_id is not None and not self._started_by_project():
            # Only the project itself may say the damage is its own work (spec 3.4): a start
            # that merely names a project goes through the intake tree like any report.
            workflow.logger.warning("project_id ignored: the claim was not started by it",
                                    extra={"case_id": c.case_id})
            c.source_project_id = None
            report = self.inp.model_copy(update={"project_id": None})
        c.intake = claim_intake(report, non_leak_warranty=v2)
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
            self.enter_stage(TO_PARTNER if workflow.patched(PARTNER_DECISION) else PARTNER)
        else:
            self.enter_stage(INVESTIGATION)
        return None

    async def _partner_decision(self) -> Ending | None:
        """The partner accepts the dispatched claim within 3 business days (default); a
        decline or no answer in time: the company investigates instead (spec 3.4)."""
        c, p = self.case, self.inp.policy
        if c.partner_decision_due is None:  # kept: a fresh run must not move the deadline
            c.partner_decision_due = await partner_decision_due(
                self, p.partner_decision_business_days)
        got = await await_partner_decision(self, c.partner_decision_due,
                                           p.partner_decision_business_days)
        if got is not None and got.accepted:
            c.partner_accepted = True
            self.enter_stage(PARTNER)
            return None
        c.partner_accepted = False
        c.bump("partner_declines" if got is not None else "partner_timeouts")
        c.partner_fallback = ("the partner declined the claim" if got is not None else
                             f"no answer from the partner in {p.partner_decision_business_days}"
                             " business days")
        self.enter_stage(INVESTIGATION)
        return None

    async def _partner_findings(self) -> Ending | None:
        """The partner's findings on its own work: it repairs (`partner`), the company decides
        liability (`company`), or the damage was not caused by the installation (`none`)."""
        c = self.case
        got = await self.wait_for(
            PartnerFindings, waiting_for="the partner's findings", waiting_on="partner",
            reminders=[self._reminder("the partner's findings", "partner-findings")])
        c.investigation_result = "partner_findings"
        c.partner_at_fault = got.at_fault
        if got.at_fault == "partner":
            await self.outbox.tell("claim_partner_repair", self.key("claim", "partner-repair"),
                                   "tell the homeowner the partner will repair the damage",
                                   holds=Holds(in_stage=PARTNER_REPAIR))
            self.enter_stage(PARTNER_REPAIR)
            return None
        if got.at_fault == "none":
            await self.outbox.tell("claim_denied", self.key("claim", "denied-notice"),
                                   "tell the homeowner the claim is denied, and why",
                                   reason="the damage was not caused by the installation")
            return Close("denied")
        return await self._at_fault("company")

    async def _partner_repair(self) -> Ending | None:
        await self.wait_for(RepairCompleted, waiting_for="the partner's repair",
                            waiting_on="partner",
                            reminders=[self._reminder("the partner's repair", "partner-repair")])
        c = self.case
        c.repair_done = True
        return Close("repaired")

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
        """The decision (spec 3.4: "Denial, Repair, and/or Settlement"): the homeowner told
        (never holding the stage), then the resolution: denied; a settlement offer; a repair
        through an R&R project or a work order; or both, the case closing when both are
        done."""
        c = self.case
        liability = await self.wait_for(
            ClaimLiabilityDetermined, waiting_for="liability determination",
            waiting_on="case_manager",
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
        c.settlement = "offered" if liability.settles else None
        c.repair_done = False
        if not liability.repairs:
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
        """The repair work order until `repair_completed`; a settlement answer meanwhile is
        recorded and the wait goes on."""
        by_partner = (self.case.liability is not None
                      and self.case.liability.repair_by == "service_partner")
        got = await self.wait_for(RepairCompleted, SettlementAccepted, SettlementDeclined,
                                  waiting_for="repair",
                                  waiting_on="partner" if by_partner else "field_tech",
                                  reminders=[self._reminder("repair", "repair")])
        if not isinstance(got, RepairCompleted):
            await self._settlement_answered(got)
            return None
        return await self._after_repair()

    async def _settlement_answered(self, answer: Event) -> None:
        """The homeowner answered the settlement offer while the repair goes on: recorded; a
        decline goes to the case manager (the repair is not held)."""
        c = self.case
        if isinstance(answer, SettlementAccepted):
            c.settlement = "accepted"
            return
        c.settlement = "declined"
        n = c.bump("settlements_declined")
        await self.effects.assign_case_manager(
            self.key("claim", "settlement-declined", n),
            "the homeowner declined the settlement; the repair goes on",
            summary="tell the case manager the settlement was declined")

    async def _after_repair(self) -> Ending | None:
        """The repair is done: the case closes, or waits for the settlement answer of a
        repair-and-settle decision."""
        c = self.case
        c.repair_done = True
        outcome = resolution(True, True, c.settlement)
        if outcome == "wait":  # the settlement answer is still to come
            self.enter_stage(SETTLEMENT)
            return None
        return Close(outcome)

    async def _settlement(self) -> Ending | None:
        c = self.case
        got = await self.wait_for(
            SettlementAccepted, SettlementDeclined, waiting_for="settlement answer",
            waiting_on="homeowner",
            reminders=[self._reminder("settlement answer", "settlement")])
        c.settlement = "accepted" if isinstance(got, SettlementAccepted) else "declined"
        # Reached after the repair of a repair-and-settle decision, or for a settlement alone.
        repairs = c.liability is not None and c.liability.repairs
        outcome = resolution(repairs, c.repair_done, c.settlement)
        if outcome != "liability":
            return Close(outcome)
        # A settlement alone, declined: the case manager decides again (a new offer, a
        # repair, or a denial).
        c.bump("settlements_declined")
        self.enter_stage(LIABILITY)
        return None

    def _started_by_project(self) -> bool:
        """Whether this claim's run was started by the R&R project its input names."""
        parent = workflow.info().parent
        return parent is not None and parent.workflow_id == self.inp.project_id

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
        if c.partner_accepted is not None:
            lines.append("**Partner:** " + (
                f"accepted; found {c.partner_at_fault or '-'} at fault" if c.partner_accepted
                else f"the company investigates ({c.partner_fallback})"))
        if c.liability:
            lines.append(f"**Liability:** {c.liability.decision.replace('_', ' ')}"
                         + (" (R&R required)" if c.liability.rr_required else ""))
        if c.settlement:
            lines.append(f"**Settlement:** {c.settlement}"
                         + ("; repair done" if c.repair_done else ""))
        if c.project_id:
            lines.append(f"**R&R project:** {c.project_id}"
                         + (" (repairs added to the system's open project)"
                            if c.project_repairs_added else ""))
        if c.source_project_id:
            lines.append(f"**Found during R&R project:** {c.source_project_id}")
        if c.hazard_reasons:
            lines.append(f"**Hazard:** {'; '.join(c.hazard_reasons)}")
        return lines
