"""TensorFlow's companions against the real registry, without downloading TensorFlow: the plan's
packages resolved by uv's resolver (PyPI's METADATA), and `lock --with tf-keras` with hashes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import fwsetup, json_out
from machines import base_report
from packaging.requirements import Requirement

from fwsetup import records
from fwsetup.install.backends import find_uv

pytestmark = pytest.mark.e2e
PYPI = "https://pypi.org/simple"
TENSORFLOWS = {"tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos"}


@pytest.fixture
def linux(tmp_path: Path) -> Path:
    report = records.replace(base_report(), os=records.replace(base_report().os, distro_id="debian"))
    (tmp_path / "linux.json").write_text(report.to_json())
    return tmp_path / "linux.json"


def _resolve(packages: list[str], python: str) -> dict[str, str]:
    """name -> version, as uv resolves these requirements from PyPI for Linux x86_64."""
    uv = find_uv()
    assert uv is not None
    out = subprocess.run(
        [uv, "pip", "compile", "-", "--no-config", "--index-url", PYPI, "--python-version", python,
         "--python-platform", "x86_64-manylinux_2_28", "--no-header", "--no-annotate", "--quiet"],
        input="\n".join(packages), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if out.returncode != 0 and ("dns error" in out.stderr or "Connect" in out.stderr):
        pytest.skip(f"PyPI is not reachable here: {out.stderr[-300:]}")
    assert out.returncode == 0, out.stderr
    pins = [Requirement(line) for line in out.stdout.splitlines() if "==" in line]
    return {r.name: str(r.specifier)[2:] for r in pins}


@pytest.mark.parametrize(
    ("version", "companions"), [(None, "tensorflow-text"), ("2.18", "tensorflow-text,tf-keras")]
)
def test_the_resolution_keeps_the_planned_tensorflow(
    linux: Path, tmp_path: Path, version: str, companions: str
) -> None:
    """uv resolves the plan to one TensorFlow distribution, the planned one, with the companions'
    pins; the CPU plan's own tensorflow-cpu beside tensorflow-text would have been two."""
    pinned = ("--version", version) if version else ()
    out = fwsetup("install", "tensorflow", "--cpu", *pinned, "--with", companions, "--dry-run", "--json",
                  "--system", str(linux), env={"FWSETUP_HOME": str(tmp_path / "home")})  # fmt: skip
    assert out.returncode == 0, out.stderr
    plan = json_out(out)
    resolved = _resolve(plan["packages"], plan["python"])
    assert {n for n in resolved if n in TENSORFLOWS} == {"tensorflow"}
    assert resolved["tensorflow"] == plan["version"]
    for addition in plan["companions"]:
        assert resolved[addition["name"]] == addition["requirement"].partition("==")[2]
    text = next(a["requirement"] for a in plan["companions"] if a["name"] == "tensorflow-text")
    both = _resolve([f"tensorflow-cpu=={plan['version']}", text], plan["python"])
    assert {n for n in both if n in TENSORFLOWS} == {"tensorflow", "tensorflow-cpu"}


def test_lock_with_tf_keras_pins_it_with_hashes(linux: Path, tmp_path: Path) -> None:
    from fwsetup.fleet import lockfile

    lock = tmp_path / "tf.lock"
    out = fwsetup("lock", "tensorflow", "--cpu", "--with", "tf-keras", "--system", str(linux), "-o", str(lock),
                  "--json", env={"FWSETUP_HOME": str(tmp_path / "home")}, timeout=600)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    _, (target,) = lockfile.load(lock)
    lines = {Requirement(r.split(" ")[0]).name: r for r in target.requirements}
    assert lines["tf-keras"].startswith("tf-keras==2.21.0") and "--hash=sha256:" in lines["tf-keras"]
    assert lines["tensorflow"].startswith("tensorflow==2.21.0") and "--hash=sha256:" in lines["tensorflow"]
    assert "tensorflow-cpu" not in lines
    assert {"tensorflow", "tf-keras"} <= set(target.keeps)
