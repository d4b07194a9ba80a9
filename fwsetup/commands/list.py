"""`fwsetup list`: every framework fwsetup knows, its variants, and what this machine (or the one
that wrote a `--system` report) would get."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from fwsetup.plan import planning
from fwsetup.progress import Progress
from fwsetup.records import dataclass


@dataclass(frozen=True)
class Options:
    system_report: Optional[Path] = None


@dataclass(frozen=True)
class ListResult:
    frameworks: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"frameworks": self.frameworks}


def execute(options: Options, progress: Optional[Progress] = None) -> ListResult:
    report = planning.machine_report(options.system_report)
    on_disk = planning.local_wheels([], use_pip_config=options.system_report is None)
    return ListResult(planning.machine_summary(report, on_disk))
