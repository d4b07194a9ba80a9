"""PyTorch's Intel GPU (XPU) build for the Intel GPUs of the walk (probe/intel_gpus.py decides which
GPUs it serves and whether the driver stack can run it; facts/xpu.toml says from which release)."""

from __future__ import annotations

from typing import Optional

from fwsetup import versions
from fwsetup.plan.select.common import Walk
from fwsetup.probe import intel_gpus as intel


def pick(walk: Walk, label: str, version: str) -> Optional[tuple[list[str], list[str]]]:
    """(reasons, warnings) for this release's XPU build, or None (the reason in walk.rej)."""
    gpus = {g.gpu.bus_id: g for g in intel.intel_gpus(walk.report)}
    served = [gpus[g.bus_id] for g in walk.situation.gpus if g.bus_id in gpus]
    release = versions.release(version, 2)
    late = [g for g in served if g.family and release < versions.release(g.family.since, 2)]
    if late:
        walk.rej.add(
            f"{label} xpu: "
            + ", ".join(f"{g.describe()} is served from torch {g.family.since}" for g in late if g.family)
        )
        return None
    names = ", ".join(g.describe() for g in served)
    reasons = [f"xpu: PyTorch's Intel GPU build, whose hardware list has {names} (facts/xpu.toml)"]
    warnings = [
        f"{g.describe()} is not in PyTorch's validated hardware list ({g.family.note or g.family.source}): "
        "the XPU build may run on it, untested"
        for g in served
        if g.family and g.family.status == "unvalidated"
    ]
    if walk.report.intel is None:
        warnings.append(
            "this report does not record the Intel driver stack (an older doctor): the XPU build needs "
            f"i915 or xe bound to the GPU and Intel's compute runtime ({intel.RUNTIME_PACKAGES}; "
            f"{intel.DRIVER_GUIDE})"
        )
    others = [g for g in gpus.values() if not g.runs_xpu]
    if others:
        warnings.append(
            ", ".join(g.describe() for g in others)
            + " is not served by the XPU build; if torch lists it, select the Arc GPU with "
            "ONEAPI_DEVICE_SELECTOR=level_zero:<n>"
        )
    return reasons, warnings
