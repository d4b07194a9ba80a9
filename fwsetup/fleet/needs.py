"""What a planned build requires of the machine it runs on, recorded in each lock target.

A lock is made on one machine for others, so `install --lock` must judge the *target*
machine with the checks select uses (`facts.compat.driver_runs_cuda`, `cc_covered`) — never by
reading CUDA back out of a variant name. At lock time the plan's build is looked up once in
the same facts select read to choose it; the result travels in the lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from fwsetup.plan.model import Plan


@dataclass(frozen=True)
class MachineNeeds:
    cuda: Optional[str] = None  # the CUDA version the build needs the driver to run
    archs: tuple[str, ...] = ()  # GPU architectures it ships kernels (SASS) for
    ptx: tuple[str, ...] = ()  # PTX it ships: any GPU at least this capable JIT-compiles it
    min_driver: Optional[str] = None  # a driver floor the framework states itself (JAX, old recipes)


def of_plan(plan: Plan, platform: str) -> MachineNeeds:
    """The needs of `plan`'s build on `platform`; empty for a CPU build."""
    if plan.accelerator != "cuda":
        return MachineNeeds()
    found = _lookup(plan, platform)
    if found is None:
        return MachineNeeds()
    return MachineNeeds(
        cuda=str(found["cuda"]) if found.get("cuda") else None,
        archs=tuple(str(a) for a in found.get("archs", [])),
        ptx=tuple(str(p) for p in found.get("ptx", [])),
        min_driver=str(found["min_driver"]) if found.get("min_driver") else None,
    )


def _lookup(plan: Plan, platform: str) -> Optional[dict[str, Any]]:
    """The facts entry select chose the build from, in one shape (cuda, archs, ptx, min_driver)."""
    from fwsetup import facts
    from fwsetup.facts.matrix import torch_variant
    from fwsetup.plan import recipes
    from fwsetup.versions import release

    if plan.framework == "pytorch":
        return torch_variant(plan.version, plan.variant, platform)
    if plan.framework == "jax":
        for extra in facts.load("jax").get("cuda_extra", []):
            if extra["name"] == plan.variant:
                # select gates JAX on its minimum compute capability as a PTX floor (XLA JITs).
                return {
                    "cuda": extra.get("cuda", plan.variant.replace("cuda", "") + ".0"),
                    "ptx": [extra.get("min_compute_capability", "0.0")],
                    "min_driver": extra.get("min_driver_linux"),
                }
        return None
    if plan.framework == "tensorflow":
        for rel in facts.load("tensorflow")["release"]:
            if release(rel["version"], 2) == release(plan.version, 2) and rel.get("cuda"):
                return {"cuda": rel["cuda"], "ptx": [rel.get("min_compute_capability") or "0.0"]}
        return None
    try:
        recipe = recipes.find(plan.framework)
    except Exception:  # a lock for a framework this fwsetup no longer knows: nothing to add
        return None
    for v in recipe.variants:
        if v.name == plan.variant and v.cuda:
            return {"cuda": v.cuda, "archs": list(v.archs), "min_driver": v.min_driver}
    return None
