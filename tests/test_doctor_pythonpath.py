"""doctor reads the packages an interpreter gets through PYTHONPATH (what an HPC `module load` sets)
and .pth files, as well as its site-packages, and says where each framework came from. Real venvs,
real packages installed with pip into a real PYTHONPATH directory and a directory a .pth file adds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import cli, json_out

from fwsetup.probe import syspath


def _pip_target(directory: Path, package: str) -> None:
    """A real install of `package` (no dependencies) into `directory`, as `module load` trees are made."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(directory), package],
        check=True,
        capture_output=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pythonpath")
    module, extra = root / "apps" / "keras" / "site-packages", root / "extra"
    _pip_target(module, "keras")  # the framework a module puts on PYTHONPATH
    _pip_target(extra, "jax")  # the framework a .pth file points at
    return {"root": root, "module": module, "extra": extra}


def _venv(path: Path, extra: Path, *flags: str) -> Path:
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", *flags, str(path)], check=True, timeout=120
    )
    (site,) = path.glob("lib/python*/site-packages")
    (site / "extra-tree.pth").write_text(f"# a tree this venv imports from\nimport os\n{extra}\n")
    return path / "bin" / "python"


def _frameworks(data: dict[str, object]) -> dict[str, dict[str, object]]:
    listed = data["frameworks"]
    assert isinstance(listed, list)
    return {str(f["name"]): f for f in listed}


@pytest.mark.parametrize("flags", [(), ("--system-site-packages",)], ids=["read-from-disk", "asked"])
def test_doctor_says_which_framework_came_from_pythonpath_and_which_from_a_pth(
    trees: dict[str, Path], tmp_path: Path, flags: tuple[str, ...]
) -> None:
    python = _venv(tmp_path / "venv", trees["extra"], *flags)
    environ = {"PYTHONPATH": str(trees["module"]), "FWSETUP_NO_NVML": "1"}
    out = cli("doctor", "--json", "--python", str(python), env=environ)
    assert out.returncode == 0, out.stderr
    data = json_out(out)
    found = _frameworks(data)
    assert found["keras"]["origin"] == "PYTHONPATH" and found["keras"]["location"] == str(trees["module"])
    assert found["jax"]["origin"] == ".pth" and found["jax"]["location"] == str(trees["extra"])
    codes = {f["code"] for f in data["findings"]}  # type: ignore[index, union-attr]
    assert "framework-from-pythonpath" in codes
    text = cli("doctor", "--python", str(python), env=environ).stdout
    assert "keras 3" in text and "via PYTHONPATH" in text and "via .pth" in text


def test_without_pythonpath_the_module_tree_is_not_read(trees: dict[str, Path], tmp_path: Path) -> None:
    python = _venv(tmp_path / "venv", trees["extra"])
    out = cli("doctor", "--json", "--python", str(python), env={"PYTHONPATH": "", "FWSETUP_NO_NVML": "1"})
    data = json_out(out)
    found = _frameworks(data)
    assert "keras" not in found and found["jax"]["origin"] == ".pth"
    assert "framework-from-pythonpath" not in {f["code"] for f in data["findings"]}  # type: ignore[index, union-attr]


def test_the_python_on_path_gets_its_pythonpath_too(trees: dict[str, Path], tmp_path: Path) -> None:
    python = _venv(tmp_path / "venv", trees["extra"])
    environ = {
        "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(trees["module"]),
        "VIRTUAL_ENV": "",
        "CONDA_PREFIX": "",
        "FWSETUP_NO_NVML": "1",
    }
    data = json_out(cli("doctor", "--json", env=environ))
    assert data["frameworks_from"]["source"] == "PATH"  # type: ignore[index]
    assert _frameworks(data)["keras"]["origin"] == "PYTHONPATH"


def test_pth_lines_are_read_as_site_py_reads_them_and_never_run(tmp_path: Path) -> None:
    site, real = tmp_path / "site-packages", tmp_path / "real"
    site.mkdir()
    real.mkdir()
    marker = tmp_path / "ran"
    (site / "a.pth").write_text(
        f"import pathlib; pathlib.Path({str(marker)!r}).touch()\n\n# comment\nmissing\n../real\n"
    )
    (site / ".hidden.pth").write_text(f"{real}\n")
    assert syspath.pth_dirs(str(site)) == [str(real)]
    assert not marker.exists()
    built = syspath.build([str(site)], {"PYTHONPATH": f"{tmp_path / 'mod'}{os.pathsep}{os.pathsep}"})
    assert built == [(str(tmp_path / "mod"), "PYTHONPATH"), (str(site), "site-packages"), (str(real), ".pth")]
