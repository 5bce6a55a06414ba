"""The readiness rule of a versioned worker (issue 19, finding 1): which routing states of its
version can never bring it a task."""

from __future__ import annotations

import pytest
from temporalio.api.enums.v1 import VersionDrainageStatus as D
from temporalio.api.enums.v1 import WorkerDeploymentVersionStatus as S

from workers.version_check import unreachable_reason


@pytest.mark.parametrize(("status", "drainage"), [
    (S.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT, D.VERSION_DRAINAGE_STATUS_UNSPECIFIED),
    (S.WORKER_DEPLOYMENT_VERSION_STATUS_RAMPING, D.VERSION_DRAINAGE_STATUS_UNSPECIFIED),
    # Pinned workflows still run on it: their tasks come here.
    (S.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING, D.VERSION_DRAINAGE_STATUS_DRAINING),
    (S.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING, D.VERSION_DRAINAGE_STATUS_UNSPECIFIED),
])
def test_a_version_that_can_receive_tasks_is_ready(status: int, drainage: int) -> None:
    assert unreachable_reason(status, drainage, "fs.v2") is None


@pytest.mark.parametrize(("status", "drainage", "what"), [
    (S.WORKER_DEPLOYMENT_VERSION_STATUS_INACTIVE, D.VERSION_DRAINAGE_STATUS_UNSPECIFIED,
     "never made current"),
    (S.WORKER_DEPLOYMENT_VERSION_STATUS_CREATED, D.VERSION_DRAINAGE_STATUS_UNSPECIFIED,
     "never made current"),
    (S.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING, D.VERSION_DRAINAGE_STATUS_DRAINED,
     "no longer current, drained"),
    (S.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED, D.VERSION_DRAINAGE_STATUS_DRAINED,
     "no longer current, drained"),
    (S.WORKER_DEPLOYMENT_VERSION_STATUS_UNSPECIFIED, D.VERSION_DRAINAGE_STATUS_UNSPECIFIED,
     "not current"),
])
def test_a_version_no_task_can_reach_is_not_ready_and_says_what_to_do(
        status: int, drainage: int, what: str) -> None:
    reason = unreachable_reason(status, drainage, "fs.v2")
    assert reason is not None and f"version fs.v2 is {what}" in reason
    assert "set-current-version" in reason


def test_the_controllers_names_win_over_the_images(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under the Worker Controller the build ID it injects is the version it routes; the
    image's baked-in one is the fallback; an empty one turns versioning off."""
    from workers.config import Settings

    monkeypatch.setenv("FIELD_SERVICE_BUILD_ID", "1.4.0")
    assert Settings().build_id == "1.4.0"
    monkeypatch.setenv("TEMPORAL_WORKER_BUILD_ID", "5d8f9c")
    monkeypatch.setenv("TEMPORAL_DEPLOYMENT_NAME", "fieldservice_fieldservice-worker")
    s = Settings()
    assert (s.build_id, s.deployment_name) == ("5d8f9c", "fieldservice_fieldservice-worker")
    monkeypatch.delenv("TEMPORAL_WORKER_BUILD_ID")
    monkeypatch.setenv("FIELD_SERVICE_BUILD_ID", "")
    assert Settings().deployment_config() is None
