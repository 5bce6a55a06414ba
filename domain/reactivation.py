"""Reactivation-after-non-payment models (spec 3.6, 5; seeds 001, 002): the request, its policy,
the back office's and O&M's events, and the case state the status query returns."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import ClassVar

from pydantic import Field

from domain.base import BusinessKey, Instant, MarketCode, StrictModel
from domain.case import CaseState
from domain.events import Event
from domain.homeowner import Homeowner
from domain.joins import REQUEST_JOINED, JoinedRequest
from domain.policy import CasePolicy

# The CRM case's reasons (seed 002: "Primary Reason: Billing/Payments/Collections, Secondary
# Reason: Other, Reactivation Request").
PRIMARY_REASON = "Billing/Payments/Collections"
SECONDARY_REASON = "Other"
REQUEST_TYPE = "Reactivation Request"


class ReactivationPolicy(CasePolicy):
    """Every count and time of a reactivation; recorded in history with the input."""

    # A payment clears this many business days after its date (seeds: "up to 10 days").
    clearing_business_days: int = Field(default=10, ge=0, le=60)
    # The local time of day the case goes on once the payment has cleared: the back office's
    # morning, not midnight (decision: the seeds say only "10 business days").
    clearing_check_time: time = time(9, 0)
    verification_reminder_business_days: int = Field(default=2, ge=1)
    om_reminder_business_days: int = Field(default=2, ge=1)


# The earliest local date anywhere (UTC-12) is at most this far behind UTC, the latest (UTC+14)
# this far ahead: a payment date after the latest local date is in the future everywhere.
_LATEST_OFFSET = timedelta(hours=14)


def future_payment(payment_date: date, now: datetime) -> str | None:
    """Why a payment date cannot be right on `now` (a typo a year or three months ahead
    would park the case and tell the homeowner a date months away), or None. Lenient by a
    day: a date that is today somewhere on earth is taken."""
    latest_today = (now.astimezone(UTC) + _LATEST_OFFSET).date()
    if payment_date > latest_today:
        return (f"payment_date: {payment_date.isoformat()} is in the future (today is "
                f"{now.astimezone(UTC).date().isoformat()} UTC): check the date on the "
                "proof of payment")
    return None


class ReactivationRequest(StrictModel):
    """A homeowner who paid asks for their system to be reactivated (spec 3.6, 5)."""

    contract_id: BusinessKey
    homeowner: Homeowner
    payment_date: date
    payment_proof: str = Field(min_length=1, max_length=200)
    # Optional additions (spec 5 allows them): where the system is, for the homeowner's time
    # zone and the Market search attribute, and which system O&M reactivates.
    system_id: BusinessKey | None = None
    market: MarketCode | None = None
    zip: str | None = Field(default=None, pattern=r"^\d{5}$")


class ReactivationInput(ReactivationRequest):
    """The input of `ReactivationWorkflow`: the request, the policy and, after continue-as-new,
    the case carried whole."""

    policy: ReactivationPolicy = Field(default_factory=ReactivationPolicy)
    carried_case: Reactivation | None = None


# ---- events -------------------------------------------------------------------------------


class PaymentVerified(Event):
    """The back office (Tier 2) checked the payment: approved, or not."""

    EVENT: ClassVar[str] = "payment_verified"

    approved: bool


class ReactivationJoined(ReactivationRequest, Event):
    """A second opening of an open reactivation (a new payment proof): the request's fields
    flat beside `event_id`; recorded in the case as a joined request."""

    EVENT: ClassVar[str] = REQUEST_JOINED


class ReactivationCompleted(Event):
    """O&M reactivated the system."""

    EVENT: ClassVar[str] = "reactivation_completed"


# ---- the case -------------------------------------------------------------------------------


class Reactivation(CaseState):
    """Everything a reactivation case knows; the status query returns it."""

    process: str = "reactivation"
    contract_id: str = ""
    system_id: str | None = None
    payment_date: date | None = None
    # The CRM case number the homeowner was given.
    crm_case_number: str | None = None
    # When the payment is taken to have cleared (None until computed).
    clears_at: Instant | None = None
    payment_approved: bool | None = None
    # Why the payment date could not be right when the case opened (a person checks it).
    payment_date_refused: str | None = None
    # Later openings of this case and what they brought (a new proof of payment).
    opening_digest: str = ""
    joined_requests: list[JoinedRequest] = Field(default_factory=list)
    joined_total: int = 0
    # The back office may verify during the clearing wait (spec 3.6); runs recorded before
    # that took no verification there.
    verifies_while_clearing: bool = False


ReactivationInput.model_rebuild()
