"""Where fwsetup keeps things. One place, so the README and the code agree.

Environments: $FWSETUP_HOME/envs/<framework>-<variant>, where FWSETUP_HOME defaults to
$XDG_DATA_HOME/fwsetup (~/.local/share/fwsetup) on Linux, ~/Library/Application
Support/fwsetup on macOS and %LOCALAPPDATA%\\fwsetup on Windows.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def home_dir() -> str:
    """FWSETUP_HOME as a string: doctor asks for it without paying for pathlib."""
    override = os.environ.get("FWSETUP_HOME")
    if override:
        return os.path.expanduser(override)
    user = os.path.expanduser("~")
    if sys.platform == "darwin":
        return os.path.join(user, "Library", "Application Support", "fwsetup")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(user, "AppData", "Local")
        return os.path.join(base, "fwsetup")
    xdg = os.environ.get("XDG_DATA_HOME") or os.path.join(user, ".local", "share")
    return os.path.join(xdg, "fwsetup")


def env_root_dir() -> str:
    return os.path.join(home_dir(), "envs")


def home() -> Path:
    from pathlib import Path

    return Path(home_dir())


def env_root() -> Path:
    return home() / "envs"


def default_env_path(framework: str, variant: str) -> Path:
    return env_root() / f"{framework}-{variant}"

