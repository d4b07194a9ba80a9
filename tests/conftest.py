from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakes import FIXTURES


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(autouse=True)
def _no_index_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plans made in tests never ask a package index (fwsetup/commands/freshness.py); the tests of
    that check turn it back on against a loopback index."""
    monkeypatch.setenv("FWSETUP_INDEX_CHECK", "0")
