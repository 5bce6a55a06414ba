"""The project's own metrics (issue 10): names and label keys shared by the workflows, the
activities, the docs and the tests. Every label is a closed vocabulary (a process, an outcome, a
record kind, a reason class): never a case ID, a name or anything a homeowner typed.

The SDK's Prometheus exporter publishes them on the worker's `/metrics` next to its own
`temporal_*` metrics, each with the worker's `namespace` and `task_queue` (and, for workflow
metrics, `workflow_type`)."""

from __future__ import annotations

CASES_OPENED = "fieldservice_cases_opened"  # labels: process
CASES_CLOSED = "fieldservice_cases_closed"  # labels: process, outcome
EVENTS_REJECTED = "fieldservice_events_rejected"  # labels: process, reason, via
SIDE_EFFECTS = "fieldservice_side_effects"  # labels: kind
DELIVERIES_FAILED = "fieldservice_deliveries_failed"  # labels: kind, failure
PAYLOADS_UNKNOWN_KEY = "fieldservice_payloads_unknown_key"  # labels: key_id
CASES_ESCALATED = "fieldservice_cases_escalated"  # labels: process
SIDE_EFFECTS_FAILED = "fieldservice_side_effects_failed"  # labels: process
STAGE_DURATION = "fieldservice_stage_duration"  # histogram (seconds); labels: process, stage

DESCRIPTIONS = {
    CASES_OPENED: "Cases opened (a new case, not a continued run), by process",
    CASES_CLOSED: "Cases closed, by process and outcome",
    EVENTS_REJECTED: "Events refused by a case, by process, reason (invalid, stage, closed) and "
                     "how they came (update, signal)",
    SIDE_EFFECTS: "Side effects recorded for the first time, by record kind",
    DELIVERIES_FAILED: "Deliveries to the real systems that failed, by record kind and failure "
                       "(retried: will be tried again; refused: never taken)",
    PAYLOADS_UNKNOWN_KEY: "Payloads this worker could not decrypt: encrypted under a key ID it "
                          "does not hold (add the key), by key ID",
    CASES_ESCALATED: "Cases escalated (to a person or the manual track), by process",
    SIDE_EFFECTS_FAILED: "Side effects that failed for good and went to a person, by process",
    STAGE_DURATION: "How long cases spent in a stage, recorded when they leave it, by process "
                    "and stage",
}


def rejection_reason(*, invalid: bool, closed: bool) -> str:
    """The reason class of a refused event, for the `reason` label."""
    return "invalid" if invalid else "closed" if closed else "stage"
