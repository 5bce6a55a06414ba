"""The outbox's rules (spec 2.2, domain/outbox.py): which channel a notice takes, and whether a
queued message still holds when its contact-hours opening comes."""

from __future__ import annotations

import pytest

from domain.homeowner import Homeowner
from domain.outbox import Holds, no_longer_holds, notice_channel


@pytest.mark.parametrize(("phone", "email", "channel"), [
    ("+14155550100", "ana@example.com", "email"),  # e-mail first: not held to contact hours
    ("+14155550100", None, "text"),
    (None, "ana@example.com", "email"),
    (None, None, None),  # neither: no notice (the case records one failure)
])
def test_the_channel_of_a_notice(phone: str | None, email: str | None,
                                 channel: str | None) -> None:
    assert notice_channel(Homeowner(name="Ana Ruiz", phone=phone, email=email)) == channel


def test_a_message_with_no_condition_holds_while_the_case_is_not_cancelled() -> None:
    assert no_longer_holds(Holds(), stage="closed", outcome="resolved", counters={}) is None
    why = no_longer_holds(Holds(), stage="closed", outcome="cancelled", counters={})
    assert why == "the case was cancelled"


def test_while_open() -> None:
    holds = Holds(while_open=True)
    assert no_longer_holds(holds, stage="removal", outcome=None, counters={}) is None
    why = no_longer_holds(holds, stage="closed", outcome="completed", counters={})
    assert why is not None and "closed (completed)" in why


def test_in_stage() -> None:
    holds = Holds(in_stage="removal")
    assert no_longer_holds(holds, stage="removal", outcome=None, counters={}) is None
    why = no_longer_holds(holds, stage="roofing_work", outcome=None, counters={})
    assert why is not None and "'removal'" in why and "'roofing_work'" in why


def test_a_newer_decision_supersedes_the_message_about_the_older_one() -> None:
    holds = Holds(counter="liability_decisions", count=1)
    assert no_longer_holds(holds, stage="s", outcome=None,
                           counters={"liability_decisions": 1}) is None
    why = no_longer_holds(holds, stage="s", outcome=None, counters={"liability_decisions": 2})
    assert why is not None and why.startswith("superseded: liability decisions is now 2")
    # A counter the case never bumped is 0: a message about decision 1 does not hold.
    assert no_longer_holds(holds, stage="s", outcome=None, counters={}) is not None


def test_every_condition_given_must_hold() -> None:
    holds = Holds(while_open=True, in_stage="removal", counter="n", count=1)
    assert no_longer_holds(holds, stage="removal", outcome=None, counters={"n": 1}) is None
    for stage, outcome, n in (("closed", "done", 1), ("roofing", None, 1),
                              ("removal", None, 2)):
        assert no_longer_holds(holds, stage=stage, outcome=outcome, counters={"n": n})
