"""The committed contract (docs/contract) is what the code generates: integrators never read a
stale schema."""

from __future__ import annotations

import json
from pathlib import Path

from starter.contract import contract_files

CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "contract"


def test_committed_contract_matches_the_code() -> None:
    files = contract_files()
    stale = [rel for rel, text in files.items()
             if not (CONTRACT / rel).exists() or (CONTRACT / rel).read_text() != text]
    extra = [str(p.relative_to(CONTRACT)) for p in CONTRACT.glob("om/**/*.schema.json")
             if str(p.relative_to(CONTRACT)) not in files]
    assert not stale and not extra, (
        f"docs/contract is stale ({stale + extra}): run "
        "`python -m starter contract --write docs/contract`")


def test_every_event_schema_requires_an_event_id() -> None:
    schemas = {rel: json.loads(text) for rel, text in contract_files().items()
               if "/events/" in rel}
    assert schemas
    for rel, schema in schemas.items():
        assert "event_id" in schema.get("required", []), rel
