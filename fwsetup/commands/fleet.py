"""`fwsetup fleet report`: one table from many machines' `doctor --json` reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from fwsetup.errors import UsageError
from fwsetup.fleet import report
from fwsetup.progress import Progress
from fwsetup.records import dataclass, field


@dataclass(frozen=True)
class Options:
    action: str
    reports: list[str] = field(default_factory=list)  # one per machine, named by file name
    frameworks: str = "pytorch,tensorflow,jax"  # comma-separated


@dataclass(frozen=True)
class FleetResult:
    table: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.table


def execute(options: Options, progress: Optional[Progress] = None) -> FleetResult:
    if options.action != "report":
        raise UsageError(f"no fleet action {options.action!r}", "use `fwsetup fleet report REPORT.json…`")
    names = tuple(f.strip() for f in options.frameworks.split(",") if f.strip())
    return FleetResult(report.build([Path(p) for p in options.reports], names))
