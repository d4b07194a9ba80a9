from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from helpers import REPORT_KEYS

from fwsetup import probe as system
from fwsetup.errors import ReportFileError
from fwsetup.probe.base import Probed, ProbeEnv
from fwsetup.report import GPU, SCHEMA_VERSION, Libc, OSInfo, PythonInfo, SystemReport


def minimal_report() -> SystemReport:
    return SystemReport(
        os=OSInfo(system="Linux", arch="x86_64", libc=Libc("glibc", "2.35")),
        python=PythonInfo("3.11.7", "CPython", "/usr/bin/python3"),
        gpus=[GPU("nvidia", 0, "NVIDIA GeForce RTX 4090", 24564, "8.9", "reported", "GPU-1")],
    )


def test_round_trip() -> None:
    rep = minimal_report()
    assert SystemReport.from_dict(json.loads(rep.to_json())) == rep


def test_contract_keys() -> None:
    data = minimal_report().to_dict()
    assert next(iter(data)) == "schema_version" and data["schema_version"] == SCHEMA_VERSION
    assert set(data) >= REPORT_KEYS
    assert set(data["os"]) >= {
        "system",
        "distro_id",
        "distro_version",
        "arch",
        "kernel",
        "libc",
        "wsl",
        "container",
    }
    assert set(data["python"]) >= {"version", "implementation", "executable", "externally_managed", "in_venv"}
    assert set(data["gpus"][0]) >= {
        "vendor",
        "index",
        "name",
        "memory_total_mib",
        "compute_capability",
        "uuid",
    }
    assert isinstance(data["gpus"][0]["memory_total_mib"], int)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"schema_version": 99}', "schema_version 99"),
        ('{"schema_version": 1, "python": {}}', "report.os: missing"),
        (
            '{"schema_version": 1, "os": {"system": 3}, "python": {"version": "3.11", "implementation": "C", "executable": "x"}}',
            "report.os.system: expected str",
        ),
        (
            '{"schema_version": 1, "os": {"system": "Linux"}, "python": {"version": "3.11", "implementation": "C", "executable": "x"}, "gpus": [{"vendor": "nvidia", "index": "zero", "name": null}]}',
            "report.gpus[0].index",
        ),
    ],
)
def test_bad_report_files_name_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / "r.json"
    p.write_text(text)
    with pytest.raises(ReportFileError) as exc:
        SystemReport.from_file(p)
    assert needle in exc.value.message
    assert exc.value.fix


def test_missing_report_file(tmp_path: Path) -> None:
    with pytest.raises(ReportFileError, match="cannot read"):
        SystemReport.from_file(tmp_path / "nope.json")


def test_collect_survives_crashing_and_hanging_probes() -> None:
    def ok(env: ProbeEnv) -> Probed:
        return Probed(fields={"os": OSInfo(system="Linux", distro_id="x")})

    def boom(env: ProbeEnv) -> Probed:
        raise ValueError("garbage")

    def hang(env: ProbeEnv) -> Probed:
        time.sleep(30)
        return Probed()

    started = time.perf_counter()
    rep = system.collect(ProbeEnv(timeout=0.2), probes={"ok": ok, "boom": boom, "hang": hang})
    assert time.perf_counter() - started < 5
    assert rep.os.distro_id == "x"
    codes = {(p.source, p.code) for p in rep.problems}
    assert ("boom", "probe-crashed") in codes
    assert ("hang", "probe-timeout") in codes
    assert rep.python.version  # filled in even without the python probe


def test_a_hanging_driver_probe_does_not_hold_up_the_others_nor_a_hanging_file_probe() -> None:
    """Driver-touching probes have a thread each; file probes share one: a hang in either costs
    only what is stuck (and the file probes after a stuck one), never the report."""
    from fwsetup.probe import ISOLATED

    def hang(env: ProbeEnv) -> Probed:
        time.sleep(30)
        return Probed()

    def os_probe(env: ProbeEnv) -> Probed:
        return Probed(fields={"os": OSInfo(system="Linux", distro_id="x")})

    assert "nvidia" in ISOLATED and "osinfo" not in ISOLATED
    started = time.perf_counter()
    rep = system.collect(ProbeEnv(timeout=0.2), probes={"nvidia": hang, "osinfo": os_probe, "tools": hang})
    assert time.perf_counter() - started < 5
    assert rep.os.distro_id == "x"  # ran beside the stuck driver probe, before the stuck file probe
    timed_out = {p.source for p in rep.problems if p.code == "probe-timeout"}
    assert timed_out == {"nvidia", "tools"}


def test_full_collect_on_this_machine_round_trips() -> None:
    rep = system.collect(ProbeEnv())
    assert not [p for p in rep.problems if p.code == "probe-crashed"], rep.problems
    assert SystemReport.from_dict(json.loads(rep.to_json())) == rep
