"""Where pip reads its configuration, as plain strings: doctor's start-up asks whether any of
those files sets a constraint without importing pathlib and typing (pipconfig.py, which parses
them, wraps these). pip's own order: global, user (hidden by an existing PIP_CONFIG_FILE), site
(the running environment's), then PIP_CONFIG_FILE; os.devnull there means none at all."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs doctor's start-up more than it is worth
    from collections.abc import Mapping
    from typing import Optional


def home(environ: Mapping[str, str], platform: str) -> str:
    if platform == "win32":
        return environ.get("USERPROFILE") or environ.get("HOME") or os.path.expanduser("~")
    return environ.get("HOME") or os.path.expanduser("~")


def global_files(environ: Mapping[str, str], platform: str) -> list[str]:
    if platform == "darwin":
        return ["/Library/Application Support/pip/pip.conf"]
    if platform == "win32":
        base = environ.get("PROGRAMDATA") or environ.get("ALLUSERSPROFILE") or r"C:\ProgramData"
        return [os.path.join(base, "pip", "pip.ini")]
    dirs = [d for d in (environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep) if d]
    return [os.path.join(d, "pip", "pip.conf") for d in dirs] + ["/etc/pip.conf"]


def user_files(environ: Mapping[str, str], platform: str) -> list[str]:
    mine = home(environ, platform)
    if platform == "win32":
        appdata = environ.get("APPDATA") or os.path.join(mine, "AppData", "Roaming")
        return [os.path.join(mine, "pip", "pip.ini"), os.path.join(appdata, "pip", "pip.ini")]
    if platform == "darwin":
        app_support = os.path.join(mine, "Library", "Application Support", "pip")
        new = app_support if os.path.isdir(app_support) else os.path.join(mine, ".config", "pip")
        return [os.path.join(mine, ".pip", "pip.conf"), os.path.join(new, "pip.conf")]
    xdg_home = environ.get("XDG_CONFIG_HOME") or os.path.join(mine, ".config")
    return [os.path.join(mine, ".pip", "pip.conf"), os.path.join(xdg_home, "pip", "pip.conf")]


def config_files(
    environ: Mapping[str, str],
    platform: str = sys.platform,
    prefix: str = sys.prefix,
    site_file: Optional[str] = None,
) -> list[str]:
    """The files pip reads, lowest priority first (`site_file`: the venv's own file, named for it)."""
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    files = global_files(environ, platform)
    if not (env_file and os.path.exists(env_file)):
        files += user_files(environ, platform)
    files.append(site_file or os.path.join(prefix, "pip.ini" if platform == "win32" else "pip.conf"))
    if env_file:
        files.append(env_file)
    return files


def mention(environ: Mapping[str, str], word: bytes) -> bool:
    """Whether any file pip reads holds `word` at all: a cheap no before parsing them."""
    for path in config_files(environ):
        try:
            with open(path, "rb") as fh:
                if word in fh.read(1 << 20).lower():
                    return True
        except OSError:
            continue
    return False
