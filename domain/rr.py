"""Removal-and-reinstall project models (spec 3.5, 4.2, 5): the request, the project policy,
the step events and the project state that the status query returns."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field

from domain.base import BusinessKey, Instant, MarketCode, StrictModel
from domain.case import CaseState
from domain.events import MAX_REASON, MAX_TEXT, Event
from domain.homeowner import Homeowner
from domain.policy import CasePolicy
from domain.rules.hazard import HazardFacts

Variant = Literal["elective", "damage"]
RemiOption = Literal["full_service", "sunrun_quoted"]
Management = Literal["company", "remi_full_service", "remi_sunrun_quoted"]


class RrPolicy(CasePolicy):
    """Every duration and list of an R&R project; recorded in history with the input."""

    removal_expected: timedelta = timedelta(days=14)
    roofing_expected: timedelta = timedelta(days=30)
    reinstall_expected: timedelta = timedelta(days=14)
    # Remi, company-quoted: the homeowner's acceptance of the company's quote (spec 3.5).
    quote_approval_expected: timedelta = timedelta(days=7)
    overrun_reminder_interval: timedelta = timedelta(days=7)
    # Markets where elective R&R is not Remi-managed (spec 4.2; NJ by the spec's decision).
    non_remi_markets: list[MarketCode] = Field(default_factory=lambda: ["HI", "PR", "WA", "NJ"])


class RemovalReinstallRequest(StrictModel):
    """A removal and reinstall of a system (spec 3.5, 5)."""

    system_id: BusinessKey
    project_no: BusinessKey
    variant: Variant = "elective"
    remi_option: RemiOption | None = None
    market: MarketCode
    zip: str | None = Field(default=None, pattern=r"^\d{5}$")
    reason: str = Field(default="", max_length=MAX_TEXT)
    homeowner: Homeowner
    # The case that started this project (a damage claim, or an O&M case's repair).
    parent_claim_id: str | None = Field(default=None, max_length=200)


class RemovalReinstallInput(RemovalReinstallRequest):
    """The input of `RemovalReinstallWorkflow`: the request, the policy and, after
    continue-as-new, the project carried whole."""

    policy: RrPolicy = Field(default_factory=RrPolicy)
    carried_case: RrProject | None = None


# ---- events -------------------------------------------------------------------------------


class StepCompleted(Event):
    """Base of the step events: the day the step was completed."""

    completed_on: date | None = None


class RemovalCompleted(StepCompleted):
    """Company-managed step 2 is done: the system is off the roof."""

    EVENT: ClassVar[str] = "removal_completed"


class RoofingCompleted(StepCompleted):
    """Company-managed step 3 is done: roof work (and, for damage, the damage repairs)."""

    EVENT: ClassVar[str] = "roofing_completed"


class ReinstallCompleted(StepCompleted):
    """Company-managed step 4 is done: the system is back on the roof."""

    EVENT: ClassVar[str] = "reinstall_completed"


class QuoteApproved(StepCompleted):
    """Remi, company-quoted, the step before the removal: the homeowner accepted the company's
    quote for the R&R (spec 3.5)."""

    EVENT: ClassVar[str] = "quote_approved"

    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)


class RemovalVerified(StepCompleted):
    """Remi-managed step 2: the company verified Remi's removal."""

    EVENT: ClassVar[str] = "removal_verified"


class ReinstallVerified(StepCompleted):
    """Remi-managed step 3: the company verified Remi's reinstall."""

    EVENT: ClassVar[str] = "reinstall_verified"


class StepBlocked(Event):
    """The current step cannot go on (permit, weather, homeowner): overrun reminders pause."""

    EVENT: ClassVar[str] = "step_blocked"

    reason: str = Field(min_length=1, max_length=MAX_REASON)


class StepUnblocked(Event):
    """The current step goes on: overrun reminders resume where they were."""

    EVENT: ClassVar[str] = "step_unblocked"


class DamageReported(Event):
    """Damage found during the project: starts a linked damage claim."""

    EVENT: ClassVar[str] = "damage_reported"

    description: str = Field(default="", max_length=MAX_TEXT)
    roof_leak: bool = False
    # Hazard facts (spec 4.1), when the damage is dangerous: the claim then starts hazard first.
    hazard: HazardFacts | None = None


class DamageRepairsAdded(Event):
    """A claim that needs R&R while this project is open on the system adds its damage repairs
    to it (spec 2.3, 3.5): taken up to the roofing step, which then includes them; the claim
    waits for this project's ending."""

    EVENT: ClassVar[str] = "damage_repairs_added"

    claim_id: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=MAX_TEXT)


ProjectOutcome = Literal["completed", "cancelled"]


class ProjectEnded(Event):
    """An R&R project's ending, reported to the case that started it and to every claim that
    added repairs to it (spec 2.3, 3.5): the parent waiting in `project_in_progress` acts on
    it. Sent by the project itself (no integration is granted it)."""

    EVENT: ClassVar[str] = "project_ended"

    project_id: str = Field(min_length=1, max_length=200)
    outcome: ProjectOutcome


# ---- the project ----------------------------------------------------------------------------


class AddedRepair(StrictModel):
    """A claim's damage repairs done with this project's roofing step."""

    claim_id: str
    description: str = ""
    added_at: Instant
    stage: str


class StepRecord(StrictModel):
    """One step of the project: when it started, when it was due, when it was done."""

    stage: str
    started_at: Instant
    due_at: Instant
    completed_on: date | None = None


class RrProject(CaseState):
    """Everything a project knows; the status query returns it."""

    process: str = "removal_reinstall"
    system_id: str = ""
    project_no: str = ""
    variant: Variant = "elective"
    management: Management = "company"
    routing_reason: str = ""
    parent_claim_id: str | None = None
    project_record_id: str | None = None
    steps: list[StepRecord] = Field(default_factory=list)
    # Remi, company-quoted: the quote the homeowner accepted.
    quote_amount: Decimal | None = None
    blocked: bool = False
    blocked_reason: str | None = None
    # Damage claims started from this project (their workflow IDs).
    damage_claims: list[str] = Field(default_factory=list)
    # `damage_reported` events accepted and not yet turned into claims (started by the flow).
    claims_to_start: list[DamageReported] = Field(default_factory=list)
    # Repairs of claims that joined this project instead of starting a second one (spec 2.3).
    added_repairs: list[AddedRepair] = Field(default_factory=list)
    # The cases told of this project's ending (its parent, the claims that added repairs),
    # once it has ended.
    ending_reported_to: list[str] = Field(default_factory=list)


RemovalReinstallInput.model_rebuild()
