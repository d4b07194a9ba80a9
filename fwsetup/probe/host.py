"""This interpreter's OS, CPU architecture and version, without importing `platform`
(which costs more than several probes together on doctor's start-up budget)."""

from __future__ import annotations

import os
import sys


def system() -> str:
    """'Linux', 'Darwin', 'Windows', … as platform.system() says it."""
    if sys.platform == "win32":
        return "Windows"
    return os.uname().sysname


def machine() -> str:
    if sys.platform == "win32":
        return os.environ.get("PROCESSOR_ARCHITECTURE", "AMD64")
    return os.uname().machine


def release() -> str:
    """The kernel release: uname's on POSIX, the NT version ("10.0.22631") on Windows."""
    if sys.platform == "win32":
        return windows_version()
    return os.uname().release


def windows_version() -> str:
    """ "10.0.22631" from the running system itself. Not platform.version()/release(): before
    Python 3.12 they start `cmd /c ver` through a shell, with no timeout."""
    get = getattr(sys, "getwindowsversion", None)
    if get is None:
        return ""
    info = get()
    major, minor, build = getattr(info, "platform_version", None) or (info.major, info.minor, info.build)
    return f"{major}.{minor}.{build}"


def python_version() -> str:
    v = sys.version_info
    return f"{v.major}.{v.minor}.{v.micro}" + (
        "" if v.releaselevel == "final" else f"{v.releaselevel[0]}{v.serial}"
    )


def python_implementation() -> str:
    return {"cpython": "CPython", "pypy": "PyPy"}.get(sys.implementation.name, sys.implementation.name)
