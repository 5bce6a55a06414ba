"""`OmManualWorkflow`: the O&M track a case manager runs (spec 3.3): hazard first, installer
routing (partner branch with its fallback to the company branch), findings, liability,
resolution. Every wait for a person reminds weekly on the durable reminder piece."""

from __future__ import annotations

from typing import cast

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
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
    from domain.processes import RR
    from domain.rules.business_days import end_of_business_days
    from domain.rules.zones import zone
    from workflows.case_base import CASE_MANAGER, Close, Ending, EventSpec, events_table
    from workflows.om_case import ISSUE_REPORTED, OmCaseWorkflow
    from workflows.visits import text_opt_out_spec

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
    )

    @workflow.init
    def __init__(self, inp: OmCaseInput) -> None:
        self._setup(inp)

    @workflow.run
    async def run(self, inp: OmCaseInput) -> OmCase:
        """Run the case to its outcome."""
        self.start_run()
        return await self.run_case(self._flow)

    async def _flow(self) -> Ending:
        """The manual track; a run continued for a fresh history resumes at its stage (the
        waits for people, with their reminder series, are where the history grows)."""
        c = self.case
        if c.stage not in (FINDINGS, LIABILITY, RESOLUTION):
            await self._start()
        if c.stage == FINDINGS:
            findings = await self._wait_reminding(FindingsSubmitted, "findings from the visit",
                                                  "findings")
            if findings is None:
                return self.fresh_history()
            c.findings_summary = cast(FindingsSubmitted, findings).summary
            self.enter_stage(LIABILITY)
        while True:
            if c.stage == LIABILITY:
                got = await self._wait_reminding(LiabilityDetermined, "liability determination",
                                                 "liability")
                if got is None:
                    return self.fresh_history()
                await self._liability_determined(cast(LiabilityDetermined, got))
            ending = await self._resolution()
            if ending is not None:
                return ending
            # Declined: the case manager decides again (deny, repair, or a new offer).
            self.enter_stage(LIABILITY)

    async def _start(self) -> None:
        """Hazard first, the case manager, installer routing; then the findings review."""
        c = self.case
        if c.hazardous and not c.hazard_handled:
            await self.hazard_first()
        why = c.escalation_reason or "; ".join(c.eligibility.reasons if c.eligibility else [])
        await self.assign(self.key("manual", "case-manager"), CASE_MANAGER,
                          f"manual O&M case: {why or 'manual track'}"
                          + (" (HAZARDOUS)" if c.hazardous else ""),
                          summary="assign the case to a case manager",
                          priority="p1" if c.hazardous else "normal")
        await self._installer_routing()
        self.enter_stage(FINDINGS)

    async def _liability_determined(self, liability: LiabilityDetermined) -> None:
        """Record the decision, tell the homeowner, move to resolution."""
        c = self.case
        c.liability = liability
        decisions = c.bump("liability_decisions")
        await self.message_homeowner("email", f"liability_{liability.decision}",
                                     self.key("manual", "liability-notice", decisions),
                                     "tell the homeowner the liability decision",
                                     decision=liability.decision)
        self.enter_stage(RESOLUTION)

    async def _resolution(self) -> Ending | None:
        """Carry out the decision; None when a settlement was declined."""
        c = self.case
        liability = c.liability
        assert liability is not None
        if liability.decision == "deny":
            return Close("denied")
        if liability.decision == "repair" and liability.rr_required:
            if workflow.patched(RR_CHILD_PATCH):
                c.project_id = await self.start_case(RR, rr_request_for_om(
                    self.inp, c.case_id, c.instance, c.time_zone, c.holidays))
            else:  # cases that decided before R&R was a workflow: the CRM project record
                await self.crm_record(self.key("manual", "rr-project"), "project",
                                      "create the removal and reinstall project", None,
                                      system_id=c.system_id, variant="damage")
            return Close("project_created")
        if liability.decision == "repair":
            if await self._wait_reminding(RepairCompleted, "repair", "repair") is None:
                return self.fresh_history()
            return Close("repaired")
        answer = await self._wait_reminding(SettlementAccepted, "settlement answer",
                                            "settlement", SettlementDeclined)
        if answer is None:
            return self.fresh_history()
        return Close("settled") if isinstance(answer, SettlementAccepted) else None

    async def _installer_routing(self) -> None:
        """The partner branch when the partner installed the system and accepts service work;
        a decline or no answer in time falls back to the company branch."""
        c = self.case
        self.enter_stage(ROUTING)
        c.branch = "partner" if await self._dispatched_to_partner() else "company"
        if c.branch == "company":
            self.enter_stage(TO_BRANCH)
            await self.crm_record(self.key("manual", "work-order"), "work_order",
                                  "create the branch work order", system_id=c.system_id)

    async def _dispatched_to_partner(self) -> bool:
        """The partner branch; True when the partner accepts the work in time."""
        c, p = self.case, self.inp.policy
        if not (self.inp.installer == "partner" and self.inp.installer_accepting_service_work):
            return False
        self.enter_stage(TO_PARTNER)
        await self.crm_record(self.key("manual", "partner-dispatch"), "dispatch",
                              "create the field-service dispatch to the partner",
                              system_id=c.system_id)
        deadline = end_of_business_days(workflow.now(), p.partner_decision_business_days,
                                        zone(c.time_zone), await self.business_calendar())
        got = await self.next_of(
            PartnerDecision, deadline=deadline, waiting_for="partner's decision",
            summary=f"wait {p.partner_decision_business_days} business days for the partner")
        if got is None:
            c.bump("partner_timeouts")
            return False
        return got.accepted

    async def _wait_reminding(self, model: type[Event], what: str, series: str,
                              *more: type[Event]) -> Event | None:
        """Wait for a person, reminding the case manager weekly; None when the history has
        grown long enough to continue as new (the series carries over)."""
        return await self.wait_reminding(model, *more, what=what, series=series,
                                         every=self.inp.policy.manual_reminder_interval,
                                         key_prefix="manual")
