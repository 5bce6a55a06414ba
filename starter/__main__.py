"""`python -m starter`: open cases of any process, send events and ops commands, print a
case's status, list the side effects recorded for a case, seed demo cases, print the contract,
create the local stack's secrets.

Exit codes: 0 done; 2 bad input (unreadable JSON, a payload the models reject, locally or by
the case); 3 the case rejected the event or command (wrong stage, closed case, no such case);
4 the Temporal server could not be reached or did not answer."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from activities.store import open_store
from domain.base import describe_fields
from domain.events import OPS_COMMANDS
from domain.processes import PROCESSES
from infra.secret_files import SecretFileError, load_secret_files
from starter.client import (
    EventRejected,
    InvalidEvent,
    ServerUnavailable,
    open_case,
    run_ops,
    send_event,
    status_or_visibility,
)
from starter.local_secrets import (
    LOCAL_SECRETS,
    LocalSecretsError,
    load_local_secrets,
    write_local_secrets,
)
from starter.worklist import View, ui_link, view_query, worklist
from workers.config import Settings, connect, connect_config
from workers.process_exit import exit_without_teardown
from workers.tracing import Tracing, configure_tracing

EXIT_BAD_INPUT, EXIT_REJECTED, EXIT_UNREACHABLE = 2, 3, 4
# The Web UI of `./dev up` (`list --link`'s default).
LOCAL_UI = "http://localhost:8233"


class CliError(Exception):
    """An error with the exit code it ends the command with."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _read_json(source: str | None) -> Any:
    """JSON from a file path, `-` (stdin), or an inline JSON text."""
    if source is None:
        return {}
    try:
        if source == "-":
            text = sys.stdin.read()
        elif source.lstrip().startswith("{"):
            text = source
        else:
            with open(source, encoding="utf-8") as fh:
                text = fh.read()
    except OSError as exc:
        raise CliError(f"cannot read {source}: {exc.strerror}", EXIT_BAD_INPUT) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                       EXIT_BAD_INPUT) from None


def _print(value: BaseModel | dict[str, Any]) -> None:
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    print(json.dumps(data, indent=2, default=str))


# Set by `run` (tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT is set).
_tracing = Tracing()


async def _client() -> Any:
    try:
        return await connect(interceptors=_tracing.interceptors)
    except RuntimeError:  # the SDK's connection failure
        address = connect_config()["target_host"]
        raise ServerUnavailable(f"the Temporal server at {address} could not be reached; is "
                                "it running? (./dev up starts one)") from None


async def _open(args: argparse.Namespace, queue: str) -> None:
    process = PROCESSES[args.process]
    raw = _read_json(args.file)
    internal = process.internal_fields_in(raw) if isinstance(raw, dict) else []
    if internal:
        raise CliError(f"{process.input_model.__name__} rejected: {', '.join(internal)}: set "
                       "by the project only, not accepted in an opening", EXIT_BAD_INPUT)
    try:
        inp = process.input_model.model_validate(raw)
    except ValidationError as exc:
        raise CliError(f"{process.input_model.__name__} rejected: {describe_fields(exc)}",
                       EXIT_BAD_INPUT) from None
    opened = await open_case(await _client(), process, inp, queue)
    _print({"case_id": opened.case_id, "workflow_type": opened.workflow_type,
            "summary": opened.summary, "joined": opened.joined,
            **({"outcome": opened.outcome} if opened.outcome else {})})


async def _list(args: argparse.Namespace) -> None:
    view = View(process=args.process, stage=args.stage, waiting_on=args.waiting_on,
                system_id=args.system, escalated=args.escalated, hazardous=args.hazardous,
                overdue=args.overdue, stuck=args.stuck, closed_too=args.system is not None)
    if args.link:
        # A link, not a listing: the overdue view's query holds the current time, so its
        # link is made when asked for (docs/operators.md).
        query = view_query(view, datetime.now(UTC))
        print(ui_link(args.link, connect_config()["namespace"], query))
        return
    rows = await worklist(await _client(), view)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'case':<34} {'process':<17} {'stage':<29} {'waiting on':<13} "
          f"{'next deadline (yours / the homeowner)':<40} flags")
    for r in rows:
        when = (f"{r['next_deadline_operator']} / {r['next_deadline_homeowner'] or '-'}"
                if r["next_deadline"] else
                f"closed: {r['outcome']}" if r["outcome"] else "-")
        flags = ",".join(f for f, on in (("OVERDUE", r["overdue"]),
                                          ("escalated", r["escalated"]),
                                          ("hazardous", r["hazardous"])) if on) or "-"
        print(f"{r['case_id']:<34} {r['process'] or '-':<17} {r['stage'] or '-':<29} "
              f"{r['waiting_on'] or '-':<13} {when:<40} {flags}")
    print(f"{len(rows)} case{'s' if len(rows) != 1 else ''}: {view_query(view, datetime.now(UTC))}")


async def _event(args: argparse.Namespace) -> None:
    payload = _read_json(args.payload)
    if not isinstance(payload, dict):
        raise CliError("the event payload must be a JSON object", EXIT_BAD_INPUT)
    # Like ops: without an event_id, one derived from the case, the event and its payload, so
    # re-running the same command (a retry after a timeout, a command pasted twice) is a
    # duplicate, never a second event; --event-id (or one in the payload) sends it again.
    if args.event_id:
        payload["event_id"] = args.event_id
    payload.setdefault("event_id", stable_event_id(args.case_id, args.name, payload))
    print(f"event_id: {payload['event_id']}", file=sys.stderr)
    result = await send_event(await _client(), args.case_id, args.name, payload,
                              signal=args.signal)
    if result is None:
        _print({"signalled": args.name, "event_id": payload["event_id"]})
    else:
        _print(result)


async def _ops(args: argparse.Namespace) -> None:
    payload: dict[str, Any] = {"actor": args.actor} if args.actor else {}
    if args.command == "add_note":
        payload["text"] = args.text
    else:
        payload["reason"] = args.text
    # A stable id: re-running the same command on the same case is a no-op (no second SES
    # assignment); pass --event-id to run the same command again on purpose.
    payload["event_id"] = args.event_id or stable_ops_id(args.case_id, args.command, args.text)
    print(f"event_id: {payload['event_id']}", file=sys.stderr)
    _print(await run_ops(await _client(), args.case_id, args.command, payload))


def stable_ops_id(case_id: str, command: str, text: str) -> str:
    """The event_id of an ops command derived from what it says, so a retry is a duplicate."""
    digest = hashlib.sha256(f"{case_id}\n{command}\n{text}".encode()).hexdigest()[:16]
    return f"ops-{command}-{digest}"


def stable_event_id(case_id: str, name: str, payload: dict[str, Any]) -> str:
    """The event_id of a CLI event without one, derived from the case, the event and its
    payload (keys in any order), so sending the same event again is a duplicate."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(f"{case_id}\n{name}\n{canonical}".encode()).hexdigest()[:16]
    return f"cli-{name}-{digest}"


async def _status(args: argparse.Namespace) -> None:
    print(json.dumps(await status_or_visibility(await _client(), args.case_id), indent=2))


def _records(args: argparse.Namespace, settings: Settings) -> None:
    store = open_store(settings.store)
    rows = [{"key": r.key, "record_id": r.record_id, "kind": r.kind, "payload": r.payload,
             "created_at": r.created_at, "delivered_at": r.delivered_at}
            for r in store.records(args.case_id)]
    store.close()
    print(json.dumps(rows, indent=2))


async def _demo(args: argparse.Namespace, queue: str) -> None:
    from starter.demo import seed_demo_cases

    for line in await seed_demo_cases(await _client(), queue):
        print(line)


def _contract(args: argparse.Namespace) -> None:
    from pathlib import Path

    from starter.contract import contract_files, write_contract

    if args.write:
        for path in write_contract(Path(args.write)):
            print(path)
    else:
        files = contract_files()
        print(json.dumps({path: json.loads(text) for path, text in files.items()
                          if path.endswith(".json")}, indent=2))


def build_parser() -> argparse.ArgumentParser:
    """The CLI's commands and options."""
    parser = argparse.ArgumentParser(prog="python -m starter", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task-queue", help="default: FIELD_SERVICE_TASK_QUEUE or field-service")
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("open", help="open (or join) a case from its input")
    p.add_argument("process", choices=sorted(PROCESSES),
                   help="the process (workflow-ID prefix), e.g. om")
    p.add_argument("file", help="JSON file of the process input (see docs/contract/), or -")

    p = sub.add_parser("event", help="send an event to a case (Update, or --signal)")
    p.add_argument("case_id")
    p.add_argument("name", help="event name, e.g. remote_fix_result")
    p.add_argument("payload", nargs="?", help="JSON object, file, or - (without an event_id, "
                                              "one derived from the case, event and payload)")
    p.add_argument("--event-id", help="the event's event_id (default: the payload's, else "
                                      "derived, so a re-run is a duplicate)")
    p.add_argument("--signal", action="store_true",
                   help="send as a Signal: durable, no answer; rejections land in the status")

    p = sub.add_parser("ops", help="run an ops command on a case")
    p.add_argument("case_id")
    p.add_argument("command", choices=OPS_COMMANDS)
    p.add_argument("text", help="the reason (cancel_case, escalate) or the note (add_note)")
    p.add_argument("--actor", help="who runs the command")
    p.add_argument("--event-id", help="the command's event_id (default: derived from the case, "
                                      "command and text, so a re-run is a no-op)")

    p = sub.add_parser("status", help="print a case's status")
    p.add_argument("case_id")

    p = sub.add_parser("list", help="the worklist: open cases of a view, soonest deadline "
                                    "first (from the search attributes alone)")
    p.add_argument("--process", help="a ProcessType, e.g. damage_claim")
    p.add_argument("--stage", help="a CaseStage, e.g. liability_determination")
    p.add_argument("--waiting-on", help="who must act: homeowner, case_manager, partner, ...")
    p.add_argument("--system", metavar="SYSTEM_ID", help="one system's cases (closed ones too)")
    p.add_argument("--escalated", action="store_true", help="escalated cases only")
    p.add_argument("--hazardous", action="store_true", help="hazardous cases only")
    p.add_argument("--overdue", action="store_true",
                   help="on the case manager over 3 days, or a deadline in the past")
    p.add_argument("--stuck", action="store_true",
                   help="waiting on its own timer with no deadline (a defect to report)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--link", nargs="?", const=LOCAL_UI, metavar="UI_URL",
                   help=f"print the view's Web UI link instead (default UI: {LOCAL_UI})")

    p = sub.add_parser("records", help="print the side effects recorded (store file)")
    p.add_argument("case_id", nargs="?")

    sub.add_parser("demo", help="open demo cases of every process in several stages "
                                "(once: cases that exist already are left alone)")

    sub.add_parser("secrets", help=f"create the local stack's secrets ({LOCAL_SECRETS}: key, "
                                   "codec token; the integration crm and its secret) unless "
                                   "they exist")

    p = sub.add_parser("contract", help="print the events' JSON Schemas, or --write them")
    p.add_argument("--write", metavar="DIR", help="write the files under DIR "
                                                  "(the committed copy is docs/contract)")
    return parser


async def run(argv: list[str]) -> int:
    """Run one CLI command; returns the exit code."""
    args = build_parser().parse_args(argv)
    # Run by hand from the project folder next to `./dev up`: its local keys, unless the
    # environment decides (starter/local_secrets.py).
    try:
        load_local_secrets()
    except LocalSecretsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    settings = Settings()
    global _tracing  # noqa: PLW0603 - one CLI command per process
    _tracing = configure_tracing("fieldservice-starter")
    try:
        return await _run(args, settings)
    finally:
        _tracing.shutdown()


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    queue = args.task_queue or settings.task_queue
    try:
        if args.cmd == "open":
            await _open(args, queue)
        elif args.cmd == "event":
            await _event(args)
        elif args.cmd == "ops":
            await _ops(args)
        elif args.cmd == "status":
            await _status(args)
        elif args.cmd == "list":
            await _list(args)
        elif args.cmd == "records":
            _records(args, settings)
        elif args.cmd == "demo":
            await _demo(args, queue)
        elif args.cmd == "contract":
            _contract(args)
        elif args.cmd == "secrets":
            _print({"path": str(LOCAL_SECRETS), "created": write_local_secrets()})
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except InvalidEvent as exc:
        print(f"invalid: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except EventRejected as exc:
        print(f"rejected: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    except ServerUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    return 0


def main() -> None:
    """Entry point."""
    try:
        load_secret_files()
    except SecretFileError as err:
        print(f"error: {err}", file=sys.stderr)
        exit_without_teardown(EXIT_BAD_INPUT)
    code = asyncio.run(run(sys.argv[1:]))
    exit_without_teardown(code)


if __name__ == "__main__":
    main()
