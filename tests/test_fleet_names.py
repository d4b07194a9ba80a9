"""Names that identify: reports that share a file name become targets, scripts, Jobs and rows
of their own (named by their directories), and what cannot be told apart is exit 2, never one
machine silently in place of another."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import cli, json_out, tiny_env
from machines import base_report, write_all

from fwsetup.errors import UsageError
from fwsetup.fleet import lockfile, slurm
from fwsetup.fleet.lockfile import LockTarget
from fwsetup.fleet.names import machine_names

EVERY_FORMAT = (
    "shell", "dockerfile", "cloud-init", "github-actions", "ansible", "kubernetes", "slurm", "requirements", "pylock"
)  # fmt: skip


def _target(name: str, **kw: Any) -> LockTarget:
    base: dict[str, Any] = {
        "name": name,
        "framework": "pytorch",
        "version": "2.9.1",
        "variant": "cpu",
        "accelerator": "cpu",
        "python": "3.11",
        "platform": "linux-x86_64",
        "requirements": ["torch==2.9.1 --hash=sha256:" + "a" * 64],
        "glibc": "2.35",
        "smoke": "pytorch.py",
    }
    base.update(kw)
    return LockTarget(**base)


def _reports(root: Path, *relative: str) -> list[Path]:
    """The same machine's report at each path (the name is what is tested, not the machine)."""
    text = base_report().to_json()
    paths = []
    for rel in relative:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(path)
    return paths


# ------------------------------------------------------------------ the names themselves


def test_a_shared_stem_takes_the_directories_that_tell_the_reports_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, t4 = _reports(tmp_path, "rack-a/node.json", "rack-b/node.json", "t4.json")
    assert machine_names([a, b, t4]) == ["rack-a-node", "rack-b-node", "t4"]
    deep = _reports(tmp_path, "x/rack/node.json", "y/rack/node.json", "z/other/node.json")
    assert machine_names(deep) == ["x-rack-node", "y-rack-node", "z-other-node"]
    assert machine_names([]) == []
    monkeypatch.chdir(tmp_path)  # relative paths are named as the absolute path they stand for
    assert machine_names([Path("rack-a/node.json"), Path("rack-b/node.json")]) == ["rack-a-node", "rack-b-node"]


def test_what_no_path_tells_apart_is_a_usage_error_naming_both_files(tmp_path: Path) -> None:
    (a,) = _reports(tmp_path, "rack-a/node.json")
    with pytest.raises(UsageError, match="the same file twice") as twice:
        machine_names([a, a])
    assert str(a) in twice.value.message
    json_, yaml_ = _reports(tmp_path, "rack-a/node.yaml", "rack-a/node.json")
    with pytest.raises(UsageError) as suffix:
        machine_names([json_, yaml_])
    assert str(json_) in suffix.value.message and str(yaml_) in suffix.value.message
    derived, plain = _reports(tmp_path, "rack-c/node.json", "rack-c-node.json")
    other = _reports(tmp_path, "rack-d/node.json")[0]
    with pytest.raises(UsageError, match="rack-c-node") as clash:  # a derived name meets a plain one
        machine_names([derived, other, plain])
    assert str(derived) in clash.value.message and str(plain) in clash.value.message


# ------------------------------------------------------------------ lock


def test_lock_names_each_report_of_a_shared_stem_by_its_directory(tmp_path: Path) -> None:
    a, b = _reports(tmp_path, "rack-a/node.json", "rack-b/node.json")
    lock = tmp_path / "fleet.lock"
    out = cli("lock", "tiny", "--cpu", "--system", str(a), "--system", str(b), "-o", str(lock), "--json",
              env=tiny_env(tmp_path / "home"))  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert [t["name"] for t in json_out(out)["targets"]] == ["rack-a-node", "rack-b-node"]
    assert [t.name for t in lockfile.load(lock)[1]] == ["rack-a-node", "rack-b-node"]
    # One script per machine from the lock fwsetup wrote.
    jobs = tmp_path / "jobs"
    exported = cli("export", "--lock", str(lock), "--format", "slurm", "--wheelhouse", "/shared/wh", "-o", str(jobs))
    assert exported.returncode == 0, exported.stderr
    scripts = sorted(jobs.glob("*.sbatch"))
    assert len(scripts) == 2
    assert {s.read_text().count("FWSETUP_TARGET=rack-a-node") for s in scripts} == {0, 1}


def test_lock_refuses_reports_it_cannot_tell_apart_before_resolving(tmp_path: Path) -> None:
    a, b = _reports(tmp_path, "rack-a/node.json", "rack-a/node.yaml")
    lock = tmp_path / "fleet.lock"
    for report in (b, a):  # the same file twice, and two files of one name in one directory
        out = cli("lock", "tiny", "--cpu", "--system", str(a), "--system", str(report), "-o", str(lock), "--json",
                  env=tiny_env(tmp_path / "home"))  # fmt: skip
        assert out.returncode == 2, out.stdout + out.stderr
        error = json.loads(out.stdout)["error"]
        assert str(a) in error["message"] and str(report) in error["message"] and error["fix"]
        assert "Traceback" not in out.stderr and not lock.exists()


# ------------------------------------------------------------------ export


def _lock_of(path: Path, targets: list[LockTarget]) -> Path:
    path.write_text(lockfile.dumps("pytorch", targets))
    return path


@pytest.mark.parametrize("fmt", EVERY_FORMAT)
def test_every_export_refuses_a_lock_whose_target_names_collide(tmp_path: Path, fmt: str) -> None:
    lock = _lock_of(tmp_path / "two.lock", [_target("node"), _target("node", python="3.12")])
    base = ["export", "--lock", str(lock), "--format", fmt, "--wheelhouse", "https://bundle.example/wh/"]
    for output in (None, tmp_path / "out" / ("jobs" if fmt == "slurm" else "export.txt")):
        extra = [] if output is None else ["-o", str(output)]
        target = ["--target", "node"] if fmt in ("requirements", "pylock") else []
        out = cli(*base, *extra, *target, "--json")
        assert out.returncode == 2, (fmt, out.stdout, out.stderr)
        error = json.loads(out.stdout)["error"]
        assert "two targets named 'node'" in error["message"] and "fwsetup lock" in error["fix"]
        assert not (tmp_path / "out").exists()  # nothing written, nothing overwritten
    if fmt == "pylock":
        return  # its positive case asks uv to name the files (test_pipexport.py)
    # The same lock with its names apart exports (kubernetes: one Job each).
    apart = _lock_of(tmp_path / "apart.lock", [_target("rack-a-node"), _target("rack-b-node", python="3.12")])
    ok = cli("export", "--lock", str(apart), "--format", fmt, "--wheelhouse", "https://bundle.example/wh/",
             *(["--target", "rack-b-node"] if fmt == "requirements" else []))  # fmt: skip
    assert ok.returncode == 0, (fmt, ok.stderr)
    if fmt == "kubernetes":
        jobs = [i for i in yaml.safe_load(ok.stdout)["items"] if i["kind"] == "Job"]
        assert len({j["metadata"]["name"] for j in jobs}) == 2


def test_slurm_never_writes_one_script_for_two_targets() -> None:
    with pytest.raises(UsageError, match="both be written as"):
        slurm.scripts([_target("node"), _target("node")], "/shared/wh")
    assert len(slurm.scripts([_target("rack-a-node"), _target("rack-b-node")], "/shared/wh")) == 2


# ------------------------------------------------------------------ fleet report


def test_fleet_report_prints_one_distinguishable_row_per_machine(tmp_path: Path) -> None:
    made = write_all(tmp_path / "all")
    a, b = tmp_path / "rack-a" / "host1.json", tmp_path / "rack-b" / "host1.json"
    for path, machine in ((a, "rtx4090-580"), (b, "k80-470")):
        path.parent.mkdir()
        path.write_text(made[machine].read_text())
    table = json_out(cli("fleet", "report", str(a), str(b), "--frameworks", "jax", "--json"))
    assert [r["machine"] for r in table["machines"]] == ["rack-a-host1", "rack-b-host1"]
    assert table["unserved"] == ["rack-b-host1"]  # the K80 is the one no JAX build serves
    text = cli("fleet", "report", str(a), str(b), "--frameworks", "jax").stdout
    rows = [line for line in text.splitlines() if "host1" in line and "no build serves" not in line]
    assert len(rows) == 2 and rows[0].split()[0] == "rack-a-host1" and rows[1].split()[1] == "rack-b-host1"
    assert "!! rack-b-host1: no build serves it" in text
    twice = cli("fleet", "report", str(a), str(a), "--json")
    assert twice.returncode == 2 and "the same file twice" in json.loads(twice.stdout)["error"]["message"]
