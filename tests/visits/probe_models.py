"""Models of the probe workflow (kept apart so the sandbox passes them through unchanged)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from domain.base import StrictModel
from domain.case import CaseState
from domain.events import Event
from domain.homeowner import Homeowner
from domain.om import OmCaseInput
from domain.policy import CasePolicy
from domain.processes import ProcessSpec
from domain.reminders import Cadence
from domain.rules.zones import HomeownerZone
from domain.visits import VisitPolicy, VisitState


class ProbeInput(StrictModel):
    """A visit to book for a homeowner, under a policy."""

    homeowner: Homeowner
    policy: VisitPolicy = Field(default_factory=VisitPolicy)
    skip_texts: bool = False
    hazardous: bool = False
    carried_case: ProbeCase | None = None


class VisitDone(Event):
    """The probe's outcome event (a process names its own, e.g. `appointment_outcome`); like the
    damage claim's `field_assessment`, it carries no appointment ID."""

    EVENT: ClassVar[str] = "visit_done"

    result: str


class ProbeCase(CaseState):
    """A case that is nothing but a visit."""

    process: str = "visit_probe"
    visit: VisitState = Field(default_factory=VisitState)


class ReminderProbeInput(StrictModel):
    """A wait with reminders on a cadence; `carried_case` after continue-as-new."""

    cadence: Cadence
    policy: CasePolicy = Field(default_factory=CasePolicy)
    homeowner: Homeowner = Field(default_factory=lambda: Homeowner(name="nobody"))
    carried_case: ProbeCase | None = None


class ProbeDone(Event):
    """What the reminder probe waits for."""

    EVENT: ClassVar[str] = "probe_done"


class ProbePause(Event):
    """Pause the probe's reminders (R&R's `step_blocked`)."""

    EVENT: ClassVar[str] = "probe_pause"


class ProbeResume(Event):
    """Resume them (R&R's `step_unblocked`)."""

    EVENT: ClassVar[str] = "probe_resume"


class ProbeRestart(Event):
    """Continue the probe as new mid-wait (as a months-long case does for a fresh history)."""

    EVENT: ClassVar[str] = "probe_restart"


class StarterProbeInput(StrictModel):
    """An O&M case for the starter probe to start (twice: the second joins)."""

    om: OmCaseInput
    twice: bool = False
    # Build the case's input from data that cannot make a valid one (a key too long).
    unbuildable: bool = False
    policy: CasePolicy = Field(default_factory=lambda: CasePolicy(holidays=[]))
    homeowner: Homeowner = Field(default_factory=lambda: Homeowner(name="nobody"))
    carried_case: ProbeCase | None = None


def _probe_zone(inp: ProbeInput | ReminderProbeInput | StarterProbeInput) -> HomeownerZone:
    return HomeownerZone(inp.homeowner.time_zone or "UTC", "homeowner")


# The probes as the base sees a process: their zone is the homeowner's (else UTC).
PROBE = ProcessSpec(
    name="probe", title="probe", workflow_types=("VisitProbeWorkflow",), input_model=ProbeInput,
    status_model=ProbeCase, workflow_id=lambda inp: "probe", start_type=lambda inp: "probe",
    summary=lambda inp: "probe", time_zone=_probe_zone, market=lambda inp: "CA")


ProbeInput.model_rebuild()
