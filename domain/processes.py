"""The one list of processes (spec section 3): for each, its workflow types, input and status
models, workflow-ID function and contract folder. The worker registry, the starter, the
contract generator, the test harness and the replay test all read `PROCESSES`, so a new process
is one entry here plus its own modules.

Workflow-ID functions live here, in the domain, so that a workflow can start or signal another
process's case by its ID (a claim starting its R&R project, an inquiry joining an O&M case)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from domain.damage import DamageClaim, DamageClaimInput
from domain.om import OmCase, OmCaseInput, report_fingerprint
from domain.rr import RemovalReinstallInput, RrProject
from domain.rules.eligibility import intake_decision
from domain.rules.hazard import is_hazardous
from domain.rules.market_routing import rr_management


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

    @property
    def prefix(self) -> str:
        """The workflow-ID prefix (`om` in `om-SYS-1`), also the contract folder's name."""
        return self.name

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
    start_type=lambda inp: "DamageClaimWorkflow", summary=_damage_summary,
)

RR = ProcessSpec(
    name="rr", title="removal and reinstall project",
    workflow_types=("RemovalReinstallWorkflow",),
    input_model=RemovalReinstallInput, status_model=RrProject,
    workflow_id=lambda inp: rr_project_id(inp.system_id, inp.project_no),
    start_type=lambda inp: "RemovalReinstallWorkflow", summary=_rr_summary,
)

PROCESSES: dict[str, ProcessSpec] = {spec.name: spec for spec in (OM, DAMAGE, RR)}


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
