"""Where fwsetup keeps things. One place, so the README and the code agree.

Environments: $FWSETUP_HOME/envs/<framework>-<variant>, where FWSETUP_HOME defaults to
$XDG_DATA_HOME/fwsetup (~/.local/share/fwsetup) on Linux, ~/Library/Application
Support/fwsetup on macOS and %LOCALAPPDATA%\\fwsetup on Windows.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def home() -> Path:
    override = os.environ.get("FWSETUP_HOME")
    if override:
        return Path(override).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "fwsetup"
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "fwsetup"
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "fwsetup"


def env_root() -> Path:
    return home() / "envs"


def default_env_path(framework: str, variant: str) -> Path:
    return env_root() / f"{framework}-{variant}"

