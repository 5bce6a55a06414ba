"""The homeowner's phone as E.164 (domain.homeowner.e164): the same answer whether or not the
number was seen before (the parse is cached), and a bad number refused every time."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.homeowner import Homeowner, e164


@pytest.mark.parametrize(("given", "expected"), [
    ("+14155550100", "+14155550100"), ("(415) 555-0100", "+14155550100"),
    ("415.555.0100", "+14155550100"), ("+1 212 555 0199", "+12125550199"),
])
def test_a_number_is_written_in_e164_first_time_and_again(given: str, expected: str) -> None:
    e164.cache_clear()
    first = Homeowner(name="A", phone=given).phone
    again = Homeowner(name="A", phone=given).phone
    assert first == again == expected
    assert e164.cache_info().hits >= 1  # the second validation did not parse again


@pytest.mark.parametrize(("given", "why"), [
    ("not a phone", "is not a phone number"), ("+1 555 0100", "is not a valid number"),
])
def test_a_bad_number_is_refused_every_time(given: str, why: str) -> None:
    for _ in range(2):  # a refusal is not remembered as an answer
        with pytest.raises(ValidationError, match=why):
            Homeowner(name="A", phone=given)
