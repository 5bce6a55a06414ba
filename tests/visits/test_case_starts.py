"""The base starts another process's case by its workflow ID (a claim's R&R project, an
inquiry's O&M case): the started case outlives the case that started it, and a second start
for an open case joins it instead of opening a duplicate."""

from __future__ import annotations

import uuid

from domain.om import OmCase
from tests.visits.probe_models import ProbeCase, StarterProbeInput
from tests.workflows.harness import CaseDriver, CaseHarness, om_input


async def _run_starter(om: CaseHarness, system_id: str,
                       **flags: bool) -> tuple[CaseDriver[ProbeCase], ProbeCase]:
    """The starter probe run to its end: its driver and its final status."""
    inp = StarterProbeInput(om=om_input(system_id), **flags)
    starter = await om.start("StarterProbeWorkflow", inp, f"starter-{uuid.uuid4()}",
                             ProbeCase)
    return starter, await starter.result()


async def test_a_started_case_outlives_its_starter_and_a_second_start_joins(
        om: CaseHarness) -> None:
    async with om.worker():
        system_id = f"SYS-CHILD-{uuid.uuid4().hex[:6]}"
        _, done = await _run_starter(om, system_id, twice=True)
        assert done.outcome == f"started om-{system_id}"
        child = CaseDriver(om.env, om.client, om.client.get_workflow_handle(f"om-{system_id}"),
                           om.store, OmCase)
        # The starter's result long-poll lets the server skip time, so the case may already be
        # past its first stage: what matters is that it is open and the second start joined it.
        st = await child.settle(lambda s: s.related_reports == 1)
        assert st.outcome is None and st.stage != "closed"
        assert await child.run_status() == "RUNNING"


async def test_an_input_that_cannot_be_built_is_a_failure_for_a_person(om: CaseHarness) -> None:
    """Spec 2.1: business data that makes a child's input invalid is recorded and given to the
    case manager; the starting case goes on (it used to fail its workflow task for ever)."""
    async with om.worker():
        starter, done = await _run_starter(om, f"SYS-BAD-{uuid.uuid4().hex[:6]}",
                                           unbuildable=True)
        assert done.outcome == "started None"
        assert len(done.failures) == 1
        assert "input could not be built" in done.failures[0].reason
        assert "system_id" in done.failures[0].reason
        assert done.failures[0].assigned_to == "case_manager"
        asked = starter.records("assignment")[-1].payload
        assert asked["assignee"] == "case_manager" and "O&M case" in asked["reason"]
