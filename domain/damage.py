"""Damage and roof-leak claim models (spec 3.4, 4.3, 5): the damage report, the claim policy,
the claim's events and the claim state that the status query returns."""

from __future__ import annotations

from datetime import date, timedelta
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from domain.base import BusinessKey, Instant, MarketCode, StrictModel
from domain.case import CaseState
from domain.events import MAX_TEXT, Event
from domain.homeowner import Homeowner
from domain.om import REPAIR_DECISIONS, LiabilityDetermined
from domain.rules.hazard import HazardFacts
from domain.visits import VisitPolicy, VisitState

AtFault = Literal["company", "not_company", "undetermined"]
# What the install partner found about its own work (spec 3.4): it is liable and repairs, the
# company is, or nobody (the damage was not caused by the installation).
PartnerAtFault = Literal["partner", "company", "none"]
ClaimDecision = Literal["deny", "repair", "settle", "repair_and_settle"]
SettlementState = Literal["offered", "accepted", "declined"]
EntitlementKind = Literal["workmanship", "roof_penetration"]
RepairBy = Literal["internal_work", "service_partner"]
Recommendation = Literal["company", "partner"]


class Entitlement(StrictModel):
    """A warranty entitlement of the agreement (spec 4.3): active until the end of
    `active_until` (and from `active_from`, when given)."""

    kind: EntitlementKind
    active_until: date
    active_from: date | None = None


class ClaimPolicy(VisitPolicy):
    """Every duration and count of a claim; recorded in history with the input."""

    # Weekly reminders to whoever a claim waits for (case manager, partner, homeowner's answer).
    reminder_interval: timedelta = timedelta(days=7)
    # Investigation visits (the first and its follow-ups) before the case manager takes over.
    investigation_visits_max: int = Field(default=3, ge=1, le=10)
    # The partner's answer to a dispatched claim, before the company investigates instead.
    partner_decision_business_days: int = Field(default=3, ge=1, le=30)


class DamageReport(StrictModel):
    """A report of property damage or a roof leak about a system (spec 3.4, 5)."""

    system_id: BusinessKey
    claim_no: BusinessKey
    roof_leak: bool
    hazard: HazardFacts | None = None
    installer: Literal["sunrun", "partner"] = "sunrun"
    installer_accepting_service_work: bool = False
    company_is_warrantor: bool = False
    entitlements: list[Entitlement] = Field(default_factory=list, max_length=20)
    reported_on: date
    market: MarketCode
    zip: str | None = Field(default=None, pattern=r"^\d{5}$")
    homeowner: Homeowner
    description: str = Field(default="", max_length=MAX_TEXT)
    # Optional (spec 5 allows additions): who should take the claim; derived when absent.
    assignment_recommendation: Recommendation | None = None
    # The R&R project this damage was found in (`damage_reported`): the company's own work.
    project_id: str | None = Field(default=None, max_length=200)


class DamageClaimInput(DamageReport):
    """The input of `DamageClaimWorkflow`: the report, the policy and, after continue-as-new,
    the claim carried whole."""

    policy: ClaimPolicy = Field(default_factory=ClaimPolicy)
    carried_case: DamageClaim | None = None


# ---- events -------------------------------------------------------------------------------


class FieldAssessment(Event):
    """The investigation visit's result (the claim's visit outcome: no appointment ID)."""

    EVENT: ClassVar[str] = "field_assessment"

    follow_up_required: bool = False
    at_fault: AtFault = "undetermined"


class PartnerFindings(Event):
    """The install partner's findings on a claim it accepted (spec 3.4)."""

    EVENT: ClassVar[str] = "partner_findings"

    at_fault: PartnerAtFault


class ClaimLiabilityDetermined(LiabilityDetermined):
    """The case manager's liability determination on a claim (spec 3.4: "Denial, Repair,
    and/or Settlement"): `rr_required` only with a repair, `repair_by` (internal work or a
    service partner; internal work when not given) only with a repair that needs no R&R (the
    project does those repairs). An inconsistent combination is refused naming the conflict."""

    decision: ClaimDecision  # type: ignore[assignment]
    repair_by: RepairBy | None = None

    @model_validator(mode="after")
    def _repair_by_only_for_a_repair_without_rr(self) -> ClaimLiabilityDetermined:
        if self.repair_by is not None and self.decision not in REPAIR_DECISIONS:
            raise ValueError(f"repair_by is allowed only with a repair (decision repair or "
                             f"repair_and_settle), not with {self.decision}")
        if self.repair_by is not None and self.rr_required:
            raise ValueError("repair_by is for a repair without R&R: with rr_required the R&R "
                             "project does the repairs")
        return self

    @property
    def repairs(self) -> bool:
        """Whether the decision includes a repair."""
        return self.decision in REPAIR_DECISIONS

    @property
    def settles(self) -> bool:
        """Whether the decision includes a settlement offer."""
        return self.decision in ("settle", "repair_and_settle")


# ---- the claim ------------------------------------------------------------------------------


class IntakeResult(StrictModel):
    """What the roof-leak intake tree (or the non-leak path) decided, and why."""

    decision: Literal["create_claim", "denied"]
    recommendation: Recommendation | None = None
    under_warranty: bool | None = None
    reason: str


class DamageClaim(CaseState):
    """Everything a claim knows; the status query returns it."""

    process: str = "damage_claim"
    system_id: str = ""
    claim_no: str = ""
    roof_leak: bool = False
    hazard_reasons: list[str] = Field(default_factory=list)
    intake: IntakeResult | None = None
    claim_record_id: str | None = None
    visit: VisitState = Field(default_factory=VisitState)
    investigation_result: str | None = None
    at_fault: AtFault | None = None
    # The partner path (spec 3.4): when its answer is due, what it answered, what it found.
    partner_decision_due: Instant | None = None
    partner_accepted: bool | None = None
    partner_at_fault: PartnerAtFault | None = None
    partner_fallback: str | None = None
    liability: ClaimLiabilityDetermined | None = None
    # A decision with a settlement: the offer and the homeowner's answer; a repair's end.
    settlement: SettlementState | None = None
    repair_done: bool = False
    # The R&R project this claim waits for (started, or the system's open project its repairs
    # were added to), and the one the damage was found in.
    project_id: str | None = None
    project_repairs_added: bool = False
    source_project_id: str | None = None


DamageClaimInput.model_rebuild()
