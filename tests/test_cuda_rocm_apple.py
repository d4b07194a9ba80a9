"""CUDA toolkit, ROCm and Apple Silicon probes: parsers on recorded outputs, probes on a
fake root with fake tools (present, missing, hanging, printing garbage)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest
from fakes import FIXTURES, make_tool, path_env

from fwsetup.probe import apple, cuda, load_probe, rocm
from fwsetup.probe.base import ProbeEnv
from fwsetup.probe.rocm import RocmAgent
from fwsetup.report import GPU, CudaToolkit, Problem, RocmInfo

# ---------------------------------------------------------------- helpers


def logging_tool(bindir: Path, name: str, stdout: bytes, log: Path, rc: int = 0) -> Path:
    """A fake tool that also appends its argv to `log`, so tests can count runs."""
    bindir.mkdir(parents=True, exist_ok=True)
    data = bindir / f".{name}.out"
    data.write_bytes(stdout)
    tool = bindir / name
    tool.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"with open({str(log)!r}, 'a') as fh:\n"
        "    fh.write(' '.join(sys.argv) + '\\n')\n"
        f"with open({str(data)!r}, 'rb') as fh:\n"
        "    sys.stdout.buffer.write(fh.read())\n"
        f"sys.exit({rc})\n"
    )
    tool.chmod(0o755)
    return tool


def runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def write(root: Path, rel: str, text: str) -> Path:
    p = root / rel.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def fx(rel: str) -> str:
    return (FIXTURES / rel).read_text(encoding="utf-8")


def env_for(root: Path, bindir: Path, timeout: float = 5.0, **extra: str) -> ProbeEnv:
    bindir.mkdir(parents=True, exist_ok=True)
    return ProbeEnv(timeout=timeout, root=root, environ=path_env(bindir, **extra))


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


VERSION_JSON = json.dumps(
    {
        "cuda": {"name": "CUDA SDK", "version": "12.4.1"},
        "cuda_nvcc": {"name": "CUDA NVCC", "version": "12.4.131"},
    }
)
CUDNN9_VERSION_H = """\
#ifndef CUDNN_VERSION_H_
#define CUDNN_VERSION_H_

#define CUDNN_MAJOR 9
#define CUDNN_MINOR 1
#define CUDNN_PATCHLEVEL 0

#define CUDNN_VERSION (CUDNN_MAJOR * 10000 + CUDNN_MINOR * 100 + CUDNN_PATCHLEVEL)
#endif
"""
CUDNN7_H = """\
#if !defined(CUDNN_H_)
#define CUDNN_H_

#define CUDNN_MAJOR 7
#define CUDNN_MINOR 6
#define CUDNN_PATCHLEVEL 5

#define CUDNN_VERSION (CUDNN_MAJOR * 1000 + CUDNN_MINOR * 100 + CUDNN_PATCHLEVEL)
#include "driver_types.h"
"""
NCCL_H = """\
#ifndef NCCL_H_
#define NCCL_H_
#define NCCL_MAJOR 2
#define NCCL_MINOR 21
#define NCCL_PATCH 5
#define NCCL_SUFFIX ""
"""

# ---------------------------------------------------------------- nvcc / CUDA parsers

NVCC_FIXTURES = {
    "cuda-10.1.243.txt": "10.1.243",
    "cuda-10.2.89.txt": "10.2.89",
    "cuda-11.5.119-ubuntu-apt.txt": "11.5.119",
    "cuda-12.5.82.txt": "12.5.82",
}


def test_every_nvcc_fixture_is_covered() -> None:
    on_disk = {p.name for p in (FIXTURES / "nvcc").glob("*.txt")}
    assert on_disk == set(NVCC_FIXTURES)


@pytest.mark.parametrize(("name", "version"), sorted(NVCC_FIXTURES.items()))
def test_parse_nvcc_fixture(name: str, version: str) -> None:
    assert cuda.parse_nvcc_version(fx(f"nvcc/{name}")) == version


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("Cuda compilation tools, release 13.0, V13.0.88\n", "13.0.88"),
        ("Cuda compilation tools, release 9.2\n", "9.2"),  # no V build number
        ("release 12.5, V11.0.1\n", "12.5"),  # inconsistent V: trust the release
        ("", None),
        ("\ufffd\ufffdgarbage V1 release\n", None),
        ("nvcc fatal   : Unknown option '--versio'\n", None),
    ],
)
def test_parse_nvcc_edge_cases(text: str, version: Optional[str]) -> None:
    assert cuda.parse_nvcc_version(text) == version


@pytest.mark.parametrize(
    ("text", "version"),
    [
        (VERSION_JSON, "12.4.1"),
        (json.dumps({"cuda_nvcc": {"version": "12.6.77"}}), "12.6.77"),
        (json.dumps({"cuda": {"version": "not a version"}}), None),
        ("[1, 2]", None),
        ("{not json", None),
        ("", None),
    ],
)
def test_parse_version_json(text: str, version: Optional[str]) -> None:
    assert cuda.parse_version_json(text) == version


def test_parse_version_txt() -> None:
    assert cuda.parse_version_txt("CUDA Version 10.1.243\n") == "10.1.243"
    assert cuda.parse_version_txt("garbage") is None


def test_parse_cudnn_and_nccl_headers() -> None:
    assert cuda.parse_cudnn_header(CUDNN9_VERSION_H) == "9.1.0"
    assert cuda.parse_cudnn_header(CUDNN7_H) == "7.6.5"
    # cuDNN 8+ cudnn.h only includes cudnn_version.h: no version of its own
    assert cuda.parse_cudnn_header('#include "cudnn_version.h"\n') is None
    assert cuda.parse_nccl_header(NCCL_H) == "2.21.5"
    assert cuda.parse_nccl_header("#define NCCL_MAJOR 2\n") is None


# ---------------------------------------------------------------- CUDA probe


def test_cuda_nvcc_on_path_is_listed_once_and_run_once(tmp_path: Path) -> None:
    root = tmp_path / "root"
    bindir = root / "usr/local/cuda-12.5/bin"
    log = tmp_path / "nvcc.log"
    logging_tool(bindir, "nvcc", (FIXTURES / "nvcc/cuda-12.5.82.txt").read_bytes(), log)
    (root / "usr/local/cuda").symlink_to("cuda-12.5")  # relative link
    out = cuda.probe(env_for(root, bindir))
    assert out.fields["cuda_toolkits"] == [
        CudaToolkit(version="12.5.82", path="/usr/local/cuda-12.5", source="nvcc-on-path")
    ]
    assert out.problems == []
    assert runs(log) == 1


def test_cuda_version_file_spares_running_nvcc(tmp_path: Path) -> None:
    root = tmp_path / "root"
    bindir = root / "opt/cuda/bin"
    log = tmp_path / "nvcc.log"
    logging_tool(bindir, "nvcc", b"should not be needed", log)
    write(root, "/opt/cuda/version.json", VERSION_JSON)
    out = cuda.probe(env_for(root, bindir, CUDA_HOME="/opt/cuda"))
    assert out.fields["cuda_toolkits"] == [
        CudaToolkit(version="12.4.1", path="/opt/cuda", source="nvcc-on-path")
    ]
    assert runs(log) == 0
    assert out.problems == []


def test_a_toolkit_from_nvidias_pip_wheels_is_versioned_by_its_nvcc_dist_info(tmp_path: Path) -> None:
    """The layout this repository's CI machine has (/usr/local/cuda-13.0 made from nvidia-* wheels):
    no version.json or version.txt, but `dist-info/nvidia_cuda_nvcc-13.0.88.dist-info`."""
    root = tmp_path / "root"
    bindir = root / "usr/local/cuda-13.0/bin"
    log = tmp_path / "nvcc.log"
    logging_tool(bindir, "nvcc", b"should not be needed", log)
    for name in ("nvidia_cuda_cccl-13.0.85", "nvidia_cuda_nvcc-13.0.88", "nvidia_cuda_runtime-13.0.96"):
        write(root, f"/usr/local/cuda-13.0/dist-info/{name}.dist-info/METADATA", "Metadata-Version: 2.1\n")
    out = cuda.probe(env_for(root, bindir))
    assert [(t.version, t.path) for t in out.fields["cuda_toolkits"]] == [("13.0.88", "/usr/local/cuda-13.0")]
    assert runs(log) == 0 and out.problems == []


def test_cuda_home_with_version_json(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write(root, "/opt/nvidia/cuda-12.4/version.json", VERSION_JSON)
    out = cuda.probe(env_for(root, tmp_path / "bin", CUDA_HOME="/opt/nvidia/cuda-12.4"))
    assert out.fields["cuda_toolkits"] == [
        CudaToolkit(version="12.4.1", path="/opt/nvidia/cuda-12.4", source="cuda-home")
    ]
    assert out.problems == []


def test_cuda_home_missing_is_a_problem(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    out = cuda.probe(env_for(root, tmp_path / "bin", CUDA_PATH="/nowhere/cuda"))
    assert out.fields["cuda_toolkits"] == []
    assert codes(out.problems) == ["cuda-home-missing"]


def test_usr_local_symlink_dedupe_and_version_files(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write(root, "/usr/local/cuda-13.0/version.json", json.dumps({"cuda": {"version": "13.0.1"}}))
    write(root, "/usr/local/cuda-11.8/version.json", json.dumps({"cuda": {"version": "11.8.0"}}))
    write(root, "/usr/local/cuda-10.1/version.txt", "CUDA Version 10.1.243\n")
    write(root, "/usr/local/cuda-samples/README", "not a toolkit\n")
    (root / "usr/local/cuda").symlink_to("/usr/local/cuda-13.0")  # absolute, as installers do
    (root / "usr/local/cuda-13").symlink_to("/etc/alternatives/cuda-13")
    (root / "etc/alternatives").mkdir(parents=True)
    (root / "etc/alternatives/cuda-13").symlink_to("/usr/local/cuda-13.0")
    # CUDA_HOME naming the same toolkit through the link does not add an entry either
    out = cuda.probe(env_for(root, tmp_path / "bin", CUDA_HOME="/usr/local/cuda"))
    assert out.fields["cuda_toolkits"] == [
        CudaToolkit(version="13.0.1", path="/usr/local/cuda-13.0", source="cuda-home"),
        CudaToolkit(version="11.8.0", path="/usr/local/cuda-11.8", source="usr-local"),
        CudaToolkit(version="10.1.243", path="/usr/local/cuda-10.1", source="usr-local"),
    ]
    assert out.problems == []


def test_wrapper_script_nvcc_points_at_the_real_toolkit(tmp_path: Path) -> None:
    """Like the dev machine: /usr/local/bin/nvcc is `exec /usr/local/cuda-13.0/bin/nvcc`."""
    root = tmp_path / "root"
    log = tmp_path / "nvcc.log"
    out_13 = b"Cuda compilation tools, release 13.0, V13.0.88\n"
    logging_tool(root / "usr/local/cuda-13.0/bin", "nvcc", out_13, log)
    wrapper = write(root, "/usr/local/bin/nvcc", '#!/bin/sh\nexec /usr/local/cuda-13.0/bin/nvcc "$@"\n')
    wrapper.chmod(0o755)
    (root / "usr/local/cuda").symlink_to("/usr/local/cuda-13.0")
    out = cuda.probe(env_for(root, root / "usr/local/bin"))
    assert out.fields["cuda_toolkits"] == [
        CudaToolkit(version="13.0.88", path="/usr/local/cuda-13.0", source="nvcc-on-path")
    ]
    assert runs(log) == 1
    assert out.problems == []


def test_cudnn_and_nccl_headers_are_read(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write(root, "/usr/local/cuda-12.4/version.json", VERSION_JSON)
    write(root, "/usr/local/cuda-12.4/include/cudnn_version.h", CUDNN9_VERSION_H)
    write(root, "/usr/local/cuda-11.0/version.txt", "CUDA Version 11.0.221\n")
    write(root, "/usr/local/cuda-11.0/include/cudnn.h", CUDNN7_H)
    write(root, "/usr/include/x86_64-linux-gnu/nccl.h", NCCL_H)
    out = cuda.probe(env_for(root, tmp_path / "bin"))
    tks = {tk.path: tk for tk in out.fields["cuda_toolkits"]}
    assert tks["/usr/local/cuda-12.4"].cudnn_version == "9.1.0"
    assert tks["/usr/local/cuda-11.0"].cudnn_version == "7.6.5"
    assert {tk.nccl_version for tk in tks.values()} == {"2.21.5"}


def test_system_cudnn_applies_when_toolkit_has_none(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write(root, "/usr/local/cuda-12.4/version.json", VERSION_JSON)
    write(root, "/usr/include/cudnn_version.h", CUDNN9_VERSION_H)
    out = cuda.probe(env_for(root, tmp_path / "bin"))
    (tk,) = out.fields["cuda_toolkits"]
    assert tk.cudnn_version == "9.1.0"
    assert tk.nccl_version is None


def test_toolkit_dir_without_version_or_nvcc(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "usr/local/cuda-12.2/lib64").mkdir(parents=True)
    write(root, "/usr/local/cuda-12.2/version.json", "{garbage")
    out = cuda.probe(env_for(root, tmp_path / "bin"))
    assert out.fields["cuda_toolkits"] == [
        CudaToolkit(version=None, path="/usr/local/cuda-12.2", source="usr-local")
    ]
    assert codes(out.problems) == ["cuda-version-unknown"]


def test_cuda_nvcc_hang_is_bounded(tmp_path: Path) -> None:
    root = tmp_path / "root"
    bindir = root / "usr/local/cuda-12.5/bin"
    make_tool(bindir, "nvcc", fx("nvcc/cuda-12.5.82.txt"), sleep=3)
    make_tool(root / "usr/local/cuda-12.1/bin", "nvcc", fx("nvcc/cuda-12.5.82.txt"), sleep=3)
    started = time.monotonic()
    out = cuda.probe(env_for(root, bindir, timeout=0.5))
    elapsed = time.monotonic() - started
    assert elapsed < 2.5  # one 0.5 s timeout, and the second hung nvcc is not tried
    paths = [(tk.path, tk.version) for tk in out.fields["cuda_toolkits"]]
    assert paths == [("/usr/local/cuda-12.5", None), ("/usr/local/cuda-12.1", None)]
    assert codes(out.problems) == ["tool-timeout", "cuda-version-unknown"]


def test_cuda_nvcc_garbage_and_non_utf8(tmp_path: Path) -> None:
    root = tmp_path / "root"
    bindir = root / "usr/local/cuda-12.5/bin"
    make_tool(bindir, "nvcc", b"\xff\xfe\x00\x9c garbage \xc3\x28 release\n")
    out = cuda.probe(env_for(root, bindir))
    assert out.fields["cuda_toolkits"] == [
        CudaToolkit(version=None, path="/usr/local/cuda-12.5", source="nvcc-on-path")
    ]
    assert codes(out.problems) == ["nvcc-unparseable"]


def test_cuda_nvcc_failing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    bindir = root / "usr/local/cuda-12.5/bin"
    make_tool(bindir, "nvcc", stderr="nvcc: error while loading shared libraries\n", rc=127)
    out = cuda.probe(env_for(root, bindir))
    assert [tk.version for tk in out.fields["cuda_toolkits"]] == [None]
    assert codes(out.problems) == ["tool-failed"]
    assert "error while loading" in out.problems[0].message


def test_cuda_nvcc_outside_a_fake_root(tmp_path: Path) -> None:
    bindir = tmp_path / "elsewhere/cuda/bin"
    make_tool(bindir, "nvcc", fx("nvcc/cuda-11.5.119-ubuntu-apt.txt"))
    root = tmp_path / "root"
    root.mkdir()
    out = cuda.probe(env_for(root, bindir))
    assert out.fields["cuda_toolkits"] == [
        CudaToolkit(version="11.5.119", path=str(tmp_path / "elsewhere/cuda"), source="nvcc-on-path")
    ]


def test_cuda_nothing_installed(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    out = cuda.probe(env_for(root, tmp_path / "bin"))
    assert out.fields == {"cuda_toolkits": []}
    assert out.problems == []
    assert out.gpus == []


def test_probes_load_through_the_registry() -> None:
    assert load_probe("cuda") is cuda.probe
    assert load_probe("rocm") is rocm.probe
    assert load_probe("apple") is apple.probe


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="no nvcc on this machine")
def test_cuda_probe_on_this_machine() -> None:
    """The real machine: its nvcc (13.0 on the dev box) must show up as a toolkit."""
    text = subprocess.run(
        ["nvcc", "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    m = re.search(r"release (\d+\.\d+)", text)
    assert m, text
    out = cuda.probe(ProbeEnv())
    versions = [tk.version for tk in out.fields["cuda_toolkits"]]
    assert any(v is not None and v.startswith(m.group(1) + ".") for v in versions), out
    on_path = [tk for tk in out.fields["cuda_toolkits"] if tk.source == "nvcc-on-path"]
    assert len(on_path) == 1
    paths = [tk.path for tk in out.fields["cuda_toolkits"]]
    assert len(paths) == len(set(paths))


# ---------------------------------------------------------------- ROCm parsers

GFX1100_AGENT = RocmAgent(
    name="gfx1100",
    marketing_name="Radeon RX 7900 XTX",
    uuid="GPU-398a3f843a146602",
    node=2,
    vram_mib=None,  # the excerpt stops before Pool Info
)

ROCM_FIXTURES: dict[str, tuple[str, object]] = {
    "rocm-smi-rocm1.9-legacy-python.txt": ("smi", [0]),
    "rocm-smi-rocm2.4-two-gpus.txt": ("smi", [0, 1]),
    "rocm-smi-rocm3.3-single-gpu.txt": ("smi", [1]),
    "rocm-smi-rocm7-MI355X-partitions-excerpt.txt": ("smi", [0, 1, 2, 3, 4, 5, 6, 7]),
    "rocminfo-agent-gfx1100-RX7900XTX-excerpt.txt": ("rocminfo", [GFX1100_AGENT]),
    "rocminfo-header-rocm-runtime-1.15.txt": ("rocminfo", []),  # CPU agent only
}

# A GPU agent with its pool section, as printed by `rocminfo --support` (4x MI50 32GB,
# ROCm 6.3.3), from the public issue ROCm/ROCm#5107; trimmed to the lines parsed here.
MI50_AGENT = """\
*******
Agent 3
*******
  Name:                    gfx906
  Uuid:                    GPU-12b008e17337ecd9
  Marketing Name:          AMD Radeon Graphics
  Vendor Name:             AMD
  Node:                    2
  Device Type:             GPU
  Cache Info:
    L1:                      16(0x10) KB
    L2:                      8192(0x2000) KB
  Chip ID:                 26273(0x66a1)
  Pool Info:
    Pool 1
      Segment:                 GLOBAL; FLAGS: COARSE GRAINED
      Size:                    33538048(0x1ffc000) KB
      Allocatable:             TRUE
    Pool 2
      Segment:                 GLOBAL; FLAGS: EXTENDED FINE GRAINED
      Size:                    33538048(0x1ffc000) KB
    Pool 3
      Segment:                 GROUP
      Size:                    64(0x40) KB
  ISA Info:
    ISA 1
      Name:                    amdgcn-amd-amdhsa--gfx906:sramecc+:xnack-
      Machine Models:          HSA_MACHINE_MODEL_LARGE
"""

# Older rocminfo (ROCm 2.x-era) printed sizes as "8096068KB" with no hex.
OLD_SIZE_AGENT = """\
*******
Agent 2
*******
  Name:                    gfx803
  Marketing Name:          Ellesmere [Radeon RX 470/480/570/570X/580/580X]
  Node:                    1
  Device Type:             GPU
  Pool Info:
    Pool 1
      Segment:                 GLOBAL; FLAGS: COARSE GRAINED
      Size:                    8388608KB
"""


def test_every_rocm_fixture_is_covered() -> None:
    on_disk = {p.name for p in (FIXTURES / "rocm").glob("*.txt")}
    assert on_disk == set(ROCM_FIXTURES)


@pytest.mark.parametrize(("name", "kind_expected"), sorted(ROCM_FIXTURES.items()))
def test_parse_rocm_fixture(name: str, kind_expected: tuple[str, object]) -> None:
    kind, expected = kind_expected
    text = fx(f"rocm/{name}")
    if kind == "smi":
        assert rocm.parse_rocm_smi(text) == expected
        assert rocm.parse_rocminfo(text) is None  # not mistaken for the other tool
    else:
        assert rocm.parse_rocminfo(text) == expected
        assert rocm.parse_rocm_smi(text) is None


def test_parse_rocminfo_reads_vram_and_skips_isa_name() -> None:
    (agent,) = rocm.parse_rocminfo(fx("rocm/rocminfo-header-rocm-runtime-1.15.txt") + MI50_AGENT)
    assert agent == RocmAgent(
        name="gfx906",
        marketing_name="AMD Radeon Graphics",
        uuid="GPU-12b008e17337ecd9",
        node=2,
        vram_mib=32752,
    )
    (old,) = rocm.parse_rocminfo(OLD_SIZE_AGENT) or []
    assert (old.name, old.vram_mib, old.uuid) == ("gfx803", 8192, None)


def test_parse_rocm_smi_modern_with_ansi_and_concise_banner() -> None:
    text = (
        "======== ROCm System Management Interface ========\n"
        "============== Concise Info ==============\n"
        "Device  Node  IDs              Temp    Power     Partitions          SCLK\n"
        "\x1b[3m              (DID,     GUID)  (Edge)  (Socket)  (Mem, Compute, ID) \x1b[0m\n"
        "==========================================\n"
        "0       2     0x66a1,   29631  45.0°C  24.0W     N/A, N/A, 0         925Mhz\n"
        "1       3     0x66a1,   33535  47.0°C  19.0W     N/A, N/A, 0         925Mhz\n"
        "==========================================\n"
        "============ End of ROCm SMI Log =========\n"
    )
    assert rocm.parse_rocm_smi(text) == [0, 1]
    assert rocm.parse_rocm_smi("WARNING: No AMD GPUs specified\n") is None
    assert rocm.parse_rocm_smi("\ufffd\ufffd\x00") is None


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("6.4.1-120\n", "6.4.1"),
        ("3.3.0-19", "3.3.0"),
        ("6.2.0\n", "6.2.0"),
        ("", None),
        ("x", None),
    ],
)
def test_parse_rocm_version_file(text: str, version: Optional[str]) -> None:
    assert rocm.parse_rocm_version_file(text) == version


def test_parse_rocm_version_header() -> None:
    text = "#define ROCM_VERSION_MAJOR   6\n#define ROCM_VERSION_MINOR   2\n#define ROCM_VERSION_PATCH   4\n"
    assert rocm.parse_rocm_version_header(text) == "6.2.4"
    assert rocm.parse_rocm_version_header("#define ROCM_VERSION_MAJOR 6\n") is None


# ---------------------------------------------------------------- ROCm probe


def rocm_root(tmp_path: Path, version: Optional[str] = "6.4.1-120") -> Path:
    root = tmp_path / "root"
    (root / "opt/rocm-6.4.1/bin").mkdir(parents=True)
    if version is not None:
        write(root, "/opt/rocm-6.4.1/.info/version", version + "\n")
    (root / "opt/rocm").symlink_to("/opt/rocm-6.4.1")
    return root


def test_rocm_version_file_and_rocminfo(tmp_path: Path) -> None:
    root = rocm_root(tmp_path)
    bindir = tmp_path / "bin"
    rocminfo_out = fx("rocm/rocminfo-header-rocm-runtime-1.15.txt") + fx(
        "rocm/rocminfo-agent-gfx1100-RX7900XTX-excerpt.txt"
    )
    make_tool(bindir, "rocminfo", rocminfo_out)
    smi_log = tmp_path / "smi.log"
    logging_tool(bindir, "rocm-smi", fx("rocm/rocm-smi-rocm2.4-two-gpus.txt").encode(), smi_log)
    out = rocm.probe(env_for(root, bindir))
    assert out.fields["rocm"] == RocmInfo(
        version="6.4.1", source="rocm-info-version", gfx_targets=["gfx1100"]
    )
    assert out.gpus == [
        GPU(
            vendor="amd",
            index=0,
            name="Radeon RX 7900 XTX",
            compute_capability="gfx1100",
            compute_capability_source="reported",
            uuid="GPU-398a3f843a146602",
        )
    ]
    assert out.problems == []
    assert runs(smi_log) == 0  # rocminfo answered: rocm-smi not needed


def test_rocm_two_gpus_with_vram(tmp_path: Path) -> None:
    root = rocm_root(tmp_path)
    bindir = tmp_path / "bin"
    make_tool(bindir, "rocminfo", MI50_AGENT + MI50_AGENT.replace("Agent 3", "Agent 4"))
    out = rocm.probe(env_for(root, bindir))
    assert [(g.index, g.compute_capability, g.memory_total_mib) for g in out.gpus] == [
        (0, "gfx906", 32752),
        (1, "gfx906", 32752),
    ]
    assert out.fields["rocm"].gfx_targets == ["gfx906"]


def test_rocm_tools_in_opt_rocm_bin_and_rocm_smi_fallback(tmp_path: Path) -> None:
    root = rocm_root(tmp_path)
    rocm_bin = root / "opt/rocm-6.4.1/bin"
    make_tool(rocm_bin, "rocminfo", "ROCk module is NOT loaded, possibly no GPU devices\n", rc=1)
    make_tool(rocm_bin, "rocm-smi", fx("rocm/rocm-smi-rocm3.3-single-gpu.txt"))
    out = rocm.probe(env_for(root, tmp_path / "empty-bin"))  # neither tool on PATH
    assert out.gpus == [GPU(vendor="amd", index=0, name=None)]
    assert out.fields["rocm"] == RocmInfo(version="6.4.1", source="rocm-info-version")
    assert codes(out.problems) == ["tool-failed"]
    assert "ROCk module is NOT loaded" in out.problems[0].message


def test_rocm_version_from_header_and_smi_partitions(tmp_path: Path) -> None:
    root = rocm_root(tmp_path, version=None)
    write(
        root,
        "/opt/rocm-6.4.1/include/rocm-core/rocm_version.h",
        "#define ROCM_VERSION_MAJOR 7\n#define ROCM_VERSION_MINOR 0\n#define ROCM_VERSION_PATCH 2\n",
    )
    bindir = tmp_path / "bin"
    make_tool(bindir, "rocm-smi", fx("rocm/rocm-smi-rocm7-MI355X-partitions-excerpt.txt"))
    out = rocm.probe(env_for(root, bindir))
    assert out.fields["rocm"] == RocmInfo(version="7.0.2", source="rocm_version.h")
    assert [g.index for g in out.gpus] == list(range(8))
    assert {g.vendor for g in out.gpus} == {"amd"}
    assert out.problems == []


def test_rocm_without_version_anywhere(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "opt/rocm").mkdir(parents=True)
    out = rocm.probe(env_for(root, tmp_path / "bin"))
    assert out.fields["rocm"] == RocmInfo(version=None, source="opt-rocm")
    assert codes(out.problems) == ["rocm-version-unknown"]


def test_rocm_tools_from_distro_without_opt_rocm(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    bindir = tmp_path / "bin"
    make_tool(bindir, "rocminfo", fx("rocm/rocminfo-agent-gfx1100-RX7900XTX-excerpt.txt"))
    out = rocm.probe(env_for(root, bindir))
    assert out.fields["rocm"] == RocmInfo(version=None, source="rocminfo", gfx_targets=["gfx1100"])
    assert len(out.gpus) == 1
    assert out.problems == []


def test_rocminfo_hang_skips_rocm_smi(tmp_path: Path) -> None:
    root = rocm_root(tmp_path)
    bindir = tmp_path / "bin"
    make_tool(bindir, "rocminfo", "never printed", sleep=3)
    smi_log = tmp_path / "smi.log"
    logging_tool(bindir, "rocm-smi", b"", smi_log)
    started = time.monotonic()
    out = rocm.probe(env_for(root, bindir, timeout=0.5))
    assert time.monotonic() - started < 2.5
    assert codes(out.problems) == ["tool-timeout"]
    assert runs(smi_log) == 0
    assert out.fields["rocm"].version == "6.4.1"
    assert out.gpus == []


def test_rocm_garbage_and_non_utf8(tmp_path: Path) -> None:
    root = rocm_root(tmp_path, version="\xff\xfe garbage")
    bindir = tmp_path / "bin"
    make_tool(bindir, "rocminfo", b"\xff\xfe\x00\x9c\xc3\x28 Segmentation fault\n")
    make_tool(bindir, "rocm-smi", b"Traceback (most recent call last):\n\xff\xfe\n")
    out = rocm.probe(env_for(root, bindir))
    assert codes(out.problems) == ["rocminfo-unparseable", "rocm-smi-unparseable"]
    assert out.gpus == []
    assert out.fields["rocm"] == RocmInfo(version="6.4.1", source="directory-name")


def test_rocm_nothing_installed_runs_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    started = time.monotonic()
    out = rocm.probe(env_for(root, tmp_path / "bin"))
    assert time.monotonic() - started < 0.5
    assert out.fields == {"rocm": None}
    assert out.gpus == []
    assert out.problems == []


# ---------------------------------------------------------------- Apple


def sysctl_tool(bindir: Path, **answers: str) -> None:
    make_tool(bindir, "sysctl", by_args=answers)


def test_apple_silicon_gpu(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    sysctl_tool(bindir, **{"machdep.cpu.brand_string hw.memsize": "Apple M2 Pro\n34359738368\n"})
    out = apple.probe_darwin(env_for(tmp_path, bindir), "arm64")
    assert out.gpus == [GPU(vendor="apple", index=0, name="Apple M2 Pro", memory_total_mib=32768)]
    assert out.fields == {}
    assert out.problems == []


def test_apple_intel_mac_has_no_apple_gpu(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    # sysctl.proc_translated is unknown on Intel Macs
    make_tool(bindir, "sysctl", stderr="sysctl: unknown oid 'sysctl.proc_translated'\n", rc=1)
    out = apple.probe_darwin(env_for(tmp_path, bindir), "x86_64")
    assert out.gpus == []
    assert out.problems == []


def test_apple_rosetta_python_is_a_problem(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    sysctl_tool(bindir, **{"sysctl.proc_translated": "1\n"})
    out = apple.probe_darwin(env_for(tmp_path, bindir), "x86_64")
    assert out.gpus == []
    assert codes(out.problems) == ["rosetta-python"]


def test_apple_sysctl_missing_or_hanging(tmp_path: Path) -> None:
    out = apple.probe_darwin(env_for(tmp_path, tmp_path / "bin"), "arm64")
    assert out.gpus == [GPU(vendor="apple", index=0, name=None)]
    assert codes(out.problems) == ["tool-missing"]

    hang = tmp_path / "hang"
    make_tool(hang, "sysctl", "Apple M1\n", sleep=3)
    started = time.monotonic()
    out = apple.probe_darwin(env_for(tmp_path, hang, timeout=0.5), "arm64")
    assert time.monotonic() - started < 2.5
    assert codes(out.problems) == ["tool-timeout"]


def test_apple_probe_only_on_darwin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    sysctl_tool(bindir, **{"machdep.cpu.brand_string": "Apple M3 Max\n137438953472\n"})
    env = env_for(tmp_path, bindir)
    monkeypatch.setattr(apple.host, "system", lambda: "Linux")
    assert apple.probe(env).gpus == []
    monkeypatch.setattr(apple.host, "system", lambda: "Darwin")
    monkeypatch.setattr(apple.host, "machine", lambda: "arm64")
    assert apple.probe(env).gpus == [
        GPU(vendor="apple", index=0, name="Apple M3 Max", memory_total_mib=131072)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Apple M2 Pro\n34359738368\n", ("Apple M2 Pro", 32768)),
        ("17179869184\n", (None, 16384)),  # brand key unknown: memory still read
        ("Apple M1\n", ("Apple M1", None)),
        ("", (None, None)),
        ("\ufffd\x00\n0\n", (None, None)),
    ],
)
def test_parse_sysctl(text: str, expected: tuple[Optional[str], Optional[int]]) -> None:
    assert apple.parse_sysctl(text) == expected
