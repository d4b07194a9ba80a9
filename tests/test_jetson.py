"""NVIDIA Jetson: recorded Jetson files (tests/fixtures/jetson/<machine>, a fake root) go through the
real probes, and the reports they make get NVIDIA's JetPack builds or a refusal naming the real fix
(never "upgrade the driver"), in-process and through `install --system`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import pytest
from fakes import FIXTURES, fixture_bytes, make_tool, path_env
from helpers import PLAN_KEYS, cli, json_out, raw_facts
from machines import base_report
from packaging.version import Version

from fwsetup import probe as probes
from fwsetup import records
from fwsetup.errors import Refusal
from fwsetup.facts import jetson as facts
from fwsetup.plan.model import Plan, Request
from fwsetup.plan.planning import make_plan
from fwsetup.probe import evidence, jetson, nvidia
from fwsetup.probe.base import ProbeEnv
from fwsetup.probe.diagnose import diagnose
from fwsetup.probe.nvidia import smi
from fwsetup.report import GPU, JetsonInfo, NvidiaDriver, SystemReport

JETSON = FIXTURES / "jetson"
JP6_SMI = "jetson/nvidia-smi-540.4.0-orin-nano-jp62.txt"
# machine -> (Ubuntu, its python3, JetsonInfo fields that the files decide)
MACHINES = {
    "orin-nx-jp511": ("20.04", "3.8.10", ("35.3.1", "5.1.1", "11.4", "3.8", "8.7", "Orin")),
    "orin-nano-jp62": ("22.04", "3.10.12", ("36.4.3", "6.2", "12.6", "3.10", "8.7", "Orin")),
    "xavier-nx-jp512": ("20.04", "3.8.10", ("35.4.1", "5.1.2", "11.4", "3.8", "7.2", "Xavier")),
    "nano-jp461": ("18.04", "3.6.9", ("32.7.1", "4.6.1", "10.2", "3.6", "5.3", "Nano/TX1")),
}
# Orins on the first releases of JetPack 5 and 6, recorded with fewer files (no device-tree model)
EARLY = {
    "orin-agx-jp50": ("20.04", "3.8.10", ("34.1.0", "5.0 DP", "11.4", "3.8", "8.7", "Orin")),
    "orin-nx-jp60": ("22.04", "3.10.12", ("36.3.0", "6.0", "12.2", "3.10", "8.7", "Orin")),
}


def _env(tmp_path: Path, machine: str) -> ProbeEnv:
    """The machine's recorded files as the root; JetPack 6 alone has an nvidia-smi (its recorded table)."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    if machine == "orin-nano-jp62":
        make_tool(bindir, "nvidia-smi", fixture_bytes(JP6_SMI))
    return ProbeEnv(root=JETSON / machine, environ=path_env(bindir, FWSETUP_NO_NVML="1"), timeout=5)


def probed_report(
    tmp_path: Path, machine: str, interpreters: Optional[list[str]] = None, python: Optional[str] = None
) -> SystemReport:
    """collect() over the real nvidia and jetson probes on the recorded root, on the machine's OS."""
    ubuntu, system_python, _ = {**MACHINES, **EARLY}[machine]
    python = python or system_python
    env = _env(tmp_path, machine)
    found = probes.collect(env, {"nvidia": nvidia.probe, "jetson": jetson.probe})
    base = base_report(
        ("ubuntu", ubuntu),
        python=python,
        interpreters=[python] if interpreters is None else interpreters,
        arch="aarch64",
    )
    report = records.replace(
        base, nvidia=found.nvidia, jetson=found.jetson, gpus=found.gpus, problems=found.problems
    )
    return records.replace(report, findings=diagnose(report))


def plan(report: SystemReport, framework: str, **request: object) -> Plan | Refusal:
    return make_plan(framework, report, Request(framework, **request))  # type: ignore[arg-type]


def no_driver_advice(refusal: Refusal) -> None:
    text = f"{refusal.message} {refusal.fix}".lower()
    assert "upgrade the nvidia driver" not in text and "driver to one" not in text, text


# ---------------------------------------------------------------------------------------------
# doctor: the probe over recorded files


@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_probe_reads_the_board_without_nvidia_smi(tmp_path: Path, machine: str) -> None:
    report = probed_report(tmp_path, machine)
    l4t, jetpack, cuda, python, cc, soc = MACHINES[machine][2]
    info = report.jetson
    assert info is not None
    assert (info.l4t, info.jetpack, info.cuda, info.python, info.compute_capability, info.soc) == (
        l4t,
        jetpack,
        cuda,
        python,
        cc,
        soc,
    )
    assert info.source == "nv_tegra_release" and info.model and "\x00" not in info.model
    (gpu,) = report.nvidia_gpus()  # one integrated GPU, found once
    assert gpu.compute_capability == cc
    codes = {p.code for p in report.problems}
    assert "tool-missing" not in codes  # no nvidia-smi is normal on JetPack 4/5, not a problem
    finding = next(f for f in report.findings if f.code == "jetson")
    assert f"JetPack {jetpack}" in finding.message and f"CUDA {cuda}" in finding.message
    assert not [f for f in report.findings if "driver" in f.code]


def test_the_procfs_driver_version_of_a_jetson_is_its_l4t_release(tmp_path: Path) -> None:
    report = probed_report(tmp_path, "orin-nx-jp511")
    assert report.nvidia == NvidiaDriver("35.3.1", None, "procfs", None)  # no desktop CUDA invented
    assert report.nvidia_gpus()[0].name == "NVIDIA Orin NX Developer Kit"
    no_proc = probed_report(tmp_path, "xavier-nx-jp512")  # JetPack 5 Xavier: no nvidia.ko file recorded
    assert no_proc.nvidia is None and no_proc.nvidia_gpus()[0].compute_capability == "7.2"


def test_jetpack_6_nvidia_smi_reports_the_integrated_gpu_once(tmp_path: Path) -> None:
    table = smi.parse_smi_table(fixture_bytes(JP6_SMI).decode())
    assert (table.driver_version, table.cuda_version) == ("540.4.0", "12.6")
    (row,) = table.gpus
    assert (row.name, row.bus_id) == ("Orin (nvgpu)", None)  # Bus-Id N/A: an integrated GPU
    report = probed_report(tmp_path, "orin-nano-jp62")
    assert [(g.name, g.compute_capability) for g in report.gpus] == [("Orin (nvgpu)", "8.7")]
    assert report.nvidia is not None and report.nvidia.driver_version == "540.4.0"


def test_the_jetson_probe_is_gated_and_silent_elsewhere(tmp_path: Path) -> None:
    assert all(evidence.jetson(ProbeEnv(root=JETSON / m)) for m in MACHINES)
    empty = ProbeEnv(root=tmp_path, environ=path_env(tmp_path))
    assert not evidence.jetson(empty)
    desktop = tmp_path / "desktop"
    (desktop / "proc/driver/nvidia").mkdir(parents=True)
    (desktop / "proc/driver/nvidia/version").write_bytes(
        fixture_bytes("procfs/open-565.57.01-ubuntu24.04.txt")
    )
    out = jetson.probe(ProbeEnv(root=desktop, environ=path_env(tmp_path)))
    assert out.fields == {"jetson": None} and out.gpus == [] and out.problems == []


def test_parse_tegra_release() -> None:
    assert jetson.parse_tegra_release("# R36 (release), REVISION: 4.3, GCID: 1, BOARD: generic") == "36.4.3"
    assert jetson.parse_tegra_release("# R32 (release), REVISION: 7.1, GCID: 2") == "32.7.1"
    assert jetson.parse_tegra_release("garbage") is None


def test_an_unknown_l4t_release_is_said_not_guessed(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/nv_tegra_release").write_text("# R37 (release), REVISION: 1.0, GCID: 1, BOARD: generic\n")
    out = jetson.probe(ProbeEnv(root=root, environ=path_env(tmp_path)))
    info = out.fields["jetson"]
    assert (info.l4t, info.jetpack, info.cuda) == ("37.1.0", None, None)
    assert [p.code for p in out.problems] == ["jetson-l4t-unknown"]


@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_jetson_report_round_trips_through_json(tmp_path: Path, machine: str) -> None:
    import jsonschema

    from fwsetup.cli import doctor

    schema = json.loads((Path(doctor.__file__).parent / "doctor.schema.json").read_text())
    report = probed_report(tmp_path, machine)
    data = json.loads(report.to_json())
    jsonschema.validate(data, schema)
    assert SystemReport.from_dict(data) == report


# ---------------------------------------------------------------------------------------------
# selection: JetPack's builds, or the real fix


def test_orin_jetpack5_gets_nvidias_wheels(tmp_path: Path) -> None:
    report = probed_report(tmp_path, "orin-nx-jp511")
    torch = plan(report, "pytorch")
    assert isinstance(torch, Plan), torch
    assert (torch.version, torch.variant, torch.accelerator, torch.python) == (
        "2.1.0a0+41361538.nv23.06",
        "jp512",
        "cuda",
        "3.8",
    )
    assert torch.packages == [
        "torch @ https://developer.download.nvidia.com/compute/redist/jp/v512/pytorch/"
        "torch-2.1.0a0+41361538.nv23.06-cp38-cp38-linux_aarch64.whl"
    ]
    assert torch.interpreter == "/usr/bin/python3.8"  # JetPack's own python3
    assert any("torchvision 0.16.2" in w for w in torch.warnings)
    assert any("L4T 35.3.1" in r and "JetPack 5.1.1" in r for r in torch.reasons)
    tf = plan(report, "tensorflow")
    assert isinstance(tf, Plan), tf
    assert tf.packages == ["tensorflow==2.11.0+nv23.03"]
    assert tf.index_urls == ["https://developer.download.nvidia.com/compute/redist/jp/v51"]
    assert tf.python == "3.8" and "libhdf5-serial-dev" in tf.system_packages
    jax = plan(report, "jax")
    assert isinstance(jax, Refusal) and jax.code == "jetson-no-build"
    assert "jetson-containers run $(autotag jax)" in jax.fix and "--cpu" in jax.fix
    no_driver_advice(jax)


def test_orin_jetpack6_gets_the_jetson_ai_lab_index(tmp_path: Path) -> None:
    report = probed_report(tmp_path, "orin-nano-jp62")
    torch = plan(report, "pytorch", accelerator="gpu")
    assert isinstance(torch, Plan), torch
    assert torch.packages == ["torch==2.8.0", "torchvision==0.23.0"]
    assert torch.index_urls == ["https://pypi.jetson-ai-lab.io/jp6/cu126"]
    assert (torch.python, torch.variant) == ("3.10", "jp6-cu126")
    tf = plan(report, "tensorflow")  # NVIDIA's JetPack 6.1 build (jp/v61) serves 6.2's CUDA 12.6 too
    assert isinstance(tf, Plan), tf
    assert (tf.packages, tf.variant, tf.python) == (["tensorflow==2.16.1+nv24.08"], "jp61", "3.10")
    assert tf.index_urls == ["https://developer.download.nvidia.com/compute/redist/jp/v61"]
    jax = plan(report, "jax", accelerator="gpu")
    assert isinstance(jax, Refusal) and "autotag jax" in jax.fix
    no_driver_advice(jax)


def test_xavier_jetpack5(tmp_path: Path) -> None:
    report = probed_report(tmp_path, "xavier-nx-jp512")
    torch = plan(report, "pytorch")
    assert isinstance(torch, Plan) and torch.variant == "jp512" and torch.python == "3.8"
    tf = plan(report, "tensorflow")
    assert isinstance(tf, Plan) and tf.version == "2.11.0+nv23.03"
    jax = plan(report, "jax")
    assert isinstance(jax, Refusal) and "autotag jax" in jax.fix
    no_driver_advice(jax)


def test_nano_jetpack4(tmp_path: Path) -> None:
    report = probed_report(tmp_path, "nano-jp461")
    torch = plan(report, "pytorch")
    assert isinstance(torch, Plan), torch
    # NVIDIA hosts JetPack 4's torch under a name pip refuses: the plan lists the steps, install
    # does not run them by itself
    assert (torch.version, torch.route, torch.python, torch.packages) == ("1.10.0", "manual", "3.6", [])
    fetch = torch.steps[0]
    assert fetch.command[:3] == ["wget", "-O", "torch-1.10.0-cp36-cp36m-linux_aarch64.whl"]
    assert fetch.command[3].startswith("https://nvidia.box.com/") and not fetch.can_run_here
    assert any("vision@v0.11.1" in " ".join(s.command) for s in torch.steps)
    tf = plan(report, "tensorflow")
    assert isinstance(tf, Plan), tf
    assert (tf.packages, tf.python) == (["tensorflow==2.7.0+nv22.1"], "3.6")
    assert tf.index_urls == ["https://developer.download.nvidia.com/compute/redist/jp/v461"]
    jax = plan(report, "jax")
    assert isinstance(jax, Refusal) and jax.code == "jetson-no-build"
    assert "cannot run the JetPack 5+" in jax.fix and "--cpu" in jax.fix
    no_driver_advice(jax)


def test_jetpack_python_is_the_one_the_wheels_need(tmp_path: Path) -> None:
    report = probed_report(tmp_path, "orin-nx-jp511", interpreters=["3.11.7"], python="3.11.7")
    torch = plan(report, "pytorch")  # no 3.8 here: the plan names it and how to get it
    assert isinstance(torch, Plan) and torch.python == "3.8" and torch.interpreter is None
    assert torch.interpreter_hint
    asked = plan(report, "pytorch", python="3.11")
    assert isinstance(asked, Refusal) and asked.code == "python-unsupported" and "3.8" in asked.message


def test_a_version_nvidia_did_not_build_is_refused_with_the_ones_it_did(tmp_path: Path) -> None:
    report = probed_report(tmp_path, "orin-nx-jp511")
    older = plan(report, "pytorch", version="1.13")
    assert isinstance(older, Plan) and older.variant == "jp50"
    newer = plan(report, "pytorch", version="2.7")
    assert isinstance(newer, Refusal) and newer.code == "unknown-version"
    assert "2.1.0a0+41361538.nv23.06" in newer.message


def test_cpu_on_a_jetson_is_the_ordinary_cpu_build(tmp_path: Path) -> None:
    report = probed_report(tmp_path, "orin-nx-jp511")
    torch = plan(report, "pytorch", accelerator="cpu")
    assert isinstance(torch, Plan) and torch.accelerator == "cpu" and not torch.variant.startswith("jp")
    jax = plan(report, "jax", accelerator="cpu")
    assert isinstance(jax, Plan) and jax.variant == "cpu"


def test_jetpack_6_0_dp_tensorflow_is_told_to_upgrade_jetpack_not_the_driver() -> None:
    """JetPack 6.0 itself has NVIDIA's PyTorch and TensorFlow (below); its Developer Preview (L4T 36.2)
    has no TensorFlow pip build: the fix is the JetPack that has one, or the container."""
    report = _saved_report("36.2.0", "Orin (nvgpu)", "8.7", jetpack="6.0 DP", cuda="12.2", python="3.10")
    tf = plan(report, "tensorflow")
    assert isinstance(tf, Refusal) and tf.code == "jetson-no-build"
    assert "upgrade to JetPack 6.0 (L4T 36.3.0)" in tf.fix and "autotag tensorflow2" in tf.fix
    no_driver_advice(tf)


def test_jetpack_7_thor_goes_through_the_ordinary_aarch64_cuda_walk() -> None:
    report = _saved_report("38.2.0", "NVIDIA Thor", "11.0", jetpack="7.0", cuda="13.0", python="3.12")
    report = records.replace(report, nvidia=NvidiaDriver("580.00", "13.0", "nvidia-smi", "reported"))
    torch = plan(report, "pytorch", accelerator="gpu")
    assert isinstance(torch, Plan), torch
    assert torch.variant.startswith("cu13") and not torch.variant.startswith("jp")


def _saved_report(
    l4t: str, gpu: str, cc: str, jetpack: str, cuda: str, python: str, with_section: bool = True
) -> SystemReport:
    base = base_report(
        ("ubuntu", "22.04"), python=f"{python}.0", interpreters=[f"{python}.0"], arch="aarch64"
    )
    info = JetsonInfo("NVIDIA Jetson", None, cc, l4t, jetpack, cuda, None, python)
    return records.replace(
        base,
        nvidia=NvidiaDriver(l4t, None, "procfs", None),
        jetson=info if with_section else None,
        gpus=[GPU("nvidia", 0, gpu, None, cc, "table")],
    )


def test_a_report_saved_before_fwsetup_knew_jetsons_is_still_a_jetson() -> None:
    """The issue's machine: aarch64, `Orin (nvgpu)`, driver version 35.3.1 (the L4T release), no
    jetson section. It used to be told to "upgrade the NVIDIA driver to one that supports CUDA 12.6"."""
    report = _saved_report("35.3.1", "Orin (nvgpu)", "8.7", "5.1.1", "11.4", "3.8", with_section=False)
    torch = plan(report, "pytorch")
    assert isinstance(torch, Plan) and torch.variant == "jp512", torch
    assert any("is an L4T release" in r for r in torch.reasons)
    jax = plan(report, "jax")
    assert isinstance(jax, Refusal)
    no_driver_advice(jax)


def test_an_x86_gpu_of_a_jetson_capability_is_not_a_jetson() -> None:
    report = records.replace(
        base_report(),
        nvidia=NvidiaDriver("580.95.05", "13.0", "nvidia-smi", "reported"),
        gpus=[GPU("nvidia", 0, "GPU0", None, "8.7", "reported")],
    )
    out = plan(report, "pytorch", accelerator="gpu")
    assert not (isinstance(out, Plan) and out.variant.startswith("jp"))


# ---------------------------------------------------------------------------------------------
# --system: planning for a Jetson from its saved report


@pytest.mark.parametrize("machine", sorted(MACHINES))
def test_system_planning_from_a_saved_jetson_report(tmp_path: Path, machine: str) -> None:
    saved = tmp_path / f"{machine}.json"
    saved.write_text(probed_report(tmp_path, machine).to_json())
    for framework in ("pytorch", "tensorflow", "jax"):  # NVIDIA publishes no JAX for any JetPack
        out = cli("install", framework, "--dry-run", "--json", "--system", str(saved))
        data = json_out(out)
        refused = framework == "jax"
        if refused:
            assert out.returncode == 3 and data["error"]["code"] == "jetson-no-build", data
            assert "driver" not in data["error"]["fix"].lower()
        else:
            assert out.returncode == 0 and set(data) == PLAN_KEYS, data
            assert data["accelerator"] == "cuda" and data["variant"].startswith("jp")


# ---------------------------------------------------------------------------------------------
# the facts table


def test_every_jetpack_build_is_a_valid_wheel_for_its_jetpack_python() -> None:
    table = facts.table()
    for build in (*table.pytorch, *table.tensorflow):
        Version(build.version)  # PEP 440, or pip cannot install it
        rows = [r for r in table.release if build.covers(r.l4t)]
        assert rows and {r.python for r in rows} == {build.python}, build
        tag = "cp" + build.python.replace(".", "")
        if build.url:
            name = build.url.rsplit("/", 1)[1]
            assert name.startswith(f"torch-{build.version}-{tag}-") and name.endswith("linux_aarch64.whl")
            assert build.url.startswith("https://developer.download.nvidia.com/compute/redist/jp/")
        if build.wheel_name:
            assert build.wheel_name.startswith(f"torch-{build.version}-{tag}")
        assert build.url or build.index or build.download, build
        assert not build.torchvision_from_source or build.torchvision


def test_every_l4t_release_is_an_l4t_line_and_every_soc_is_a_jetson_capability() -> None:
    raw = raw_facts("jetson")
    assert all(facts.is_l4t_version(r["l4t"]) for r in raw["release"])
    assert {s["compute_capability"] for s in raw["soc"]} == {"5.3", "6.2", "7.2", "8.7", "11.0"}
    gpus = {g["match"]: g["compute_capability"] for g in raw_facts("gpus")["gpu"]}
    assert gpus["Orin"] == "8.7" and gpus["Xavier"] == "7.2" and gpus["Jetson Nano"] == "5.3"


def test_release_lookup_takes_the_nearest_point_release_of_the_same_line() -> None:
    assert facts.release_for("36.4.7").jetpack == "6.2.1"  # type: ignore[union-attr]
    assert facts.release_for("35.3.1").cuda == "11.4"  # type: ignore[union-attr]
    assert facts.release_for("37.0.0") is None and facts.release_for(None) is None


def test_keras_3_on_a_jetson_asks_tensorflow_for_what_jetpack_has_not(tmp_path: Path) -> None:
    """Keras 3 needs TensorFlow >= 2.16 (a floor the TensorFlow hook honours on a Jetson too);
    NVIDIA's JetPack 5 TensorFlow is 2.11, JetPack 6.1's is 2.16.1."""
    report = probed_report(tmp_path, "orin-nx-jp511")
    tf = make_plan("tensorflow", report, Request("tensorflow", min_version="2.16"))
    assert isinstance(tf, Refusal), tf
    no_driver_advice(tf)
    jp6 = make_plan(
        "tensorflow", probed_report(tmp_path, "orin-nano-jp62"), Request("tensorflow", min_version="2.16")
    )
    assert isinstance(jp6, Plan) and jp6.version == "2.16.1+nv24.08", jp6
    old = make_plan(
        "tensorflow", probed_report(tmp_path, "orin-nx-jp511"), Request("tensorflow", min_version="2.10")
    )
    assert isinstance(old, Plan) and old.version == "2.11.0+nv23.03"


def test_a_saved_jetpack6_report_without_the_jetson_section_is_told_by_its_gpu() -> None:
    """JetPack 6's nvidia-smi reports driver 540.4.0 and CUDA 12.6, not the L4T release: the GPU name
    says Jetson and the CUDA says which JetPack line."""
    report = records.replace(
        base_report(("ubuntu", "22.04"), python="3.10.12", interpreters=["3.10.12"], arch="aarch64"),
        nvidia=NvidiaDriver("540.4.0", "12.6", "nvidia-smi", "reported"),
        gpus=[GPU("nvidia", 0, "Orin (nvgpu)", None, "8.7", "table")],
    )
    torch = plan(report, "pytorch", accelerator="gpu")
    assert isinstance(torch, Plan) and torch.variant == "jp6-cu126", torch
    assert any("inferred from the CUDA" in r for r in torch.reasons)


def test_doctor_on_jetpack_7_points_at_the_ordinary_cuda_wheels() -> None:
    report = _saved_report("38.2.0", "NVIDIA Thor", "11.0", jetpack="7.0", cuda="13.0", python="3.12")
    (finding,) = [f for f in diagnose(report) if f.code == "jetson"]
    assert "SBSA" in finding.message and "JetPack 7.0" in finding.message


@pytest.mark.parametrize("machine", ["orin-nx-jp511", "xavier-nx-jp512", "nano-jp461", "orin-nano-jp62"])
def test_a_jetson_lock_target_carries_its_l4t_release_and_matches_only_that_line(
    tmp_path: Path, machine: str
) -> None:
    from fwsetup.fleet import fromlock, lockfile

    report = probed_report(tmp_path, machine)
    planned = plan(report, "pytorch", accelerator="gpu")
    assert isinstance(planned, Plan)
    target = lockfile.target_of(planned, report, machine, ["torch==0"])
    l4t = MACHINES[machine][2][0]
    assert target.l4t == l4t and target.gpus == [MACHINES[machine][2][4]]
    lock = tmp_path / "fwsetup.lock"
    lock.write_text(lockfile.dumps("pytorch", [target]), encoding="utf-8")
    back = lockfile.load(lock)[1][0]
    assert back == target
    assert fromlock.why_not(back, report, [planned.python]) is None
    other = records.replace(report.jetson, l4t="30.1.0") if report.jetson else None
    moved = records.replace(report, jetson=other)
    assert "built for L4T" in (fromlock.why_not(back, moved, [planned.python]) or "")
    desktop = records.replace(report, jetson=None)
    assert "not a Jetson" in (fromlock.why_not(back, desktop, [planned.python]) or "")


# ---------------------------------------------------------------------------------------------
# every JetPack with a published build: the first releases of JetPack 5 (L4T 34.1) and 6 (L4T 36.3)


@pytest.mark.parametrize("machine", sorted(EARLY))
def test_an_early_jetpack_orin_is_read_from_its_release_line(tmp_path: Path, machine: str) -> None:
    report = probed_report(tmp_path, machine)
    info = report.jetson
    assert info is not None and info.source == "nv_tegra_release"
    fields = (info.l4t, info.jetpack, info.cuda, info.python, info.compute_capability, info.soc)
    assert fields == EARLY[machine][2]
    (gpu,) = report.nvidia_gpus()
    assert gpu.compute_capability == "8.7" and "Orin" in gpu.name
    assert "jetson-l4t-unknown" not in {p.code for p in report.problems}


def test_the_soc_of_a_bare_release_line_is_the_one_soc_its_jetpack_runs_on() -> None:
    soc = facts.soc_for_release(facts.release_for("36.3.0"))
    assert soc is not None and soc.name == "Orin"  # JetPack 6: Orin only
    assert facts.soc_for_release(facts.release_for("35.4.1")) is None  # JetPack 5: Orin or Xavier
    assert facts.soc_for_release(facts.release_for("38.2.0")) is None  # JetPack 7: Orin or Thor
    assert facts.soc_for_release(facts.release_for("32.7.1")) is None and facts.soc_for_release(None) is None


def test_orin_on_jetpack_5_0_gets_nvidias_jetpack_5_0_wheels(tmp_path: Path) -> None:
    report = probed_report(tmp_path, "orin-agx-jp50")
    torch = plan(report, "pytorch", accelerator="gpu")
    assert isinstance(torch, Plan), torch
    wheel = "jp/v50/pytorch/torch-1.12.0a0+2c916ef.nv22.3-cp38-cp38-linux_aarch64.whl"
    url = f"https://developer.download.nvidia.com/compute/redist/{wheel}"
    assert (torch.variant, torch.python, torch.accelerator, torch.interpreter) == (
        "jp50",
        "3.8",
        "cuda",
        "/usr/bin/python3.8",
    )
    assert (torch.version, torch.packages) == ("1.12.0a0+2c916ef.nv22.3", [f"torch @ {url}"])
    assert any("L4T 34.1.0" in r and "JetPack 5.0 DP" in r for r in torch.reasons)
    assert any("torchvision 0.13.0" in w for w in torch.warnings)
    # the June 2022 build came with JetPack 5.0.1 DP (L4T 34.1.1): not planned on 5.0 DP's L4T 34.1.0
    later = plan(report, "pytorch", version="1.13")
    assert isinstance(later, Refusal) and "1.12.0a0+2c916ef.nv22.3" in later.message
    dp1 = plan(records.replace(report, jetson=records.replace(report.jetson, l4t="34.1.1")), "pytorch")
    assert isinstance(dp1, Plan) and dp1.version == "1.13.0a0+340c4120.nv22.06"
    tf = plan(report, "tensorflow")
    assert isinstance(tf, Plan), tf
    assert (tf.packages, tf.variant) == (["tensorflow==2.8.0+nv22.4"], "jp50")
    assert tf.index_urls == ["https://developer.download.nvidia.com/compute/redist/jp/v50"]
    jax = plan(report, "jax")  # JAX's Jetson containers start at L4T 35
    assert isinstance(jax, Refusal) and "L4T 35 or newer" in jax.fix and "autotag jax" in jax.fix
    no_driver_advice(jax)


def test_orin_on_jetpack_6_0_gets_nvidias_jetpack_6_0_wheels(tmp_path: Path) -> None:
    report = probed_report(tmp_path, "orin-nx-jp60")
    torch = plan(report, "pytorch", accelerator="gpu")
    assert isinstance(torch, Plan), torch
    assert (torch.variant, torch.python) == ("jp60", "3.10")
    assert torch.packages == [
        "torch @ https://developer.download.nvidia.com/compute/redist/jp/v60/pytorch/"
        "torch-2.4.0a0+3bcc3cddb5.nv24.07.16234504-cp310-cp310-linux_aarch64.whl"
    ]
    assert any("vision@v0.19.0" in w for w in torch.warnings)
    tf = plan(report, "tensorflow")
    assert isinstance(tf, Plan), tf
    assert (tf.packages, tf.variant) == (["tensorflow==2.16.1+nv24.06"], "jp60")
    assert tf.index_urls == ["https://developer.download.nvidia.com/compute/redist/jp/v60"]


@pytest.mark.parametrize("machine", sorted(EARLY))
def test_saved_early_jetpack_reports_plan_through_system(tmp_path: Path, machine: str) -> None:
    saved = tmp_path / f"{machine}.json"
    saved.write_text(probed_report(tmp_path, machine).to_json())
    for framework in ("pytorch", "tensorflow"):
        out = cli("install", framework, "--gpu", "--dry-run", "--json", "--system", str(saved))
        data = json_out(out)
        assert out.returncode == 0 and set(data) == PLAN_KEYS, data
        assert data["accelerator"] == "cuda" and data["variant"].startswith("jp")
    refused = cli("install", "jax", "--gpu", "--dry-run", "--json", "--system", str(saved))
    assert refused.returncode == 3 and json_out(refused)["error"]["code"] == "jetson-no-build"


def test_every_jetpack_4_to_6_release_gets_an_nvidia_pytorch_build() -> None:
    """NVIDIA published PyTorch for every JetPack from 4.4 to 6.2: no release of the table is refused
    (JetPack 7 is SBSA CUDA, which the ordinary aarch64 walk serves)."""
    for row in facts.table().release:
        if not row.sbsa:
            assert facts.builds("pytorch", row.l4t), row


def test_nvidias_tensorflow_gets_no_tensorflow_text_and_says_why(tmp_path: Path) -> None:
    """NVIDIA's JetPack TensorFlow (+nv) is not the build PyPI's tensorflow-text is compiled against:
    asked for, it is refused naming why; tf-keras (py3-none-any) admits 2.16.1+nv24.08 by its own
    requirement and comes from PyPI beside it."""
    report = probed_report(tmp_path, "orin-nano-jp62")
    text = plan(report, "tensorflow", with_packages=("tensorflow-text",))
    assert isinstance(text, Refusal) and text.exit_code == 3
    assert "NVIDIA's JetPack tensorflow 2.16.1+nv24.08 has no tensorflow-text" in text.message
    assert "compiled against PyPI's tensorflow 2.16.1" in text.message and "from source" in text.fix
    keras = plan(report, "tensorflow", with_packages=("tf-keras",))
    assert isinstance(keras, Plan), keras
    assert keras.packages == ["tensorflow==2.16.1+nv24.08", "tf-keras==2.16.0"]
    assert keras.index_urls == ["https://developer.download.nvidia.com/compute/redist/jp/v61"]
    assert plan(report, "tensorflow").companions == []  # type: ignore[union-attr]
