"""Companion packages (torchvision, torchaudio) and the framework release each was made for
(companions.toml, read from each companion's own METADATA by bin/update_data.py)."""

from __future__ import annotations

import datetime
import functools
from typing import Optional

from fwsetup import versions
from fwsetup.facts import schema
from fwsetup.records import dataclass


@dataclass(frozen=True)
class CompanionRelease:
    version: str
    requires: str  # the Requires-Dist line naming the framework package, verbatim ("torch==2.13.0")


@dataclass(frozen=True)
class Companion:
    framework: str  # the recipe name
    name: str
    package: str  # the framework's package its METADATA names
    default: bool  # the framework's own install instructions name it
    summary: str
    source: str
    release: tuple[CompanionRelease, ...]

    def for_framework(self, version: str) -> Optional[CompanionRelease]:
        """The newest release made for this framework version: its requirement admits the version
        and names the same minor series (torchvision 0.29.1 says torch>=2.14.0: made for 2.14.x)."""
        from packaging.specifiers import SpecifierSet

        base = version.split("+")[0]
        best: Optional[CompanionRelease] = None
        for rel in self.release:
            spec = SpecifierSet(rel.requires[len(self.package) :])
            named = [s.version for s in spec]
            if not named or not spec.contains(base, prereleases=True):
                continue
            if versions.release(named[0], 2) != versions.release(base, 2):
                continue
            if best is None or versions.key(rel.version) > versions.key(best.version):
                best = rel
        return best


@dataclass(frozen=True)
class CompanionTable:
    companion: tuple[Companion, ...]
    checked: datetime.date


@functools.lru_cache(maxsize=1)
def table() -> CompanionTable:
    return schema.read(CompanionTable, "companions")


def of(framework: str) -> tuple[Companion, ...]:
    """The companions of a recipe, in the table's order."""
    return tuple(c for c in table().companion if c.framework == framework)
