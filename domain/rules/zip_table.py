"""The IANA zone of every US ZIP code as a compact table shipped with the code
(domain/data/zip_zones.txt), generated from the `zipcodes` package's USPS list.

Why a table: reading the package's 42,000 records at start grew every worker's and gateway's
memory by about 47 MiB for a map the processes need 100 KB of (issue 21, docs/benchmarks.md).
The file has two lines: the zone names, space-separated; then one character per ZIP code
00000-99999, the zone's position in `SYMBOLS` (`.` where the list has no zone). Regenerate
after upgrading `zipcodes`: `python -m domain.rules.zip_table --write` (a test compares the two).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

TABLE = Path(__file__).resolve().parents[1] / "data" / "zip_zones.txt"
SYMBOLS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
NONE = "."
ZIP_CODES = 100_000


def load(path: Path = TABLE) -> tuple[list[str], str]:
    """The zone names and the one-character-per-ZIP row."""
    names, row = path.read_text().splitlines()[:2]
    if len(row) != ZIP_CODES:
        raise ValueError(f"{path}: {len(row)} ZIP codes, not {ZIP_CODES}")
    return names.split(), row


def zone_at(table: tuple[list[str], str], zip_code: str) -> str | None:
    """The zone of a five-digit ZIP code in `table`, or None."""
    if len(zip_code) != 5 or not zip_code.isdigit():
        return None
    mark = table[1][int(zip_code)]
    return None if mark == NONE else table[0][SYMBOLS.index(mark)]


def _records() -> Iterator[dict[str, Any]]:
    import zipcodes  # noqa: PLC0415 - only to generate the table

    similar_to: Callable[[str], Iterable[dict[str, Any]]] = zipcodes.similar_to
    # A hundred ZIP prefixes at a time: `list_all()` keeps all records for the process's life.
    for prefix in range(100):
        yield from similar_to(f"{prefix:02d}")


def generate(known: Callable[[str], bool]) -> str:
    """The table's text from the `zipcodes` package (zones `known` to this Python only)."""
    zones = {r["zip_code"]: r["timezone"] for r in _records()
             if r.get("timezone") and known(r["timezone"])}
    names = sorted(set(zones.values()))
    if len(names) > len(SYMBOLS):
        raise ValueError(f"{len(names)} zones do not fit {len(SYMBOLS)} symbols")
    row = [NONE] * ZIP_CODES
    for zip_code, name in zones.items():
        row[int(zip_code)] = SYMBOLS[names.index(name)]
    return " ".join(names) + "\n" + "".join(row) + "\n"


def main() -> None:
    """Print or `--write` the table."""
    from zoneinfo import available_timezones  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {TABLE}")
    known = available_timezones()
    text = generate(known.__contains__)
    if parser.parse_args().write:
        TABLE.parent.mkdir(parents=True, exist_ok=True)
        TABLE.write_text(text)
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
