"""AMD ROCm: the kernel probe (KFD topology, amdgpu module, /dev/dxg) over recorded files, the ROCm
facts, selection on the recorded AMD machines (tests/amd_machines.py) and doctor's diagnosis of an
installed torch against the GPUs and the driver."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Optional

import pytest
from amd_machines import AMD, amd_machines
from fakes import make_tool, path_env
from helpers import cli, json_out

from fwsetup import records
from fwsetup.errors import Refusal
from fwsetup.facts import pytorch as torch_facts
from fwsetup.facts import rocm as facts
from fwsetup.fleet.lockfile import LockTarget
from fwsetup.plan import recipes
from fwsetup.plan.machine import describe_gpu
from fwsetup.plan.model import Plan, Request
from fwsetup.plan.select import select
from fwsetup.probe import amdgpu, evidence, rocm
from fwsetup.probe.base import ProbeEnv
from fwsetup.probe.diagnose import diagnose
from fwsetup.report import GPU, Framework, RocmInfo, SystemReport

R = recipes.load_all()
M = amd_machines()


def text(name: str) -> str:
    return (AMD / name).read_text(encoding="utf-8")


def test_every_amd_fixture_has_its_source() -> None:
    for f in AMD.glob("*.txt"):
        assert (AMD / f"{f.name}.source.md").is_file(), f.name


# ---------------------------------------------------------------- the kernel's own files


@pytest.mark.parametrize(
    ("packed", "name"),
    [
        (90402, "gfx942"),  # MI300X (ROCm/rocm-cli#343: "gfx_target_version 90402")
        (90010, "gfx90a"),  # stepping 10 is the hex digit a
        (110000, "gfx1100"),
        (90000, "gfx900"),
        (110501, "gfx1151"),
        (120001, "gfx1201"),
        (0, None),  # the CPU node
        (91600, None),  # minor 16 is no hex digit
    ],
)
def test_gfx_target_version_decoding(packed: int, name: Optional[str]) -> None:
    assert amdgpu.gfx_name(packed) == name


def test_kfd_properties_of_a_recorded_node() -> None:
    node = amdgpu.node_from_properties(1, text("kfd-properties-gfx1100-tinygrad-mock.txt"))
    assert node == amdgpu.KfdNode(1, "gfx1100", 29772)  # 0x744c, as rocminfo's Chip ID says
    assert amdgpu.node_from_properties(0, "cpu_cores_count 16\nsimd_count 0\ngfx_target_version 0\n") is None
    assert amdgpu.node_from_properties(2, "\ufffd\x00 garbage") is None


def test_rocminfo_names_the_loaded_amdgpu_module() -> None:
    assert amdgpu.parse_rock_line(text("rocminfo-rocm6.1.0-RX7900XTX-rock6.7.0-excerpt.txt")) == "6.7.0"
    assert amdgpu.parse_rock_line(text("rocminfo-MI250-rock5.16.9.22.20-excerpt.txt")) == "5.16.9.22.20"
    assert amdgpu.parse_rock_line(text("rocminfo-wsl-header-rocm6.3.4-excerpt.txt")) is None
    assert amdgpu.parse_module_version("6.16.13\n") == "6.16.13"
    assert amdgpu.parse_module_version("garbage") is None


def test_recorded_agents_parse() -> None:
    (xtx,) = rocm.parse_rocminfo(text("rocminfo-rocm6.1.0-RX7900XTX-rock6.7.0-excerpt.txt")) or []
    assert (xtx.name, xtx.marketing_name, xtx.node, xtx.vram_mib) == (
        "gfx1100",
        "Radeon RX 7900 XTX",
        1,
        24560,
    )
    (mi250,) = rocm.parse_rocminfo(text("rocminfo-MI250-rock5.16.9.22.20-excerpt.txt")) or []
    assert (mi250.name, mi250.vram_mib) == ("gfx90a", 65520)
    assert rocm.parse_rocminfo(text("rocminfo-wsl-header-rocm6.3.4-excerpt.txt")) == []
    mi300x = rocm.parse_agent_block(text("rocminfo-agent-gfx942-MI300X-excerpt.txt"))
    assert mi300x is not None and (mi300x.name, mi300x.marketing_name, mi300x.node) == (
        "gfx942",
        "AMD Instinct MI300X",
        2,
    )
    vega = rocm.parse_agent_block(
        text("vega64-gfx900-rocm4.5.2-agent-excerpt.txt")
    )  # cut before "Device Type"
    assert vega is not None and (vega.name, vega.marketing_name) == ("gfx900", "Radeon RX Vega")
    cpu = "  Name:                    AMD Ryzen 7 2700\n  Vendor Name:             CPU\n"
    assert rocm.parse_agent_block(cpu) is None


def kfd_root(
    tmp_path: Path, module: Optional[str] = None, dxg: bool = False, amdgpu_dir: bool = True
) -> Path:
    """A machine root holding the recorded KFD node (and, as asked, the amdgpu module's version file
    or only its directory, and /dev/dxg); no ROCm installed."""
    root = tmp_path / "root"
    node = root / "sys/class/kfd/kfd/topology/nodes/1"
    node.mkdir(parents=True)
    shutil.copy(AMD / "kfd-properties-gfx1100-tinygrad-mock.txt", node / "properties")
    if amdgpu_dir:
        (root / "sys/module/amdgpu").mkdir(parents=True)
    if module is not None:
        (root / "sys/module/amdgpu/version").write_text(module + "\n")
    if dxg:
        (root / "dev").mkdir()
        (root / "dev/dxg").write_text("")
    return root


def probe_env(root: Path, bindir: Path) -> ProbeEnv:
    bindir.mkdir(parents=True, exist_ok=True)
    return ProbeEnv(timeout=5.0, root=root, environ=path_env(bindir))


def test_kfd_alone_is_enough_no_rocm_installed(tmp_path: Path) -> None:
    """A ROCm wheel brings its own user space: the kernel's KFD is what the machine must give."""
    env = probe_env(kfd_root(tmp_path), tmp_path / "bin")
    assert evidence.rocm(env)
    out = rocm.probe(env)
    assert out.fields["rocm"] == RocmInfo(
        version=None, source="kfd", gfx_targets=["gfx1100"], driver_version=None, driver_source="inbox"
    )
    assert [(g.vendor, g.compute_capability) for g in out.gpus] == [("amd", "gfx1100")]
    assert not out.problems


def test_amdgpu_module_version_and_dxg_are_read(tmp_path: Path) -> None:
    env = probe_env(kfd_root(tmp_path, module="6.7.0", dxg=True), tmp_path / "bin")
    info = rocm.probe(env).fields["rocm"]
    assert (info.driver_version, info.driver_source, info.wsl) == ("6.7.0", "sysfs-module", True)


def test_no_kfd_no_rocm_is_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sys/module/amdgpu").mkdir(parents=True)  # the module without KFD nodes: no GPU to serve
    env = probe_env(root, tmp_path / "bin")
    assert not evidence.rocm(env)
    assert rocm.probe(env).fields["rocm"] is None


def test_rocminfo_gives_names_kfd_fills_nothing_it_already_says(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    make_tool(bindir, "rocminfo", text("rocminfo-rocm6.1.0-RX7900XTX-rock6.7.0-excerpt.txt"))
    out = rocm.probe(probe_env(kfd_root(tmp_path, amdgpu_dir=False), bindir))
    info = out.fields["rocm"]
    assert [g.name for g in out.gpus] == ["Radeon RX 7900 XTX"]
    assert (info.gfx_targets, info.driver_version, info.driver_source) == (["gfx1100"], "6.7.0", "rocminfo")


# ---------------------------------------------------------------- facts


def test_driver_releases_and_window() -> None:
    assert facts.user_space("6.7.0", "sysfs-module").allowed == ("5.7", "6.0", "6.1", "6.2", "6.3")
    assert facts.user_space("5.18.13", None).kmd == "5.4"
    assert facts.user_space("5.16.9.22.20", None).kmd == "5.2"
    assert facts.driver_release("6.16.13").rocm == "7.2"  # type: ignore[union-attr]
    assert facts.driver_release("6.16.6").rocm == "7.1"  # type: ignore[union-attr]
    assert facts.user_space("6.16.13", None).allowed == ("6.3", "6.4", "7.0", "7.1", "7.2")
    rule = facts.user_space("6.12.12", None)  # ROCm 6.4's driver: no documented row, AMD's +/- 2 rule
    assert rule.allowed == ("6.2", "6.3", "6.4", "7.0", "7.1") and "+/- 2" in rule.how
    unknown = facts.user_space("99.1", None)
    assert unknown.allowed is None and "does not know" in unknown.how
    assert facts.user_space(None, "inbox").allowed is None


def test_every_fact_row_names_a_source_described_in_the_file() -> None:
    raw = (Path(facts.__file__).parent / "rocm.toml").read_text()
    for row in [*facts.table().driver, *facts.table().window]:
        key = row.source.split()[0]
        assert f"#   {key}" in raw, key
    assert facts.override_for("gfx1031").value == "10.3.0"  # type: ignore[union-attr]
    assert facts.override_for("gfx1100") is None  # listed by the builds themselves
    assert facts.is_apu("gfx1151") and not facts.is_apu("gfx942")  # MI300X is a dGPU


def test_rocm_builds_of_pytorch_before_6_0_list_the_build_scripts_targets() -> None:
    v = torch_facts.variant("2.1.2", "rocm5.6")
    assert v is not None and v.gfx == ("gfx900", "gfx906", "gfx908", "gfx90a", "gfx1030", "gfx1100")
    old = torch_facts.variant("2.0.1", "rocm5.4.2")
    assert old is not None and "gfx1100" not in old.gfx and "gfx90a" in old.gfx


def test_describe_gpu_names_gfx_targets_as_they_are() -> None:
    assert (
        describe_gpu(GPU("amd", 0, "Radeon RX Vega", compute_capability="gfx900"))
        == "GPU 0 Radeon RX Vega (gfx900)"
    )
    assert describe_gpu(GPU("nvidia", 1, "T4", compute_capability="7.5")).endswith("(sm_75)")


# ---------------------------------------------------------------- selection on the recorded machines


def plan_for(machine: str, framework: str = "pytorch", **request: object) -> Plan | Refusal:
    return select(R[framework], M[machine], Request(framework, accelerator="gpu", **request), R)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("machine", "variant", "version"),
    [
        ("mi300x-rocm6.1", "rocm6.3", "2.7.1"),  # the ROCm 6.1 driver runs user space up to 6.3
        ("rx7900xtx-rocm6.1", "rocm6.3", "2.7.1"),
        ("mi250x-rocm5.4", "rocm5.6", "2.1.2"),  # the ROCm 5.4 driver: 5.2-5.6
        ("mi250-kmd5.2-rocm6.2.3", "rocm5.4.2", "2.0.1"),  # the reporter ran 6.2 on it and crashed
    ],
)
def test_the_newest_build_the_driver_runs_with_the_upgrade_named(
    machine: str, variant: str, version: str
) -> None:
    plan = plan_for(machine)
    assert isinstance(plan, Plan), plan
    assert (plan.accelerator, plan.variant, plan.version) == ("rocm", variant, version)
    assert plan.packages == [f"torch=={version}+{variant}"] and plan.index_urls[0].endswith(f"/{variant}")
    chosen = torch_facts.variant(version, variant)
    assert chosen is not None
    for gpu in M[machine].gpus:  # never a build without the GPU's kernels
        assert gpu.compute_capability in chosen.gfx
    info = M[machine].rocm
    assert info is not None
    space = facts.user_space(info.driver_version, info.driver_source)
    assert (
        space.allowed is not None and facts.series(chosen.rocm or "") in space.allowed
    )  # one the driver runs
    assert any("needs a newer amdgpu kernel driver" in w and "ROCm 7.2" in w for w in plan.warnings), (
        plan.warnings
    )
    assert not any("cu1" in p for p in plan.packages)  # never CUDA on AMD


def test_vega64_gets_a_build_with_gfx900_kernels_and_the_unknown_driver_is_said() -> None:
    plan = plan_for("vega64-rocm4.5.2")
    assert isinstance(plan, Plan)
    chosen = torch_facts.variant(plan.version, plan.variant)
    assert chosen is not None and "gfx900" in chosen.gfx
    assert any("driver version is unknown" in w for w in plan.warnings)


def test_vega64_on_a_rocm_5_4_driver_is_held_to_its_window() -> None:
    info = M["vega64-rocm4.5.2"].rocm
    assert info is not None
    report = records.replace(
        M["vega64-rocm4.5.2"],
        rocm=records.replace(info, driver_version="5.18.13", driver_source="sysfs-module"),
    )
    plan = select(R["pytorch"], report, Request("pytorch", accelerator="gpu"), R)
    assert isinstance(plan, Plan) and plan.variant == "rocm5.6"


def test_a_driver_no_build_fits_is_refused_naming_the_driver_upgrade() -> None:
    info = M["mi300x-rocm6.1"].rocm
    assert info is not None
    old = records.replace(M["mi300x-rocm6.1"], rocm=records.replace(info, driver_version="5.16.9.22.20"))
    out = select(R["pytorch"], old, Request("pytorch", accelerator="gpu"), R)
    # gfx942 has kernels only in ROCm >= 6.0 builds; the ROCm 5.2 driver runs at most 5.4
    assert isinstance(out, Refusal) and out.code == "driver-too-old", out
    assert "ROCm 6.0" in out.fix and "amdgpu" in out.fix


def test_wsl_and_windows_are_refused_naming_amds_routes() -> None:
    wsl = plan_for("rx7900xtx-wsl")
    assert isinstance(wsl, Refusal) and wsl.code == "rocm-wsl-route" and "usecase=wsl" in (wsl.fix or "")
    win = plan_for("rx7900xtx-windows")
    assert isinstance(win, Refusal) and "Windows" in win.message and "radeon" in (win.fix or "")
    auto = select(R["pytorch"], M["rx7900xtx-windows"], Request("pytorch"), R)
    assert isinstance(auto, Plan) and auto.accelerator == "cpu"


@pytest.mark.parametrize(
    ("framework", "package"), [("jax", "jax-rocm7-plugin"), ("tensorflow", "tensorflow-rocm")]
)
def test_jax_and_tensorflow_are_refused_with_amds_route(framework: str, package: str) -> None:
    out = plan_for("mi300x-rocm6.1", framework)
    assert isinstance(out, Refusal) and out.code == "rocm-framework-route" and package in out.message
    auto = select(R[framework], M["mi300x-rocm6.1"], Request(framework), R)
    assert isinstance(auto, Plan) and auto.accelerator == "cpu"


def _rx6700xt() -> SystemReport:
    """A gfx1031 card (RX 6700 XT): no PyTorch ROCm build lists it; the documented 10.3.0 override serves it."""
    base = M["rx7900xtx-rocm6.1"]
    assert base.rocm is not None
    gpu = GPU("amd", 0, "AMD Radeon RX 6700 XT", None, "gfx1031", "reported")
    return records.replace(base, gpus=[gpu], rocm=records.replace(base.rocm, gfx_targets=["gfx1031"]))


def test_the_override_only_when_asked_and_explained() -> None:
    refused = select(R["pytorch"], _rx6700xt(), Request("pytorch", accelerator="gpu"), R)
    assert isinstance(refused, Refusal) and refused.code == "gpu-arch-unsupported"
    assert "--hsa-override" in (refused.fix or "") and "10.3.0" in (refused.fix or "")
    plan = select(R["pytorch"], _rx6700xt(), Request("pytorch", accelerator="gpu", hsa_override=True), R)
    assert isinstance(plan, Plan) and plan.env == {"HSA_OVERRIDE_GFX_VERSION": "10.3.0"}
    assert any("HSA_OVERRIDE_GFX_VERSION=10.3.0" in w and "not support" in w for w in plan.warnings)
    chosen = torch_facts.variant(plan.version, plan.variant)
    assert chosen is not None and "gfx1030" in chosen.gfx


def test_an_uncovered_second_gpu_is_named_with_the_gpus_option() -> None:
    base = M["rx7900xtx-rocm6.1"]
    odd = GPU("amd", 1, "Radeon RX 6700 XT", None, "gfx1031", "reported")
    report = records.replace(base, gpus=[*base.gpus, odd])
    out = select(R["pytorch"], report, Request("pytorch", accelerator="gpu"), R)
    assert isinstance(out, Refusal) and out.code == "gpus-not-covered" and "--gpus 0" in (out.fix or "")
    only = select(R["pytorch"], report, Request("pytorch", accelerator="gpu", gpu_indices=(0,)), R)
    assert isinstance(only, Plan) and only.variant.startswith("rocm")


# ---------------------------------------------------------------- saved reports through the command line


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("amd-reports")
    out = {}
    for name, report in M.items():
        p = d / f"{name}.json"
        p.write_text(report.to_json())
        out[name] = p
    return out


@pytest.mark.parametrize(
    ("machine", "code", "expect"),
    [
        ("mi300x-rocm6.1", 0, "2.7.1+rocm6.3"),
        ("mi250x-rocm5.4", 0, "2.1.2+rocm5.6"),
        ("rx7900xtx-rocm6.1", 0, "2.7.1+rocm6.3"),
        ("rx7900xtx-wsl", 3, "rocm-wsl-route"),
        ("rx7900xtx-windows", 3, "no-usable-gpu"),
        ("vega64-rocm4.5.2", 0, "+rocm"),
    ],
)
def test_saved_reports_plan_or_refuse_through_the_cli(
    saved: dict[str, Path], machine: str, code: int, expect: str
) -> None:
    out = cli("install", "pytorch", "--gpu", "--dry-run", "--json", "--system", str(saved[machine]))
    assert out.returncode == code, out.stdout + out.stderr
    data = json_out(out)
    assert expect in (data["packages"][0] if code == 0 else data["error"]["code"])


def test_hsa_override_option_reaches_the_plan(tmp_path: Path) -> None:
    p = tmp_path / "rx6700xt.json"
    p.write_text(_rx6700xt().to_json())
    refused = cli("install", "pytorch", "--gpu", "--dry-run", "--json", "--system", str(p))
    assert refused.returncode == 3 and "--hsa-override" in json_out(refused)["error"]["fix"]
    out = cli("install", "pytorch", "--gpu", "--hsa-override", "--dry-run", "--json", "--system", str(p))
    assert out.returncode == 0, out.stdout
    assert json_out(out)["env"] == {"HSA_OVERRIDE_GFX_VERSION": "10.3.0"}


def test_a_saved_report_reads_back_equal(saved: dict[str, Path]) -> None:
    for name, path in saved.items():
        assert SystemReport.from_file(path) == M[name], name
        assert set(json.loads(path.read_text())["rocm"] or {}) <= {
            "version",
            "source",
            "gfx_targets",
            "driver_version",
            "driver_source",
            "wsl",
            "integrated",
        }


# ---------------------------------------------------------------- doctor's diagnosis of an installed torch


def findings(machine: str, version: str, variant: Optional[str]) -> dict[str, str]:
    report = records.replace(M[machine], frameworks=[Framework("torch", version, None, variant)])
    return {f.code: f.level for f in diagnose(report)}


def test_the_reporters_torch_on_the_rocm_5_2_driver_is_an_error() -> None:
    """ROCm/ROCm#3951: torch 2.5.0+rocm6.2 on the amdgpu driver of ROCm 5.2 aborted in conv2d."""
    got = findings("mi250-kmd5.2-rocm6.2.3", "2.5.0+rocm6.2", "rocm6.2")
    assert got["torch-rocm-outside-driver-window"] == "error"
    assert got["rocm-outside-driver-window"] == "warning"  # the system ROCm 6.2.3 too


def test_a_gfx_target_the_installed_build_lacks_is_an_error() -> None:
    report = records.replace(_rx6700xt(), frameworks=[Framework("torch", "2.7.1+rocm6.3", None, "rocm6.3")])
    assert {f.code: f.level for f in diagnose(report)}["torch-gfx-not-covered"] == "error"
    assert "torch-gfx-not-covered" not in findings("rx7900xtx-rocm6.1", "2.7.1+rocm6.3", "rocm6.3")


def test_cpu_cuda_and_wsl_builds_on_amd_machines() -> None:
    assert findings("rx7900xtx-rocm6.1", "2.13.0+cpu", "cpu")["torch-cpu-build-with-gpu"] == "warning"
    assert findings("mi300x-rocm6.1", "2.13.0", "cu130")["torch-cuda-build-on-amd"] == "error"
    assert findings("rx7900xtx-wsl", "2.7.1+rocm6.3", "rocm6.3")["torch-rocm-on-wsl"] == "error"
    assert findings("rx7900xtx-rocm6.1", "2.7.1+rocm6.3", "rocm6.3") == {}  # the build fwsetup plans: clean


def test_a_fitting_report_file_with_the_old_rocm_keys_still_reads(tmp_path: Path) -> None:
    data = json.loads(M["rx7900xtx-rocm6.1"].to_json())
    for key in ("driver_version", "driver_source", "wsl", "integrated"):
        del data["rocm"][key]
    p = tmp_path / "old.json"
    p.write_text(json.dumps(data))
    old = SystemReport.from_file(p)
    assert old.rocm is not None and old.rocm.driver_version is None
    plan = select(R["pytorch"], old, Request("pytorch", accelerator="gpu"), R)
    assert isinstance(plan, Plan) and any("unknown" in w for w in plan.warnings)


def test_an_integrated_gpu_beside_a_discrete_one_is_left_out_and_hidden() -> None:
    """The RX 7900 XTX of ROCm/ROCm#3072 with a Ryzen 7000 iGPU beside it (gfx1036, an APU target
    in LLVM's table that no PyTorch ROCm build lists): the iGPU does not decide the build, and the
    runtime is kept off it (HIP stops when any visible GPU has no kernels)."""
    base = M["rx7900xtx-rocm6.1"]
    assert base.rocm is not None
    igpu = GPU("amd", 1, "AMD Radeon Graphics", None, "gfx1036", "reported")
    report = records.replace(
        base,
        gpus=[*base.gpus, igpu],
        rocm=records.replace(base.rocm, gfx_targets=["gfx1100", "gfx1036"], integrated=[1]),
    )
    plan = select(R["pytorch"], report, Request("pytorch", accelerator="gpu"), R)
    assert isinstance(plan, Plan) and plan.variant == "rocm6.3"
    assert plan.env == {"HIP_VISIBLE_DEVICES": "0"}
    assert any("integrated GPU" in w and "gfx1036" in w for w in plan.warnings)
    lock_env_ok = __import__("fwsetup.fleet.lockfile", fromlist=["INERT_ENV"])
    assert "HIP_VISIBLE_DEVICES" in lock_env_ok.INERT_ENV


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("amd-smi-version-rocm6.4.0-amdgpu6.10.5-MI300A.txt", ("6.4.0", "6.10.5")),
        ("amd-smi-version-rocm6.4.1-amdgpu6.12.12-MI300X.txt", ("6.4.1", "6.12.12")),
        ("amd-smi-version-rocm6.3.3-no-amdgpu-field.txt", ("6.3.3", None)),
    ],
)
def test_amd_smi_version_lines(name: str, expected: tuple[Optional[str], Optional[str]]) -> None:
    assert amdgpu.parse_amd_smi_version(text(name)) == expected


def test_amd_smi_fills_the_driver_only_where_sys_module_is_not_visible(tmp_path: Path) -> None:
    """A container with KFD passed in but no /sys/module/amdgpu: amd-smi names the module version;
    on the host, where the kernel already said, amd-smi is never started."""
    bindir = tmp_path / "bin"
    make_tool(bindir, "amd-smi", text("amd-smi-version-rocm6.4.1-amdgpu6.12.12-MI300X.txt"))
    info = rocm.probe(probe_env(kfd_root(tmp_path, amdgpu_dir=False), bindir)).fields["rocm"]
    assert (info.version, info.source, info.driver_version, info.driver_source) == (
        "6.4.1",
        "amd-smi",
        "6.12.12",
        "amd-smi",
    )
    host = tmp_path / "host"
    host.mkdir()
    never = tmp_path / "never-bin"
    never.mkdir()
    marker = tmp_path / "amd-smi-ran"
    (never / "amd-smi").write_text(f"#!{sys.executable}\nopen({str(marker)!r}, 'w').close()\n")
    (never / "amd-smi").chmod(0o755)
    root = kfd_root(host, module="6.12.12")
    (root / "opt/rocm/.info").mkdir(parents=True)
    (root / "opt/rocm/.info/version").write_text("6.4.1-120\n")
    out = rocm.probe(probe_env(root, never))
    assert out.fields["rocm"].driver_source == "sysfs-module" and not marker.exists()


def test_a_recorded_rocm_6_4_on_the_rocm_6_3_driver_is_inside_the_window() -> None:
    rocm_version, module = amdgpu.parse_amd_smi_version(
        text("amd-smi-version-rocm6.4.0-amdgpu6.10.5-MI300A.txt")
    )
    space = facts.user_space(module, "amd-smi")
    assert space.allowed is not None and facts.series(rocm_version or "") in space.allowed


@pytest.mark.parametrize(
    ("version", "variant", "arch_list"),
    [  # torch.cuda.get_arch_list() as run in https://github.com/astral-sh/uv/issues/14086
        ("2.5.1", "rocm6.2", "gfx900 gfx906 gfx908 gfx90a gfx1030 gfx1100 gfx942"),
        (
            "2.7.1",
            "rocm6.3",
            "gfx900 gfx906 gfx908 gfx90a gfx942 gfx1030 gfx1100 gfx1101 gfx1102 gfx1200 gfx1201",
        ),
    ],
)
def test_gfx_lists_match_recorded_get_arch_list_runs(version: str, variant: str, arch_list: str) -> None:
    found = torch_facts.variant(version, variant)
    assert found is not None and set(found.gfx) == set(arch_list.split())


# ---------------------------------------------------------------- install --lock: a ROCm target is matched like select


def locked_rocm(machine: str) -> LockTarget:
    from fwsetup.fleet import lockfile
    from fwsetup.plan import planning

    plan = planning.make_plan("pytorch", M[machine], Request("pytorch", accelerator="gpu"))
    assert isinstance(plan, Plan), plan
    return lockfile.target_of(plan, M[machine], machine, ["six==1.16.0 --hash=sha256:" + "a" * 64])


def test_a_rocm_lock_target_runs_only_where_select_would_plan_it() -> None:
    from fwsetup.fleet import fromlock

    target = locked_rocm("rx7900xtx-rocm6.1")
    assert target.accelerator == "rocm" and "gfx1100" in target.archs  # the gfx targets travel in `archs`
    assert fromlock.why_not(target, M["mi300x-rocm6.1"], ["3.11"]) is None  # gfx942 is in rocm6.3 too
    assert "ROCm 6.3, but amdgpu 5.18.13 is the ROCm 5.4 driver" in str(
        fromlock.why_not(target, M["mi250x-rocm5.4"], ["3.11"])
    )
    assert "does not run under WSL" in str(fromlock.why_not(target, M["rx7900xtx-wsl"], ["3.11"]))
    from machines import base_report

    assert "no AMD GPU" in str(fromlock.why_not(target, base_report(), ["3.11"]))  # a CPU-only Linux box
    gfx1031 = fromlock.why_not(target, _rx6700xt(), ["3.11"])
    assert "no kernels for GPU 0 AMD Radeon RX 6700 XT (gfx1031)" in str(gfx1031)
