"""`fwsetup doctor`: probe, diagnose, render. Its options are declared with the others in cli/app.py.

A researcher or a CI script runs `doctor` to get an answer in well under a second, so this module
imports the probes only when called and nothing here pulls in planning or installing."""

from __future__ import annotations

import os
import sys

from fwsetup.errors import ExitCode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional


# The published JSON Schema of `doctor --json` (shipped in the wheel; README "Machine-readable output").
SCHEMA_FILE = os.path.join(os.path.dirname(__file__), "doctor.schema.json")


def run_doctor(json_output: bool, strict: bool, timeout: float, python: Optional[str] = None) -> int:
    from fwsetup import probe as system
    from fwsetup import records
    from fwsetup.cli import render
    from fwsetup.facts import dates
    from fwsetup.probe.base import ProbeEnv
    from fwsetup.probe.diagnose import diagnose, stale_data

    report = system.collect(ProbeEnv(timeout=timeout, python=python))
    checked = dates.all_checked_days()
    found = diagnose(report) + stale_data(checked, dates.today(), dates.STALE_AFTER_DAYS)
    report = records.replace(report, findings=found, data_checked=checked)
    if json_output:
        render.dump_json(report.to_dict())
    else:
        sys.stdout.write(render.report_text(report, render.use_color(sys.stdout)))
        sys.stdout.write(f"data checked on: {dates.summary(checked)}\n")
    if strict and any(f.level == "error" for f in report.findings):
        return int(ExitCode.INTERNAL)
    return int(ExitCode.OK)

