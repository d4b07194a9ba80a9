"""Every Python on the machine, found by looking, not by running each one.

Historic frameworks need old interpreters (Theano on 3.7, Brainstorm on 2.7), so the
plan must know which exist. Starting each interpreter would cost ~20 ms apiece; the
version is read from install layouts instead (pyenv/uv/conda directory names, the
executable name, the headers' patchlevel.h).
"""

from __future__ import annotations

import os
import re
import sys

from fwsetup import versions
from fwsetup.probe import host
from fwsetup.probe.base import Probed, ProbeEnv
from fwsetup.report import Interpreter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

_EXE_NAME = re.compile(r"^python(?P<minor>[23]\.\d{1,2})$")
_PY_VERSION = re.compile(r'#define\s+PY_VERSION\s+"(?P<v>[^"]+)"')
_CPYTHON_DIR = re.compile(r"^cpython-(?P<v>\d+\.\d+\.\d+)[^/]*")
_CONDA_PY = re.compile(r"^python-(?P<v>\d+\.\d+\.\d+)-")


def probe(env: ProbeEnv) -> Probed:
    out = Probed()
    found: dict[str, Interpreter] = {}

    def add(exe: str, version: Optional[str], source: str) -> None:
        if not version or not os.access(exe, os.X_OK):
            return
        try:
            real = os.path.realpath(exe)
        except OSError:
            return
        if real not in found:
            found[real] = Interpreter(version=version, executable=exe, source=source)

    add(sys.executable, host.python_version(), "current")
    for exe, version in pyenv_interpreters(env):
        add(exe, version, "pyenv")
    for exe, version in uv_interpreters(env):
        add(exe, version, "uv")
    for exe, version in conda_interpreters(env):
        add(exe, version, "conda")
    for exe, version in path_interpreters(env):
        add(exe, version, "system")
    out.fields["interpreters"] = sorted(found.values(), key=_sort_key, reverse=True)
    return out


def _sort_key(interp: Interpreter) -> tuple[tuple[int, ...], str]:
    return (versions.release(interp.version), interp.source)


def pyenv_interpreters(env: ProbeEnv) -> list[tuple[str, str]]:
    root = env.environ.get("PYENV_ROOT") or os.path.join(env.environ.get("HOME", ""), ".pyenv")
    result = []
    for vdir in dir_entries(os.path.join(root, "versions")):
        name = os.path.basename(vdir)
        m = re.match(r"^(\d+\.\d+\.\d+)$", name)
        if not m:
            continue  # virtualenvs and other implementations are not plain interpreters
        minor = ".".join(name.split(".")[:2])
        for exe in (f"python{minor}", "python3", "python"):
            path = os.path.join(vdir, "bin", exe)
            if os.path.exists(path):
                result.append((path, name))
                break
    return result


def uv_interpreters(env: ProbeEnv) -> list[tuple[str, str]]:
    base = env.environ.get("UV_PYTHON_INSTALL_DIR") or os.path.join(
        env.environ.get("XDG_DATA_HOME") or os.path.join(env.environ.get("HOME", ""), ".local", "share"),
        "uv",
        "python",
    )
    result = []
    for pdir in dir_entries(base, "cpython-"):
        m = _CPYTHON_DIR.match(os.path.basename(pdir))
        exe = os.path.join(pdir, "bin", "python3")
        if m and os.path.exists(exe):
            result.append((exe, m.group("v")))
    return result


def conda_interpreters(env: ProbeEnv) -> list[tuple[str, str]]:
    home = env.environ.get("HOME", "")
    prefixes: list[str] = []
    for base in ("miniconda3", "anaconda3", "miniforge3", "mambaforge"):
        root = os.path.join(home, base)
        if os.path.isdir(root):
            prefixes.append(root)
            prefixes.extend(dir_entries(os.path.join(root, "envs")))
    result = []
    for prefix in prefixes:
        exe = os.path.join(prefix, "bin", "python")
        metas = [
            m
            for m in dir_entries(os.path.join(prefix, "conda-meta"), "python-")
            if m.endswith(".json") and os.path.basename(m)[len("python-") : len("python-") + 1].isdigit()
        ]
        m = _CONDA_PY.match(os.path.basename(metas[0])) if metas else None
        if m and os.path.exists(exe):
            result.append((exe, m.group("v")))
    return result


def path_interpreters(env: ProbeEnv) -> list[tuple[str, str]]:
    """pythonX.Y executables on PATH (and the usual system dirs), pyenv shims excluded."""
    dirs = [d for d in env.environ.get("PATH", "").split(os.pathsep) if d]
    for extra in ("/usr/bin", "/usr/local/bin"):
        if extra not in dirs:
            dirs.append(extra)
    result = []
    for d in dirs:
        if "shims" in d.split(os.sep):
            continue  # pyenv shims are bash scripts; the real ones are found under versions/
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for name in sorted(n for n in names if n.startswith("python")):  # /usr/bin: 1000s of names
            m = _EXE_NAME.match(name)
            if not m:
                continue
            exe = os.path.join(d, name)
            result.append((exe, exact_version(exe, m.group("minor"))))
    return result


def exact_version(exe: str, minor: str) -> str:
    """The full X.Y.Z from the install's patchlevel.h when it is there, else X.Y."""
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(exe)))
    for header in (
        os.path.join(prefix, "include", f"python{minor}", "patchlevel.h"),
        os.path.join(prefix, "include", f"python{minor}m", "patchlevel.h"),
    ):
        try:
            with open(header, encoding="utf-8", errors="replace") as fh:
                m = _PY_VERSION.search(fh.read())
        except OSError:
            continue
        if m:
            return m.group("v")
    return minor


def dir_entries(directory: str, prefix: str = "") -> list[str]:
    """Sorted paths of the entries of `directory` whose names start with `prefix` (glob's `*`
    without its import: doctor's start-up counts every module)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return [os.path.join(directory, n) for n in sorted(names) if n.startswith(prefix) and not n.startswith(".")]
