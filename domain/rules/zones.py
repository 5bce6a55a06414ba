"""Time zones: which zone a homeowner is in (spec 2.1: their own, else their ZIP code's, the
input's or the one ending their address, else their market's, else none), and zone objects
that work inside the workflow sandbox.

Zones are built here, in a module passed through the sandbox, because a `ZoneInfo` created in
sandboxed code is a proxy that `datetime.astimezone` rejects. They are loaded eagerly at import
(outside the sandbox's file-access restrictions) and cached."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

from domain.rules import zip_table

_KNOWN_ZONES = frozenset(available_timezones())

# The zone where most of a state's population lives; a homeowner in a state's minority zone
# should carry `time_zone` explicitly. IANA has no state-to-zone table, so this one is ours.
MARKET_ZONES: dict[str, str] = {
    "AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix",
    "AR": "America/Chicago", "CA": "America/Los_Angeles", "CO": "America/Denver",
    "CT": "America/New_York", "DE": "America/New_York", "DC": "America/New_York",
    "FL": "America/New_York", "GA": "America/New_York", "HI": "Pacific/Honolulu",
    "ID": "America/Boise", "IL": "America/Chicago", "IN": "America/Indiana/Indianapolis",
    "IA": "America/Chicago", "KS": "America/Chicago", "KY": "America/New_York",
    "LA": "America/Chicago", "ME": "America/New_York", "MD": "America/New_York",
    "MA": "America/New_York", "MI": "America/Detroit", "MN": "America/Chicago",
    "MS": "America/Chicago", "MO": "America/Chicago", "MT": "America/Denver",
    "NE": "America/Chicago", "NV": "America/Los_Angeles", "NH": "America/New_York",
    "NJ": "America/New_York", "NM": "America/Denver", "NY": "America/New_York",
    "NC": "America/New_York", "ND": "America/Chicago", "OH": "America/New_York",
    "OK": "America/Chicago", "OR": "America/Los_Angeles", "PA": "America/New_York",
    "PR": "America/Puerto_Rico", "RI": "America/New_York", "SC": "America/New_York",
    "SD": "America/Chicago", "TN": "America/Chicago", "TX": "America/Chicago",
    "UT": "America/Denver", "VT": "America/New_York", "VA": "America/New_York",
    "WA": "America/Los_Angeles", "WV": "America/New_York", "WI": "America/Chicago",
    "WY": "America/Denver", "GU": "Pacific/Guam", "VI": "America/St_Thomas",
}  # fmt: skip

# The zones of the markets the company serves, Hawaii to Puerto Rico (Guam's day is another
# day: it is not served from here). When a homeowner's zone is unknown, contact hours are the
# hours inside the window in every one of them (spec 2.1).
SERVED_ZONES: tuple[str, ...] = tuple(sorted(
    set(MARKET_ZONES.values()) - {"Pacific/Guam"}))

ZoneSource = Literal["homeowner", "zip", "address", "market", "unknown"]

# A US ZIP code (or ZIP+4) that ends an address, optionally followed by the country.
_ZIP_AT_END = re.compile(
    r"(?<![\dA-Za-z-])(\d{5})(?:-\d{4})?[\s,.]*(?:USA|U\.S\.A\.|US|United States)?[\s,.]*$",
    re.IGNORECASE)


def is_known_zone(name: str) -> bool:
    """Whether `name` is an IANA zone this machine's tz database knows."""
    return name in _KNOWN_ZONES


def zone_for_market(market: str | None) -> str | None:
    """The IANA zone of a market (a US state), or None for an unknown market."""
    return MARKET_ZONES.get(market.upper()) if market else None


# Read at import (outside the sandbox): workflow code never touches the file system. The
# `zipcodes` package ships the USPS ZIP list with each code's IANA zone; a state-wide guess is
# wrong for split states (El Paso is Mountain time, Texas mostly Central). Its 42,000 records
# cost every process about 47 MiB to read, so they come as a generated 100 KB table.
_ZIP_TABLE = zip_table.load()


def zone_for_zip(zip_code: str | None) -> str | None:
    """The IANA zone of a US ZIP code, or None when the ZIP database does not know it."""
    return zip_table.zone_at(_ZIP_TABLE, zip_code) if zip_code else None


def zip_in_address(address: str | None) -> str | None:
    """The ZIP code at the end of a US address ("..., NY 10001", "... 10001-1234, USA"), or
    None (a PO box number or a house number is not at the end)."""
    if not address:
        return None
    found = _ZIP_AT_END.search(address.strip())
    return found.group(1) if found else None


@dataclass(frozen=True)
class HomeownerZone:
    """The zone a homeowner is contacted in, and which fact gave it; `zone` None: unknown (the
    all-zones window applies)."""

    zone: str | None
    source: ZoneSource


def homeowner_zone(explicit: str | None, market: str | None, zip_code: str | None = None,
                   address: str | None = None) -> HomeownerZone:
    """The zone contact hours are computed in (spec 2.1): the homeowner's own, else the ZIP
    code's (the input's, else the one ending the address), else the market's; else none."""
    if explicit and is_known_zone(explicit):
        return HomeownerZone(explicit, "homeowner")
    by_zip = zone_for_zip(zip_code)
    if by_zip:
        return HomeownerZone(by_zip, "zip")
    by_address = zone_for_zip(zip_in_address(address))
    if by_address:
        return HomeownerZone(by_address, "address")
    by_market = zone_for_market(market)
    if by_market:
        return HomeownerZone(by_market, "market")
    return HomeownerZone(None, "unknown")


def calendar_zone(name: str | None) -> tzinfo:
    """The zone a case's calendar days are counted in (business days, "today"): the
    homeowner's, or UTC when it is unknown (inside the all-zones window, 18:00-24:00 UTC, every
    served zone has the UTC date)."""
    return zone(name) if name else UTC


@cache
def zone(name: str) -> ZoneInfo:
    """A real (non-proxied) `ZoneInfo`, cached so replays never touch the file system again."""
    return ZoneInfo(name)


# Loaded at import, outside the sandbox: workflow code then never touches the file system.
for _name in set(MARKET_ZONES.values()) | set(_ZIP_TABLE[0]) | {"UTC"}:
    zone(_name)


def homeowner_local(value: datetime | None, time_zone: str | None) -> str | None:
    """An instant in the homeowner's zone, as operators read it beside UTC ("Mon 08:00 PST"),
    or None without a zone."""
    if value is None or not time_zone:
        return None
    return value.astimezone(calendar_zone(time_zone)).strftime("%a %H:%M %Z")
