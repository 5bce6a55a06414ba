"""The signing rule of spec 6.1 as pure functions: what an integration computes, what the
gateway accepts, and rotation of a secret with two secrets for one name."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from gateway.signing import parse_secrets, signature, verify

NOW = 1_790_000_000
BODY = b'{"event_id": "mon-1", "resolved": false}'


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    # The reference an integration in any language checks its code against.
    mac = hmac.new(b"s3cret", f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature(b"s3cret", NOW, BODY) == f"t={NOW},v1={mac}"


def test_a_good_signature_passes_and_each_fault_is_named() -> None:
    secrets = parse_secrets("crm:s3cret")
    good = signature(b"s3cret", NOW, BODY)
    assert verify("crm", good, BODY, NOW + 10, secrets) is None
    assert verify(None, good, BODY, NOW, secrets) == (
        "missing X-FieldService-Integration or X-FieldService-Signature")
    assert verify("dialer", good, BODY, NOW, secrets) == "unknown integration 'dialer'"
    assert verify("crm", "v1=abc", BODY, NOW, secrets) == (
        "the signature has no timestamp t=<unix seconds>")
    assert verify("crm", good, BODY, NOW + 301, secrets) == (
        "stale signature (more than 300 s from the gateway's clock)")
    assert verify("crm", good, BODY, NOW - 301, secrets) is not None  # from the future
    assert verify("crm", good, BODY + b" ", NOW, secrets) == "the signature does not match the body"
    forged = signature(b"guess", NOW, BODY)
    assert verify("crm", forged, BODY, NOW, secrets) == "the signature does not match the body"


def test_two_secrets_for_one_name_rotate_without_a_gap() -> None:
    secrets = parse_secrets("crm:old-secret, dialer:d1, crm:new-secret")
    assert secrets == {"crm": (b"old-secret", b"new-secret"), "dialer": (b"d1",)}
    for secret in (b"old-secret", b"new-secret"):
        assert verify("crm", signature(secret, NOW, BODY), BODY, NOW, secrets) is None
    # Each secret is its own integration's: the dialer's does not sign for the CRM.
    assert verify("crm", signature(b"d1", NOW, BODY), BODY, NOW, secrets) is not None


@pytest.mark.parametrize("setting", ["crm", "crm:", ":TOPSECRET", "crm:TOPSECRET,dialer"])
def test_a_bad_setting_names_the_entry_never_a_secret(setting: str) -> None:
    with pytest.raises(ValueError, match=r"FIELD_SERVICE_WEBHOOK_SECRETS entry \d is not") as err:
        parse_secrets(setting)
    assert "TOPSECRET" not in str(err.value)
