"""Spec 2.3: the cases of one system act as one. Each test drives the workflows on the
time-skipping server and checks what happens after the first case closes or hands over: the
P1 dispatch still open with its owner, no second project, the parent's stage and assignment,
one answer per inquiry, one case per ID, and every case findable by its system."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.service import RPCError, RPCStatusCode

from domain.damage import DamageClaim
from domain.inquiry import InquiryCase
from domain.om import OmCase
from domain.processes import INQUIRY, RR
from domain.rr import RrProject
from starter.client import CaseIdConflict, open_case
from tests.workflows.harness import (
    CaseDriver,
    CaseHarness,
    claim_input,
    inquiry_input,
    om_input,
    rr_input,
)

HAZARD = {"sparks_smoke_fire": True}
COMPANY_STEPS = ("removal_completed", "roofing_completed", "reinstall_completed")


async def _run_id(om: CaseHarness, workflow_id: str) -> str | None:
    """The current run of a workflow ID, None when there is none (read raw: the test server's
    Datetime search attributes do not decode in `describe()`)."""
    try:
        desc = await om.client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(namespace=om.client.namespace,
                                             execution=WorkflowExecution(workflow_id=workflow_id)))
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return desc.workflow_execution_info.execution.run_id


async def _exists(om: CaseHarness, workflow_id: str) -> bool:
    return await _run_id(om, workflow_id) is not None


async def _claim_to_rr(claim: CaseDriver[DamageClaim]) -> DamageClaim:
    """A claim investigated, the company at fault, and a repair that needs R&R decided."""
    await claim.stage("investigation")
    await claim.book()
    await claim.send("field_assessment", follow_up_required=False, at_fault="company")
    await claim.stage("liability_determination")
    return await claim.send("liability_determined", liable_party="company", decision="repair",
                            rr_required=True)


async def _damage_found(om: CaseHarness, project: CaseDriver[RrProject],
                        **found: Any) -> CaseDriver[DamageClaim]:
    before = len((await project.status()).damage_claims)
    await project.send("damage_reported", description="cracked rafter under the array",
                       roof_leak=True, **found)
    st = await project.settle(lambda s: len(s.damage_claims) == before + 1)
    return om.driver(st.damage_claims[-1], DamageClaim)


async def test_damage_found_during_an_rr_joins_that_project_never_a_second_one(
        om: CaseHarness) -> None:
    """Defect 2: the claim started `rr-...-P1-D1`, which waited for a removal that could not
    happen and texted "removal is late" weekly. Now its repairs join the project it came from,
    whose roofing step includes them, and the claim waits for that project."""
    async with om.worker():
        project = await om.open_project(rr_input(variant="damage"))
        await project.stage("removal")
        claim = await _damage_found(om, project)
        st = await _claim_to_rr(claim)
        assert st.stage == "project_in_progress" and st.project_id == project.case_id
        assert st.project_repairs_added and st.outcome is None
        pst = await project.status()
        assert [r.claim_id for r in pst.added_repairs] == [claim.case_id]
        assert pst.added_repairs[0].stage == "removal"
        assert not await _exists(om, f"rr-{st.system_id}-{st.claim_no}")
        for step in COMPANY_STEPS:
            await project.send(step)
        assert (await project.settle(lambda s: s.outcome is not None)).outcome == "completed"
        cst = await claim.settle(lambda s: s.outcome is not None)
        assert cst.outcome == "repaired" and cst.stage == "closed"
        assert (await project.status()).ending_reported_to == [claim.case_id]


async def test_an_elective_project_takes_the_repairs_of_a_claim_found_on_it(
        om: CaseHarness) -> None:
    """The same on an elective, company-managed project (NJ): its roofing step becomes
    "roofing work and damage repairs" once a claim has added repairs."""
    async with om.worker():
        project = await om.open_project(rr_input(market="NJ", zip="07030"))
        await project.stage("removal")
        await project.send("removal_completed")
        await project.stage("roofing_work")
        claim = await _damage_found(om, project)
        st = await _claim_to_rr(claim)
        assert st.project_id == project.case_id and st.stage == "project_in_progress"
        pst = await project.fire_next_timer()  # the roofing step overruns
        assert pst.stage == "roofing_work"
        check_in = [r.payload["reason"] for r in project.records("assignment")
                    if "check in" in r.payload["reason"]]
        assert check_in and check_in[0].startswith("roofing work and damage repairs")


async def test_repairs_a_project_can_no_longer_take_go_to_the_case_manager(
        om: CaseHarness) -> None:
    """Past its roofing step a project refuses the repairs (naming why); the claim goes back
    to liability with the case manager assigned, and no second project starts."""
    async with om.worker():
        project = await om.open_project(rr_input(variant="damage"))
        await project.stage("removal")
        claim = await _damage_found(om, project)
        for step in COMPANY_STEPS[:2]:
            await project.send(step)
        await project.stage("reinstall")
        st = await _claim_to_rr(claim)
        st = await claim.settle(lambda s: s.stage == "liability_determination"
                                and s.attempts.get("project_requests") == 1)
        assert st.project_id is None and st.outcome is None
        told = [r.payload for r in claim.records("assignment")]
        assert any(project.case_id in t["reason"] and "cannot take the repairs" in t["reason"]
                   and "reinstall" in t["reason"] for t in told)
        assert not await _exists(om, f"rr-{st.system_id}-{st.claim_no}")
        assert (await project.status()).added_repairs == []


async def test_a_hazard_reported_on_a_project_goes_to_the_om_case_through_its_claim(
        om: CaseHarness) -> None:
    async with om.worker():
        project = await om.open_project(rr_input())
        await project.stage("removal")
        claim = await _damage_found(om, project, hazard=HAZARD)
        cst = await claim.stage("investigation")
        owner_id = f"om-{cst.system_id}"
        assert cst.hazard_case_id == owner_id
        assert (await project.status()).hazard_case_id == owner_id
        owner = om.driver(owner_id, OmCase)
        o = await owner.settle(lambda s: bool(owner.records("dispatch")))
        assert o.hazard_referrals == [claim.case_id] and o.outcome is None
        assert len(owner.records("dispatch")) == 1
        assert project.records("dispatch") == claim.records("dispatch") == []


async def test_an_inquiry_opened_twice_answers_once(om: CaseHarness) -> None:
    """Defect 4: a retried open of a closed inquiry ran again: a second reply, transfer and
    disposition. Now the second opening answers with the first run's outcome."""
    inquiry = inquiry_input(inquiry="maintenance_request")  # PPA after M3: warm transfer
    async with om.worker():
        first = await open_case(om.client, INQUIRY, inquiry, om.task_queue)
        case = om.driver(first.case_id, InquiryCase)
        st = await case.until(lambda s: s.outcome is not None and not s.outbox)
        before = [(r.kind, r.key) for r in case.records()]
        assert before and any(k == "disposition" for k, _ in before)
        again = await open_case(om.client, INQUIRY, inquiry, om.task_queue)
        assert again.joined is True and again.outcome == st.outcome and again.run_id is None
        assert await _run_id(om, case.case_id) == first.run_id
        await case.settle()
        assert [(r.kind, r.key) for r in case.records()] == before


async def test_one_id_for_two_cases_is_refused_naming_the_conflict(om: CaseHarness) -> None:
    """Defect 5: `rr-A-B-C` of system `A-B` and project `C` and of system `A` and project
    `B-C`: the second opening silently joined the first. Now it is refused, and the first
    case is unharmed."""
    async with om.worker():
        first = await om.open_project(rr_input("A-B", project_no="C"))
        assert first.case_id == "rr-A-B-C"
        st = await first.stage("removal")
        with pytest.raises(CaseIdConflict, match=r"rr-A-B-C .*system A-B.*system A\b"):
            await open_case(om.client, RR, rr_input("A", project_no="B-C"), om.task_queue)
        after = await first.settle()
        assert after.system_id == "A-B" and after.events == st.events
        # The same project opened again is a join, as before.
        again = await open_case(om.client, RR, rr_input("A-B", project_no="C"), om.task_queue)
        assert again.joined is True


async def test_every_case_of_a_system_carries_its_system_id(om: CaseHarness) -> None:
    """Defect 6: `SystemId` on every case that knows its system."""
    system = "SYS-ONE-1"
    async with om.worker():
        cases: list[CaseDriver[Any]] = [
            await om.open(om_input(system)),
            await om.open_claim(claim_input(system)),
            await om.open_project(rr_input(system)),
            await om.open_process(INQUIRY, inquiry_input(system_id=system,
                                                         inquiry="monitoring_access"),
                                  InquiryCase),
        ]
        for case in cases:
            await case.settle()
            assert (await case.search_attributes())["SystemId"] == system, case.case_id


async def test_one_system_through_an_inquiry_a_claim_a_project_and_its_om_case(
        om: CaseHarness) -> None:
    """One homeowner's system: a hazardous inquiry (sparks), a hazardous roof-leak claim, an
    elective R&R project on which damage is found, and the O&M case that owns the hazard. The
    records of all of them together: one safety notice, one P1 dispatch (open), one project,
    the damage repaired within it, every case where it should be."""
    system = "SYS-ONE-2"
    owner_id = f"om-{system}"
    async with om.worker():
        inquiry = await om.open_process(INQUIRY, inquiry_input(
            system_id=system, inquiry="damage_report", agreement_type="ric",
            details={"hazard": HAZARD, "market": "CA", "zip": "94103"}), InquiryCase)
        ist = await inquiry.until(lambda s: s.outcome is not None and not s.outbox)
        assert ist.hazard_case_id == owner_id
        owner = om.driver(owner_id, OmCase)
        await owner.settle(lambda s: bool(owner.records("dispatch")))

        claim = await om.open_claim(claim_input(system, hazard=HAZARD))
        cst = await claim.stage("investigation")
        assert cst.hazard_case_id == owner_id
        o = await owner.settle(lambda s: len(s.hazard_referrals) == 2)
        assert o.hazard_referrals == [inquiry.case_id, claim.case_id]

        project = await om.open_project(rr_input(system, market="NJ", zip="07030"))
        await project.stage("removal")
        found = await _damage_found(om, project)
        fst = await _claim_to_rr(found)
        assert fst.project_id == project.case_id and fst.stage == "project_in_progress"
        for step in COMPANY_STEPS:
            await project.send(step)
        assert (await found.settle(lambda s: s.outcome is not None)).outcome == "repaired"
        assert (await project.settle(lambda s: s.outcome is not None)).outcome == "completed"

        every: list[CaseDriver[Any]] = [inquiry, owner, claim, project, found]
        records = [r for case in every for r in case.records()]
        safety = [r for r in records if r.payload.get("template") == "safety_notice"]
        dispatches = [r for r in records if r.kind == "dispatch"]
        assert len(safety) == 1 and safety[0].case_id == owner_id
        assert [(d.case_id, d.payload["priority"]) for d in dispatches] == [(owner_id, "P1")]
        closed_ids = {i for r in records if r.kind == "crm_close" for i in r.payload["record_ids"]}
        assert dispatches[0].record_id not in closed_ids
        assert (await owner.status()).outcome is None
        projects = [r for r in records if r.kind == "project"]
        assert [p.case_id for p in projects] == [project.case_id]
        assert not await _exists(om, f"rr-{system}-{fst.claim_no}")
