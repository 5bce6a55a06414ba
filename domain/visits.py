"""The visit-scheduling piece's models: the events and policy of the texts / calls /
appointment mechanics that every process that schedules a visit shares (O&M now, the damage
investigation next), and the part of a case's state that piece owns."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from domain.base import BusinessKey, Instant, StrictModel
from domain.events import Event
from domain.policy import CasePolicy

VisitPhase = Literal["booking", "promised", "scheduled", "findings"]


class VisitPolicy(CasePolicy):
    """Counts and durations of visit scheduling; a process's policy extends it."""

    text_attempts: int = Field(default=3, ge=0, le=10)
    text_interval: timedelta = timedelta(hours=48)
    wait_after_last_text: timedelta = timedelta(hours=48)
    call_attempts: int = Field(default=3, ge=0, le=10)
    # One call a business day (spec 3.2); a hazardous case calls every calendar day (spec 2.1).
    call_spacing_business_days: int = Field(default=1, ge=0, le=10)
    hazard_call_spacing_days: int = Field(default=1, ge=0, le=10)
    appointment_reminder_before: timedelta = timedelta(hours=24)
    outcome_reminder_after: timedelta = timedelta(days=2)


class TextOptOut(Event):
    """The homeowner replied STOP: no more texts on this case."""

    EVENT: ClassVar[str] = "text_opt_out"


class CallAttemptResult(Event):
    """What a dialer call attempt achieved."""

    EVENT: ClassVar[str] = "call_attempt_result"

    reached: bool
    scheduled: bool = False


class AppointmentScheduled(Event):
    """An appointment was booked (self-scheduled through the link, or by phone)."""

    EVENT: ClassVar[str] = "appointment_scheduled"

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
    """What the scheduling part remembers across visits and continue-as-new. The counters of
    the visit being booked (`texts_sent`, `calls_placed`, `reminders_sent`) start again with
    each visit, so a
    second visit's call result waits for that visit's own call."""

    visit_no: int = 0
    appointment: Appointment | None = None
    text_opted_out: bool = False
    reached_by_phone: bool = False
    booking_promised: bool = False
    # Which appointment windows were reminded ("<appointment_id>@<window start>"), so a
    # reschedule that keeps the appointment ID but moves the window is reminded again.
    reminded_appointments: list[str] = Field(default_factory=list)
    texts_sent: int = 0
    calls_placed: int = 0
    last_call_at: Instant | None = None
    reminders_sent: int = 0
    # Where the visit in progress stands (None: none in progress), so a run continued as new
    # during one of its long waits (the promised booking, the outcome) resumes there.
    phase: VisitPhase | None = None
