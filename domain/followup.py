"""Third-party follow-up models (spec 3.7, 5; seeds 001, 003, 004): an unresponsive installer,
service department (Omnidian) or, for Concert/Beam customers, Green Tech Renewables; the policy,
the events that resolve it and the case state the status query returns."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from domain.base import BusinessKey, Instant, MarketCode, StrictModel
from domain.case import CaseState
from domain.effects import PartyRole
from domain.events import MAX_TEXT, Event
from domain.homeowner import Homeowner
from domain.joins import REQUEST_JOINED, JoinedRequest
from domain.policy import CasePolicy

GTR_EMAIL = "Risk@greentechrenewables.com"
Commitments = Literal["weekly", "once", "none"]
# How operators, assignees and homeowners read each party.
PARTY_NAMES: dict[str, str] = {"installer": "the installer",
                               "omnidian": "the service department (Omnidian)",
                               "gtr": "Green Tech Renewables"}


class FollowUpPolicy(CasePolicy):
    """Every duration and address of a follow-up; recorded in history with the input."""

    # No contact from the party within this long: referred to Sales (seed 004: 2 days).
    no_contact_referral_after: timedelta = timedelta(days=2)
    # Concert/Beam: the commitment e-mail to the homeowner repeats this often until resolved.
    commitment_interval: timedelta = timedelta(days=7)
    # Service department (Omnidian): the one commitment e-mail, this long after the first.
    service_department_commitment_after: timedelta = timedelta(days=7)
    # How often Sales is reminded of a referral it has not resolved.
    sales_reminder_interval: timedelta = timedelta(days=7)
    # The party made contact: the back office is reminded to get the homeowner's answer.
    confirmation_reminder_business_days: int = Field(default=2, ge=1, le=30)
    gtr_email: str = Field(default=GTR_EMAIL, max_length=320)


class FollowUpRequest(StrictModel):
    """A homeowner cannot get an answer from a third party (spec 3.7, 5)."""

    case_id: BusinessKey
    party: PartyRole
    # The party's address; Concert/Beam cases (and `gtr`) go to the policy's GTR address.
    party_email: str | None = Field(default=None, max_length=320,
                                    pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    concern: str = Field(min_length=1, max_length=MAX_TEXT)
    homeowner: Homeowner
    best_time_to_reach: str = Field(default="any time", max_length=200)
    concert_beam: bool = False
    # Optional additions (spec 5 allows them): the CRM subtype, the party's name, where the
    # system is, and the Sales referral's AM and Sales Manager fields.
    complaint_subtype: str = Field(default="Unresponsive Installer", max_length=200)
    party_name: str | None = Field(default=None, max_length=200)
    system_id: BusinessKey | None = None
    market: MarketCode | None = None
    zip: str | None = Field(default=None, pattern=r"^\d{5}$")
    account_manager: str | None = Field(default=None, max_length=200)
    sales_manager: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _party_address(self) -> FollowUpRequest:
        if self.party_email is None and not (self.concert_beam or self.party == "gtr"):
            raise ValueError(f"party_email is required to follow up with the {self.party}")
        return self


class FollowUpInput(FollowUpRequest):
    """The input of `PartnerFollowUpWorkflow`: the request, the policy and, after
    continue-as-new, the case carried whole."""

    policy: FollowUpPolicy = Field(default_factory=FollowUpPolicy)
    carried_case: PartnerFollowUp | None = None


# ---- events -------------------------------------------------------------------------------


class Resolution(Event):
    """Base of the events that close a follow-up; `comment` becomes the closure comments (the
    seeds require them before a case is closed)."""

    comment: str = Field(min_length=1, max_length=MAX_TEXT)


class PartyResponded(Resolution):
    """The party made contact with the homeowner."""

    EVENT: ClassVar[str] = "party_responded"


class HomeownerSatisfied(Resolution):
    """The homeowner says the concern is addressed."""

    EVENT: ClassVar[str] = "homeowner_satisfied"


class HomeownerNotSatisfied(Event):
    """The party made contact but the homeowner's concern is not addressed (seed 004: the case
    closes only when the installer made contact *and* the homeowner is satisfied)."""

    EVENT: ClassVar[str] = "homeowner_not_satisfied"

    comment: str = Field(min_length=1, max_length=MAX_TEXT)


class CaseResolved(Resolution):
    """Whoever works the case (the back office, or Sales after a referral) resolved it."""

    EVENT: ClassVar[str] = "case_resolved"


class FollowUpJoined(FollowUpRequest, Event):
    """A second opening of an open follow-up (a new concern): the request's fields flat
    beside `event_id`; recorded in the case as a joined request."""

    EVENT: ClassVar[str] = REQUEST_JOINED


# ---- the route and the case -----------------------------------------------------------------


class FollowUpRoute(StrictModel):
    """Whom the follow-up e-mails, with which template, whether the homeowner is copied, and
    which commitment e-mails the homeowner gets."""

    party: PartyRole
    to_email: str
    template: str
    cc_homeowner: bool
    commitments: Commitments
    commitment_template: str | None = None
    # The homeowner has neither e-mail nor phone: the commitments cannot reach them, so a
    # person takes that over once (spec 2.1) instead of a failed message every week.
    commitments_unreachable: bool = False


class PartnerFollowUp(CaseState):
    """Everything a follow-up knows; the status query returns it."""

    process: str = "partner_followup"
    crm_case_id: str = ""
    system_id: str | None = None
    route: FollowUpRoute | None = None
    support_case_id: str | None = None
    # When the party was e-mailed: the no-contact deadline and the commitments count from it.
    contacted_at: Instant | None = None
    resolved_by: str | None = None
    closure_comments: str | None = None
    # The party's contact, and the no-contact clock started again when the homeowner was not
    # satisfied with it.
    party_responded_at: Instant | None = None
    no_contact_since: Instant | None = None
    # Later openings of this case and what they brought (a new concern).
    opening_digest: str = ""
    joined_requests: list[JoinedRequest] = Field(default_factory=list)
    joined_total: int = 0


FollowUpInput.model_rebuild()
