"""`fwsetup export --format kubernetes`: one Job per lock target, on a node of that target's kind.

Nodes are chosen by GPU Feature Discovery's `nvidia.com/gpu.product` label (the GPU's name with
spaces as '-', as GFD writes it) and the architecture label; the Job asks the device plugin for
`nvidia.com/gpu` (one per GPU the target's machine had). The pod fetches fwsetup and the locked
environment from the bundle's URL (no package index), installs offline and runs the smoke test on
the node; the lock travels in a ConfigMap. Everything is emitted as data (yamlout.dumps):
target names reach the manifest only as quoted strings and sanitized names/labels.
"""

from __future__ import annotations

import re
from typing import Any

from fwsetup.errors import UsageError
from fwsetup.fleet import yamlout
from fwsetup.fleet.lockfile import LockTarget
from fwsetup.fleet.steps import PROVISION, SMOKE, SPEC, dns_label

GPU_PRODUCT = "nvidia.com/gpu.product"
GPU_RESOURCE = "nvidia.com/gpu"
ARCH_LABEL = "kubernetes.io/arch"
ARCHES = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64", "amd64": "amd64"}
LOCK_MOUNT = "/etc/fwsetup"


def gpu_product_label(name: str) -> str:
    """GFD's label value for a GPU name: spaces (and anything a label refuses) as '-'."""
    value = re.sub(r"[^A-Za-z0-9_.-]", "-", name.strip())[:63]
    return re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", value)


def job(t: LockTarget, wheelhouse: str, configmap: str, spec: str = SPEC) -> dict[str, Any]:
    """The Job for one target (a plain dict in the Kubernetes API's shape)."""
    if not re.fullmatch(r"[0-9]+\.[0-9]+", t.python):  # it names the image: never anything but X.Y
        raise UsageError(
            f"lock target {t.name!r} has Python {t.python!r}, not X.Y", "regenerate the lock with `fwsetup lock`"
        )
    gpu = t.accelerator == "cuda"
    count = max(len(t.gpu_names), len(t.gpus), 1) if gpu else 0
    products = sorted({p for p in (gpu_product_label(n) for n in t.gpu_names) if p})
    arch = t.platform.split("-", 1)[1] if "-" in t.platform else t.platform
    node_selector = {ARCH_LABEL: ARCHES.get(arch) or gpu_product_label(arch)}
    affinity: dict[str, Any] = {}
    if len(products) == 1:
        node_selector[GPU_PRODUCT] = products[0]
    elif products:  # a machine with mixed GPUs: any node with one of them
        affinity = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": GPU_PRODUCT, "operator": "In", "values": products}]}
                    ]
                }
            }
        }
    env = {
        "FWSETUP_WHEELHOUSE": wheelhouse,
        "FWSETUP_LOCK": f"{LOCK_MOUNT}/fwsetup.lock",
        "FWSETUP_PREFIX": "/opt/fwsetup",
        "FWSETUP_FRAMEWORK": t.framework,
        "FWSETUP_PYTHON": t.python,
        "FWSETUP_SPEC": spec,
        "FWSETUP_SMOKE_FLAGS": "--gpu" if gpu else "",
        "FWSETUP_YES": "1",
    }
    container: dict[str, Any] = {
        "name": "fwsetup",
        "image": f"python:{t.python}-slim",
        "command": ["sh", "-c", PROVISION + SMOKE],
        "env": [{"name": k, "value": v} for k, v in env.items()],
        "volumeMounts": [{"name": "lock", "mountPath": LOCK_MOUNT, "readOnly": True}],
    }
    if gpu:
        container["resources"] = {"limits": {GPU_RESOURCE: str(count)}}
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        "nodeSelector": node_selector,
        "containers": [container],
        "volumes": [{"name": "lock", "configMap": {"name": configmap}}],
    }
    if affinity:
        pod["affinity"] = affinity
    name = dns_label(t.name)
    labels = {"app.kubernetes.io/name": "fwsetup", "fwsetup.io/target": name}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": labels, "annotations": {"fwsetup.io/target-name": t.name}},
        "spec": {
            "backoffLimit": 0,
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }


def manifest(lock_text: str, targets: list[LockTarget], wheelhouse: str, spec: str = SPEC) -> dict[str, Any]:
    """A v1 List: the lock's ConfigMap, then a Job per target."""
    configmap = "fwsetup-lock"
    items: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": configmap, "labels": {"app.kubernetes.io/name": "fwsetup"}},
            "data": {"fwsetup.lock": lock_text},
        }
    ]
    items += [job(t, wheelhouse, configmap, spec) for t in targets]
    return {"apiVersion": "v1", "kind": "List", "items": items}


def render(lock_text: str, targets: list[LockTarget], wheelhouse: str, spec: str = SPEC) -> str:
    return yamlout.dumps(
        manifest(lock_text, targets, wheelhouse, spec),
        yamlout.comment(
            "Made by `fwsetup export --format kubernetes`: a Job per lock target, fetching fwsetup and\n"
            "the environment from the bundle at FWSETUP_WHEELHOUSE. Apply: kubectl apply -f THIS.yaml",
        ),
    )
