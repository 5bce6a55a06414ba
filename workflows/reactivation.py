"""`ReactivationWorkflow`: a system deactivated for non-payment, reactivated once the payment
has cleared and been verified (spec 3.6; seeds 001, 002).

The CRM case and the case number for the homeowner; a durable wait until the payment has
cleared (10 business days after the payment date, by the pure business-day rule, holidays
skipped) when it is recent; the back office's verification and O&M's reactivation, each with
reminders every 2 business days on the durable reminder piece; the homeowner told at each
turn, through the outbox (a notice never holds a stage). One block per stage, so a run
continued for a fresh history resumes where it stood."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.joins import record_joined, request_digest, request_fields
    from domain.outbox import Holds
    from domain.processes import REACTIVATION
    from domain.reactivation import (
        PRIMARY_REASON,
        REQUEST_TYPE,
        SECONDARY_REASON,
        PaymentVerified,
        Reactivation,
        ReactivationCompleted,
        ReactivationInput,
        ReactivationJoined,
        future_payment,
    )
    from domain.reminders import Cadence
    from domain.rules.payment_clearing import payment_clears_at, payment_clears_on
    from workflows.case import CaseCommon, CaseWorkflow, Close, Ending, EventSpec, events_table

CASE_CREATED = "case_created"
CLEARING = "waiting_for_payment_to_clear"
VERIFICATION = "back_office_verification"
OM_REACTIVATION = "om_reactivation"

# A payment date in the future is refused at the start (spec 3.6); a case opened around that
# check goes to the back office (runs recorded before this waited for it).
FUTURE_PAYMENT = "reactivation-future-payment"

BACK_OFFICE = "back_office_tier2"
OM_TEAM = "om"
ACCOUNT_SERVICING = "account_servicing"


def _join(case: Reactivation, event: ReactivationJoined) -> None:
    record_joined(case, event, workflow.now(), payment_date=event.payment_date,
                  payment_proof=event.payment_proof)


def _verification_fits(case: Reactivation, _: PaymentVerified) -> str | None:
    if case.stage == CLEARING and not case.verifies_while_clearing:
        return "this case takes the verification once the payment has cleared"
    return None


@workflow.defn(name="ReactivationWorkflow")
class ReactivationWorkflow(CaseWorkflow[Reactivation]):
    """One execution per contract (`reactivation-{contract_id}`)."""

    PROCESS = "reactivation"
    SPEC = REACTIVATION
    ESCALATE_TO = BACK_OFFICE
    inp: ReactivationInput
    EVENTS = events_table(
        # The back office may verify early, during the clearing wait (spec 3.6).
        EventSpec(PaymentVerified, stages=frozenset({CLEARING, VERIFICATION}),
                  check=_verification_fits),
        EventSpec(ReactivationCompleted, stages=frozenset({OM_REACTIVATION})),
        EventSpec(ReactivationJoined, apply=_join, flow=False),
    )

    @workflow.init
    def __init__(self, inp: ReactivationInput) -> None:
        def new_case(common: CaseCommon) -> Reactivation:
            return Reactivation(**common, contract_id=inp.contract_id, system_id=inp.system_id,
                                payment_date=inp.payment_date,
                                opening_digest=request_digest(request_fields(inp)))

        self.init_case(inp, new_case)

    @workflow.run
    async def run(self, inp: ReactivationInput) -> Reactivation:
        """Run the reactivation to its outcome."""
        self.start_run()
        return await self.run_case(lambda: self.run_stages({
            "created": self._create_case, CASE_CREATED: self._create_case,
            CLEARING: self._wait_for_clearing, VERIFICATION: self._verification,
            OM_REACTIVATION: self._om_reactivation}))

    def _number(self) -> str:
        return self.case.crm_case_number or self.case.case_id

    async def _create_case(self) -> Ending | None:
        """Step 1: the CRM case (reasons, contract, payment proof; the homeowner's name and
        address go to the CRM only), its number told to the homeowner; then step 2 when the
        payment is recent, else step 3."""
        c, inp, p = self.case, self.inp, self.inp.policy
        self.enter_stage(CASE_CREATED)
        receipt = await self.effects.crm_record_about_homeowner(
            self.key("support-case"), "support_case", "create the reactivation CRM case",
            fields={"primary_reason": PRIMARY_REASON, "secondary_reason": SECONDARY_REASON,
                    "request_type": REQUEST_TYPE, "contract_id": inp.contract_id,
                    "payment_date": inp.payment_date.isoformat(),
                    "payment_proof": inp.payment_proof})
        c.crm_case_number = receipt.record_id if receipt else None
        await self.outbox.tell("reactivation_case_created", self.key("case-number-notice"),
                               "tell the homeowner the case number", case_number=self._number())
        if workflow.patched(FUTURE_PAYMENT):
            c.payment_date_refused = future_payment(inp.payment_date, workflow.now())
        if c.payment_date_refused:
            # Opened around the starter's check (from the Web UI or the Temporal CLI): a person
            # checks the date; the homeowner is not told a clearing date months away.
            await self._to_back_office(c.payment_date_refused)
            return None
        holidays = await self.business_calendar(since=inp.payment_date)
        clears_on = payment_clears_on(inp.payment_date, p.clearing_business_days, holidays)
        c.clears_at = payment_clears_at(clears_on, p.clearing_check_time, c.time_zone)
        if workflow.now() < c.clears_at:
            await self.outbox.tell(
                "reactivation_payment_clearing", self.key("clearing-notice"),
                f"tell the homeowner it may take up to {p.clearing_business_days} business days",
                holds=Holds(in_stage=CLEARING), case_number=self._number(),
                clears_on=clears_on.isoformat(),
                clearing_business_days=str(p.clearing_business_days))
            self.enter_stage(CLEARING)
        else:
            await self._to_back_office()
        return None

    async def _wait_for_clearing(self) -> Ending | None:
        """Step 2: a durable timer to the instant the payment has cleared; a verification the
        back office sends meanwhile ends it."""
        c, p = self.case, self.inp.policy
        assert c.clears_at is not None
        c.verifies_while_clearing = self._v3
        early = await self.wait_for(
            PaymentVerified, deadline=c.clears_at, waiting_for="the payment to clear",
            waiting_on="schedule",
            summary=f"wait {p.clearing_business_days} business days for the payment to clear")
        if early is not None:
            return await self._verified(early)
        await self._to_back_office()
        return None

    async def _to_back_office(self, check: str | None = None) -> None:
        await self.effects.assign(self.key("verify-payment"), BACK_OFFICE,
                                  f"verify the payment (proof {self.inp.payment_proof}) for "
                                  f"contract {self.inp.contract_id} and approve the "
                                  "reactivation" + (f"; {check}" if check else ""),
                                  summary="assign the payment verification to the back office")
        self.enter_stage(VERIFICATION)

    async def _verification(self) -> Ending | None:
        """Step 3: the back office verifies the payment (reminded every 2 business days)."""
        p = self.inp.policy
        verified = await self.wait_for(
            PaymentVerified, waiting_for="payment verification", waiting_on="back_office",
            reminders=[self.reminder(
                "verification", Cadence(business_days=p.verification_reminder_business_days),
                "payment verification", "back-office", assignee=BACK_OFFICE)])
        return await self._verified(verified)

    async def _verified(self, verified: PaymentVerified) -> Ending | None:
        """Not approved: the homeowner is told and transferred to account servicing; approved:
        O&M reactivates the system."""
        c = self.case
        c.payment_approved = verified.approved
        if not verified.approved:
            await self.outbox.tell("reactivation_payment_not_verified",
                                   self.key("not-verified-notice"),
                                   "tell the homeowner the payment was not verified",
                                   case_number=self._number())
            await self.effects.assign(self.key("account-servicing"), ACCOUNT_SERVICING,
                                      "payment not verified: transfer the homeowner to account "
                                      "servicing", summary="transfer to account servicing")
            return Close("payment_not_verified")
        await self.effects.assign(self.key("om-reactivation"), OM_TEAM,
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
        await self.wait_for(
            ReactivationCompleted, waiting_for="reactivation by O&M", waiting_on="o_and_m",
            reminders=[self.reminder(
                "om-reactivation", Cadence(business_days=p.om_reminder_business_days),
                "reactivation by O&M", "om", assignee=OM_TEAM)])
        await self.outbox.tell("system_reactivated", self.key("reactivated-notice"),
                               "tell the homeowner the system is active again",
                               case_number=self._number())
        return Close("reactivated")

    # ---- what the base asks of a process ----------------------------------------------------

    def detail_lines(self) -> list[str]:
        """Reactivation lines of the UI details (no personal data)."""
        c = self.case
        lines = [f"**Contract:** {c.contract_id}"
                 + (f" (system {c.system_id})" if c.system_id else "")
                 + f", paid {c.payment_date}, zone {c.time_zone or 'unknown'}"]
        if c.crm_case_number:
            lines.append(f"**CRM case:** {c.crm_case_number}")
        if c.clears_at:
            lines.append(f"**Payment clears:** {c.clears_at.isoformat(timespec='minutes')}")
        if c.payment_date_refused:
            lines.append(f"**Payment date to check:** {c.payment_date_refused}")
        if c.joined_total:
            last = c.joined_requests[-1]
            lines.append(f"**Joined requests:** {c.joined_total}, the last "
                         f"{last.received_at.isoformat(timespec='minutes')} (paid "
                         f"{last.payment_date}, proof {last.payment_proof})")
        if c.payment_approved is not None:
            lines.append(f"**Payment verified:** {'approved' if c.payment_approved else 'no'}")
        return lines
