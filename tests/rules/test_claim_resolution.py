"""How a claim's liability decision ends (spec 3.4), every combination of the repair's state
and the settlement's."""

from __future__ import annotations

import pytest

from domain.rules.claim_resolution import resolution


@pytest.mark.parametrize(("repairs", "done", "settlement", "expected"), [
    (True, False, None, "wait"),                  # the repair is going on
    (True, False, "offered", "wait"),
    (True, False, "accepted", "wait"),            # answered during the repair: still waits
    (True, True, None, "repaired"),
    (True, True, "offered", "wait"),              # the repair is done, the answer is not
    (True, True, "accepted", "repaired_and_settled"),
    (True, True, "declined", "settlement_declined"),
    (False, False, "offered", "wait"),
    (False, False, "accepted", "settled"),
    (False, False, "declined", "liability"),      # a settlement alone, declined: decide again
])
def test_each_combination(repairs: bool, done: bool, settlement: str | None,
                          expected: str) -> None:
    assert resolution(repairs, done, settlement) == expected  # type: ignore[arg-type]
