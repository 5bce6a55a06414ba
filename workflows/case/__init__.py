"""The case base as a package, one concern a module (spec 2, 2.1, 2.2):

- `base`: `CaseWorkflow`, the case from its input, the run loop over stage blocks, closing and
  continuing as new, hazard first;
- `doors`: the two doors of every event (Update, Signal) and the ops commands;
- `admission`: whether an event fits (a function of the case state);
- `waits`: `wait_for`, the one way a flow waits (deadline, reminder series, typed events);
- `endings`: `Close`, `ContinueAs`, `CaseInterrupted`;
- `visibility`: the one writer of stage, deadline, flags, search attributes and details;
- `effects`: side effects with the failure policy, idempotency keys, the business calendar;
- `contact`: texts and calls whose attempt is the stage (the visit part's, the safety notice);
- `outbox`: homeowner notices, queued with the condition under which they hold, sent in
  contact hours, dropped once untrue;
- `reminders`: durable reminder series;
- `visits`: the visit part (texts, calls, appointment, outcome);
- `links`: cases a case starts or joins.
"""

from workflows.case.admission import EventSpec, events_table
from workflows.case.base import CaseCommon, CaseWorkflow
from workflows.case.effects import CASE_MANAGER
from workflows.case.endings import Close, ContinueAs, Ending
from workflows.case.reminders import Series, pause, resume

__all__ = ["CASE_MANAGER", "CaseCommon", "CaseWorkflow", "Close", "ContinueAs", "Ending",
           "EventSpec", "Series", "events_table", "pause", "resume"]
