"""The data converter every client, worker and replayer of the project uses: pydantic JSON
(spec 2), with one change: a payload that its model rejects raises a non-retryable
`ApplicationError` naming the fields, never the values.

Why: the SDK turns a decoding error into "Failed decoding arguments" and, for a workflow's
input, into a workflow task that fails and retries for ever while the log repeats the rejected
values (a phone number). An `ApplicationError` instead fails the run at once with a message an
operator can act on (spec 2.1 "bad input to a start"), and rejects a bad ops payload naming its
field."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)
from temporalio.exceptions import ApplicationError

from domain.base import describe_fields
from infra.encryption import EncryptionCodec, KeyRing

INVALID_PAYLOAD = "InvalidPayload"


class _CheckedJsonConverter(PydanticJSONPlainPayloadConverter):
    """Pydantic JSON whose validation errors name fields and carry no values."""

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        """Decode, or raise a non-retryable `ApplicationError` naming the bad fields."""
        try:
            return super().from_payload(payload, type_hint)
        except ValidationError as exc:
            what = getattr(type_hint, "__name__", "payload")
            raise ApplicationError(f"{what} rejected: {describe_fields(exc)}",
                                   type=INVALID_PAYLOAD, non_retryable=True) from None


# One for the process: the SDK builds a new payload converter for every serialization context
# (each workflow run, activity, Update), and a converter of its own per instance would start
# with an empty type-adapter cache each time, building a pydantic `TypeAdapter` for every
# payload it decodes (2% of the worker's time in a burst of new cases: issue 21). Its cache is
# an `lru_cache`, safe across threads; it holds no other state.
_JSON = _CheckedJsonConverter()


class FieldServicePayloadConverter(CompositePayloadConverter):
    """The default converters with JSON replaced by the checked pydantic one."""

    def __init__(self) -> None:
        super().__init__(*(
            _JSON if isinstance(c, JSONPlainPayloadConverter) else c
            for c in DefaultPayloadConverter.default_encoding_payload_converters))


DATA_CONVERTER = DataConverter(payload_converter_class=FieldServicePayloadConverter)


def data_converter(ring: KeyRing | None,
                   on_unknown_key: Callable[[str], None] | None = None) -> DataConverter:
    """`DATA_CONVERTER`, with every payload encrypted when there are keys (spec 6.1), and
    failure messages and stack traces moved into an (encrypted) payload too, so a failure
    shown in the Web UI never carries personal data in the clear; `on_unknown_key` is told of
    a payload under a key the process does not hold."""
    if ring is None:
        return DATA_CONVERTER
    return dataclasses.replace(
        DATA_CONVERTER, payload_codec=EncryptionCodec(ring, on_unknown_key),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes)


def converter_from_env(on_unknown_key: Callable[[str], None] | None = None) -> DataConverter:
    """The data converter of this process: encrypting when `FIELD_SERVICE_ENCRYPTION_KEYS` is
    set (workers, the starter, the gateway all read the same setting)."""
    return data_converter(KeyRing.from_env(), on_unknown_key)
