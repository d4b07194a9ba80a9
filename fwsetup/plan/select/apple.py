"""Apple Silicon running an x86_64 Python under Rosetta 2: such a Python installs Intel-Mac wheels
(torch stopped shipping them after 2.2.2) and can never reach the GPU (MPS), whatever the
framework: every build matrix's walk asks here first (common.py). The probe reports it
(probe/apple.py, `sysctl.proc_translated` = 1); the fix is an arm64 Python, not a build."""

from __future__ import annotations

from typing import Optional

from fwsetup.errors import Refusal
from fwsetup.plan.machine import ARM64_PYTHON
from fwsetup.plan.model import Request
from fwsetup.report import SystemReport

ROSETTA_CODE = "rosetta-python"


def under_rosetta(report: SystemReport) -> bool:
    return any(p.code == ROSETTA_CODE for p in report.problems)


def rosetta_refusal(
    display: str, report: SystemReport, request: Request, reasons: list[str]
) -> Optional[Refusal]:
    """A refusal naming the arm64 Python, unless --cpu asked for the Intel-Mac build knowingly (then
    a reason says what it gets)."""
    if not under_rosetta(report):
        return None
    if request.accelerator == "cpu":
        reasons.append(
            "this Python is x86_64 under Rosetta 2: the Intel-Mac CPU build, emulated; " + ARM64_PYTHON
        )
        return None
    return Refusal(
        f"this Python is x86_64, running under Rosetta 2 on Apple Silicon: {display} would get "
        "Intel-Mac wheels (the last is torch 2.2.2) and no GPU (MPS)",
        ARM64_PYTHON,
        code="rosetta-python",
    )
