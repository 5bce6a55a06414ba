"""A side effect retried after it happened (the worker died, the network dropped the answer)
leaves exactly one record: the homeowner is never texted twice."""

from __future__ import annotations

from temporalio import activity

from activities.effects import FieldServiceActivities
from domain.effects import Assignment, CrmRecordRequest, EffectReceipt, Notification
from tests.workflows.harness import CaseHarness, om_input


class FailingAfterTheEffect:
    """The real activities, each failing on its first attempt after doing its work."""

    def __init__(self, real: FieldServiceActivities) -> None:
        self.real = real
        self.attempts: list[tuple[str, int, bool]] = []

    def _fail_first(self, key: str, receipt: EffectReceipt) -> EffectReceipt:
        attempt = activity.info().attempt
        self.attempts.append((key.split("/", 2)[2], attempt, receipt.created))
        if attempt == 1:
            raise RuntimeError("connection reset after the effect (simulated)")
        return receipt

    @activity.defn(name="notify_homeowner")
    async def notify_homeowner(self, req: Notification) -> EffectReceipt:
        """The real notification, then a failure on attempt 1."""
        return self._fail_first(req.key, await self.real.notify_homeowner(req))

    @activity.defn(name="create_crm_record")
    async def create_crm_record(self, req: CrmRecordRequest) -> EffectReceipt:
        """The real CRM record, then a failure on attempt 1."""
        return self._fail_first(req.key, await self.real.create_crm_record(req))

    @activity.defn(name="assign")
    async def assign(self, req: Assignment) -> EffectReceipt:
        """The real assignment, then a failure on attempt 1."""
        return self._fail_first(req.key, await self.real.assign(req))


async def test_a_retried_side_effect_leaves_exactly_one_record(om: CaseHarness) -> None:
    failing = FailingAfterTheEffect(om.activities)
    async with om.worker(failing.notify_homeowner, failing.create_crm_record, failing.assign):
        case = await om.open(om_input())
        await case.stage("problem_identified")
        await case.send("remote_fix_result", resolved=False)
        st = await case.settle(lambda s: s.attempts.get("texts") == 1, seconds=30)
        assert st.stage == "self_scheduling_texts"
        assert case.keys("fs_case") == ["fs-case"]
        assert case.keys("text") == ["visit1/text/1"]
        # Each effect ran twice: the first attempt created the record, the retry found it.
        assert ("fs-case", 1, True) in failing.attempts
        assert ("fs-case", 2, False) in failing.attempts
        assert ("visit1/text/1", 1, True) in failing.attempts
        assert ("visit1/text/1", 2, False) in failing.attempts
        assert len(case.records()) == 3  # remote-fix request, FS case, one text
