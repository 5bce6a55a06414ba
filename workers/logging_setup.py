"""structlog for the whole process: JSON in production, readable on a terminal.

Workflow code logs through `workflow.logger` (stdlib, silent during replay); the SDK attaches
the workflow ID and run ID, and our calls add `case_id`. Both stdlib and structlog records go
through one `ProcessorFormatter`, so every line has the same shape."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from temporalio import activity

_CONTEXT_KEYS = ("case_id", "stage", "outcome", "process_type", "event", "key", "kind")


def _lift_temporal_context(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Move the SDK's workflow/activity context and our `extra` fields to top-level keys."""
    record = event_dict.get("_record")
    if record is not None:
        for source in ("temporal_workflow", "temporal_activity"):
            info = getattr(record, source, None)
            if isinstance(info, dict):
                for name in ("workflow_id", "run_id", "workflow_type", "activity_type",
                             "attempt"):
                    if name in info:
                        event_dict.setdefault(name, info[name])
        for name in _CONTEXT_KEYS:
            value = getattr(record, name, None)
            if value is not None:
                event_dict.setdefault(name, value)
        # The SDK appends its context dict to the message text; keep the message clean.
        msg = event_dict.get("event")
        if isinstance(msg, str) and " ({" in msg:
            event_dict["event"] = msg.split(" ({", 1)[0]
    return event_dict


def _add_activity_context(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Inside an activity, name the workflow and run it works for (structlog calls do not
    carry the SDK's context the way `activity.logger` does)."""
    if activity.in_activity():
        info = activity.info()
        event_dict.setdefault("workflow_id", info.workflow_id)
        event_dict.setdefault("run_id", info.workflow_run_id)
        event_dict.setdefault("activity_type", info.activity_type)
    return event_dict


def configure_logging(fmt: str = "auto", level: str = "INFO") -> None:
    """Route stdlib and structlog logs through one structlog renderer."""
    json_output = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _add_activity_context,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Tracebacks never show local variables (a request's secrets and a homeowner's details
    # live in them): plain ones on a terminal, and in JSON as a formatted `exception` field.
    renderer: Any = (structlog.processors.JSONRenderer() if json_output
                     else structlog.dev.ConsoleRenderer(
                         colors=False, exception_formatter=structlog.dev.plain_traceback))
    exceptions: list[Any] = [structlog.processors.format_exc_info] if json_output else []
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, _lift_temporal_context],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *exceptions,
                    renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
