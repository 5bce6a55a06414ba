"""The worklist's views as visibility queries (issue 20): each filter, the "overdue" and
"stuck" definitions, and the Web UI links built from them."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

from starter.worklist import View, ui_link, view_query

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_every_filter_is_a_clause_and_open_cases_are_the_default() -> None:
    assert view_query(View(), NOW) == 'ExecutionStatus = "Running"'
    q = view_query(View(process="damage_claim", stage="liability_determination",
                        waiting_on="case_manager", escalated=True, hazardous=True), NOW)
    assert q == ('ExecutionStatus = "Running" AND ProcessType = "damage_claim" AND '
                 'CaseStage = "liability_determination" AND WaitingOn = "case_manager" AND '
                 "Escalated = true AND Hazardous = true")
    # One system's cases include the closed ones.
    assert view_query(View(system_id="SYS-1", closed_too=True), NOW) == 'SystemId = "SYS-1"'
    # A value cannot close the string and add a clause.
    assert view_query(View(stage='x" OR CaseId = "y'), NOW).count('"') == 4


def test_overdue_and_stuck_are_the_definitions_of_the_docs() -> None:
    overdue = view_query(View(overdue=True), NOW)
    assert ('((WaitingOn = "case_manager" AND StageEnteredAt < "2026-11-27T09:00:00+00:00") '
            'OR NextDeadline < "2026-11-30T09:00:00+00:00")') in overdue
    assert view_query(View(stuck=True), NOW).endswith(
        'WaitingOn = "schedule" AND NextDeadline IS NULL')


def test_a_view_is_a_web_ui_link() -> None:
    link = ui_link("http://localhost:8233/", "default", view_query(View(escalated=True), NOW))
    assert link.startswith("http://localhost:8233/namespaces/default/workflows?query=")
    assert unquote(link.split("query=", 1)[1]) == 'ExecutionStatus = "Running" AND Escalated = true'
