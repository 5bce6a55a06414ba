"""The operators' worklist (issue 20): the cases that match a view (process, stage, who they
wait on, system, flags, overdue), from the search attributes alone, sorted by deadline (the dev
server's visibility store refuses `ORDER BY`), with times in the operator's zone and the
homeowner's. `python -m starter list` prints it; `docs/operators.md` has the same views as Web
UI links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from temporalio.client import Client
from temporalio.common import TypedSearchAttributes
from temporalio.service import RPCError

from domain.rules.zones import zone_for_market
from workflows.search_attributes import (
    CASE_OUTCOME,
    CASE_STAGE,
    ESCALATED,
    HAZARDOUS,
    MARKET,
    NEXT_DEADLINE,
    PROCESS_TYPE,
    STAGE_ENTERED_AT,
    SYSTEM_ID,
    WAITING_ON,
)

# "Overdue" (spec 2, issue 20): on the case manager for more than this long, or a deadline past.
CASE_MANAGER_OVERDUE = timedelta(days=3)


@dataclass(frozen=True)
class View:
    """A worklist view: the filters an operator picks (None: any)."""

    process: str | None = None
    stage: str | None = None
    waiting_on: str | None = None
    system_id: str | None = None
    escalated: bool = False
    hazardous: bool = False
    overdue: bool = False
    stuck: bool = False
    closed_too: bool = False


def _quoted(value: str) -> str:
    """A filter value as a query string literal (quotes and backslashes dropped: the values
    are stage names, processes and system IDs, none of which has them)."""
    return '"' + value.replace("\\", "").replace('"', "") + '"'


def view_query(view: View, now: datetime) -> str:
    """The visibility query of a view (what the Web UI's filter box takes)."""
    parts = [] if view.closed_too else ['ExecutionStatus = "Running"']
    if view.process:
        parts.append(f"ProcessType = {_quoted(view.process)}")
    if view.stage:
        parts.append(f"CaseStage = {_quoted(view.stage)}")
    if view.waiting_on:
        parts.append(f"WaitingOn = {_quoted(view.waiting_on)}")
    if view.system_id:
        parts.append(f"SystemId = {_quoted(view.system_id)}")
    if view.escalated:
        parts.append("Escalated = true")
    if view.hazardous:
        parts.append("Hazardous = true")
    if view.overdue:
        since = (now - CASE_MANAGER_OVERDUE).astimezone(UTC).isoformat(timespec="seconds")
        parts.append(f'((WaitingOn = "case_manager" AND StageEnteredAt < "{since}") '
                     f'OR NextDeadline < "{now.astimezone(UTC).isoformat(timespec="seconds")}")')
    if view.stuck:
        parts.append('WaitingOn = "schedule" AND NextDeadline IS NULL')
    return " AND ".join(parts) or 'ExecutionStatus = "Running"'


def ui_link(base_url: str, namespace: str, query: str) -> str:
    """The Temporal Web UI's list of workflows filtered by `query`."""
    return f"{base_url.rstrip('/')}/namespaces/{namespace}/workflows?query={quote(query)}"


def visible_case(case_id: str, sa: TypedSearchAttributes) -> dict[str, Any]:
    """What the server alone knows of a case, from its search attributes: the worklist's row
    and the status read when no worker answers (`starter.client.status_or_visibility`)."""
    deadline, since = sa.get(NEXT_DEADLINE), sa.get(STAGE_ENTERED_AT)
    return {"case_id": case_id, "process": sa.get(PROCESS_TYPE), "stage": sa.get(CASE_STAGE),
            "waiting_on": sa.get(WAITING_ON), "outcome": sa.get(CASE_OUTCOME),
            "system_id": sa.get(SYSTEM_ID), "market": sa.get(MARKET),
            "escalated": bool(sa.get(ESCALATED)), "hazardous": bool(sa.get(HAZARDOUS)),
            "stage_entered_at": since.isoformat() if since else None,
            "next_deadline": deadline.isoformat() if deadline else None}


def _local(at: datetime | None, zone: tzinfo | None) -> str | None:
    if at is None or zone is None:
        return None
    return at.astimezone(zone).strftime("%a %d %b %H:%M %Z")


async def worklist(client: Client, view: View, *, now: datetime | None = None,
                   operator_zone: tzinfo | None = None) -> list[dict[str, Any]]:
    """The cases of a view, soonest deadline first (none last), each with its times in UTC,
    the operator's zone and the homeowner's (from its market)."""
    now = now or datetime.now(UTC)
    operator_zone = operator_zone or datetime.now().astimezone().tzinfo
    rows: list[dict[str, Any]] = []
    try:
        async for wf in client.list_workflows(view_query(view, now)):
            sa = wf.typed_search_attributes
            deadline, market = sa.get(NEXT_DEADLINE), sa.get(MARKET)
            zone_name = zone_for_market(market) if market and market != "-" else None
            home = ZoneInfo(zone_name) if zone_name else None
            rows.append({
                **visible_case(wf.id, sa),
                "next_deadline_operator": _local(deadline, operator_zone),
                "next_deadline_homeowner": _local(deadline, home),
                "overdue": bool(deadline and deadline < now),
                "status": wf.status.name if wf.status else None})
    except RPCError as err:
        from starter.client import _transport  # noqa: PLC0415 - one mapping of RPC errors

        raise _transport(err) from None
    rows.sort(key=lambda r: (r["next_deadline"] is None, r["next_deadline"] or "",
                             r["case_id"]))
    return rows
