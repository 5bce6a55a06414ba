"""Every test in this folder runs on a real Temporal dev server (or the processes a deployment
runs): marked `e2e`, so `./dev test -m "not e2e"` gives the fast part while iterating."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark this folder's tests `e2e`."""
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)
