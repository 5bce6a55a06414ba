"""How a claim's liability decision ends (spec 3.4: "Denial, Repair, and/or Settlement"): from
what is done (the repair) and the homeowner's answer to a settlement offer, the outcome the
claim closes with, or None while a part is still open. Pure, so every combination is tested."""

from __future__ import annotations

from typing import Literal

from domain.damage import SettlementState

# What happens next: close with an outcome, wait (for the repair or the answer), or go back to
# the case manager (a settlement alone, declined: a new offer, a repair or a denial).
Next = Literal["wait", "liability"]


def resolution(repairs: bool, repair_done: bool,
               settlement: SettlementState | None) -> str | Next:
    """The claim's outcome once its parts are done, else what it does next. `repairs`: the
    decision included a repair; `settlement`: the offer's state (None: no settlement)."""
    if repairs and not repair_done:
        return "wait"
    if settlement is None:
        return "repaired"
    if settlement == "offered":
        return "wait"
    if not repairs:
        return "settled" if settlement == "accepted" else "liability"
    return "repaired_and_settled" if settlement == "accepted" else "settlement_declined"
