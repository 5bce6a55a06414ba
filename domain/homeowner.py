"""The homeowner (or contract holder / authorized representative), used by every process.

Everything in this model is personal data: it may be passed to activities that contact the
homeowner, but never to logs, search attributes, summaries or memos."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from pydantic import Field, field_validator

from domain.base import StrictModel
from domain.rules.zones import is_known_zone

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Homeowner(StrictModel):
    """Contact details of the homeowner; without `time_zone` the zone comes from the ZIP code
    (the input's, else the one ending `address`), else the market (spec 2.1)."""

    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    address: str | None = Field(default=None, max_length=500)
    time_zone: str | None = Field(default=None, max_length=64)

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return None if value is None else e164(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("email is not an e-mail address")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and not is_known_zone(value):
            raise ValueError(f"time_zone {value!r} is not an IANA time zone")
        return value


@lru_cache(maxsize=4096)
def e164(value: str) -> str:
    """A phone number in E.164, or ValueError saying why it is not one. Cached: every decode of
    a case's input, events and message requests validates the same few numbers again, and
    parsing one is the costliest check of a case's models (3% of a busy worker's CPU)."""
    try:
        parsed = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"phone is not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("phone is not a valid number (E.164 expected, e.g. +14155550100)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str | None) -> str:
    """A phone number reduced to what an operator needs to tell two numbers apart."""
    if not phone:
        return "-"
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:]
