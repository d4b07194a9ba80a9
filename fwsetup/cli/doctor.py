"""`fwsetup doctor`: probe, diagnose, render. Also its typer-free fast path.

Importing typer (and what it pulls in) takes longer than every probe together, yet a
researcher or a CI script runs `doctor` to get an answer in well under a second. So
`main()` first asks `fast_path` whether the arguments are a plain doctor call it fully
understands (--json, --strict, --timeout, and their FWSETUP_* variables); anything else —
--help, a typo, another command — goes to typer, which owns the documented interface.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Optional

from fwsetup.errors import ExitCode

DEFAULT_TIMEOUT = 5.0


def run_doctor(json_output: bool, strict: bool, timeout: float) -> int:
    import dataclasses

    from fwsetup import probe as system
    from fwsetup.cli import render
    from fwsetup.probe.base import ProbeEnv
    from fwsetup.probe.diagnose import diagnose

    report = system.collect(ProbeEnv(timeout=timeout))
    report = dataclasses.replace(report, findings=diagnose(report))
    if json_output:
        render.dump_json(report.to_dict())
    else:
        sys.stdout.write(render.report_text(report, render.use_color(sys.stdout)))
    if strict and any(f.level == "error" for f in report.findings):
        return int(ExitCode.INTERNAL)
    return int(ExitCode.OK)


def _env_flag(name: str) -> Optional[bool]:
    value = os.environ.get(name)
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on", "y", "t"):
        return True
    if lowered in ("0", "false", "no", "off", "n", "f", ""):
        return False
    return None  # let typer report the bad value


def fast_path(argv: Sequence[str]) -> Optional[int]:
    """Run doctor without typer when argv is a doctor call we fully understand, else None."""
    if not argv or argv[0] != "doctor":
        return None
    json_output = _env_flag("FWSETUP_JSON") or False
    strict = _env_flag("FWSETUP_STRICT") or False
    if "FWSETUP_JSON" in os.environ and _env_flag("FWSETUP_JSON") is None:
        return None
    if "FWSETUP_STRICT" in os.environ and _env_flag("FWSETUP_STRICT") is None:
        return None
    timeout_text = os.environ.get("FWSETUP_PROBE_TIMEOUT")
    rest = list(argv[1:])
    while rest:
        arg = rest.pop(0)
        if arg == "--json":
            json_output = True
        elif arg == "--strict":
            strict = True
        elif arg == "--timeout" and rest:
            timeout_text = rest.pop(0)
        elif arg.startswith("--timeout="):
            timeout_text = arg.split("=", 1)[1]
        else:
            return None
    timeout = DEFAULT_TIMEOUT
    if timeout_text is not None:
        try:
            timeout = float(timeout_text)
        except ValueError:
            return None
        if not 0.1 <= timeout <= 120.0:
            return None
    try:
        return run_doctor(json_output, strict, timeout)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:  # same promise as every command: one message, never a traceback
        from fwsetup.cli.errors import report_internal_error

        return report_internal_error(exc, json_output)
