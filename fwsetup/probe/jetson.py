"""NVIDIA Jetson: the module, its integrated GPU and the L4T release, without nvidia-smi.

JetPack 4 and 5 have no nvidia-smi, and what /proc/driver/nvidia/version calls the driver version
on a Jetson is the L4T release. The files that say what this board is:
  /etc/nv_tegra_release        "# R35 (release), REVISION: 3.1, GCID: …, BOARD: t186ref, …"
  /proc/device-tree/model      "NVIDIA Jetson AGX Orin Developer Kit" (NUL-terminated)
  /proc/device-tree/compatible "…\\0nvidia,tegra234\\0…" (the SoC, hence the GPU)
  /proc/driver/nvidia/version  "NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  35.3.1 …"
JetPack, its CUDA and Python come from the facts table (facts/jetson.toml): no file states them.
"""

from __future__ import annotations

import re
from typing import Optional

from fwsetup.probe.base import Probed, ProbeEnv
from fwsetup.probe.evidence import DT_COMPATIBLE, PROC_VERSION, TEGRA_RELEASE
from fwsetup.report import GPU, JetsonInfo

DT_MODEL = "/proc/device-tree/model"
SOURCE = "jetson"

_RELEASE_RE = re.compile(r"#\s*R(\d+)\s*\(release\),\s*REVISION:\s*(\d+(?:\.\d+)*)", re.IGNORECASE)


def parse_tegra_release(text: str) -> Optional[str]:
    """'35.3.1' from '# R35 (release), REVISION: 3.1, …'; None if the line is not there."""
    m = _RELEASE_RE.search(text)
    return f"{m.group(1)}.{m.group(2)}" if m else None


def _l4t_from_proc(env: ProbeEnv) -> Optional[str]:
    text = env.read_text(PROC_VERSION)
    if not text:
        return None
    from fwsetup.facts.l4t import is_l4t_version
    from fwsetup.probe.nvidia import parse_proc_version

    version = parse_proc_version(text)
    return version if is_l4t_version(version) else None


def _dt_text(env: ProbeEnv, path: str) -> Optional[str]:
    text = env.read_text(path, limit=4096)
    if text is None:
        return None
    cleaned = text.replace("\x00", " ").strip()
    return cleaned or None


def probe(env: ProbeEnv) -> Probed:
    out = Probed()
    out.fields["jetson"] = None
    release_text = env.read_text(TEGRA_RELEASE, limit=4096)
    l4t = parse_tegra_release(release_text) if release_text else None
    source = "nv_tegra_release"
    if l4t is None:
        l4t = _l4t_from_proc(env)
        source = "procfs"
    if release_text is not None and l4t is None:
        out.problem("jetson-release-unreadable", f"{TEGRA_RELEASE} names no L4T release we can read", SOURCE)
    compatible = env.read_text(DT_COMPATIBLE, limit=4096) or ""
    if l4t is None and "nvidia,tegra" not in compatible.lower():
        return out  # a desktop driver, or another ARM board: not a Jetson, no table loaded
    model = _dt_text(env, DT_MODEL)
    from fwsetup.facts import jetson as facts

    soc = facts.soc_for(compatible)
    if l4t is None and soc is None:
        return out  # a Tegra that is not one of the Jetson SoCs fwsetup knows: nothing to say
    if l4t is None:
        source = "device-tree"
    cc = soc.compute_capability if soc else None
    if cc is None and model:  # no compatible file: the module's name says which GPU it has
        from fwsetup.probe.nvidia.tables import compute_capability_for_name

        cc = compute_capability_for_name(model)
        soc = facts.soc_by_capability(cc)
    release = facts.release_for(l4t)
    if soc is None:  # neither file: the JetPack may say (JetPack 6 runs only on Orin)
        soc = facts.soc_for_release(release)
        cc = soc.compute_capability if soc else cc
    if l4t is not None and release is None:
        out.problem(
            "jetson-l4t-unknown",
            f"L4T {l4t} is not in fwsetup's JetPack table: its JetPack, CUDA and Python are unknown",
            SOURCE,
        )
    out.fields["jetson"] = JetsonInfo(
        model=model,
        soc=soc.name if soc else None,
        compute_capability=cc,
        l4t=l4t,
        jetpack=release.jetpack if release else None,
        cuda=release.cuda if release else None,
        cudnn=release.cudnn if release else None,
        python=release.python if release else None,
        source=source,
    )
    if env.which("nvidia-smi") is None:  # JetPack 4/5: nothing else reports the integrated GPU
        name = model or (f"NVIDIA Jetson {soc.name}" if soc else "NVIDIA Jetson")
        out.gpus.append(GPU("nvidia", 0, name, None, cc, "table" if cc else None))
    return out
