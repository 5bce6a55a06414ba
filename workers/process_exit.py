"""Ending a process that used the Temporal client."""

from __future__ import annotations

import os
import sys


def exit_without_teardown(code: int) -> None:
    """Exit with `code` once output is flushed, skipping interpreter teardown: the SDK's
    native client threads can outlive the event loop, and tearing the interpreter down under
    them crashes a short-lived process now and then (SIGSEGV; temporalio/sdk-python#300).
    Seen here once in a few runs of the end-to-end test."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
