"""Intel GPUs (XPU), Apple and Arm floors: the machines of issue 19 as saved reports built from
recorded outputs (tests/fixtures/intel, apple, arm; sources beside each), planned through the
same selection as any report, and the probes that read them."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).parent))

from fakes import FIXTURES, make_tool
from machines import base_report

from fwsetup import records
from fwsetup.errors import Refusal
from fwsetup.facts import floors, xpu
from fwsetup.plan import recipes
from fwsetup.plan.model import Plan, Request
from fwsetup.plan.select import select
from fwsetup.probe import apple, intel
from fwsetup.probe.base import ProbeEnv
from fwsetup.probe.diagnose import diagnose
from fwsetup.probe.resources import parse_cpuinfo
from fwsetup.report import GPU, Framework, IntelInfo, Libc, OSInfo, PciDevice, PythonInfo, SystemReport

LIBDIR = "/usr/lib/x86_64-linux-gnu"
STACK = {"level_zero": f"{LIBDIR}/libze_loader.so.1", "compute_runtime": f"{LIBDIR}/libze_intel_gpu.so.1"}


def fixture(rel: str) -> str:
    return (FIXTURES / rel).read_text(encoding="utf-8")


def plan(report: SystemReport, accelerator: Optional[str] = None, version: Optional[str] = None) -> object:
    return select(recipes.find("pytorch"), report, Request(framework="pytorch", accelerator=accelerator, version=version))


# ---------------------------------------------------------------- recorded Intel machines

LSPCI = re.compile(r"^(?:(?P<bus>[0-9a-f:.]+) )?.*?(?:\[(?P<cls>[0-9a-f]{4})\]: )?.*\[8086:(?P<dev>[0-9a-f]{4})\]", re.I)


def lspci_device(text: str, bus: str = "0000:00:02.0") -> tuple[str, str, str, Optional[str]]:
    """(bus id, class, device id, bound driver) from a recorded `lspci -nn(k)` line."""
    first = text.splitlines()[0]
    m = LSPCI.match(first)
    assert m, first
    driver = re.search(r"Kernel driver in use: (\S+)", text)
    bus_id = f"0000:{m.group('bus')}" if m.group("bus") else bus
    return bus_id, f"0x{m.group('cls') or '0300'}00", m.group("dev").lower(), driver.group(1) if driver else None


def sysfs_root(tmp: Path, bus: str, cls: str, device: str, driver: Optional[str], libs: bool) -> Path:
    dev = tmp / "sys/bus/pci/devices" / bus
    dev.mkdir(parents=True)
    (dev / "vendor").write_text("0x8086\n")
    (dev / "device").write_text(f"0x{device}\n")
    (dev / "class").write_text(f"{cls}\n")
    if driver:
        target = tmp / "sys/bus/pci/drivers" / driver
        target.mkdir(parents=True)
        (dev / "driver").symlink_to(target)
    if libs:
        lib = tmp / LIBDIR.lstrip("/")
        lib.mkdir(parents=True)
        for name in ("libze_loader.so.1", "libze_intel_gpu.so.1"):
            (lib / name).write_text("")
    return tmp


def probed_report(root: Path) -> SystemReport:
    """A saved report of the recorded machine: the probe's findings on a fake root, on a base report."""
    out = intel.probe(ProbeEnv(root=str(root), environ={}))
    devices = intel.intel_display_devices(ProbeEnv(root=str(root), environ={}))
    pci = [PciDevice("intel", "0x8086", dev, bus) for bus, dev in devices]
    report = records.replace(base_report(("ubuntu", "24.04")), gpus=out.gpus, pci_display_devices=pci, **out.fields)
    return SystemReport.from_dict(json.loads(report.to_json()))  # through the saved JSON form


def a770_line() -> str:
    """The A770's device id as xpu-smi recorded it; bus address and driver as its .source.md says."""
    found = re.search(r"PCI Device ID: 0x([0-9a-f]{4})", fixture("intel/xpu-smi-discovery-arc-a770.txt"))
    assert found
    return f"03:00.0 VGA compatible controller [0300]: Intel Corporation Device [8086:{found.group(1)}]\n\tKernel driver in use: i915"


def test_the_intel_probe_reads_the_lunar_lake_recording(tmp_path: Path) -> None:
    bus, cls, device, driver = lspci_device(fixture("intel/lspci-nnk-lunar-lake-258v-xe.txt"))
    root = sysfs_root(tmp_path, bus, cls, device, driver, libs=True)
    out = intel.probe(ProbeEnv(root=str(root), environ={}))
    assert [(g.vendor, g.bus_id, g.compute_capability) for g in out.gpus] == [("intel", "0000:00:02.0", "xe2-lpg")]
    assert "Lunar Lake" in (out.gpus[0].name or "")
    assert out.fields["intel"] == IntelInfo({"0000:00:02.0": "xe"}, **STACK)


def test_no_intel_display_device_no_intel_section(tmp_path: Path) -> None:
    (tmp_path / "sys/bus/pci/devices").mkdir(parents=True)
    out = intel.probe(ProbeEnv(root=str(tmp_path), environ={}))
    assert out.fields == {} and out.gpus == []


def test_arc_a770_gets_the_xpu_build(tmp_path: Path) -> None:
    report = probed_report(sysfs_root(tmp_path, *lspci_device(a770_line()), libs=True))
    assert report.intel is not None and report.intel.kernel_drivers == {"0000:03:00.0": "i915"}
    got = plan(report, "gpu")
    assert isinstance(got, Plan), got
    assert (got.version, got.variant, got.accelerator) == ("2.15.0", "xpu", "xpu")
    assert got.packages == ["torch==2.15.0+xpu"] and got.index_urls == ["https://download.pytorch.org/whl/xpu"]
    assert got.warnings == []


def test_an_older_report_without_the_intel_section_still_plans_xpu() -> None:
    report = records.replace(
        base_report(("ubuntu", "24.04")), pci_display_devices=[PciDevice("intel", "0x8086", "0x56a0", "0000:03:00.0")]
    )
    got = plan(report)
    assert isinstance(got, Plan) and got.variant == "xpu"
    assert any("does not record the Intel driver stack" in w for w in got.warnings)


def test_lunar_lake_gets_xpu_and_without_a_driver_a_refusal_naming_it(tmp_path: Path) -> None:
    bus, cls, device, driver = lspci_device(fixture("intel/lspci-nnk-lunar-lake-258v-xe.txt"))
    got = plan(probed_report(sysfs_root(tmp_path / "a", bus, cls, device, driver, libs=True)), "gpu")
    assert isinstance(got, Plan) and (got.version, got.variant) == ("2.15.0", "xpu")
    bare = plan(probed_report(sysfs_root(tmp_path / "b", bus, cls, device, None, libs=True)), "gpu")
    assert isinstance(bare, Refusal) and "no kernel driver (i915 or xe)" in bare.message
    nolib = plan(probed_report(sysfs_root(tmp_path / "c", bus, cls, device, driver, libs=False)), "gpu")
    assert isinstance(nolib, Refusal) and "libze-intel-gpu1" in (nolib.fix or "")
    assert isinstance(plan(probed_report(sysfs_root(tmp_path / "d", bus, cls, device, driver, libs=False))), Plan)


def test_alder_lake_uhd_770_is_refused_for_gpu_and_gets_the_cpu_build(tmp_path: Path) -> None:
    report = probed_report(sysfs_root(tmp_path, *lspci_device(fixture("intel/lspci-uhd770-alder-lake-s.txt")), libs=True))
    refused = plan(report, "gpu")
    assert isinstance(refused, Refusal) and "not one PyTorch's XPU builds support" in refused.message
    assert refused.fix == "use --cpu"
    for accel in ("cpu", None):
        got = plan(report, accel)
        assert isinstance(got, Plan) and (got.version, got.variant) == ("2.15.0", "cpu")


def test_an_arc_box_names_the_igpu_the_xpu_build_does_not_serve() -> None:
    # intel/llvm#12880: an A770 beside a UHD 630 (Coffee Lake, device 0x3e92, not in the table)
    assert "UHD Graphics 630" in fixture("intel/sycl-ls-arc-a770-uhd630.txt")
    report = records.replace(
        base_report(("ubuntu", "24.04")),
        pci_display_devices=[
            PciDevice("intel", "0x8086", "0x3e92", "0000:00:02.0"),
            PciDevice("intel", "0x8086", "0x56a0", "0000:03:00.0"),
        ],
        intel=IntelInfo({"0000:00:02.0": "i915", "0000:03:00.0": "i915"}, **STACK),
    )
    got = plan(report, "gpu")
    assert isinstance(got, Plan) and got.variant == "xpu"
    assert any("ONEAPI_DEVICE_SELECTOR" in w and "8086:3e92" in w for w in got.warnings)


def test_intel_findings() -> None:
    a770 = PciDevice("intel", "0x8086", "0x56a0", "0000:03:00.0")
    cpu_build = [Framework("torch", "2.9.1+cpu", variant="cpu")]
    base = records.replace(base_report(), pci_display_devices=[a770], frameworks=cpu_build)
    no_runtime = records.replace(base, intel=IntelInfo({"0000:03:00.0": "i915"}))
    assert [f.code for f in diagnose(no_runtime)] == ["intel-gpu-stack-missing"]
    ready = records.replace(base, intel=IntelInfo({"0000:03:00.0": "i915"}, **STACK))
    assert [f.code for f in diagnose(ready)] == ["torch-cpu-build-with-intel-gpu"]
    uhd = records.replace(
        base_report(),
        pci_display_devices=[PciDevice("intel", "0x8086", "0x4690", "0000:00:02.0")],
        frameworks=[Framework("torch", "2.9.1+xpu", variant="xpu")],
    )
    assert [f.code for f in diagnose(uhd)] == ["torch-xpu-build-without-gpu"]
    assert diagnose(records.replace(uhd, frameworks=cpu_build)) == []


def test_the_xpu_table_is_unique_and_knows_the_issue_machines() -> None:
    ids = [i for fam in xpu.table().family for i in fam.ids]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[0-9a-f]{4}", i) for i in ids)
    assert xpu.family("0x56A0").status == "supported"  # Arc A770
    assert xpu.family("64a0").status == "supported"  # Arc 140V (Core Ultra 7 258V)
    assert xpu.family("0x4690").status == "unsupported"  # UHD 770
    assert xpu.family("0x3e92") is None


# ---------------------------------------------------------------- Apple


def mac(version: str, arch: str = "arm64", chip: Optional[str] = "Apple M2 Max") -> SystemReport:
    report = base_report(system="Darwin", arch=arch)
    return records.replace(
        report,
        os=OSInfo(system="Darwin", distro_id="macos", distro_version=version, arch=arch),
        gpus=[GPU("apple", 0, chip)] if chip and arch == "arm64" else [],
    )


def test_m2_on_macos_13_gets_the_last_release_whose_mps_runs_there() -> None:
    text = fixture("apple/collect-env-m2max-macos-13.7.4.txt")
    version = re.search(r"OS: macOS (\S+) \(arm64\)", text)
    assert version and "Apple M2 Max" in text
    got = plan(mac(version.group(1)))
    assert isinstance(got, Plan) and (got.version, got.variant) == ("2.9.1", "mps")
    cpu = plan(mac(version.group(1)), "cpu")
    assert isinstance(cpu, Plan) and cpu.version == "2.11.0"  # 2.12+ wheels are macosx_14_0


def test_m2_on_a_current_macos_gets_the_newest() -> None:
    version = re.search(r"OS: `macOS (\S+)`", fixture("apple/sw-vers-m2max-macos-26.3.1.txt"))
    assert version
    got = plan(mac(version.group(1)), "gpu")
    assert isinstance(got, Plan) and (got.version, got.variant) == ("2.15.0", "mps")


def got_python() -> PythonInfo:
    return base_report().python


def test_an_intel_mac_gets_the_last_x86_64_release(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    answer = fixture("apple/sysctl-proc-translated-intel-mac.txt").splitlines()[1] + "\n"
    make_tool(bindir, "sysctl", stderr=answer, rc=1)
    out = apple.probe_darwin(ProbeEnv(root=str(tmp_path), environ={"PATH": str(bindir)}), "x86_64")
    assert out.problems == [] and out.gpus == []
    got = plan(mac("13.6", arch="x86_64"))
    assert isinstance(got, Plan) and (got.version, got.variant, got.python) == ("2.2.2", "cpu", "3.11")
    refused = plan(mac("13.6", arch="x86_64"), "gpu")
    assert isinstance(refused, Refusal) and "Intel Mac" in refused.message and refused.fix == "use --cpu"
    python_313 = records.replace(got_python(), version="3.13.1")
    only_313 = records.replace(mac("13.6", arch="x86_64"), interpreters=[], python=python_313)
    inside_window = plan(only_313)  # 2.2.2 has wheels for 3.8-3.12: a Python of its window is planned
    assert isinstance(inside_window, Plan) and inside_window.python == "3.12", inside_window
    assert inside_window.interpreter is None and inside_window.interpreter_hint == "uv python install 3.12"


def test_an_x86_64_python_under_rosetta_is_refused_naming_an_arm64_python(tmp_path: Path) -> None:
    text = fixture("apple/rosetta-python-apple-silicon.txt")
    assert "hw.optional.arm64 = 1" in text and "running translated" in text
    bindir = tmp_path / "bin"
    make_tool(bindir, "sysctl", by_args={"sysctl.proc_translated": "1\n", "hw.optional.arm64": "1\n"})
    out = apple.probe_darwin(ProbeEnv(root=str(tmp_path), environ={"PATH": str(bindir)}), "x86_64")
    report = records.replace(mac("15.1", arch="x86_64"), problems=out.problems)
    for accel in (None, "gpu"):
        refused = plan(report, accel)
        assert isinstance(refused, Refusal) and "Rosetta 2" in refused.message
        assert "arm64 Python" in (refused.fix or "")
    cpu = plan(report, "cpu")
    assert isinstance(cpu, Plan) and cpu.version == "2.2.2"
    only_hw = tmp_path / "hw"  # a sysctl that does not answer proc_translated: the hardware key tells
    make_tool(only_hw, "sysctl", by_args={"hw.optional.arm64": "1\n"}, rc_by_args={"proc_translated": 1})
    hw = apple.probe_darwin(ProbeEnv(root=str(tmp_path), environ={"PATH": str(only_hw)}), "x86_64")
    assert [p.code for p in hw.problems] == ["rosetta-python"]
    tensorflow = select(recipes.find("tensorflow"), report, Request(framework="tensorflow"))
    assert isinstance(tensorflow, Refusal) and "arm64 Python" in (tensorflow.fix or "")


# ---------------------------------------------------------------- Arm


def arm_report(cpuinfo: str, libc: str = "2.35", distro: tuple[str, str] = ("ubuntu", "22.04")) -> SystemReport:
    _, flags = parse_cpuinfo(cpuinfo)
    report = base_report(distro, arch="aarch64", flags=flags)
    return records.replace(report, os=records.replace(report.os, libc=Libc("glibc", libc)))


def test_graviton2_on_amazon_linux_2_gets_the_last_release_for_glibc_2_26() -> None:
    os_release = fixture("arm/os-release-amazon-linux-2-arm64.txt")
    assert 'PRETTY_NAME="Amazon Linux 2"' in os_release
    report = arm_report(fixture("arm/cpuinfo-graviton2-neoverse-n1.txt"), "2.26", ("amzn", "2"))
    assert "atomics" in report.resources.cpu_flags
    got = plan(report, "cpu")
    assert isinstance(got, Plan) and got.version == "2.5.1"
    assert "not 2.6.0 … 2.15.0: its linux-aarch64 wheels need glibc 2.28; this machine has glibc 2.26" in got.reasons
    refused = plan(report, "cpu", version="2.6")
    assert isinstance(refused, Refusal) and "glibc 2.28" in refused.message


def test_cortex_a72_never_gets_a_build_that_dies_of_sigill() -> None:
    report = arm_report(fixture("arm/cpuinfo-cortex-a72-raspberry-pi-4.txt"))
    assert "atomics" not in report.resources.cpu_flags and "asimd" in report.resources.cpu_flags
    got = plan(report, "cpu")
    assert isinstance(got, Plan) and got.version == "2.15.0"
    refused = plan(report, "cpu", version="2.10")
    assert isinstance(refused, Refusal) and "LSE atomics" in refused.message
    assert [n.source for n in floors.isa_needs("2.4.0", "aarch64")] == ["I132032"]
    assert floors.isa_needs("2.4.1", "aarch64") == () and floors.isa_needs("2.11.0", "aarch64") == ()
    ok = plan(report, "cpu", version="2.4")  # 2.4.1 fixed it
    assert isinstance(ok, Plan) and ok.version == "2.4.1"
    graviton = arm_report(fixture("arm/cpuinfo-graviton2-neoverse-n1.txt"))
    assert isinstance(plan(graviton, "cpu", version="2.10"), Plan)


def test_the_floors_agree_with_the_recorded_pypi_wheels() -> None:
    data = json.loads((FIXTURES / "registry/pypi/torch.json").read_text(encoding="utf-8"))
    for version, files in data["releases"].items():
        for f in files:
            tag = f["filename"][:-4].split("-")[-1]
            if m := re.fullmatch(r"manylinux_(\d+)_(\d+)_(x86_64|aarch64)", tag):
                floor = floors.wheel_floor(version, f"linux-{m.group(3)}")
                assert floor is not None and floor.glibc == f"{m.group(1)}.{m.group(2)}", (version, tag)
            elif m := re.fullmatch(r"macosx_(\d+)_(\d+)_arm64", tag):
                floor = floors.wheel_floor(version, "macos-arm64")
                assert floor is not None and floor.macos == f"{m.group(1)}.{m.group(2)}", (version, tag)


def test_doctors_quick_reading_of_the_xpu_table_is_the_typed_one() -> None:
    assert xpu.families() == xpu.table().family
    assert {f.status for f in xpu.families()} <= set(xpu.STATUSES)


def test_doctor_text_shows_the_intel_stack() -> None:
    from fwsetup.cli import render

    report = records.replace(
        base_report(),
        pci_display_devices=[PciDevice("intel", "0x8086", "0x56a0", "0000:03:00.0")],
        intel=IntelInfo({"0000:03:00.0": "i915"}, level_zero=STACK["level_zero"]),
    )
    text = render.report_text(report)
    assert "0000:03:00.0 i915; Level Zero yes, compute runtime missing" in text


def test_update_data_lists_a_release_whose_wheels_outgrow_floors_toml() -> None:
    bin_dir = Path(__file__).parent.parent / "bin"
    sys.path.insert(0, str(bin_dir))
    import registry
    import wheelfloors

    data = json.loads((FIXTURES / "registry/pypi/torch.json").read_text(encoding="utf-8"))

    def files(version: str, rename: tuple[str, str] = ("", "")) -> list[registry.File]:
        return [
            registry.File(f["filename"].replace(*rename), "", 0, None, False, False)
            for f in data["releases"][version]
        ]

    assert wheelfloors.drift("2.15.0", files("2.15.0")) == []
    assert wheelfloors.release_floors(files("2.15.0"))[("macos-arm64", "macos")] == "14.0"
    moved = files("2.15.0", ("manylinux_2_28_aarch64", "manylinux_2_34_aarch64"))
    assert wheelfloors.drift("2.15.0", moved) == [
        "torch 2.15.0 linux-aarch64: its wheels need glibc 2.34; floors.toml says 2.28"
    ]


def issue_machines(tmp: Path) -> dict[str, SystemReport]:
    """The Intel, Apple and Arm machines of issue 19 as saved reports (through the JSON form)."""
    lunar = lspci_device(fixture("intel/lspci-nnk-lunar-lake-258v-xe.txt"))
    uhd = lspci_device(fixture("intel/lspci-uhd770-alder-lake-s.txt"))
    m13 = re.search(r"OS: macOS (\S+) \(arm64\)", fixture("apple/collect-env-m2max-macos-13.7.4.txt"))
    m26 = re.search(r"OS: `macOS (\S+)`", fixture("apple/sw-vers-m2max-macos-26.3.1.txt"))
    assert m13 and m26
    make_tool(tmp / "bin", "sysctl", by_args={"sysctl.proc_translated": "1\n", "hw.optional.arm64": "1\n"})
    rosetta = apple.probe_darwin(ProbeEnv(root=str(tmp), environ={"PATH": str(tmp / "bin")}), "x86_64")
    return {
        "m2-macos-26": mac(m26.group(1)),
        "intel-mac": mac("13.6", arch="x86_64"),
        "x86_64-python-on-m1": records.replace(mac("14.4", arch="x86_64"), problems=rosetta.problems),
        "arc-a770": probed_report(sysfs_root(tmp / "a770", *lspci_device(a770_line()), libs=True)),
        "core-ultra-7-258v": probed_report(sysfs_root(tmp / "lnl", *lunar, libs=True)),
        "alder-lake-uhd-770": probed_report(sysfs_root(tmp / "uhd", *uhd, libs=True)),
        "m2-macos-13": mac(m13.group(1)),
        "graviton2-al2": arm_report(fixture("arm/cpuinfo-graviton2-neoverse-n1.txt"), "2.26", ("amzn", "2")),
        "cortex-a72": arm_report(fixture("arm/cpuinfo-cortex-a72-raspberry-pi-4.txt")),
    }


EXPECTED = {  # machine -> (--gpu, --cpu): "version variant" or "exit 3"
    "arc-a770": ("2.15.0 xpu", "2.15.0 cpu"),
    "core-ultra-7-258v": ("2.15.0 xpu", "2.15.0 cpu"),
    "alder-lake-uhd-770": ("exit 3", "2.15.0 cpu"),
    "m2-macos-13": ("2.9.1 mps", "2.11.0 cpu"),
    "m2-macos-26": ("2.15.0 mps", "2.15.0 cpu"),
    "intel-mac": ("exit 3", "2.2.2 cpu"),
    "x86_64-python-on-m1": ("exit 3", "2.2.2 cpu"),
    "graviton2-al2": ("exit 3", "2.5.1 cpu"),
    "cortex-a72": ("exit 3", "2.15.0 cpu"),
}


def test_saved_reports_plan_through_the_command_line(tmp_path: Path) -> None:
    import jsonschema
    from helpers import cli

    from fwsetup.cli.doctor import SCHEMA_FILE

    schema = json.loads(Path(SCHEMA_FILE).read_text(encoding="utf-8"))
    for name, report in issue_machines(tmp_path).items():
        path = tmp_path / f"{name}.json"
        data = report.to_dict()
        jsonschema.validate(data, schema)
        path.write_text(json.dumps(data), encoding="utf-8")
        for flag, want in zip(("--gpu", "--cpu"), EXPECTED[name]):
            proc = cli("install", "pytorch", flag, "--dry-run", "--json", "--system", str(path))
            out = json.loads(proc.stdout)
            if want == "exit 3":
                assert proc.returncode == 3 and out["error"]["fix"], (name, flag, out)
            else:
                assert proc.returncode == 0, (name, flag, proc.stdout, proc.stderr)
                assert f"{out['version']} {out['variant']}" == want, (name, flag)


def test_a_locked_xpu_target_matches_only_a_machine_whose_intel_gpu_runs_it(tmp_path: Path) -> None:
    from fwsetup.fleet import fromlock
    from fwsetup.fleet.lockfile import LockTarget

    target = LockTarget("a770", "pytorch", "2.15.0", "xpu", "xpu", "3.11", "linux-x86_64", ["torch==2.15.0+xpu"])
    machines = issue_machines(tmp_path)
    assert fromlock.why_not(target, machines["arc-a770"], ["3.11"]) is None
    uhd = fromlock.why_not(target, machines["alder-lake-uhd-770"], ["3.11"])
    assert uhd is not None and "not one PyTorch's XPU builds support" in uhd
    plain = fromlock.why_not(target, base_report(), ["3.11"])
    assert plain == "a770: an Intel GPU (XPU) build; this machine has no Intel GPU"


def test_doctors_intel_path_imports_nothing_costly(tmp_path: Path) -> None:
    """doctor on an Intel GPU machine: the probe and the findings read the table without typing,
    pathlib, packaging or a TOML parser (doctor's start-up budget, bench/bench_cli.py)."""
    import subprocess

    bus, cls, device, driver = lspci_device(fixture("intel/lspci-nnk-lunar-lake-258v-xe.txt"))
    root = sysfs_root(tmp_path, bus, cls, device, driver, libs=False)
    code = (
        "import sys\n"
        "from fwsetup.probe import intel\n"
        "from fwsetup.probe.base import ProbeEnv\n"
        "from fwsetup.probe.diagnose import diagnose\n"
        "from fwsetup.report import OSInfo, PciDevice, PythonInfo, SystemReport\n"
        f"out = intel.probe(ProbeEnv(root={str(root)!r}, environ={{}}))\n"
        f"pci = [PciDevice('intel', '0x8086', '0x{device}', {bus!r})]\n"
        "report = SystemReport(OSInfo('Linux'), PythonInfo('3.11', 'CPython', 'python'), gpus=out.gpus,"
        " pci_display_devices=pci, **out.fields)\n"
        "codes = [f.code for f in diagnose(report)]\n"
        "costly = sorted({'typing', 'pathlib', 'packaging', 'tomllib', 'tomli'} & set(sys.modules))\n"
        "print(codes, costly)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.strip() == "['intel-gpu-stack-missing'] []", proc.stdout + proc.stderr


def test_doctor_names_an_installed_torch_that_dies_of_sigill_here() -> None:
    a72 = arm_report(fixture("arm/cpuinfo-cortex-a72-raspberry-pi-4.txt"))
    with_torch = records.replace(a72, frameworks=[Framework("torch", "2.10.0", variant=None)])
    assert [f.code for f in diagnose(with_torch)] == ["torch-needs-missing-cpu-feature"]
    assert diagnose(records.replace(a72, frameworks=[Framework("torch", "2.11.0")])) == []
    graviton = arm_report(fixture("arm/cpuinfo-graviton2-neoverse-n1.txt"))
    assert diagnose(records.replace(graviton, frameworks=[Framework("torch", "2.10.0")])) == []


def test_doctor_says_when_the_installed_torchs_mps_needs_a_newer_macos() -> None:
    version = re.search(r"OS: macOS (\S+) \(arm64\)", fixture("apple/collect-env-m2max-macos-13.7.4.txt"))
    assert version
    m2 = mac(version.group(1))
    findings = diagnose(records.replace(m2, frameworks=[Framework("torch", "2.10.0")]))
    assert [f.code for f in findings] == ["torch-mps-needs-newer-macos"]
    assert "macOS 14.0" in findings[0].message
    assert diagnose(records.replace(m2, frameworks=[Framework("torch", "2.9.1")])) == []


def test_fleet_report_does_not_flag_a_machine_whose_only_gpu_no_build_serves(tmp_path: Path) -> None:
    from fwsetup.fleet.report import machine_row

    machines = issue_machines(tmp_path)
    uhd = machine_row("uhd", machines["alder-lake-uhd-770"], ("pytorch",))
    assert uhd["frameworks"]["pytorch"]["variant"] == "cpu" and uhd["served"] is True
    assert uhd["gpus"] == ["Intel UHD/Iris Xe Graphics (Alder Lake, Raptor Lake)"]
    arc = machine_row("arc", machines["arc-a770"], ("pytorch",))
    assert arc["frameworks"]["pytorch"]["variant"] == "xpu" and arc["served"] is True


def test_the_pytorch_smoke_script_runs_the_work_on_an_intel_gpu() -> None:
    """The device choice of recipes/smoke/pytorch.py, over what a torch build reports (no GPU here:
    the answers of torch.cuda/torch.xpu/torch.backends.mps are given)."""
    import importlib.util
    from types import SimpleNamespace

    path = Path(__file__).parent.parent / "recipes" / "smoke" / "pytorch.py"
    spec = importlib.util.spec_from_file_location("smoke_pytorch", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    def torch(cuda: bool, xpu: Optional[bool], mps: bool) -> SimpleNamespace:
        answers = {"cuda": SimpleNamespace(is_available=lambda: cuda)}
        if xpu is not None:  # torch before 2.4 has no torch.xpu
            answers["xpu"] = SimpleNamespace(is_available=lambda: xpu)
        return SimpleNamespace(**answers, backends=SimpleNamespace(mps=SimpleNamespace(is_available=lambda: mps)))

    assert script.pick_device(torch(False, True, False), "gpu") == "xpu:0"
    assert script.pick_device(torch(True, True, False), "gpu") == "cuda:0"
    assert script.pick_device(torch(False, None, True), "gpu") == "mps"
    assert script.pick_device(torch(False, False, False), "gpu") == "cpu"
    assert script.pick_device(torch(False, True, False), "cpu") == "cpu"
