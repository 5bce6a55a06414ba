"""The visit-scheduling piece's models: the events and policy of the texts / calls /
appointment mechanics that every process that schedules a visit shares (O&M now, the damage
investigation next), and the part of a case's state that piece owns."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import Field, model_validator

from domain.base import BusinessKey, Instant, StrictModel
from domain.events import Event
from domain.rules.contact_hours import ContactHours


class VisitPolicy(StrictModel):
    """Counts and durations of visit scheduling; a process's policy extends it."""

    text_attempts: int = Field(default=3, ge=0, le=10)
    text_interval: timedelta = timedelta(hours=48)
    wait_after_last_text: timedelta = timedelta(hours=48)
    call_attempts: int = Field(default=3, ge=0, le=10)
    appointment_reminder_before: timedelta = timedelta(hours=24)
    outcome_reminder_after: timedelta = timedelta(days=2)
    contact_hours: ContactHours = Field(default_factory=ContactHours)
    # None: resolved once by an activity at case start (US federal holidays), then kept.
    holidays: list[date] | None = None


class TextOptOut(Event):
    """The homeowner replied STOP: no more texts on this case."""


class CallAttemptResult(Event):
    """What a dialer call attempt achieved."""

    reached: bool
    scheduled: bool = False


class AppointmentScheduled(Event):
    """An appointment was booked (self-scheduled through the link, or by phone)."""

    appointment_id: BusinessKey
    window_start: Instant
    window_end: Instant

    @model_validator(mode="after")
    def _ordered(self) -> AppointmentScheduled:
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self


class Appointment(StrictModel):
    """The current appointment of the case."""

    appointment_id: str
    window_start: Instant
    window_end: Instant


class VisitState(StrictModel):
    """What the scheduling piece remembers across visits and continue-as-new."""

    visit_no: int = 0
    appointment: Appointment | None = None
    text_opted_out: bool = False
    reached_by_phone: bool = False
    booking_promised: bool = False
    reminded_appointments: list[str] = Field(default_factory=list)
