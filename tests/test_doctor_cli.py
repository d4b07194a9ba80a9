"""doctor end to end: the real CLI here (one child process for the entry point, the rest in-process),
the whole probe pipeline on every fixture machine, and the published JSON Schema against both."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from fakes import FIXTURES, make_tool, path_env
from helpers import REPORT_KEYS, cli, fwsetup, json_out
from machines import machines

from fwsetup import probe as system
from fwsetup import records
from fwsetup.cli.doctor import SCHEMA_FILE
from fwsetup.probe.base import ProbeEnv
from fwsetup.probe.diagnose import diagnose
from fwsetup.report import SystemReport

SMI_TABLES = sorted(p.name for p in (FIXTURES / "nvidia-smi").iterdir() if not p.name.endswith(".source.md"))
ERRORS = sorted(
    p.name
    for p in (FIXTURES / "errors").iterdir()
    if p.name.startswith(("nvidia-smi", "nvml")) and not p.name.endswith(".source.md")
)


SCHEMA = json.loads(Path(SCHEMA_FILE).read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def assert_fits_schema(data: object) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(data)]
    assert not errors, errors


def test_doctor_json_is_one_document_with_the_contract() -> None:
    out = fwsetup("doctor", "--json")  # the real entry point, in a child process
    assert out.returncode == 0, out.stderr
    data = json_out(out)
    assert data["schema_version"] == 1
    assert set(data) == REPORT_KEYS
    assert_fits_schema(data)
    SystemReport.from_dict(data)


def test_the_schema_is_valid_and_rejects_what_the_contract_forbids() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert set(SCHEMA["required"]) == set(SCHEMA["properties"]) == REPORT_KEYS
    good = json_out(cli("doctor", "--json"))
    assert_fits_schema(good)
    for broken in (
        {**good, "schema_version": 2},
        {**good, "surprise": 1},
        {k: v for k, v in good.items() if k != "gpus"},
        {**good, "resources": {**good["resources"], "memory_total_mib": "16 GiB"}},
        {**good, "findings": [{"code": "x", "level": "fatal", "message": "m", "fix": None}]},
    ):
        assert not VALIDATOR.is_valid(broken)


def _schema_keys(node: dict[str, object]) -> set[str]:
    ref = node.get("$ref") or next((a["$ref"] for a in node.get("anyOf", []) if "$ref" in a), None)  # type: ignore[attr-defined]
    if ref is None and isinstance(node.get("items"), dict):
        return _schema_keys(node["items"])  # type: ignore[arg-type]
    return set(SCHEMA["$defs"][str(ref).rsplit("/", 1)[1]]["properties"]) if ref else set()


def test_the_schema_names_every_field_the_report_writes() -> None:
    """The schema is hand-written for readers; this keeps it in step with SystemReport's fields."""
    import typing

    from fwsetup import records
    from fwsetup.decode import field_types

    for name, hint in field_types(SystemReport).items():
        inner = [a for a in typing.get_args(hint) if records.is_dataclass(a)]
        target = hint if records.is_dataclass(hint) else (inner[0] if inner else None)
        if target is None:
            continue
        fields = {f.name for f in records.fields(target)}
        assert _schema_keys(SCHEMA["properties"][name]) == fields, name


@pytest.mark.parametrize("machine", sorted(machines()))
def test_every_fixture_machine_report_fits_the_schema(machine: str) -> None:
    report = machines()[machine]
    report = records.replace(report, findings=diagnose(report))
    data = json.loads(report.to_json())
    assert set(data) == REPORT_KEYS
    assert_fits_schema(data)


def test_doctor_text_and_strict() -> None:
    out = cli("doctor")
    assert out.returncode == 0, out.stderr
    assert "System" in out.stdout
    assert "Findings" in out.stdout or "No problems" in out.stdout
    strict = cli("doctor", "--strict", "--json")
    errors = [f for f in json_out(strict)["findings"] if f["level"] == "error"]
    assert strict.returncode == (1 if errors else 0)


def test_doctor_env_vars_and_usage_errors() -> None:
    out = cli("doctor", env={"FWSETUP_JSON": "1"})
    assert out.returncode == 0 and json_out(out)["schema_version"] == 1
    off = cli("doctor", env={"FWSETUP_JSON": "0"})
    assert off.returncode == 0 and "System" in off.stdout
    bad = cli("doctor", "--timeout", "nope")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "'nope' is not a valid float" in bad.stderr
    low = cli("doctor", env={"FWSETUP_PROBE_TIMEOUT": "0.01"})
    assert low.returncode == 2 and "FWSETUP_PROBE_TIMEOUT" in low.stderr and "0.1<=x<=120.0" in low.stderr
    notbool = cli("doctor", env={"FWSETUP_STRICT": "maybe"})
    assert notbool.returncode == 2 and "not a valid boolean" in notbool.stderr
    typo = cli("doctor", "--jsn")
    assert typo.returncode == 2 and "No such option: --jsn" in typo.stderr and not typo.stdout
    typo_json = cli("doctor", "--jsn", "--json")
    assert typo_json.returncode == 2 and json_out(typo_json)["error"]["code"] == "usage"
    helped = cli("doctor", "--help")
    assert helped.returncode == 0 and "--strict" in helped.stdout and "--timeout FLOAT" in helped.stdout


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
    report = records.replace(report, findings=diagnose(report))
    assert_fits_schema(json.loads(report.to_json()))
    report = SystemReport.from_dict(json.loads(report.to_json()))
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
