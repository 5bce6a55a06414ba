"""Arguments and results of the side-effect activities: one model in, one model out.

Each request carries an idempotency `key` that names the business action
(`om-SYS-1/visit1/text/2`, `om-SYS-1/fs-case`). Keys are built from the workflow ID and business
facts, never the run ID, so they stay the same across retries and continue-as-new."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from domain.base import Instant, StrictModel
from domain.homeowner import Homeowner

Channel = Literal["text", "call_task", "email", "letter"]
RecordKind = Literal["fs_case", "work_order", "dispatch", "asset_update", "project", "claim",
                     "support_case", "referral", "disposition"]
PartyRole = Literal["installer", "omnidian", "gtr"]
Priority = Literal["normal", "high", "p1"]
AssigneeType = Literal["team", "person"]

# ApplicationError types the activities raise, so workflows tell the reasons apart.
CONTACT_UNUSABLE = "ContactUnusable"  # no phone, or a number the gateway refuses for good
SEND_WINDOW_CLOSED = "SendWindowClosed"  # a homeowner message past its send-by instant


class Notification(StrictModel):
    """Tell the homeowner something (or queue a dialer call to them) using a named template."""

    key: str
    case_id: str
    channel: Channel
    template: str
    recipient: Homeowner
    params: dict[str, str] = Field(default_factory=dict)
    # Personal text filled into a named template's message (`domain.templates`), never stored.
    private: dict[str, str] = Field(default_factory=dict)
    # Texts and calls: not delivered after this instant (the end of the contact-hours opening,
    # spec 2.1); the workflow tries again at the next opening. None: no limit (safety notices,
    # e-mails, letters).
    send_by: Instant | None = None


class PartyContact(StrictModel):
    """A third party a case e-mails (the installer, the service department Omnidian, Green Tech
    Renewables): its role and business address."""

    role: PartyRole
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class PartyEmail(StrictModel):
    """E-mail a third party using a named template (`domain.templates`), about the homeowner
    `about`, copying the homeowner when `cc_homeowner` (spec 3.7: never for Concert/Beam).

    `params` are the template's non-personal fields and are stored; `private` (the concern, the
    best time to reach) and the homeowner's details are only filled into the message that is
    delivered, never stored."""

    key: str
    case_id: str
    template: str
    to: PartyContact
    about: Homeowner
    cc_homeowner: bool = False
    params: dict[str, str] = Field(default_factory=dict)
    private: dict[str, str] = Field(default_factory=dict)


class Assignment(StrictModel):
    """Give the case (or a task on it) to a team or a person, with the reason."""

    key: str
    case_id: str
    assignee: str
    assignee_type: AssigneeType = "team"
    reason: str
    priority: Priority = "normal"


class CrmRecordRequest(StrictModel):
    """Create a CRM record (FS case, work order, dispatch, asset update, project)."""

    key: str
    case_id: str
    kind: RecordKind
    fields: dict[str, str] = Field(default_factory=dict)
    # The homeowner the record is about (a support case holds their name and address): handed
    # to the CRM, never stored in the record store.
    contact: Homeowner | None = None
    # Free text the CRM needs that may hold personal data (a case description): delivered,
    # not stored.
    private: dict[str, str] = Field(default_factory=dict)
    # A named template (`domain.templates`) whose text the record carries (a referral comment),
    # filled from `fields`, `private` and `contact` when delivered.
    template: str | None = None


class CloseRecordsRequest(StrictModel):
    """Close the CRM records a case opened (FS case, work orders, dispatches) with its
    outcome (spec 2.1)."""

    key: str
    case_id: str
    record_ids: list[str]
    outcome: str
    # Closure comments (spec 3.7: required to close a follow-up case).
    comments: str | None = None


class MonitoringRequest(StrictModel):
    """Ask the monitoring integration to act on a system (remote fix, health check)."""

    key: str
    case_id: str
    system_id: str


class EffectReceipt(StrictModel):
    """What a side-effect activity did: the record it made, and whether this call made it
    (`created` is false when a retry found the record of an earlier attempt)."""

    key: str
    record_id: str
    created: bool


class HealthCheckResult(StrictModel):
    """System health from monitoring; `healthy` is None when monitoring has no answer yet."""

    healthy: bool | None


class HolidayRequest(StrictModel):
    """The years to resolve the holiday calendar for."""

    years: list[int]


class HolidayCalendar(StrictModel):
    """A resolved holiday list, kept in the case so replays never recompute it."""

    holidays: list[date]


class ProjectRepairsRequest(StrictModel):
    """A claim's (or an O&M repair's) damage repairs, for the system's open R&R project, if
    any (spec 2.3): the project the damage was found in is asked first, then any other open
    project of the system. `key` is the event ID the project de-duplicates retries by."""

    key: str
    case_id: str
    system_id: str
    description: str = ""
    source_project_id: str | None = None


class CancelRequest(StrictModel):
    """Which run's cancel request to read (`activities.cancel_requests`)."""

    key: str
    case_id: str
    run_id: str


class CancelRequestDetails(StrictModel):
    """Who asked Temporal to cancel a case (its client identity), and the reason given."""

    identity: str | None = None
    reason: str | None = None


class ProjectRepairsResult(StrictModel):
    """Where the repairs went: `added` to `project_id`; refused by the open `project_id` with
    the `reason` (past its roofing step); or no open project (`project_id` None)."""

    project_id: str | None = None
    added: bool = False
    reason: str = ""

