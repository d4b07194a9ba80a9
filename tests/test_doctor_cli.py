"""doctor end to end: the real CLI here, and the whole probe pipeline on every fixture machine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fakes import FIXTURES, make_tool, path_env
from helpers import REPORT_KEYS, fwsetup, json_out

from fwsetup import probe as system
from fwsetup.probe.base import ProbeEnv
from fwsetup.probe.diagnose import diagnose
from fwsetup.report import SystemReport

SMI_TABLES = sorted(p.name for p in (FIXTURES / "nvidia-smi").iterdir() if not p.name.endswith(".source.md"))
ERRORS = sorted(
    p.name
    for p in (FIXTURES / "errors").iterdir()
    if p.name.startswith(("nvidia-smi", "nvml")) and not p.name.endswith(".source.md")
)


def test_doctor_json_is_one_document_with_the_contract() -> None:
    out = fwsetup("doctor", "--json")
    assert out.returncode == 0, out.stderr
    data = json_out(out)
    assert data["schema_version"] == 1
    assert set(data) >= REPORT_KEYS
    SystemReport.from_dict(data)


def test_doctor_text_and_strict() -> None:
    out = fwsetup("doctor")
    assert (
        out.returncode == 0 and "System" in out.stdout and "Findings" in out.stdout
    ) or "No problems" in out.stdout
    strict = fwsetup("doctor", "--strict", "--json")
    errors = [f for f in json_out(strict)["findings"] if f["level"] == "error"]
    assert strict.returncode == (1 if errors else 0)


def test_doctor_env_vars_and_typer_fallback() -> None:
    out = fwsetup("doctor", env={"FWSETUP_JSON": "1"})
    assert json_out(out)["schema_version"] == 1
    bad = fwsetup("doctor", "--timeout", "nope")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    typo = fwsetup("doctor", "--jsn")
    assert typo.returncode == 2 and "No such option" in typo.stderr
    helped = fwsetup("doctor", "--help")
    assert helped.returncode == 0 and "--strict" in helped.stdout


def _machine_root(tmp_path: Path, os_release: str = "ubuntu-22.04.3.os-release") -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    shutil.copy(FIXTURES / "os" / os_release, root / "etc" / "os-release")
    return root


@pytest.mark.parametrize("table", SMI_TABLES)
def test_every_recorded_machine_makes_a_contract_report(tmp_path: Path, table: str) -> None:
    bindir = tmp_path / "bin"
    make_tool(
        bindir,
        "nvidia-smi",
        (FIXTURES / "nvidia-smi" / table).read_bytes(),
        by_args={"--query-gpu": ""},
        rc_by_args={"--query-gpu": 2},
        stderr=b"",
    )
    env = ProbeEnv(root=_machine_root(tmp_path), environ=path_env(bindir, FWSETUP_NO_NVML="1"), timeout=5)
    report = system.collect(env)
    report = SystemReport.from_dict(json.loads(report.to_json()))
    diagnose(report)
    assert report.nvidia is not None and report.nvidia.driver_version
    assert report.nvidia.cuda_driver_version  # reported, or from the driver table
    nv = report.nvidia_gpus()
    assert nv and all(isinstance(g.memory_total_mib, int) for g in nv)
    assert report.os.distro_id == "ubuntu"
    assert not [p for p in report.problems if p.code == "probe-crashed"]


@pytest.mark.parametrize("error", ERRORS)
def test_every_recorded_driver_error_becomes_a_finding_not_a_crash(tmp_path: Path, error: str) -> None:
    bindir = tmp_path / "bin"
    make_tool(bindir, "nvidia-smi", (FIXTURES / "errors" / error).read_bytes(), rc=9)
    env = ProbeEnv(root=_machine_root(tmp_path), environ=path_env(bindir, FWSETUP_NO_NVML="1"), timeout=5)
    report = system.collect(env)
    findings = {f.code for f in diagnose(report)}
    assert findings & {
        "driver-library-mismatch",
        "driver-unreachable",
        "driver-sees-no-gpu",
        "wsl1-no-gpu",
    }, (error, report.problems)


def test_hanging_nvidia_smi_does_not_hang_doctor(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    make_tool(bindir, "nvidia-smi", "", sleep=30)
    env = ProbeEnv(root=_machine_root(tmp_path), environ=path_env(bindir, FWSETUP_NO_NVML="1"), timeout=0.5)
    import time

    started = time.perf_counter()
    report = system.collect(env)
    assert time.perf_counter() - started < 5
    assert any(p.code == "tool-timeout" for p in report.problems)
