"""Base model and small field types shared by every process model."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError


class StrictModel(BaseModel):
    """Every wire model rejects unknown fields, so a typo in an integration's payload is an error
    that names the field instead of a silently ignored value."""

    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=False)


# Business keys end up in workflow IDs and idempotency keys: keep them to a safe alphabet.
MAX_KEY = 64
BusinessKey = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", strip_whitespace=True)
]
MarketCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$", to_upper=True)]
Instant = AwareDatetime
NonEmpty = Annotated[str, Field(min_length=1, max_length=2000)]


def as_utc_iso(value: datetime | None) -> str:
    """Render an instant for operators (UI details, CLI), or a dash when there is none."""
    return value.isoformat(timespec="minutes") if value else "-"


def describe_span(delta: timedelta) -> str:
    """A duration as operators say it in summaries: "48 h", "7 days"."""
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48 and hours % 24 == 0:
        return f"{hours // 24} days"
    return f"{hours} h" if hours else f"{int(delta.total_seconds() // 60)} min"


def describe_fields(exc: ValidationError) -> str:
    """Each bad field and what is wrong with it; never the value (it may be personal data)."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "payload"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
