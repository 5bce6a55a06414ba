"""The search attributes every case keeps up to date (spec section 2); the worker registers
them at start. They hold no personal data: they are stored in plain text."""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

CASE_ID = SearchAttributeKey.for_keyword("CaseId")
PROCESS_TYPE = SearchAttributeKey.for_keyword("ProcessType")
CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
CASE_OUTCOME = SearchAttributeKey.for_keyword("CaseOutcome")
MARKET = SearchAttributeKey.for_keyword("Market")
ESCALATED = SearchAttributeKey.for_bool("Escalated")
HAZARDOUS = SearchAttributeKey.for_bool("Hazardous")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
# The system a case is about, where its process knows it: `SystemId="SYS-1001"` lists every
# case of one system (spec 2, 2.3).
SYSTEM_ID = SearchAttributeKey.for_keyword("SystemId")
# Who must act next (spec 2: `homeowner`, `case_manager`, ..., `schedule` when the case only
# waits for its own timer, `none` once closed), and since when the case is in its stage: with
# them "overdue" and "stuck" are queries.
WAITING_ON = SearchAttributeKey.for_keyword("WaitingOn")
STAGE_ENTERED_AT = SearchAttributeKey.for_datetime("StageEnteredAt")

ALL_KEYS: list[SearchAttributeKey[Any]] = [
    CASE_ID, PROCESS_TYPE, CASE_STAGE, CASE_OUTCOME, MARKET, ESCALATED, HAZARDOUS, NEXT_DEADLINE,
    SYSTEM_ID, WAITING_ON, STAGE_ENTERED_AT,
]

# The indexed type of each, for registration (`temporal server start-dev --search-attribute`
# and the operator service).
TYPES: dict[str, str] = {
    "CaseId": "Keyword", "ProcessType": "Keyword", "CaseStage": "Keyword",
    "CaseOutcome": "Keyword", "Market": "Keyword", "Escalated": "Bool", "Hazardous": "Bool",
    "NextDeadline": "Datetime", "SystemId": "Keyword", "WaitingOn": "Keyword",
    "StageEnteredAt": "Datetime",
}
