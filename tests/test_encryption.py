"""The payload codec of spec 6.1: round trip, rotation, tampering, plain pass-through, and the
key setting's errors (which never echo a key)."""

from __future__ import annotations

import pytest
from temporalio.api.common.v1 import Payload

from domain.homeowner import Homeowner
from infra.encryption import (
    ENCODING,
    KEY_ID,
    EncryptionCodec,
    EncryptionKeyError,
    KeyRing,
    new_key_setting,
)
from infra.wire import DATA_CONVERTER, data_converter

OLD = new_key_setting("k1")
NEW = new_key_setting("k2")
ANA = Homeowner(name="Ana Ruiz", phone="+14155550100", email="ana@example.com",
                address="1 Main St")


def _plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


async def test_round_trip_and_no_plaintext() -> None:
    codec = EncryptionCodec(KeyRing.parse(OLD))
    [enc] = await codec.encode([_plain('{"phone": "+14155550100"}')])
    assert enc.metadata["encoding"] == ENCODING and enc.metadata[KEY_ID] == b"k1"
    assert b"4155550100" not in enc.SerializeToString()
    [dec] = await codec.decode([enc])
    assert dec == _plain('{"phone": "+14155550100"}')


async def test_each_encoding_uses_a_fresh_nonce() -> None:
    codec = EncryptionCodec(KeyRing.parse(OLD))
    a, b = await codec.encode([_plain("x"), _plain("x")])
    assert a.data != b.data


async def test_rotation_old_payloads_decode_after_a_new_key_is_first() -> None:
    [old] = await EncryptionCodec(KeyRing.parse(OLD)).encode([_plain("written last year")])
    rotated = EncryptionCodec(KeyRing.parse(f"{NEW},{OLD}"))
    [new] = await rotated.encode([_plain("written today")])
    assert new.metadata[KEY_ID] == b"k2"
    assert [p.data for p in await rotated.decode([old, new])] == [b"written last year",
                                                                   b"written today"]
    # A process that dropped the old key says which key it misses.
    with pytest.raises(ValueError, match="'k1'"):
        await EncryptionCodec(KeyRing.parse(NEW)).decode([old])


async def test_tampered_ciphertext_is_refused() -> None:
    codec = EncryptionCodec(KeyRing.parse(OLD))
    [enc] = await codec.encode([_plain("payload")])
    flipped = bytearray(enc.data)
    flipped[-1] ^= 1
    enc.data = bytes(flipped)
    with pytest.raises(ValueError, match="authentication"):
        await codec.decode([enc])


async def test_relabelled_key_id_is_refused() -> None:
    both = EncryptionCodec(KeyRing.parse(f"{OLD},{NEW}"))
    [enc] = await both.encode([_plain("payload")])
    enc.metadata[KEY_ID] = b"k2"
    with pytest.raises(ValueError, match="authentication"):
        await both.decode([enc])


async def test_plain_payloads_pass_through() -> None:
    codec = EncryptionCodec(KeyRing.parse(OLD))
    plain = _plain('{"event_id": "cli-1"}')
    assert await codec.decode([plain]) == [plain]


async def test_the_data_converter_encrypts_models_and_reads_them_back() -> None:
    converter = data_converter(KeyRing.parse(OLD))
    [payload] = await converter.encode([ANA])
    for personal in (b"Ana", b"4155550100", b"ana@example.com", b"Main St"):
        assert personal not in payload.SerializeToString()
    [back] = await converter.decode([payload], [Homeowner])
    assert back == ANA
    # Without keys nothing changes (tests, quick starts).
    assert data_converter(None) is DATA_CONVERTER


@pytest.mark.parametrize("setting,message", [
    ("k1", "not key_id:base64key"),
    ("k1:not base64!", "not valid base64"),
    ("k1:AAAA", "has 3 bytes"),
    (f"{OLD},{OLD}", "twice"),
    (" , ", "no key"),
], ids=["no-separator", "bad-base64", "short-key", "same-id-twice", "empty"])
def test_bad_key_settings_are_named_without_the_key(setting: str, message: str) -> None:
    with pytest.raises(EncryptionKeyError, match=message) as err:
        KeyRing.parse(setting)
    assert OLD.split(":")[1] not in str(err.value)


def test_unset_means_no_encryption() -> None:
    assert KeyRing.from_env({}) is None
    assert KeyRing.from_env({"FIELD_SERVICE_ENCRYPTION_KEYS": " "}) is None
    assert KeyRing.from_env({"FIELD_SERVICE_ENCRYPTION_KEYS": OLD}) is not None
