"""`SupportInquiryWorkflow`: a homeowner's inquiry to the support team, routed by its type, the
agreement and the M3 milestone (spec 3.8; seeds 001, 002, 003; the table is the pure rule
`domain.rules.inquiry_routing`).

It gives the standard reply, refuses cleaning, warm-transfers to the service department, or
starts the process the inquiry needs by that process's workflow ID: an O&M case (joined, with
the report as `issue_reported`, when one is open for the system), a follow-up with the
installer or Omnidian, or a reactivation (joined, not duplicated, when open). It ends with the
disposition notes. Hazard first (spec 2.1, 2.3): hazardous facts go to the system's O&M case,
which sends the safety notice and P1 dispatch; the inquiry shows that case's ID."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.inquiry import (
        InquiryCase,
        SupportInquiryInput,
        disposition_notes,
        reply_params,
        route_of,
    )
    from domain.links import (
        followup_for_inquiry,
        hazard_report_for_inquiry,
        om_report_for_inquiry,
        reactivation_for_inquiry,
    )
    from domain.om import OmCaseInput
    from domain.processes import FOLLOWUP, INQUIRY, OM, REACTIVATION
    from domain.rules.hazard import is_hazardous
    from domain.rules.inquiry_routing import InquiryRoute
    from workflows.case import CaseCommon, CaseWorkflow, Close, Ending, events_table

ROUTING = "routing"
# The routing table as the seeds mean it (spec 3.8 revised); inquiries recorded before keep
# theirs.
ROUTING_V2 = "inquiry-routing-v2"
SERVICE_DEPARTMENT = "service_department"
SUPPORT = "support_agent"


@workflow.defn(name="SupportInquiryWorkflow")
class SupportInquiryWorkflow(CaseWorkflow[InquiryCase]):
    """One execution per inquiry (`inquiry-{case_id}`)."""

    PROCESS = "support_inquiry"
    SPEC = INQUIRY
    ESCALATE_TO = SUPPORT
    # One inquiry is answered once (spec 2.3): its effects are keyed by the inquiry alone, so
    # a second run of the same inquiry sends nothing again.
    KEYS_NAME_THE_RUN = False
    inp: SupportInquiryInput
    # An inquiry is routed at once; it takes no events (ops commands only).
    EVENTS = events_table()

    @workflow.init
    def __init__(self, inp: SupportInquiryInput) -> None:
        def new_case(common: CaseCommon) -> InquiryCase:
            return InquiryCase(**common, crm_case_id=inp.case_id, system_id=inp.system_id,
                               inquiry=inp.inquiry, hazardous=is_hazardous(inp.details.hazard))

        self.init_case(inp, new_case)

    @workflow.run
    async def run(self, inp: SupportInquiryInput) -> InquiryCase:
        """Route the inquiry and close it with its disposition."""
        self.start_run()
        return await self.run_case(lambda: self.run_stages({
            "created": self._route, ROUTING: self._route}))

    async def _route(self) -> Ending:
        """Route the inquiry: hazard first, the process it needs, the reply, the disposition."""
        c, inp = self.case, self.inp
        self.enter_stage(ROUTING)
        route = route_of(inp, recorded_before_v2=not workflow.patched(ROUTING_V2))
        if c.hazardous and route.action != "om_case" and not c.hazard_handled:
            await self.hazard_first()
        await self._act(route)
        if c.hazardous and route.action == "om_case":
            # The O&M case the inquiry opened (or joined) took the hazard with the report.
            c.hazard_handled = True
            c.hazard_case_id = c.linked_case_id
        if route.reply is not None:
            await self.outbox.tell(route.reply, self.key("reply"),
                                   f"standard reply to the homeowner ({route.reply})",
                                   fields=reply_params(inp, route))
        c.disposition_notes = disposition_notes(inp, route, c.linked_case_id,
                                                c.joined_open_case, c.hazardous)
        await self.effects.crm_record(self.key("disposition"), "disposition",
                                      "record the disposition notes", None,
                                      case_number=inp.case_id, inquiry=inp.inquiry,
                                      agreement_type=inp.agreement_type,
                                      m3_approved=str(inp.m3_approved).lower(),
                                      route=route.action, outcome=route.outcome,
                                      linked_case=c.linked_case_id or "",
                                      notes=c.disposition_notes)
        return Close(route.outcome)

    async def _act(self, route: InquiryRoute) -> None:
        """Start (or join) the process the route names, or warm-transfer."""
        c, inp = self.case, self.inp
        if route.action == "om_case":
            c.linked_case_id, c.joined_open_case = await self.links.open_or_join(
                OM, om_report_for_inquiry(inp, c.case_id if c.hazardous else None))
        elif route.action == "followup":
            assert route.party is not None
            c.linked_case_id, c.joined_open_case = await self.links.open_or_join(
                FOLLOWUP, followup_for_inquiry(inp, route.party))
        elif route.action == "reactivation":
            c.linked_case_id, c.joined_open_case = await self.links.open_or_join(
                REACTIVATION, reactivation_for_inquiry(inp))
        elif route.action == "warm_transfer":
            await self.effects.assign(self.key("warm-transfer"), SERVICE_DEPARTMENT,
                                      f"warm transfer: {inp.inquiry.replace('_', ' ')} for "
                                      f"system {inp.system_id}",
                                      summary="warm transfer to the service department")

    # ---- what the base asks of a process ----------------------------------------------------

    def hazard_report(self) -> OmCaseInput:
        """The inquiry's hazard, for the system's O&M case (spec 2.3)."""
        return hazard_report_for_inquiry(self.inp, self.case.case_id)

    def dispatch_fields(self) -> dict[str, str]:
        """A hazardous inquiry's P1 dispatch names the system."""
        return {"system_id": self.case.system_id}

    def detail_lines(self) -> list[str]:
        """Inquiry lines of the UI details (no personal data)."""
        c = self.case
        lines = [f"**Inquiry:** {c.inquiry} on system {c.system_id} (CRM case {c.crm_case_id})"]
        route = route_of(self.inp)
        lines.append(f"**Route:** {route.action.replace('_', ' ')}: {route.why}")
        if c.linked_case_id:
            lines.append(f"**Case:** {c.linked_case_id}"
                         + (" (joined, already open)" if c.joined_open_case else ""))
        return lines
