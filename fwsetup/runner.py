"""Run external tools safely: argument lists, a timeout always, output decoded forgivingly.

Probes call tools that may be missing, hang on a wedged driver, or print bytes that
are not UTF-8. None of that may raise: the caller gets a `ProcResult` saying what
happened and decides what it means.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Optional

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class ProcResult:
    argv: tuple[str, ...]
    returncode: Optional[int]  # None: did not run to completion (missing, timeout, OS error)
    stdout: str
    stderr: str
    error: Optional[str] = None  # "missing", "timeout" or an OS error text

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def output(self) -> str:
        """stdout and stderr together: tools like nvidia-smi report errors on either."""
        return (self.stdout + "\n" + self.stderr).strip()


def which(name: str, environ: Optional[Mapping[str, str]] = None) -> Optional[str]:
    path = (environ if environ is not None else os.environ).get("PATH", os.defpath)
    return shutil.which(name, path=path)


def run(
    argv: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    environ: Optional[Mapping[str, str]] = None,
    cwd: Optional[str] = None,
) -> ProcResult:
    """Run argv with a timeout; never raises for a missing tool, a hang or bad bytes."""
    args = tuple(argv)
    env = dict(environ) if environ is not None else None
    exe = which(args[0], env) if os.sep not in args[0] else args[0]
    if exe is None:
        return ProcResult(args, None, "", "", error="missing")
    try:
        completed = subprocess.run(
            [exe, *args[1:]],
            capture_output=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return ProcResult(args, None, _decode(exc.stdout), _decode(exc.stderr), error="timeout")
    except OSError as exc:
        return ProcResult(args, None, "", "", error=f"{type(exc).__name__}: {exc.strerror or exc}")
    return ProcResult(args, completed.returncode, _decode(completed.stdout), _decode(completed.stderr))


def _decode(data: Optional[bytes]) -> str:
    if not data:
        return ""
    return data.decode("utf-8", errors="replace")
