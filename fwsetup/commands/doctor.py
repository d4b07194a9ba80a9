"""`fwsetup doctor`: probe this machine, diagnose it, and say how old the data is.

A researcher or a CI script runs it to get an answer in well under a second, so this module
imports the probes and nothing of planning or installing, and no `typing` at run time."""

from __future__ import annotations

import os

from fwsetup import probe as system
from fwsetup.errors import ExitCode, UsageError, shorten
from fwsetup.facts import dates
from fwsetup.probe.base import ProbeEnv
from fwsetup.probe.diagnose import diagnose, pip_constraint_missing, pip_constraint_variable, stale_data
from fwsetup.records import dataclass, replace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Optional

    from fwsetup.progress import Progress
    from fwsetup.report import SystemReport


@dataclass(frozen=True)
class Options:
    strict: bool = False  # an error-level finding makes the exit status 1 (for CI)
    timeout: float = 5.0  # seconds each probe may take
    python: Optional[Path] = None  # read the frameworks of this interpreter or environment


@dataclass(frozen=True)
class DoctorResult:
    report: SystemReport
    checked: str  # the day each data table was last checked, in one line
    exit_code: int = 0

    def to_dict(self) -> dict[str, Any]:
        return self.report.to_dict()


def execute(options: Options, progress: Optional[Progress] = None) -> DoctorResult:
    python = options.python
    if python is not None and not os.path.exists(python):
        raise UsageError(
            f"--python {shorten(str(python))}: no such file or directory", "pass a python executable or a venv directory"
        )
    report = system.collect(ProbeEnv(timeout=options.timeout, python=str(python) if python is not None else None))
    checked = dates.all_checked_days()
    found = diagnose(report) + stale_data(checked, dates.today(), dates.STALE_AFTER_DAYS)
    found += pip_constraint_variable(os.environ) + pip_constraint_missing(os.environ)
    report = replace(report, findings=found, data_checked=checked)
    failed = options.strict and any(f.level == "error" for f in report.findings)
    return DoctorResult(report, dates.summary(checked), int(ExitCode.INTERNAL) if failed else int(ExitCode.OK))
