"""`ReactivationWorkflow`: a system deactivated for non-payment, reactivated once the payment
has cleared and been verified (spec 3.6; seeds 001, 002).

The CRM case and the case number for the homeowner; a durable wait until the payment has
cleared (10 business days after the payment date, by the pure business-day rule, holidays
skipped) when it is recent; the back office's verification and O&M's reactivation, each with
reminders every 2 business days on the durable reminder piece; the homeowner told at each
turn. A stage loop, so a run continued for a fresh history resumes where it stood."""

from __future__ import annotations

from typing import cast

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.processes import REACTIVATION
    from domain.reactivation import (
        PRIMARY_REASON,
        REQUEST_TYPE,
        SECONDARY_REASON,
        PaymentVerified,
        Reactivation,
        ReactivationCompleted,
        ReactivationInput,
    )
    from domain.reminders import Cadence
    from domain.rules.payment_clearing import payment_clears_at, payment_clears_on
    from workflows.case_base import CaseWorkflow, Close, Ending, EventSpec, events_table

CASE_CREATED = "case_created"
CLEARING = "waiting_for_payment_to_clear"
VERIFICATION = "back_office_verification"
OM_REACTIVATION = "om_reactivation"

BACK_OFFICE = "back_office_tier2"
OM_TEAM = "om"
ACCOUNT_SERVICING = "account_servicing"


@workflow.defn(name="ReactivationWorkflow")
class ReactivationWorkflow(CaseWorkflow[Reactivation]):
    """One execution per contract (`reactivation-{contract_id}`)."""

    PROCESS = "reactivation"
    ESCALATE_TO = BACK_OFFICE
    inp: ReactivationInput
    EVENTS = events_table(
        EventSpec(PaymentVerified, stages=frozenset({VERIFICATION})),
        EventSpec(ReactivationCompleted, stages=frozenset({OM_REACTIVATION})),
    )

    @workflow.init
    def __init__(self, inp: ReactivationInput) -> None:
        def new_case() -> Reactivation:
            info = workflow.info()
            return Reactivation(
                case_id=info.workflow_id, contract_id=inp.contract_id, system_id=inp.system_id,
                market=inp.market or "", payment_date=inp.payment_date,
                time_zone=REACTIVATION.time_zone(inp),
                instance=info.first_execution_run_id)

        self.init_case(inp, new_case)

    @workflow.run
    async def run(self, inp: ReactivationInput) -> Reactivation:
        """Run the reactivation to its outcome."""
        self.start_run()
        return await self.run_case(self._flow)

    async def _flow(self) -> Ending:
        return await self.run_stages({
            "created": self._create_case, CASE_CREATED: self._create_case,
            CLEARING: self._wait_for_clearing, VERIFICATION: self._verification,
            OM_REACTIVATION: self._om_reactivation})

    def _number(self) -> str:
        return self.case.crm_case_number or self.case.case_id

    async def _create_case(self) -> Ending | None:
        """Step 1: the CRM case (reasons, contract, payment proof; the homeowner's name and
        address go to the CRM only), its number told to the homeowner; then step 2 when the
        payment is recent, else step 3."""
        c, inp, p = self.case, self.inp, self.inp.policy
        self.enter_stage(CASE_CREATED)
        receipt = await self.crm_record_about_homeowner(
            self.key("support-case"), "support_case", "create the reactivation CRM case",
            fields={"primary_reason": PRIMARY_REASON, "secondary_reason": SECONDARY_REASON,
                    "request_type": REQUEST_TYPE, "contract_id": inp.contract_id,
                    "payment_date": inp.payment_date.isoformat(),
                    "payment_proof": inp.payment_proof})
        c.crm_case_number = receipt.record_id if receipt else None
        await self.tell_homeowner("reactivation_case_created", self.key("case-number-notice"),
                                  "tell the homeowner the case number",
                                  case_number=self._number())
        holidays = await self.business_calendar()
        clears_on = payment_clears_on(inp.payment_date, p.clearing_business_days, holidays)
        c.clears_at = payment_clears_at(clears_on, p.clearing_check_time, c.time_zone)
        if workflow.now() < c.clears_at:
            await self.tell_homeowner(
                "reactivation_payment_clearing", self.key("clearing-notice"),
                f"tell the homeowner it may take up to {p.clearing_business_days} business days",
                case_number=self._number(), clears_on=clears_on.isoformat(),
                clearing_business_days=str(p.clearing_business_days))
            self.enter_stage(CLEARING)
        else:
            await self._to_back_office()
        return None

    async def _wait_for_clearing(self) -> Ending | None:
        """Step 2: a durable timer to the instant the payment has cleared."""
        c, p = self.case, self.inp.policy
        assert c.clears_at is not None
        self.set_wait("the payment to clear", c.clears_at)
        await self.wait(lambda: False, deadline=c.clears_at,
                        summary=f"wait {p.clearing_business_days} business days for the payment "
                                "to clear")
        await self._to_back_office()
        return None

    async def _to_back_office(self) -> None:
        await self.assign(self.key("verify-payment"), BACK_OFFICE,
                          f"verify the payment (proof {self.inp.payment_proof}) for contract "
                          f"{self.inp.contract_id} and approve the reactivation",
                          summary="assign the payment verification to the back office")
        self.enter_stage(VERIFICATION)

    async def _verification(self) -> Ending | None:
        """Step 3: the back office verifies the payment (reminded every 2 business days)."""
        c, p = self.case, self.inp.policy
        got = await self.wait_reminding(
            PaymentVerified, what="payment verification", series="verification",
            every=Cadence(business_days=p.verification_reminder_business_days),
            key_prefix="back-office", assignee=BACK_OFFICE)
        if got is None:
            return self.fresh_history()
        verified = cast(PaymentVerified, got)
        c.payment_approved = verified.approved
        if not verified.approved:
            await self.tell_homeowner("reactivation_payment_not_verified",
                                      self.key("not-verified-notice"),
                                      "tell the homeowner the payment was not verified",
                                      case_number=self._number())
            await self.assign(self.key("account-servicing"), ACCOUNT_SERVICING,
                              "payment not verified: transfer the homeowner to account "
                              "servicing", summary="transfer to account servicing")
            return Close("payment_not_verified")
        await self.assign(self.key("om-reactivation"), OM_TEAM,
                          "payment verified: reactivate the system"
                          + (f" {c.system_id}" if c.system_id else "")
                          + f" (contract {c.contract_id})",
                          summary="assign the reactivation to O&M")
        self.enter_stage(OM_REACTIVATION)
        return None

    async def _om_reactivation(self) -> Ending | None:
        """Step 4: O&M reactivates the system (reminded every 2 business days); step 5: the
        homeowner is told."""
        p = self.inp.policy
        got = await self.wait_reminding(
            ReactivationCompleted, what="reactivation by O&M", series="om-reactivation",
            every=Cadence(business_days=p.om_reminder_business_days), key_prefix="om",
            assignee=OM_TEAM)
        if got is None:
            return self.fresh_history()
        await self.tell_homeowner("system_reactivated", self.key("reactivated-notice"),
                                  "tell the homeowner the system is active again",
                                  case_number=self._number())
        return Close("reactivated")

    # ---- what the base asks of a process ----------------------------------------------------

    def detail_lines(self) -> list[str]:
        """Reactivation lines of the UI details (no personal data)."""
        c = self.case
        lines = [f"**Contract:** {c.contract_id}"
                 + (f" (system {c.system_id})" if c.system_id else "")
                 + f", paid {c.payment_date}, zone {c.time_zone}"]
        if c.crm_case_number:
            lines.append(f"**CRM case:** {c.crm_case_number}")
        if c.clears_at:
            lines.append(f"**Payment clears:** {c.clears_at.isoformat(timespec='minutes')}")
        if c.payment_approved is not None:
            lines.append(f"**Payment verified:** {'approved' if c.payment_approved else 'no'}")
        return lines
