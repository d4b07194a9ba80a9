"""Companion packages (torchvision, torchaudio, tensorflow-text, tf-keras, …) and the framework
release each was made for (companions.toml, read from each companion's own METADATA by
bin/update_data.py)."""

from __future__ import annotations

import datetime
import functools
from typing import Optional

from fwsetup import versions
from fwsetup.facts import schema
from fwsetup.records import dataclass

LOWER = ("==", "===", ">=", "~=", ">")


@dataclass(frozen=True)
class CompanionRelease:
    version: str
    requires: str  # the Requires-Dist line naming the framework package, verbatim ("torch==2.13.0")
    wheels: tuple[str, ...] = ()  # python-abi-platform tags of its wheels (per_variant = false only)

    @property
    def pure(self) -> bool:
        """Only py3-none-any wheels: nothing compiled against the framework's build."""
        return bool(self.wheels) and all(t.endswith("-none-any") for t in self.wheels)

    def floor(self, package: str) -> Optional[str]:
        """The lowest framework version the requirement names (its ==, >=, ~= bound)."""
        from packaging.specifiers import SpecifierSet

        found = [s.version for s in SpecifierSet(self.requires[len(package) :]) if s.operator in LOWER]
        return min(found, key=versions.key) if found else None

    def admits(self, package: str, version: str) -> bool:
        """Whether the requirement admits this framework version (its local label set aside)."""
        from packaging.specifiers import SpecifierSet

        return SpecifierSet(self.requires[len(package) :]).contains(version.split("+")[0], prereleases=True)


@dataclass(frozen=True)
class Companion:
    framework: str  # the recipe name
    name: str
    package: str  # the framework's package its METADATA names
    default: bool  # the framework's own install instructions name it
    summary: str
    source: str
    release: tuple[CompanionRelease, ...]
    per_variant: bool = True  # one build per framework variant (+cpu, +cu126) on the framework's index
    instead_of: tuple[str, ...] = ()  # the framework's other distributions (tensorflow-cpu)

    def for_framework(self, version: str) -> Optional[CompanionRelease]:
        """The newest release made for this framework version: its requirement admits the version
        and its lower bound names the same minor series (torchvision 0.29.1 says torch>=2.14.0:
        made for 2.14.x; tensorflow-text 2.18.1 says tensorflow<2.19,>=2.18.0)."""
        best: Optional[CompanionRelease] = None
        for rel in self.series(version):
            if not rel.admits(self.package, version):
                continue
            if best is None or versions.key(rel.version) > versions.key(best.version):
                best = rel
        return best

    def made_for(self) -> set[str]:
        """The framework's minor series ("2.14") its releases were made for (their lower bounds)."""
        found = (versions.release(r.floor(self.package) or "", 2) for r in self.release)
        return {".".join(map(str, s)) for s in found if len(s) == 2}

    def series(self, version: str) -> list[CompanionRelease]:
        """The releases whose lower bound names this version's minor series, newest first (some
        may still not admit it: tensorflow-decision-forests 1.11.0 says tensorflow==2.18.0)."""
        base = versions.release(version.split("+")[0], 2)
        found = [r for r in self.release if versions.release(r.floor(self.package) or "", 2) == base]
        return sorted(found, key=lambda r: versions.key(r.version), reverse=True)


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


def series_with(framework: str, names: set[str]) -> list[str]:
    """The framework's minor series ("2.14") that every named companion has a release for, newest
    first: where an explicit --with steps back to when the newest framework has none yet."""
    found: Optional[set[str]] = None
    for companion in of(framework):
        if companion.name in names:
            found = companion.made_for() if found is None else found & companion.made_for()
    return sorted(found or (), key=lambda s: versions.release(s, 2), reverse=True)
