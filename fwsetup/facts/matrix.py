"""Deprecated dict-shaped lookups in the PyTorch matrix, for probe/diagnose.py and
fleet/lockfile.py until they use `fwsetup.facts.pytorch` (typed) directly."""

from __future__ import annotations

from typing import Any, Optional

from fwsetup import records
from fwsetup.facts import pytorch


def torch_variant(version: str, variant: str, platform: str = "linux-x86_64") -> Optional[dict[str, Any]]:
    """The variant entry for this platform as a dict (`facts.pytorch.variant` is the typed one)."""
    found = pytorch.variant(version, variant, platform)
    return records.asdict(found) if found is not None else None
