"""Personal data encrypted at rest (spec 6.1): a Temporal payload codec that encrypts every
payload (workflow inputs, events, activity arguments, results, query answers, failures' details)
with AES-256-GCM before it leaves the process, so the Temporal server, its database and anyone
reading a history without a key see ciphertext.

Keys come from `FIELD_SERVICE_ENCRYPTION_KEYS` = comma-separated `key_id:base64key` (32-byte
keys). The first key encrypts; every key decrypts, chosen by the key ID stored in the payload's
metadata, so a new key can be put first while histories written with the old one still decode
(rotation without breaking running cases). A new key is added everywhere *after* the current
one (decrypt-only) before any process puts it first, so nothing encrypts with a key another
process lacks; a payload under a key a process lacks is reported (`UnknownKeys`). A payload
that is not encrypted passes through on decode: the `temporal` CLI can still send plain JSON
events, and histories written before the keys were set still replay. With no keys set nothing
is encrypted (tests, quick starts).

Search attributes are not payloads the codec sees: they stay plaintext and hold no personal
data (spec 2)."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

log = structlog.get_logger("fieldservice.encryption")

KEYS_ENV = "FIELD_SERVICE_ENCRYPTION_KEYS"
ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
_NONCE = 12


class EncryptionKeyError(ValueError):
    """The key setting is malformed (says which entry, never the key)."""


@dataclass(frozen=True)
class KeyRing:
    """The keys a process holds: the first encrypts, all decrypt."""

    keys: Mapping[str, bytes]
    current: str

    @classmethod
    def parse(cls, setting: str) -> KeyRing:
        """Parse `key_id:base64key[,key_id:base64key...]`."""
        keys: dict[str, bytes] = {}
        current = ""
        for n, entry in enumerate(e.strip() for e in setting.split(",") if e.strip()):
            key_id, sep, encoded = entry.partition(":")
            if not sep or not key_id:
                raise EncryptionKeyError(f"{KEYS_ENV} entry {n + 1} is not key_id:base64key")
            try:
                key = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise EncryptionKeyError(
                    f"{KEYS_ENV} key {key_id!r} is not valid base64") from None
            if len(key) != 32:
                raise EncryptionKeyError(
                    f"{KEYS_ENV} key {key_id!r} has {len(key)} bytes; AES-256 needs 32")
            if key_id in keys:
                raise EncryptionKeyError(f"{KEYS_ENV} names key {key_id!r} twice")
            keys[key_id] = key
            current = current or key_id
        if not keys:
            raise EncryptionKeyError(f"{KEYS_ENV} holds no key")
        return cls(keys=keys, current=current)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KeyRing | None:
        """The keys of `FIELD_SERVICE_ENCRYPTION_KEYS`, or None when it is unset or empty."""
        setting = (environ if environ is not None else os.environ).get(KEYS_ENV, "").strip()
        return cls.parse(setting) if setting else None


def new_key_setting(key_id: str = "local-1") -> str:
    """A fresh `key_id:base64key` entry (for `./dev up`'s local key and for tests)."""
    return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


class UnknownKeys:
    """The key IDs of payloads this process could not decrypt, and how often (spec 6.1: a key
    rotated in the wrong order must not wedge cases in silence). The first time a key ID is seen
    it is logged as an error; `counter` (a metric) counts every time; a worker's readiness names
    them."""

    def __init__(self, counter: Callable[[str], None] | None = None) -> None:
        self.counter = counter
        self.seen: dict[str, int] = {}

    # Distinct key IDs reported by name; past this, "other" (a metric label stays bounded even
    # when someone writes payloads under made-up key IDs).
    MAX_KEY_IDS = 20

    def __call__(self, key_id: str) -> None:
        """Report a payload under `key_id`, which this process does not hold."""
        if key_id not in self.seen and len(self.seen) >= self.MAX_KEY_IDS:
            key_id = "other"
        if key_id not in self.seen:
            log.error("payload under an encryption key this process does not hold", key_id=key_id,
                      fix=f"add the key to {KEYS_ENV} (decrypt-only: after the current one)")
        self.seen[key_id] = self.seen.get(key_id, 0) + 1
        if self.counter is not None:
            self.counter(key_id)


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over each whole serialized payload, the key ID in the metadata;
    `on_unknown_key` is told of a payload under a key this process does not hold."""

    def __init__(self, ring: KeyRing, on_unknown_key: Callable[[str], None] | None = None) -> None:
        self.ring = ring
        self.on_unknown_key = on_unknown_key
        self._ciphers = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt each payload with the current key."""
        cipher = self._ciphers[self.ring.current]
        out = []
        for p in payloads:
            nonce = os.urandom(_NONCE)
            key_id = self.ring.current.encode()
            # The key ID is bound to the ciphertext: a payload relabelled with another key's
            # ID fails authentication instead of decrypting to garbage.
            data = nonce + cipher.encrypt(nonce, p.SerializeToString(), key_id)
            out.append(Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=data))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt encrypted payloads; pass plain ones through."""
        out = []
        for p in payloads:
            if p.metadata.get("encoding") != ENCODING:
                out.append(p)
                continue
            key_id = p.metadata.get(KEY_ID, b"").decode(errors="replace")
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                if self.on_unknown_key is not None:
                    self.on_unknown_key(key_id[:80])
                raise ValueError(f"payload encrypted with key {key_id!r}, which this process "
                                 f"does not hold (set it in {KEYS_ENV})")
            try:
                plain = cipher.decrypt(p.data[:_NONCE], p.data[_NONCE:], key_id.encode())
            except InvalidTag:
                raise ValueError("encrypted payload failed authentication (tampered, or "
                                 "another key under the same ID)") from None
            decoded = Payload()
            decoded.ParseFromString(plain)
            out.append(decoded)
        return out
