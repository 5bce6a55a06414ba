"""Support inquiry models (spec 3.8, 5; seeds 001, 002, 003): the inquiry, the details the
process it starts needs, the policy and the case state the status query returns.

An inquiry that is routed to another process (an O&M case, a follow-up, a reactivation) must
carry what that process needs; the model checks it at the start, naming the missing field,
rather than leaving a routed inquiry without a case."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from domain.base import BusinessKey, MarketCode, StrictModel
from domain.case import CaseState
from domain.events import MAX_TEXT
from domain.followup import PARTY_NAMES
from domain.homeowner import Homeowner
from domain.om import CaseReason
from domain.policy import CasePolicy
from domain.rules.hazard import HazardFacts, is_hazardous
from domain.rules.inquiry_routing import (
    InquiryAgreement,
    InquiryRoute,
    InquiryType,
    route_inquiry,
    route_inquiry_v1,  # noqa: I001
)


class InquiryPolicy(CasePolicy):
    """The service department's contact details for the standard reply and the follow-up."""

    service_department: str = Field(default="Omnidian", max_length=200)
    service_department_contact: str = Field(default="the Omnidian support line",
                                            max_length=200)
    service_department_email: str = Field(default="support@omnidian.com", max_length=320)


class InquiryDetails(StrictModel):
    """What the support agent gathered; which fields are needed depends on the route."""

    market: MarketCode | None = None
    zip: str | None = Field(default=None, pattern=r"^\d{5}$")
    description: str = Field(default="", max_length=MAX_TEXT)
    # O&M case (maintenance requests and outages after M3).
    case_reason: CaseReason | None = None
    installer: Literal["sunrun", "partner"] | None = None
    installer_accepting_service_work: bool | None = None
    protection_plus: bool = False
    acquisition_channel: str = Field(default="retail", max_length=100)
    hazard: HazardFacts | None = None
    # Reactivation.
    contract_id: BusinessKey | None = None
    payment_date: date | None = None
    payment_proof: str | None = Field(default=None, max_length=200)
    # Follow-up with the installer or the service department.
    concern: str | None = Field(default=None, max_length=MAX_TEXT)
    best_time_to_reach: str = Field(default="any time", max_length=200)
    installer_email: str | None = Field(default=None, max_length=320,
                                        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    installer_name: str | None = Field(default=None, max_length=200)
    concert_beam: bool = False
    account_manager: str | None = Field(default=None, max_length=200)
    sales_manager: str | None = Field(default=None, max_length=200)


# The details each route needs, by the process it starts.
_NEEDED = {
    "om_case": ("market", "zip", "installer", "installer_accepting_service_work"),
    "reactivation": ("contract_id", "payment_date", "payment_proof"),
}


class SupportInquiry(StrictModel):
    """A homeowner's inquiry to the support team (spec 3.8, 5)."""

    case_id: BusinessKey
    system_id: BusinessKey
    agreement_type: InquiryAgreement
    m3_approved: bool
    inquiry: InquiryType
    already_contacted_omnidian: bool = False
    homeowner: Homeowner
    details: InquiryDetails = Field(default_factory=InquiryDetails)

    @model_validator(mode="after")
    def _details_for_route(self) -> SupportInquiry:
        route = route_of(self)
        d = self.details
        missing = [f"details.{name}" for name in _NEEDED.get(route.action, ())
                   if getattr(d, name) is None]
        if route.action == "followup":
            if d.concern is None and not d.description:
                missing.append("details.concern")
            if route.party == "installer" and d.installer_email is None and not d.concert_beam:
                missing.append("details.installer_email")
        if is_hazardous(d.hazard) and d.market is None and "details.market" not in missing:
            raise ValueError("details.market required: a hazard goes to the system's O&M case "
                             "(spec 2.3), which needs the market")
        if missing:
            raise ValueError(f"{', '.join(missing)} required: this inquiry is routed to "
                             f"{route.action.replace('_', ' ')} ({route.why})")
        return self


class SupportInquiryInput(SupportInquiry):
    """The input of `SupportInquiryWorkflow`: the inquiry, the policy and, after
    continue-as-new, the case carried whole."""

    policy: InquiryPolicy = Field(default_factory=InquiryPolicy)
    carried_case: InquiryCase | None = None


class InquiryCase(CaseState):
    """Everything an inquiry knows; the status query returns it."""

    process: str = "support_inquiry"
    crm_case_id: str = ""
    system_id: str = ""
    inquiry: str = ""
    # The case the inquiry started or joined (workflow ID), and whether it was already open.
    linked_case_id: str | None = None
    joined_open_case: bool | None = None
    disposition_notes: str | None = None


SupportInquiryInput.model_rebuild()


def route_of(inq: SupportInquiry, *, recorded_before_v2: bool = False) -> InquiryRoute:
    """The route of this inquiry (spec 3.8); `recorded_before_v2`: the routing of inquiries
    recorded before the revised table."""
    rule = route_inquiry_v1 if recorded_before_v2 else route_inquiry
    return rule(inq.inquiry, inq.agreement_type, inq.m3_approved,
                inq.already_contacted_omnidian)


def reply_params(inq: SupportInquiryInput, route: InquiryRoute) -> dict[str, str]:
    """The placeholders of the route's standard reply (none of them personal)."""
    p, d = inq.policy, inq.details
    params = {"case_number": inq.case_id}
    if route.reply == "service_department_referral":
        params.update(service_department=p.service_department,
                      service_department_contact=p.service_department_contact)
    elif route.reply == "followup_started":
        params["party_name"] = (p.service_department if route.party == "omnidian"
                                else PARTY_NAMES["gtr"] if d.concert_beam
                                else d.installer_name or "your installer")
    elif route.reply == "inquiry_case_opened":
        params["topic"] = inq.inquiry.replace("_", " ")
    return params


def disposition_notes(inq: SupportInquiry, route: InquiryRoute, linked_case_id: str | None,
                      joined: bool | None, hazardous: bool) -> str:
    """The disposition notes (seed 001 step 5): what was asked, what was done, and why."""
    notes = [f"{inq.inquiry.replace('_', ' ')} ({inq.agreement_type.upper()}, "
             f"M3 {'approved' if inq.m3_approved else 'not approved'})",
             f"route: {route.action.replace('_', ' ')}: {route.why}"]
    if route.reply:
        notes.append(f"reply: {route.reply}")
    if linked_case_id:
        notes.append(f"{'joined open' if joined else 'started'} case {linked_case_id}")
    if hazardous:
        notes.append("HAZARDOUS: safety notice and P1 dispatch"
                     + (" by the O&M case" if route.action == "om_case" else ""))
    return "; ".join(notes)
