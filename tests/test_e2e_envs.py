"""ENV/bin/python run directly (cron, systemd, an IDE, CI): the recipe's settings without
activation, for the two recipes whose settings matter — Theano's compile cache and CNTK's MPI
libraries. Real installs from the registries; CNTK also needs root for its apt package."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from helpers import fwsetup, json_out

pytestmark = pytest.mark.e2e

BARE = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent-home"}  # no activation, no THEANO_FLAGS


def _direct(env: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(env / "bin" / "python"), "-c", code],
        capture_output=True,
        text=True,
        env=BARE,
        timeout=900,
        check=False,
    )


def _install(framework: str, tmp_path: Path, *extra: str) -> Path:
    """A real `fwsetup install FW --cpu` (its smoke test included) into tmp_path/FW."""
    env = tmp_path / framework
    home = {"FWSETUP_HOME": str(tmp_path / "h")}
    out = fwsetup("install", framework, "--cpu", *extra, "--env", str(env), "--json", env=home, timeout=3600)
    assert out.returncode == 0, out.stderr
    assert json_out(out)["smoke"]["ok"] is True
    return env


def test_theano_env_python_keeps_its_cache_in_the_env(tmp_path: Path) -> None:
    env = _install("theano", tmp_path)
    code = (
        "import numpy, theano, theano.tensor as T; a = T.matrix(); f = theano.function([a], T.dot(a, a).sum()); "
        "print(theano.config.base_compiledir); print(float(f(numpy.ones((3, 3), dtype=theano.config.floatX))))"
    )
    ran = _direct(env, code)
    assert ran.returncode == 0, ran.stderr
    cache, value = ran.stdout.strip().splitlines()[-2:]
    assert value == "27.0"
    assert os.path.realpath(cache).startswith(os.path.realpath(tmp_path / ".theano.fwsetup"))
    assert not Path("/nonexistent-home/.theano").exists()


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("FWSETUP_E2E_SLOW"), reason="slow e2e: set FWSETUP_E2E_SLOW=1")
@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="CNTK's MPI package needs root (apt)"
)
def test_cntk_imports_from_env_python_without_ld_library_path(tmp_path: Path) -> None:
    env = _install("cntk", tmp_path, "--system-packages")
    ran = _direct(
        env,
        "import cntk, numpy; print(cntk.__version__); print(float(cntk.times(numpy.ones((3,3),'f'), numpy.ones((3,3),'f')).eval().sum()))",
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip().splitlines()[-1] == "27.0"
