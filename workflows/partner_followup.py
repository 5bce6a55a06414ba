"""`PartnerFollowUpWorkflow`: a homeowner cannot get an answer from a third party, the installer,
the service department (Omnidian) or, for Concert/Beam customers, Green Tech Renewables
(spec 3.7; seeds 001, 003, 004).

The CRM case related to the party and the homeowner, in the back-office queue; the seed's
e-mail to the party (the homeowner's phone and best time filled in at delivery, the homeowner
in CC by the route's rule); no contact in 2 days: referred to Sales with the referral comment,
the AM and Sales Manager fields; closed with closure comments when the party responds, the
homeowner is satisfied or the case is resolved.

Concert/Beam cases e-mail the homeowner a commitment every week until resolved, and can run
for months: the weekly series lives in the case state (count, next due instant), so a run that
continues as new for a fresh history keeps its schedule, and each e-mail's key comes from the
stored count (none lost or doubled across the boundary)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.base import describe_span
    from domain.effects import PartyContact
    from domain.events import Event
    from domain.followup import (
        PARTY_NAMES,
        CaseResolved,
        FollowUpInput,
        FollowUpJoined,
        FollowUpRoute,
        HomeownerNotSatisfied,
        HomeownerSatisfied,
        PartnerFollowUp,
        PartyResponded,
        Resolution,
    )
    from domain.joins import record_joined, request_digest, request_fields
    from domain.outbox import Holds
    from domain.processes import FOLLOWUP
    from domain.reminders import Cadence
    from domain.rules.followup_routing import followup_route
    from workflows.case import (
        CaseCommon,
        CaseWorkflow,
        Close,
        Ending,
        EventSpec,
        Series,
        events_table,
    )

CASE_CREATED = "case_created"
PARTY_CONTACTED = "party_contacted"
REFERRED = "referred_to_sales"
AWAITING = "awaiting_homeowner_confirmation"
# Seed 004: the party's contact alone no longer closes the case (runs recorded before wait for
# nothing more).
HOMEOWNER_CONFIRMS = "followup-homeowner-confirms"

BACK_OFFICE = "back_office"
SALES = "sales"
REFERRAL_REASON = "Unresponsive Installer"
_OPEN = frozenset({PARTY_CONTACTED, REFERRED})


def _join(case: PartnerFollowUp, event: FollowUpJoined) -> None:
    record_joined(case, event, workflow.now(), concern=event.concern[:1000])


@workflow.defn(name="PartnerFollowUpWorkflow")
class PartnerFollowUpWorkflow(CaseWorkflow[PartnerFollowUp]):
    """One execution per CRM case (`followup-{case_id}`)."""

    PROCESS = "partner_followup"
    SPEC = FOLLOWUP
    ESCALATE_TO = BACK_OFFICE
    inp: FollowUpInput
    EVENTS = events_table(
        EventSpec(PartyResponded, stages=_OPEN),
        EventSpec(HomeownerSatisfied, stages=_OPEN | {AWAITING}),
        EventSpec(CaseResolved, stages=_OPEN | {AWAITING}),
        EventSpec(HomeownerNotSatisfied, stages=frozenset({AWAITING})),
        EventSpec(FollowUpJoined, apply=_join, flow=False),
    )

    @workflow.init
    def __init__(self, inp: FollowUpInput) -> None:
        def new_case(common: CaseCommon) -> PartnerFollowUp:
            return PartnerFollowUp(**common, crm_case_id=inp.case_id, system_id=inp.system_id,
                                   route=followup_route(inp, inp.policy),
                                   opening_digest=request_digest(request_fields(inp)))

        self.init_case(inp, new_case)

    @workflow.run
    async def run(self, inp: FollowUpInput) -> PartnerFollowUp:
        """Run the follow-up to its outcome."""
        self.start_run()
        return await self.run_case(lambda: self.run_stages({
            "created": self._open, CASE_CREATED: self._open,
            PARTY_CONTACTED: self._wait_for_contact, REFERRED: self._wait_for_sales,
            AWAITING: self._wait_for_confirmation}))

    @property
    def route(self) -> FollowUpRoute:
        """Whom the case e-mails and how (set at the start)."""
        assert self.case.route is not None
        return self.case.route

    # ---- 1-2: the case and the e-mail to the party -----------------------------------------

    async def _open(self) -> Ending | None:
        """Steps 1-2: the CRM case, the back-office queue, the e-mail to the party."""
        c, inp = self.case, self.inp
        self.enter_stage(CASE_CREATED)
        receipt = await self.effects.crm_record_about_homeowner(
            self.key("support-case"), "support_case", "create the follow-up CRM case",
            fields={"request_type": "Installer Complaints", "subtype": inp.complaint_subtype,
                    "related_party": inp.party, "related_party_name": inp.party_name or inp.party,
                    "contacted_party": self.route.party, "queue": BACK_OFFICE},
            private={"description": inp.concern})
        c.support_case_id = receipt.record_id if receipt else None
        via = (f" through {PARTY_NAMES[self.route.party]}"
               if self.route.party != inp.party else "")
        await self.effects.assign(self.key("back-office"), BACK_OFFICE,
                                  f"follow up with the unresponsive {inp.party}{via}",
                                  summary="assign the follow-up to the back-office queue")
        r = self.route
        await self.effects.email_party(
            r.template, self.key("party-email"), f"e-mail {PARTY_NAMES[r.party]} ({r.template})",
            PartyContact(role=r.party, email=r.to_email), about=self.homeowner(),
            cc_homeowner=r.cc_homeowner,
            private={"concern": inp.concern, "best_time_to_reach": inp.best_time_to_reach},
            case_number=self._number())
        c.contacted_at = workflow.now()
        if r.commitments_unreachable and self._v3:
            await self.outbox.unreachable()
        elif r.commitments_unreachable:  # runs recorded before the outbox
            await self.effects.record_failure(
                "commitment e-mails", self.key("commitments"),
                "no e-mail or phone on file: keep the homeowner informed another way")
        self.enter_stage(PARTY_CONTACTED)
        return None

    def _number(self) -> str:
        return self.case.support_case_id or self.case.crm_case_id

    # ---- 3-5: waiting, the Sales referral, the commitments ------------------------------------

    def _commitments(self) -> list[Series]:
        """The homeowner's commitments (by e-mail, else text: spec 2.2): weekly from the first
        e-mail to the party on (Concert/Beam),
        once a week after it (the service department), or none."""
        r, p, c = self.route, self.inp.policy, self.case
        assert c.contacted_at is not None
        template = r.commitment_template

        async def commit(n: int) -> None:
            assert template is not None
            # "We are still waiting": untrue, and dropped, once the case is resolved.
            await self.outbox.tell(template, self.key("commitment", n),
                                   f"commitment {n} to the homeowner",
                                   holds=Holds(while_open=True), case_number=self._number(),
                                   update_no=str(n))

        sent = c.reminders["commitment"].count if "commitment" in c.reminders else 0
        if r.commitments == "weekly":
            # The schedule counts from the first e-mail: a wait that starts the series again
            # (after the party's contact) goes on with the next week, not at once.
            return [Series("commitment", Cadence(every=p.commitment_interval), commit,
                           first_due=c.contacted_at + sent * p.commitment_interval)]
        if r.commitments == "once":
            return [Series("commitment", Cadence(every=p.service_department_commitment_after),
                           commit, first_due=c.contacted_at + p.service_department_commitment_after,
                           limit=1)]
        return []

    async def _wait_for_contact(self) -> Ending | None:
        c, p = self.case, self.inp.policy
        assert c.contacted_at is not None
        deadline = (c.no_contact_since or c.contacted_at) + p.no_contact_referral_after
        got = await self.wait_for(PartyResponded, HomeownerSatisfied, CaseResolved,
                                  deadline=deadline,
                                  waiting_for=f"{PARTY_NAMES[self.route.party]} to make contact",
                                  waiting_on="third_party",
                                  reminders=self._commitments())
        if got is not None:
            return await self._answered(got)
        await self._refer_to_sales()
        return None

    async def _answered(self, event: Event) -> Ending | None:
        """Seed 004: "If the installer made contact and the Homeowner is satisfied": the
        party's contact waits for the homeowner's answer; the homeowner's satisfaction or the
        back office's resolution closes the case."""
        if isinstance(event, PartyResponded) and workflow.patched(HOMEOWNER_CONFIRMS):
            self.case.party_responded_at = workflow.now()
            self.enter_stage(AWAITING)
            return None
        return await self._resolve(event)

    async def _wait_for_confirmation(self) -> Ending | None:
        """`awaiting_homeowner_confirmation`: the back office asks the homeowner (reminded
        every 2 business days); not satisfied: back to the party, the no-contact clock
        started again."""
        c, p = self.case, self.inp.policy
        what = "the homeowner to confirm the concern is addressed"
        confirm = self.reminder(
            "confirmation", Cadence(business_days=p.confirmation_reminder_business_days),
            what, "confirmation", assignee=BACK_OFFICE)
        got = await self.wait_for(HomeownerSatisfied, HomeownerNotSatisfied, CaseResolved,
                                  waiting_for=what, waiting_on="homeowner",
                                  reminders=[*self._commitments(), confirm])
        if isinstance(got, HomeownerNotSatisfied):
            c.bump("homeowner_not_satisfied")
            c.no_contact_since = workflow.now()
            self.enter_stage(PARTY_CONTACTED)
            return None
        return await self._resolve(got)

    async def _refer_to_sales(self) -> None:
        """Seed 004: "Assign to Sales; Referral Reason: Unresponsive Installer; Referral
        Comments; populate the AM and Sales Manager fields"."""
        inp = self.inp
        am = inp.account_manager or "unassigned"
        sm = inp.sales_manager or "unassigned"
        await self.effects.crm_record_about_homeowner(
            self.key("sales-referral"), "referral", "create the Sales referral",
            fields={"referral_reason": REFERRAL_REASON, "account_manager": am,
                    "sales_manager": sm, "party": self.route.party,
                    "case_number": self._number()},
            private={"concern": inp.concern}, template="sales_referral_comment")
        await self.effects.assign(self.key("sales"), SALES,
                                  f"referral: {REFERRAL_REASON} (AM {am}, Sales Manager {sm}); "
                                  f"no contact from {PARTY_NAMES[self.route.party]} in "
                                  f"{describe_span(inp.policy.no_contact_referral_after)}",
                                  summary="assign the referral to Sales")
        self.view.mark(escalated=True)
        self.enter_stage(REFERRED)

    async def _wait_for_sales(self) -> Ending | None:
        what = "Sales to resolve the referral"
        sales = self.reminder("sales", self.inp.policy.sales_reminder_interval, what,
                              "referral", assignee=SALES)
        got = await self.wait_for(PartyResponded, HomeownerSatisfied, CaseResolved,
                                  waiting_for=what, waiting_on="sales",
                                  reminders=[*self._commitments(), sales])
        return await self._answered(got)

    async def _resolve(self, event: Event) -> Ending:
        """Close with the closure comments; the homeowner gets "Unresponsive Done"."""
        assert isinstance(event, Resolution)
        c = self.case
        c.resolved_by = event.EVENT
        c.closure_comments = event.comment
        await self.outbox.tell("unresponsive_done", self.key("done-notice"),
                               "tell the homeowner the case is resolved (Unresponsive Done)",
                               private={"closure_comments": event.comment},
                               case_number=self._number())
        return Close("resolved")

    # ---- what the base asks of a process ----------------------------------------------------

    def closure_comments(self) -> str | None:
        """The CRM case closes with the resolving event's comment."""
        return self.case.closure_comments

    def detail_lines(self) -> list[str]:
        """Follow-up lines of the UI details (no personal data)."""
        c = self.case
        r = self.route
        lines = [f"**CRM case:** {c.crm_case_id}"
                 + (f" (system {c.system_id})" if c.system_id else ""),
                 f"**Party:** {r.party} ({r.template}), homeowner in CC: "
                 f"{'yes' if r.cc_homeowner else 'no'}, commitments: {r.commitments}"]
        commitment = c.reminders.get("commitment")
        if commitment is not None:
            lines.append(f"**Commitments sent:** {commitment.count}"
                         + (f", next {commitment.next_due.isoformat(timespec='minutes')}"
                            if commitment.next_due else ""))
        if c.stage == REFERRED:
            lines.append("**Referred to Sales:** waiting for Sales")
        if c.resolved_by:
            lines.append(f"**Resolved by:** {c.resolved_by}")
        if c.joined_total:
            lines.append(f"**Joined requests:** {c.joined_total} (a new concern each; the "
                         "last "
                         f"{c.joined_requests[-1].received_at.isoformat(timespec='minutes')})")
        return lines
