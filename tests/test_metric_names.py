"""The project's metric vocabulary: every counter is described, and a refused event falls in
exactly one reason class (the `reason` label of fieldservice_events_rejected)."""

from __future__ import annotations

from infra import metric_names as m


def test_every_counter_has_a_description_and_a_prometheus_name() -> None:
    names = [m.CASES_OPENED, m.CASES_CLOSED, m.EVENTS_REJECTED, m.SIDE_EFFECTS,
             m.DELIVERIES_FAILED, m.PAYLOADS_UNKNOWN_KEY, m.CASES_ESCALATED,
             m.SIDE_EFFECTS_FAILED, m.STAGE_DURATION]
    assert sorted(names) == sorted(m.DESCRIPTIONS)
    assert all(n.startswith("fieldservice_") and n.replace("_", "").isalpha() for n in names)


def test_a_refusal_has_one_reason_class() -> None:
    assert m.rejection_reason(invalid=True, closed=False) == "invalid"
    assert m.rejection_reason(invalid=False, closed=True) == "closed"
    assert m.rejection_reason(invalid=False, closed=False) == "stage"
    # A malformed event to a closed case is reported as malformed (what the sender must fix).
    assert m.rejection_reason(invalid=True, closed=True) == "invalid"
