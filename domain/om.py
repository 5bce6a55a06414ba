"""O&M case models (spec 3.1-3.3): the issue report, the O&M policy, the O&M events and the case
state that the status query returns and continue-as-new carries."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from domain.base import BusinessKey, MarketCode, StrictModel
from domain.case import CaseState
from domain.events import MAX_TEXT, Event
from domain.homeowner import Homeowner
from domain.rules.hazard import HazardFacts
from domain.visits import VisitPolicy, VisitState

CLEANING_REFUSAL = (
    "cleaning requests are refused: cleaning is not part of maintenance "
    "(standard message: panel cleaning is the homeowner's responsibility)"
)

CaseReason = Literal[
    "metering",
    "system_failure",
    "system_under_performance",
    "activation",
    "hazardous_situation",
    "non_production_site_issue",
]
Source = Literal["sunrun_monitoring", "third_party_monitoring", "customer"]
AgreementType = Literal["ppa", "lease", "ric", "customer_owned"]
Track = Literal["simplified", "manual"]

# The states the company runs field service in (decision: the spec leaves the territory to
# deployment; this is the default a deployment overrides in its policy).
DEFAULT_SERVICE_MARKETS = [
    "AZ", "CA", "CO", "CT", "DE", "FL", "HI", "IL", "MA", "MD", "NH", "NJ", "NM", "NV",
    "NY", "OR", "PA", "PR", "RI", "SC", "TX", "UT", "VT", "WA",
]  # fmt: skip


class ServiceTerritory(StrictModel):
    """Where the company runs field service: a market list, minus individual ZIP codes."""

    markets: list[MarketCode] = Field(default_factory=lambda: list(DEFAULT_SERVICE_MARKETS))
    excluded_zips: list[str] = Field(default_factory=list)


class OmPolicy(VisitPolicy):
    """Every duration, count and list of the O&M process; recorded in history with the input."""

    remote_fix_timeout: timedelta = timedelta(hours=24)
    performance_validation_period: timedelta = timedelta(days=7)
    failed_appointments_to_escalate: int = Field(default=2, ge=1)
    # Follow-up visits in a row without resolution before the case leaves the simplified track.
    follow_up_visits_to_escalate: int = Field(default=3, ge=1)
    equipment_eta_check_interval: timedelta = timedelta(days=7)
    partner_decision_business_days: int = Field(default=3, ge=1)
    manual_reminder_interval: timedelta = timedelta(days=7)
    service_territory: ServiceTerritory = Field(default_factory=ServiceTerritory)
    ineligible_channels: list[str] = Field(
        default_factory=lambda: ["new_homes", "multifamily", "military_privatized_housing"]
    )


class IssueReport(StrictModel):
    """A report of a problem with a system, from monitoring or the homeowner (spec 3.1)."""

    system_id: BusinessKey
    case_reason: CaseReason
    source: Source
    # Required of every report but a hazard another case hands over (`referred_by`): a claim
    # or an inquiry may not know them, and the O&M case then goes to its manual track.
    installer: Literal["sunrun", "partner"] | None = None
    installer_accepting_service_work: bool | None = None
    agreement_type: AgreementType | None = None
    protection_plus: bool = False
    acquisition_channel: str = Field(default="retail", max_length=100)
    zip: str | None = Field(default=None, pattern=r"^\d{5}$")
    market: MarketCode
    homeowner: Homeowner
    description: str = Field(default="", max_length=MAX_TEXT)
    hazard: HazardFacts | None = None
    # The case that heard of this hazard and handed it over (spec 2.3): a claim, an inquiry.
    referred_by: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _facts_of_a_report(self) -> IssueReport:
        if self.referred_by is None:
            missing = [f for f in ("installer", "installer_accepting_service_work",
                                   "agreement_type", "zip") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"{', '.join(missing)}: field required (only a hazard handed "
                                 "over by another case may leave it out)")
        return self

    @field_validator("case_reason", mode="before")
    @classmethod
    def _refuse_cleaning(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in {"cleaning", "panel_cleaning"}:
            raise ValueError(CLEANING_REFUSAL)
        return value


class OmCaseInput(IssueReport):
    """The input of both O&M workflows: the report, the policy and, after an escalation from the
    simplified track, the case carried across continue-as-new."""

    policy: OmPolicy = Field(default_factory=OmPolicy)
    carried_case: OmCase | None = None

    def report(self) -> IssueReport:
        """The plain issue report inside this input."""
        return IssueReport.model_validate(
            self.model_dump(exclude={"policy", "carried_case"}, mode="python")
        )


# ---- events -------------------------------------------------------------------------------


class IssueReported(IssueReport, Event):
    """A report about a system whose case is open; it joins the case. The report's own fields
    sit flat beside `event_id` (spec 5); the older nested form `{"event_id", "report": {...}}`
    is still accepted, so integrations and running cases that send it keep working."""

    EVENT: ClassVar[str] = "issue_reported"

    @model_validator(mode="before")
    @classmethod
    def _flatten_nested(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("report"), dict):
            rest = {k: v for k, v in data.items() if k != "report"}
            return {**data["report"], **rest}
        return data

    def report(self) -> IssueReport:
        """The report inside the event."""
        return IssueReport.model_validate(
            self.model_dump(exclude=set(Event.model_fields), mode="python"))


class RemoteFixResult(Event):
    """The monitoring integration's answer to the remote fix attempt."""

    EVENT: ClassVar[str] = "remote_fix_result"

    resolved: bool


AppointmentResult = Literal["not_completed", "completed", "completed_follow_up_required"]


class AppointmentOutcome(Event):
    """The field tech's result of an appointment."""

    EVENT: ClassVar[str] = "appointment_outcome"

    appointment_id: BusinessKey
    result: AppointmentResult
    clear_path: bool = True
    equipment_available: bool = True
    asset_update_needed: bool = False


class FindingsReviewed(Event):
    """SES support reviewed the findings of a follow-up-required visit."""

    EVENT: ClassVar[str] = "findings_reviewed"

    clear_path: bool


class EquipmentAvailable(Event):
    """Replacement equipment arrived; the follow-up visit can be scheduled."""

    EVENT: ClassVar[str] = "equipment_available"


class SystemHealthReported(Event):
    """System health after the validation period, from monitoring or a person."""

    EVENT: ClassVar[str] = "system_health_reported"

    healthy: bool


class PartnerDecision(Event):
    """The install partner accepted or declined the dispatched work."""

    EVENT: ClassVar[str] = "partner_decision"

    accepted: bool


class FindingsSubmitted(Event):
    """The findings of the manual track's visit."""

    EVENT: ClassVar[str] = "findings_submitted"

    summary: str = Field(min_length=1, max_length=MAX_TEXT)
    at_fault_party: str | None = Field(default=None, max_length=200)


# The liability decisions that include a repair (spec 3.3, 3.4).
REPAIR_DECISIONS = frozenset({"repair", "repair_and_settle"})


class LiabilityDetermined(Event):
    """The case manager's liability decision."""

    EVENT: ClassVar[str] = "liability_determined"

    liable_party: str = Field(max_length=200)
    decision: Literal["deny", "repair", "settle"]
    rr_required: bool = False

    @model_validator(mode="after")
    def _rr_only_with_a_repair(self) -> LiabilityDetermined:
        # A denial or a settlement alone removes nothing from the roof: a decision that says
        # otherwise is a mistake the case manager must see, not a silently dropped flag.
        if self.rr_required and self.decision not in REPAIR_DECISIONS:
            raise ValueError(f"rr_required is allowed only with a repair (decision repair or "
                             f"repair_and_settle), not with {self.decision}")
        return self


class RepairCompleted(Event):
    """The repair decided in liability determination is done."""

    EVENT: ClassVar[str] = "repair_completed"


class SettlementAccepted(Event):
    """The homeowner accepted the settlement."""

    EVENT: ClassVar[str] = "settlement_accepted"


class SettlementDeclined(Event):
    """The homeowner declined the settlement."""

    EVENT: ClassVar[str] = "settlement_declined"


# ---- the case -------------------------------------------------------------------------------


class Eligibility(StrictModel):
    """The simplified-track decision and the reasons for it (spec 3.1)."""

    track: Track
    reasons: list[str] = Field(default_factory=list)


class OmCase(CaseState):
    """Everything an O&M case knows; the status query returns it and it survives escalation."""

    process: str = "om"
    system_id: str = ""
    eligibility: Eligibility | None = None
    hazard_reasons: list[str] = Field(default_factory=list)
    visit: VisitState = Field(default_factory=VisitState)
    asset_update_needed: bool = False
    # A follow-up visit waits for replacement equipment (after the findings review, if any).
    equipment_pending: bool = False
    fs_case_id: str | None = None
    related_reports: int = 0
    opening_report: str = ""
    opening_report_seen: bool = False
    branch: Literal["partner", "company"] | None = None
    findings_summary: str | None = None
    liability: LiabilityDetermined | None = None
    # The R&R project a repair that needs the system removed started (or joined).
    project_id: str | None = None
    project_repairs_added: bool = False
    # The cases that handed a hazard to this case (spec 2.3): where its hazard came from.
    hazard_referrals: list[str] = Field(default_factory=list)


OmCaseInput.model_rebuild()


def report_fingerprint(report: IssueReport) -> str:
    """A digest that tells whether two reports are the same without keeping personal data.
    A report without a referral digests as it did before `referred_by` existed, so running
    cases still recognise their opening report."""
    unset = {"referred_by"} if report.referred_by is None else set()
    return hashlib.sha256(report.model_dump_json(exclude=unset).encode()).hexdigest()[:16]
