"""`OmManualWorkflow`: the O&M track a case manager runs (spec 3.3): installer routing (partner
branch with its fallback to the company branch), findings, liability, resolution."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.events import Escalate
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
    from domain.rules.business_days import end_of_business_days
    from domain.rules.zones import zone
    from workflows.case_base import EventSpec
    from workflows.om_case import CASE_MANAGER, ISSUE_REPORTED, OmCaseWorkflow
    from workflows.visit_scheduling import text_opt_out_spec

ROUTING = "installer_routing"
TO_PARTNER = "dispatched_to_partner"
TO_BRANCH = "dispatched_to_branch"
FINDINGS = "findings_review"
LIABILITY = "liability_determination"
RESOLUTION = "resolution"
SES_SUPPORT = "ses_support"


def _stage(*names: str) -> frozenset[str]:
    return frozenset(names)


@workflow.defn(name="OmManualWorkflow")
class OmManualWorkflow(OmCaseWorkflow):
    """The manual O&M track, one execution per case (`om-{system_id}`)."""

    PROCESS = "om_manual"
    EVENTS = {
        **ISSUE_REPORTED,
        "text_opt_out": text_opt_out_spec(lambda case: case.visit),
        "partner_decision": EventSpec(PartnerDecision, stages=_stage(TO_PARTNER)),
        "findings_submitted": EventSpec(FindingsSubmitted,
                                        stages=_stage(TO_BRANCH, FINDINGS)),
        "liability_determined": EventSpec(LiabilityDetermined, stages=_stage(LIABILITY)),
        "repair_completed": EventSpec(RepairCompleted, stages=_stage(RESOLUTION)),
        "settlement_accepted": EventSpec(SettlementAccepted, stages=_stage(RESOLUTION)),
        "settlement_declined": EventSpec(SettlementDeclined, stages=_stage(RESOLUTION)),
    }

    @workflow.init
    def __init__(self, inp: OmCaseInput) -> None:
        self._setup(inp)

    @workflow.run
    async def run(self, inp: OmCaseInput) -> OmCase:
        """Run the case to its outcome."""
        self.start_run()
        return await self.run_case(self._flow)

    async def _flow(self) -> None:
        c = self.case
        await self.ensure_holidays()
        why = c.escalation_reason or "; ".join(c.eligibility.reasons if c.eligibility else [])
        await self.assign(self.key("manual", "case-manager"), CASE_MANAGER,
                          f"manual O&M case: {why or 'manual track'}",
                          summary="assign the case to a case manager",
                          priority="p1" if c.hazardous else "normal")
        if c.hazardous:
            await self.crm_record(self.key("priority-dispatch"), "dispatch",
                                  "create the priority (P1) dispatch", priority="P1",
                                  system_id=c.system_id, reason="hazardous situation")
        self.enter_stage(ROUTING)
        c.branch = "partner" if await self._partner_accepts() else "company"
        if c.branch == "company":
            self.enter_stage(TO_BRANCH)
            await self.crm_record(self.key("manual", "work-order"), "work_order",
                                  "create the branch work order", system_id=c.system_id)
        self.enter_stage(FINDINGS)
        _, findings = await self._wait_with_weekly_reminder(
            {"findings_submitted"}, "findings from the visit", "findings")
        c.findings_summary = findings.summary
        while True:
            self.enter_stage(LIABILITY)
            _, liability = await self._wait_with_weekly_reminder(
                {"liability_determined"}, "liability determination", "liability")
            c.liability = liability
            decisions = c.bump("liability_decisions")
            await self.notify(self.key("manual", "liability-notice", decisions), "email",
                              f"liability_{liability.decision}",
                              "tell the homeowner the liability decision",
                              decision=liability.decision)
            self.enter_stage(RESOLUTION)
            if liability.decision == "deny":
                await self.close("denied")
                return
            if liability.decision == "repair" and liability.rr_required:
                await self.crm_record(self.key("manual", "rr-project"), "project",
                                      "create the removal and reinstall project",
                                      system_id=c.system_id, variant="damage")
                await self.close("project_created")
                return
            if liability.decision == "repair":
                await self._wait_with_weekly_reminder({"repair_completed"}, "repair", "repair")
                await self.close("repaired")
                return
            name, _ = await self._wait_with_weekly_reminder(
                {"settlement_accepted", "settlement_declined"}, "settlement answer",
                "settlement")
            if name == "settlement_accepted":
                await self.close("settled")
                return
            # Declined: the case manager decides again (deny, repair, or a new offer).

    async def _partner_accepts(self) -> bool:
        """The partner branch, when the partner installed the system and accepts service work;
        a decline or no answer in time falls back to the company branch."""
        c, p = self.case, self.inp.policy
        if not (self.inp.installer == "partner" and self.inp.installer_accepting_service_work):
            return False
        self.enter_stage(TO_PARTNER)
        await self.crm_record(self.key("manual", "partner-dispatch"), "dispatch",
                              "create the field-service dispatch to the partner",
                              system_id=c.system_id)
        deadline = end_of_business_days(workflow.now(), p.partner_decision_business_days,
                                        zone(c.time_zone), c.holidays)
        got = await self.next_event(
            {"partner_decision"}, timeout=deadline - workflow.now(), deadline=deadline,
            waiting_for="partner's decision",
            summary=f"wait {p.partner_decision_business_days} business days for the partner")
        if got is None:
            c.bump("partner_timeouts")
            return False
        return bool(got[1].accepted)

    async def _wait_with_weekly_reminder(self, names: set[str], what: str,
                                         key: str) -> tuple[str, Any]:
        async def remind(k: int) -> None:
            await self.assign(self.key("manual", f"{key}-reminder", k), CASE_MANAGER,
                              f"still waiting for {what}", summary=f"{what} reminder {k}")

        return await self.wait_with_reminders(
            names, every=self.inp.policy.manual_reminder_interval, waiting_for=what,
            first_at=None, remind=remind)

    async def on_escalate(self, cmd: Escalate) -> None:
        """Ops escalate on the manual track: SES support takes a look."""
        n = self.case.bump("ops_escalations")
        self.mark(escalated=True)
        await self.assign(self.key("ops", "escalation", n), SES_SUPPORT,
                          f"escalated by operator: {cmd.reason}",
                          summary="assign the escalation to SES support", priority="high")
