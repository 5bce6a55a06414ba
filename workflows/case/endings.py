"""How a case's flow ends: closed with an outcome, or continued as new (another track, or the
same workflow with a fresh history). An ops command or Temporal's own cancel ends the flow
early through `CaseInterrupted`, carrying the ending."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Close:
    """The case closes with this outcome."""

    outcome: str


@dataclass(frozen=True)
class ContinueAs:
    """This run ends (with `outcome` in its status) and the case continues, under the same
    workflow ID, as `workflow` (the same type for a fresh history, another for a new track).
    Pending events are carried over unless `drain_pending`, which records them as not applied."""

    workflow: str
    reason: str
    outcome: str | None
    drain_pending: bool = True
    escalate: bool = True
    # A fresh history for the same case: the run ends where it stands (stage, pending events,
    # reminder series, queued messages) and the next run resumes there; nothing is closed.
    fresh_history: bool = False


Ending = Close | ContinueAs


class CaseInterrupted(Exception):
    """Raised out of a wait or a side effect when an ops command, a cancellation or a history
    grown too long ends the flow early."""

    def __init__(self, ending: Ending) -> None:
        super().__init__(repr(ending))
        self.ending = ending
