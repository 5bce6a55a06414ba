"""Each workflow makes one call the sandbox must refuse in workflow code."""

from __future__ import annotations

import datetime
import random
import time
import uuid
from pathlib import Path

from temporalio import workflow


@workflow.defn
class ReadsTheClock:
    """`datetime.now()` instead of `workflow.now()`."""

    @workflow.run
    async def run(self) -> str:
        return datetime.datetime.now().isoformat()


@workflow.defn
class SleepsTheThread:
    """`time.sleep()` instead of `workflow.sleep()`."""

    @workflow.run
    async def run(self) -> str:
        time.sleep(0.01)
        return "slept"


@workflow.defn
class DrawsARandomNumber:
    """The global `random` instead of `workflow.random()`."""

    @workflow.run
    async def run(self) -> str:
        return str(random.random())


@workflow.defn
class MakesAUuid:
    """`uuid.uuid4()` instead of `workflow.uuid4()`."""

    @workflow.run
    async def run(self) -> str:
        return str(uuid.uuid4())


@workflow.defn
class ReadsAFile:
    """I/O in workflow code."""

    @workflow.run
    async def run(self) -> str:
        return Path("/etc/hostname").read_text()


@workflow.defn
class DoesItRight:
    """The deterministic ways, for contrast: accepted."""

    @workflow.run
    async def run(self) -> str:
        return f"{workflow.now().year} {workflow.random().random() < 1} {workflow.uuid4()}"


BAD = (ReadsTheClock, SleepsTheThread, DrawsARandomNumber, MakesAUuid, ReadsAFile)
