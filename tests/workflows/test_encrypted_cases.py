"""Spec 6.1 on the time-skipping server: with keys set, a case's whole history (input, events,
activity arguments and results, the escalated run's result, failures) and its query answers
carry no personal data in the clear, and the case runs exactly as without keys."""

from __future__ import annotations

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.query.v1 import WorkflowQuery
from temporalio.api.workflowservice.v1 import QueryWorkflowRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.followup import PartnerFollowUp
from domain.om import OmCase
from domain.processes import FOLLOWUP
from infra.encryption import KeyRing, new_key_setting
from infra.wire import data_converter
from tests.workflows.harness import CaseHarness, followup_input, om_input

PERSONAL = (b"Ana", b"Ruiz", b"4155550100", b"ana@example.com", b"Main St", b"after 5 pm",
            b"never connected")


def _encrypting(env: WorkflowEnvironment) -> Client:
    ring = KeyRing.parse(new_key_setting("test-1"))
    config = env.client.config()
    config["data_converter"] = data_converter(ring)
    return Client(**config)


async def history_bytes(client: Client, workflow_id: str, first_run: str) -> list[bytes]:
    """Every event of every run of the case, serialized (payload bytes are embedded as-is)."""
    events: list[bytes] = []
    run_id: str | None = first_run
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        events += [e.SerializeToString() for e in history.events]
        last = history.events[-1]
        run_id = (last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                  if last.HasField("workflow_execution_continued_as_new_event_attributes")
                  else None)
    return events


async def test_an_encrypted_case_keeps_no_personal_data_in_the_clear(
        om: CaseHarness, env: WorkflowEnvironment) -> None:
    om.client = _encrypting(env)
    async with om.worker():
        case = await om.open(om_input())
        await case.stage("problem_identified")
        await case.send("remote_fix_result", resolved=False)
        await case.settle(lambda s: s.attempts.get("texts") == 1)
        # A second report of the same case (the `issue_reported` signal carries the homeowner).
        await om.open(om_input(case.case_id.removeprefix("om-")))
        await om.client.get_workflow_handle(case.case_id).execute_update(
            "escalate", {"reason": "escalated by the test", "event_id": "esc-1"})
        await case.settle(lambda s: s.runs == 2)
        follow = await om.open_process(FOLLOWUP, followup_input(), PartnerFollowUp)
        await follow.stage("party_contacted")
        await follow.handle.execute_update("party_responded",
                                           {"event_id": "r-1", "comment": "called"})

        plain = env.client  # no keys: what the server stores and anyone without a key sees
        for driver in (case, follow):
            first = (await driver.status()).instance
            events = await history_bytes(plain, driver.case_id, first)
            assert len(events) > 10
            for raw in events:
                assert not any(p in raw for p in PERSONAL), raw[:200]
        answer = await plain.workflow_service.query_workflow(
            _query_request(plain, case.case_id))
        raw_answer = answer.query_result.SerializeToString()
        assert b"binary/encrypted" in raw_answer
        assert not any(p in raw_answer for p in PERSONAL)
        # With the key, the same case reads normally.
        st = OmCase.model_validate(await om.client.get_workflow_handle(case.case_id).query(
            "status"))
        assert st.escalated and st.runs == 2


def _query_request(client: Client, workflow_id: str) -> QueryWorkflowRequest:
    return QueryWorkflowRequest(namespace=client.namespace,
                                execution=WorkflowExecution(workflow_id=workflow_id),
                                query=WorkflowQuery(query_type="status"))
