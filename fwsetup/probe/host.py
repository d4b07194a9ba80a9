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
    if sys.platform == "win32":
        import platform

        return platform.release()
    return os.uname().release


def python_version() -> str:
    v = sys.version_info
    return f"{v.major}.{v.minor}.{v.micro}" + (
        "" if v.releaselevel == "final" else f"{v.releaselevel[0]}{v.serial}"
    )


def python_implementation() -> str:
    return {"cpython": "CPython", "pypy": "PyPy"}.get(sys.implementation.name, sys.implementation.name)
