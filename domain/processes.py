"""The one list of processes (spec section 3): for each, its workflow types, input and status
models, workflow-ID function and contract folder. The worker registry, the starter, the
contract generator, the test harness and the replay test all read `PROCESSES`, so a new process
is one entry here plus its own modules.

Workflow-ID functions live here, in the domain, so that a workflow can start or signal another
process's case by its ID (a claim starting its R&R project, an inquiry joining an O&M case)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from domain.damage import DamageClaim, DamageClaimInput
from domain.followup import PARTY_NAMES, FollowUpInput, PartnerFollowUp
from domain.inquiry import InquiryCase, SupportInquiryInput
from domain.joins import joined_event
from domain.om import OmCase, OmCaseInput, report_fingerprint
from domain.reactivation import Reactivation, ReactivationInput, future_payment
from domain.rr import RemovalReinstallInput, RrProject
from domain.rules.eligibility import intake_decision
from domain.rules.hazard import is_hazardous
from domain.rules.market_routing import rr_management
from domain.rules.zones import HomeownerZone, homeowner_zone


def homeowner_zone_of(inp: Any) -> HomeownerZone:
    """The zone a case's homeowner is contacted in (spec 2.1), for inputs with a homeowner, a
    market and a ZIP code (optional in some processes)."""
    return homeowner_zone(inp.homeowner.time_zone, inp.market, inp.zip, inp.homeowner.address)


def market_of(inp: Any) -> str:
    """The market (US state) a case is about, or empty when its input has none."""
    return str(inp.market or "")


def om_case_id(system_id: str) -> str:
    """The workflow ID of a system's O&M case."""
    return f"om-{system_id}"


@dataclass(frozen=True)
class ProcessSpec:
    """How to open, address and read one process's cases."""

    name: str
    title: str
    workflow_types: tuple[str, ...]
    input_model: type[BaseModel]
    status_model: type[BaseModel]
    workflow_id: Callable[[Any], str]
    # The workflow type a new case of this input starts as (O&M: by eligibility).
    start_type: Callable[[Any], str]
    # The one-line UI summary at start (no personal data).
    summary: Callable[[Any], str]
    # The event a second opening of the same case becomes (signal-with-start), if any, as
    # (name, payload).
    join_event: Callable[[Any], tuple[str, dict[str, Any]]] | None = None
    # The homeowner's time zone for contact hours (spec 2.1), and the case's market.
    time_zone: Callable[[Any], HomeownerZone] = homeowner_zone_of
    market: Callable[[Any], str] = market_of
    # Input fields only the project sets (the case carried across continue-as-new, the R&R
    # project a claim came from): an integration's request carrying one is refused (spec 6.1).
    internal_fields: frozenset[str] = frozenset({"carried_case"})
    # A case that runs once per ID (an inquiry, spec 2.3): a second opening answers with the
    # first run's outcome instead of running again.
    one_shot: bool = False
    # The event an opening that joins an open case sends it (not sent at start), if any.
    joined_event: Callable[[Any], tuple[str, dict[str, Any]]] | None = None
    # Data that cannot be right on the day a case is opened (a payment made in the future):
    # the opening is refused naming the field; (input, the UTC instant of the opening).
    refuse_at_start: Callable[[Any, datetime], str | None] | None = None
    # The workflow ID joins the system ID with another key (`rr-{system_id}-{project_no}`), so
    # two cases can read as one ID: an opening whose system differs from the open case's is
    # refused (spec 2.3).
    id_joins_keys: bool = False

    @property
    def prefix(self) -> str:
        """The workflow-ID prefix (`om` in `om-SYS-1`), also the contract folder's name."""
        return self.name

    def internal_fields_in(self, data: dict[str, Any]) -> list[str]:
        """The internal fields a request sets (null is what a client serialising every field
        sends: not set); an opening from outside the project with any is refused."""
        return sorted(k for k in set(data) & self.internal_fields if data[k] is not None)

    def owns(self, workflow_id: str) -> bool:
        """Whether a workflow ID is one of this process's cases."""
        return workflow_id.startswith(self.prefix + "-")


def _om_start_type(inp: OmCaseInput) -> str:
    decision = intake_decision(inp.report(), inp.policy)
    return "OmSimplifiedWorkflow" if decision.track == "simplified" else "OmManualWorkflow"


def _om_summary(inp: OmCaseInput) -> str:
    decision = intake_decision(inp.report(), inp.policy)
    hazard = ", HAZARDOUS" if decision.hazardous else ""
    return f"O&M {decision.track} case for system {inp.system_id} in {inp.market}{hazard}"


def _om_join(inp: OmCaseInput) -> tuple[str, dict[str, Any]]:
    report = inp.report()
    return "issue_reported", {"event_id": f"report-{report_fingerprint(report)}",
                              **report.model_dump(mode="json")}


OM = ProcessSpec(
    name="om", title="O&M case", workflow_types=("OmSimplifiedWorkflow", "OmManualWorkflow"),
    input_model=OmCaseInput, status_model=OmCase,
    workflow_id=lambda inp: om_case_id(inp.system_id), start_type=_om_start_type,
    summary=_om_summary, join_event=_om_join,
    internal_fields=frozenset({"carried_case", "referred_by"}),
)



def damage_claim_id(system_id: str, claim_no: str) -> str:
    """The workflow ID of a damage claim."""
    return f"damage-{system_id}-{claim_no}"


def rr_project_id(system_id: str, project_no: str) -> str:
    """The workflow ID of a removal-and-reinstall project."""
    return f"rr-{system_id}-{project_no}"


def _damage_summary(inp: DamageClaimInput) -> str:
    kind = "roof-leak" if inp.roof_leak else "damage"
    hazard = ", HAZARDOUS" if is_hazardous(inp.hazard) else ""
    return f"{kind} claim {inp.claim_no} for system {inp.system_id} in {inp.market}{hazard}"


def _rr_summary(inp: RemovalReinstallInput) -> str:
    management, _ = rr_management(inp.variant, inp.market, inp.remi_option,
                                  inp.policy.non_remi_markets)
    parent = f", for {inp.parent_claim_id}" if inp.parent_claim_id else ""
    return (f"{inp.variant} R&R project {inp.project_no} for system {inp.system_id} in "
            f"{inp.market} ({management.replace('_', ' ')}-managed{parent})")


DAMAGE = ProcessSpec(
    name="damage", title="damage / roof-leak claim", workflow_types=("DamageClaimWorkflow",),
    input_model=DamageClaimInput, status_model=DamageClaim,
    workflow_id=lambda inp: damage_claim_id(inp.system_id, inp.claim_no),
    start_type=lambda inp: "DamageClaimWorkflow", summary=_damage_summary, id_joins_keys=True,
    internal_fields=frozenset({"carried_case", "project_id"}),
)

RR = ProcessSpec(
    name="rr", title="removal and reinstall project",
    workflow_types=("RemovalReinstallWorkflow",),
    input_model=RemovalReinstallInput, status_model=RrProject,
    workflow_id=lambda inp: rr_project_id(inp.system_id, inp.project_no),
    start_type=lambda inp: "RemovalReinstallWorkflow", summary=_rr_summary, id_joins_keys=True,
)



def reactivation_case_id(contract_id: str) -> str:
    """The workflow ID of a contract's reactivation."""
    return f"reactivation-{contract_id}"


def followup_case_id(case_id: str) -> str:
    """The workflow ID of a third-party follow-up (by its CRM case)."""
    return f"followup-{case_id}"


def inquiry_case_id(case_id: str) -> str:
    """The workflow ID of a support inquiry (by its CRM case)."""
    return f"inquiry-{case_id}"


def _where(system_id: str | None, market: str | None) -> str:
    return (f" for system {system_id}" if system_id else "") + (f" in {market}" if market else "")


def _reactivation_summary(inp: ReactivationInput) -> str:
    return (f"reactivation of contract {inp.contract_id}{_where(inp.system_id, inp.market)}, "
            f"paid {inp.payment_date.isoformat()}")


def _followup_summary(inp: FollowUpInput) -> str:
    beam = inp.concert_beam or inp.party == "gtr"
    party = f"{PARTY_NAMES['gtr']} (Concert/Beam)" if beam else PARTY_NAMES[inp.party]
    return (f"follow-up with {party} for case {inp.case_id}"
            f"{_where(inp.system_id, inp.market)}")


def _inquiry_summary(inp: SupportInquiryInput) -> str:
    m3 = "M3 approved" if inp.m3_approved else "before M3"
    return (f"support inquiry {inp.case_id}: {inp.inquiry.replace('_', ' ')} "
            f"({inp.agreement_type.upper()}, {m3}){_where(inp.system_id, inp.details.market)}")


REACTIVATION = ProcessSpec(
    name="reactivation", title="reactivation after non-payment",
    workflow_types=("ReactivationWorkflow",), input_model=ReactivationInput,
    status_model=Reactivation, workflow_id=lambda inp: reactivation_case_id(inp.contract_id),
    start_type=lambda inp: "ReactivationWorkflow", summary=_reactivation_summary,
    refuse_at_start=lambda inp, now: future_payment(inp.payment_date, now),
    joined_event=joined_event,
)

FOLLOWUP = ProcessSpec(
    name="followup", title="third-party follow-up",
    workflow_types=("PartnerFollowUpWorkflow",), input_model=FollowUpInput,
    status_model=PartnerFollowUp, workflow_id=lambda inp: followup_case_id(inp.case_id),
    start_type=lambda inp: "PartnerFollowUpWorkflow", summary=_followup_summary,
    joined_event=joined_event,
)

INQUIRY = ProcessSpec(
    name="inquiry", title="support inquiry", workflow_types=("SupportInquiryWorkflow",),
    input_model=SupportInquiryInput, status_model=InquiryCase,
    workflow_id=lambda inp: inquiry_case_id(inp.case_id),
    start_type=lambda inp: "SupportInquiryWorkflow", summary=_inquiry_summary, one_shot=True,
    refuse_at_start=lambda inp, now: (
        future_payment(inp.details.payment_date, now)
        if inp.inquiry == "reactivation" and inp.details.payment_date else None),
    time_zone=lambda inp: homeowner_zone(inp.homeowner.time_zone, inp.details.market,
                                         inp.details.zip, inp.homeowner.address),
    market=lambda inp: str(inp.details.market or ""),
)

PROCESSES: dict[str, ProcessSpec] = {
    spec.name: spec for spec in (OM, DAMAGE, RR, REACTIVATION, FOLLOWUP, INQUIRY)}


def process_of(workflow_id: str) -> ProcessSpec:
    """The process a case's workflow ID belongs to; ValueError names the known prefixes."""
    for spec in PROCESSES.values():
        if spec.owns(workflow_id):
            return spec
    known = ", ".join(f"{p}-..." for p in PROCESSES)
    raise ValueError(f"{workflow_id!r} is not a case ID of any process (known: {known})")


def process_of_type(workflow_type: str) -> ProcessSpec:
    """The process a workflow type belongs to."""
    for spec in PROCESSES.values():
        if workflow_type in spec.workflow_types:
            return spec
    raise ValueError(f"{workflow_type!r} is not a workflow type of any process")
