"""Run the real CLI as a subprocess, the way users and CI scripts do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

# The top-level keys of the doctor --json contract (issue 3).
REPORT_KEYS = {
    "os",
    "python",
    "interpreters",
    "nvidia",
    "gpus",
    "cuda_toolkits",
    "rocm",
    "resources",
    "frameworks",
    "problems",
    "findings",
}
TINY_RECIPES = Path(__file__).parent / "recipes_tiny"


def fwsetup(
    *args: str, env: Optional[dict[str, str]] = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ)
    full.pop("FWSETUP_JSON", None)
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "fwsetup", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def json_out(proc: subprocess.CompletedProcess[str]) -> Any:
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(
            f"stdout is not one JSON document ({exc}):\n{proc.stdout}\nstderr:\n{proc.stderr}"
        ) from None


def tiny_env(home: Path, **extra: str) -> dict[str, str]:
    env = {"FWSETUP_HOME": str(home), "FWSETUP_RECIPES_DIR": str(TINY_RECIPES)}
    env.update(extra)
    return env
