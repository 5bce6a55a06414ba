"""`OmManualWorkflow`: the O&M track a case manager runs (spec 3.3), one block per stage: hazard
first, installer routing (partner branch with its fallback to the company branch), findings,
liability, resolution. Every wait for a person reminds weekly on the durable reminder piece; a
run continued for a fresh history resumes at its stage."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.case import WaitingOn
    from domain.events import Event
    from domain.links import rr_request_for_om
    from domain.om import (
        FindingsSubmitted,
        LiabilityDetermined,
        OmCase,
        OmCaseInput,
        PartnerDecision,
        RepairCompleted,
        SettlementAccepted,
        SettlementDeclined,
    )
    from domain.outbox import Holds
    from domain.processes import RR
    from domain.rr import RemovalReinstallInput
    from workflows.case import Close, Ending, EventSpec, Series, events_table
    from workflows.case.partners import await_partner_decision, partner_decision_due
    from workflows.case.projects import PARENT_WAITS, PROJECT, PROJECT_ENDED, ProjectParent
    from workflows.case.visits import text_opt_out_spec
    from workflows.om_case import ISSUE_REPORTED, OmCaseWorkflow

ROUTING = "installer_routing"
TO_PARTNER = "dispatched_to_partner"
TO_BRANCH = "dispatched_to_branch"
FINDINGS = "findings_review"
LIABILITY = "liability_determination"
RESOLUTION = "resolution"
SES_SUPPORT = "ses_support"
# A repair that needs the system removed starts the R&R project workflow (it used to create a
# CRM project record only); running cases that reach that decision later keep the old way.
RR_CHILD_PATCH = "om-rr-project-workflow"


def _stage(*names: str) -> frozenset[str]:
    return frozenset(names)


@workflow.defn(name="OmManualWorkflow")
class OmManualWorkflow(OmCaseWorkflow):
    """The manual O&M track, one execution per case (`om-{system_id}`)."""

    PROCESS = "om_manual"
    ESCALATE_TO = SES_SUPPORT  # ops escalate on the manual track: SES support takes a look
    EVENTS = events_table(
        ISSUE_REPORTED,
        text_opt_out_spec(lambda case: case.visit),
        EventSpec(PartnerDecision, stages=_stage(TO_PARTNER)),
        EventSpec(FindingsSubmitted, stages=_stage(TO_BRANCH, FINDINGS)),
        EventSpec(LiabilityDetermined, stages=_stage(LIABILITY)),
        EventSpec(RepairCompleted, stages=_stage(RESOLUTION)),
        EventSpec(SettlementAccepted, stages=_stage(RESOLUTION)),
        EventSpec(SettlementDeclined, stages=_stage(RESOLUTION)),
        PROJECT_ENDED,
    )

    @workflow.init
    def __init__(self, inp: OmCaseInput) -> None:
        self._setup(inp)
        self.projects = ProjectParent(self, liability_stage=LIABILITY, key_prefix="manual")

    @workflow.run
    async def run(self, inp: OmCaseInput) -> OmCase:
        """Run the case to its outcome."""
        self.start_run()
        # A case continued from the simplified track arrives in its closed stage.
        return await self.run_case(lambda: self.run_stages({
            **dict.fromkeys(("created", "closed", ROUTING, TO_PARTNER, TO_BRANCH), self._start),
            FINDINGS: self._findings, LIABILITY: self._liability,
            RESOLUTION: self._resolution, PROJECT: self.projects.wait}))

    def _crew(self) -> WaitingOn:
        """Who does the visit and the repair: the partner on its branch, else the company's
        field techs."""
        return "partner" if self.case.branch == "partner" else "field_tech"

    def _reminder(self, what: str, series: str) -> Series:
        """The weekly reminder to the case manager of a wait for a person."""
        return self.reminder(series, self.inp.policy.manual_reminder_interval, what, "manual")

    async def _start(self) -> Ending | None:
        """Hazard first, the case manager, installer routing; then the findings review."""
        c = self.case
        if c.hazardous and not c.hazard_handled:
            await self.hazard_first()
        why = c.escalation_reason or "; ".join(c.eligibility.reasons if c.eligibility else [])
        await self.effects.assign_case_manager(self.key("manual", "case-manager"),
                                               f"manual O&M case: {why or 'manual track'}",
                                               summary="assign the case to a case manager")
        self.enter_stage(ROUTING)
        c.branch = "partner" if await self._dispatched_to_partner() else "company"
        if c.branch == "company":
            self.enter_stage(TO_BRANCH)
            await self.effects.crm_record(self.key("manual", "work-order"), "work_order",
                                          "create the branch work order", system_id=c.system_id)
        self.enter_stage(FINDINGS)
        return None

    async def _dispatched_to_partner(self) -> bool:
        """The partner branch when the partner installed the system and accepts service work;
        True when the partner accepts the work in time (a decline or no answer in time falls
        back to the company branch)."""
        c, p = self.case, self.inp.policy
        if not (self.inp.installer == "partner" and self.inp.installer_accepting_service_work):
            return False
        self.enter_stage(TO_PARTNER)
        await self.effects.crm_record(self.key("manual", "partner-dispatch"), "dispatch",
                                      "create the field-service dispatch to the partner",
                                      system_id=c.system_id)
        due = await partner_decision_due(self, p.partner_decision_business_days)
        got = await await_partner_decision(self, due, p.partner_decision_business_days,
                                           waiting_for="partner's decision")
        if got is None:
            c.bump("partner_timeouts")
            return False
        return got.accepted

    async def _findings(self) -> Ending | None:
        got = await self.wait_for(FindingsSubmitted, waiting_for="findings from the visit",
                                  waiting_on=self._crew(),
                                  reminders=[self._reminder("findings from the visit",
                                                            "findings")])
        self.case.findings_summary = got.summary
        self.enter_stage(LIABILITY)
        return None

    async def _liability(self) -> Ending | None:
        """The decision: recorded, the homeowner told (never holding the stage), then the
        resolution."""
        c = self.case
        liability = await self.wait_for(
            LiabilityDetermined, waiting_for="liability determination",
            waiting_on="case_manager",
            reminders=[self._reminder("liability determination", "liability")])
        c.liability = liability
        decisions = c.bump("liability_decisions")
        await self.outbox.tell(f"liability_{liability.decision}",
                               self.key("manual", "liability-notice", decisions),
                               "tell the homeowner the liability decision",
                               holds=Holds(counter="liability_decisions", count=decisions),
                               decision=liability.decision)
        self.enter_stage(RESOLUTION)
        return None

    async def _resolution(self) -> Ending | None:
        """Carry out the decision; back to liability when a settlement was declined."""
        c = self.case
        liability = c.liability
        assert liability is not None
        if liability.decision == "deny":
            return Close("denied")
        if liability.decision == "repair" and liability.rr_required:
            if workflow.patched(PARENT_WAITS):
                def own_project() -> RemovalReinstallInput:
                    return rr_request_for_om(self.inp, c.case_id, c.instance, c.time_zone,
                                             c.holidays)

                await self.projects.to_project(own_project, description=self.inp.description)
                return None
            if workflow.patched(RR_CHILD_PATCH):  # recorded before spec 2.3
                c.project_id = await self.links.start_case(RR, rr_request_for_om(
                    self.inp, c.case_id, c.instance, c.time_zone, c.holidays))
            else:  # cases that decided before R&R was a workflow: the CRM project record
                await self.effects.crm_record(self.key("manual", "rr-project"), "project",
                                              "create the removal and reinstall project", None,
                                              system_id=c.system_id, variant="damage")
            return Close("project_created")
        if liability.decision == "repair":
            await self.wait_for(RepairCompleted, waiting_for="repair", waiting_on=self._crew(),
                                reminders=[self._reminder("repair", "repair")])
            return Close("repaired")
        answer: Event = await self.wait_for(
            SettlementAccepted, SettlementDeclined, waiting_for="settlement answer",
            waiting_on="homeowner",
            reminders=[self._reminder("settlement answer", "settlement")])
        if isinstance(answer, SettlementAccepted):
            return Close("settled")
        # Declined: the case manager decides again (deny, repair, or a new offer).
        self.enter_stage(LIABILITY)
        return None
