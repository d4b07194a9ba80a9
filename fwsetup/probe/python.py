"""The interpreter running fwsetup: version, venv/conda, PEP 668 status, pip and uv."""

from __future__ import annotations

import os
import re
import sys

from fwsetup.probe import dists, host
from fwsetup.probe.base import Probed, ProbeEnv
from fwsetup.report import PythonInfo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional


def probe(env: ProbeEnv) -> Probed:
    out = Probed()
    in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
    installed = dists.scan()  # one walk of sys.path for pip and uv
    pip = installed.get("pip")
    out.fields["python"] = PythonInfo(
        version=host.python_version(),
        implementation=host.python_implementation(),
        executable=sys.executable,
        externally_managed=is_externally_managed(in_venv),
        in_venv=in_venv,
        conda=conda_prefix(env),
        pip_version=pip.version if pip else None,
        uv_version=uv_version(env, out, installed.get("uv")),
    )
    return out


def is_externally_managed(in_venv: bool) -> bool:
    """PEP 668: the marker file in the stdlib dir, which a venv never inherits."""
    if in_venv:
        return False
    # sysconfig.get_path("stdlib") is where os.py lives; importing sysconfig costs more.
    stdlib = os.path.dirname(os.__file__)
    return os.path.isfile(os.path.join(stdlib, "EXTERNALLY-MANAGED"))


def conda_prefix(env: ProbeEnv) -> Optional[str]:
    if os.path.isdir(os.path.join(sys.prefix, "conda-meta")):
        return sys.prefix
    return None


def uv_version(env: ProbeEnv, out: Probed, installed: Optional[dists.Dist] = None) -> Optional[str]:
    """uv on PATH (asked for its version), or the uv package installed beside this interpreter
    (fwsetup's own dependency: its metadata says the version without starting it)."""
    uv = env.which("uv")
    if uv is None:
        return installed.version if installed is not None and env.is_real_root else None
    result = env.run([uv, "--version"])
    m = re.search(r"\buv (\d+\.\d+\.\d+\S*)", result.stdout)
    if not result.ok or not m:
        out.problem("uv-unreadable", f"`uv --version` gave no version: {result.output[:120]!r}", "python")
        return None
    return m.group(1)
