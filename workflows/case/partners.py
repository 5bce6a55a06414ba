"""Waiting for an install partner to take dispatched work (spec 3.3, 3.4): the manual O&M
track and a claim's partner path both give the partner a number of business days (the
production holiday calendar, in the homeowner's zone) to accept, then fall back to the
company. One piece, so the two agree on the deadline and on who the case waits on."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.om import PartnerDecision
    from domain.rules.business_days import end_of_business_days
    from domain.rules.zones import calendar_zone

if TYPE_CHECKING:
    from workflows.case.base import CaseWorkflow


async def partner_decision_due(host: CaseWorkflow[Any], business_days: int) -> datetime:
    """The end of the `business_days`-th business day from now, in the homeowner's zone."""
    return end_of_business_days(workflow.now(), business_days,
                                calendar_zone(host.case.time_zone),
                                await host.business_calendar())


async def await_partner_decision(host: CaseWorkflow[Any], due: datetime, business_days: int,
                                 waiting_for: str = "the partner's decision"
                                 ) -> PartnerDecision | None:
    """The partner's answer until `due` (None: no answer in time)."""
    return await host.wait_for(
        PartnerDecision, deadline=due, waiting_for=waiting_for, waiting_on="partner",
        summary=f"wait {business_days} business days for the partner")
