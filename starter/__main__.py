"""`python -m starter`: open O&M cases, send events and ops commands, print a case's status,
list the side effects recorded for a case, seed demo cases, print the event contract.

Exit codes: 0 done; 2 bad input (unreadable JSON, a payload the models reject); 3 the case
rejected the event or command; 4 the case or the server could not be reached."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from typing import Any

from pydantic import BaseModel, ValidationError
from temporalio.service import RPCError

from activities.store import SqliteRecordStore
from domain.om import OmCaseInput
from starter.client import (
    OPS_COMMANDS,
    EventRejected,
    case_status,
    open_om_case,
    run_ops,
    send_event,
)
from workers.config import Settings, connect
from workers.process_exit import exit_without_teardown

EXIT_BAD_INPUT, EXIT_REJECTED, EXIT_UNREACHABLE = 2, 3, 4


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


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}"
                     for e in exc.errors())


def _print(value: BaseModel | dict[str, Any]) -> None:
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    print(json.dumps(data, indent=2, default=str))


async def _open(args: argparse.Namespace, queue: str) -> None:
    raw = _read_json(args.file)
    try:
        case = OmCaseInput.model_validate(raw)
    except ValidationError as exc:
        raise CliError(f"issue report rejected: {_describe(exc)}", EXIT_BAD_INPUT) from None
    opened = await open_om_case(await connect(), case, queue)
    _print({"case_id": opened.case_id, "workflow_type": opened.workflow_type,
            "track": opened.track, "reasons": opened.reasons, "hazardous": opened.hazardous})


async def _event(args: argparse.Namespace) -> None:
    payload = _read_json(args.payload)
    if not isinstance(payload, dict):
        raise CliError("the event payload must be a JSON object", EXIT_BAD_INPUT)
    payload.setdefault("event_id", f"cli-{uuid.uuid4()}")
    result = await send_event(await connect(), args.case_id, args.name, payload,
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
    payload["event_id"] = args.event_id or f"ops-{uuid.uuid4()}"
    _print(await run_ops(await connect(), args.case_id, args.command, payload))


async def _status(args: argparse.Namespace) -> None:
    _print(await case_status(await connect(), args.case_id))


def _records(args: argparse.Namespace, settings: Settings) -> None:
    store = SqliteRecordStore(settings.store)
    rows = [{"key": r.key, "record_id": r.record_id, "kind": r.kind, "payload": r.payload,
             "created_at": r.created_at, "delivered_at": r.delivered_at}
            for r in store.records(args.case_id)]
    print(json.dumps(rows, indent=2))


async def _demo(args: argparse.Namespace, queue: str) -> None:
    from starter.demo import seed_demo_cases

    for line in await seed_demo_cases(await connect(), queue):
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

    p = sub.add_parser("open", help="open (or join) an O&M case from an issue report")
    p.add_argument("file", help="JSON file of the issue report (and optional policy), or -")

    p = sub.add_parser("event", help="send an event to a case (Update, or --signal)")
    p.add_argument("case_id")
    p.add_argument("name", help="event name, e.g. remote_fix_result")
    p.add_argument("payload", nargs="?", help="JSON object, file, or - (event_id is added if "
                                              "missing)")
    p.add_argument("--signal", action="store_true",
                   help="send as a Signal: durable, no answer; rejections land in the status")

    p = sub.add_parser("ops", help="run an ops command on a case")
    p.add_argument("case_id")
    p.add_argument("command", choices=OPS_COMMANDS)
    p.add_argument("text", help="the reason (cancel_case, escalate) or the note (add_note)")
    p.add_argument("--actor", help="who runs the command")
    p.add_argument("--event-id", help="an id that makes a retried command a no-op")

    p = sub.add_parser("status", help="print a case's status")
    p.add_argument("case_id")

    p = sub.add_parser("records", help="print the side effects recorded (store file)")
    p.add_argument("case_id", nargs="?")

    sub.add_parser("demo", help="open a handful of demo O&M cases in different stages")

    p = sub.add_parser("contract", help="print the O&M events' JSON Schemas, or --write them")
    p.add_argument("--write", metavar="DIR", help="write the files under DIR "
                                                  "(the committed copy is docs/contract)")
    return parser


async def run(argv: list[str]) -> int:
    """Run one CLI command; returns the exit code."""
    args = build_parser().parse_args(argv)
    settings = Settings()
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
        elif args.cmd == "records":
            _records(args, settings)
        elif args.cmd == "demo":
            await _demo(args, queue)
        elif args.cmd == "contract":
            _contract(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except EventRejected as exc:
        print(f"rejected: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    except RPCError as exc:
        print(f"error: {exc.message or exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except RuntimeError as exc:  # connection failures surface as RuntimeError
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    return 0


def main() -> None:
    """Entry point."""
    code = asyncio.run(run(sys.argv[1:]))
    exit_without_teardown(code)


if __name__ == "__main__":
    main()
