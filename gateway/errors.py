"""How the gateway answers when it refuses (spec 6.1): every error is `{"error": "..."}` with
the status that says what to do (401/403 fix the credentials, 404 the ID, 409/410 do not retry,
413/422 fix the body, 429/503 retry later), one table for the refusals of the project's client,
and the two refusals of the perimeter (a body too large, a client too slow)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from starter.client import (
    CaseClosed,
    CaseNotFound,
    EventRejected,
    InvalidEvent,
    ServerUnavailable,
)

# The largest body taken (spec 6.1), counted while it is read.
MAX_BODY = 256 * 1024


class Problem(BaseModel):
    """An error answer: what went wrong, in one sentence naming the fields."""

    error: str


class BodyTooLarge(Exception):
    """The body grew past `MAX_BODY` while it was read."""


class BodyTooSlow(Exception):
    """The client did not send its body in time."""


class Forbidden(Exception):
    """The signed integration may not do this (403)."""


def problem(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The error answer."""
    return JSONResponse(status_code=status, content={"error": message}, headers=headers)


# How each refusal is answered (a subclass's own status wins: Starlette looks handlers up along
# the exception's MRO).
REFUSALS: dict[type[Exception], int] = {
    InvalidEvent: 422, CaseNotFound: 404, CaseClosed: 410, EventRejected: 409,
    ServerUnavailable: 503, Forbidden: 403,
}
# A body refused part-way is not read to its end: the connection is closed after the answer
# (else the server would go on reading, and discarding, whatever the client streams).
CLOSE = {"Connection": "close"}


def _answer_with(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def answer(_: Request, exc: Exception) -> Response:
        return problem(status, str(exc))
    return answer


async def _too_large(_: Request, __: Exception) -> Response:
    return problem(413, f"the body is over {MAX_BODY // 1024} KiB", CLOSE)


async def _too_slow(_: Request, __: Exception) -> Response:
    return problem(408, "the body was not sent in time", CLOSE)


def register_refusals(app: FastAPI) -> None:
    """Answer every refusal with its status, for every route."""
    for refusal, code in REFUSALS.items():
        app.add_exception_handler(refusal, _answer_with(code))
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(BodyTooSlow, _too_slow)


def responses(*codes: int) -> dict[int | str, dict[str, object]]:
    """The OpenAPI `responses` entries of these error codes."""
    return {c: {"model": Problem} for c in codes}
