"""Lock files: a plan resolved to exact versions and hashes, for one machine or a fleet.

A lock holds one *target* per machine kind (a `--system` report, or this machine): the
framework build chosen for it, the Python, the platform, and hash-pinned requirements made
by `uv pip compile --generate-hashes` for that Python and platform — so a GPU-less laptop
can lock for the fleet. `install --lock` picks the target this machine matches and installs
exactly those files (hash-checked); nothing is resolved again.

Format (TOML, diffable, one requirement per line):

    lock_version = 1
    framework = "pytorch"
    created_by = "fwsetup 0.1.0"

    [[target]]
    name = "rtx4090-580"
    framework = "pytorch"  version = "2.15.0"  variant = "cu130"  accelerator = "cuda"
    python = "3.11"  platform = "linux-x86_64"
    gpus = ["8.9"]  driver = "580.65.06"
    index_urls = [...]  find_links = [...]  env = {...}  smoke = "pytorch.py"
    requirements = ["filelock==3.20.0 --hash=sha256:…", …]
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from fwsetup import __version__
from fwsetup.errors import FwsetupError, InstallError, Refusal, UsageError
from fwsetup.facts.compat import vtuple
from fwsetup.install import pipconfig
from fwsetup.install.backends import find_uv, summarise
from fwsetup.plan.model import Plan
from fwsetup.plan.select import platform_key
from fwsetup.redact import redact
from fwsetup.report import SystemReport

LOCK_VERSION = 1

# uv's --python-platform for each fwsetup platform key (manylinux_2_28: what current wheels target).
UV_PLATFORMS = {
    "linux-x86_64": "x86_64-manylinux_2_28",
    "linux-aarch64": "aarch64-manylinux_2_28",
    "macos-arm64": "aarch64-apple-darwin",
    "macos-x86_64": "x86_64-apple-darwin",
    "windows-amd64": "x86_64-pc-windows-msvc",
}


@dataclass(frozen=True)
class LockTarget:
    name: str
    framework: str
    version: str
    variant: str
    accelerator: str
    python: str
    platform: str
    requirements: list[str]
    gpus: list[str] = field(default_factory=list)
    driver: Optional[str] = None
    index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    smoke: str = ""
    glibc: Optional[str] = None

    def describe(self) -> str:
        gpus = f", GPUs {' '.join('sm_' + g.replace('.', '') for g in self.gpus)}" if self.gpus else ""
        return f"{self.name}: {self.framework} {self.version} {self.variant} on {self.platform}, Python {self.python}{gpus}"


def uv_platform(report: SystemReport) -> str:
    key = platform_key(report)
    try:
        return UV_PLATFORMS[key]
    except KeyError:
        raise Refusal(
            f"fwsetup cannot lock for platform {key}",
            "lock on a supported platform",
            code="unsupported-platform",
        ) from None


def resolve(plan: Plan, report: SystemReport, name: str, timeout: float = 900) -> LockTarget:
    """Hash-pinned requirements for `plan` on the machine `report` describes (not necessarily this one)."""
    if plan.route != "pip" or not plan.packages:
        raise Refusal(
            f"{plan.framework} is installed through {plan.route}: there are no Python packages to lock",
            "lock a framework installed through pip",
            code="not-lockable",
        )
    uv = find_uv()
    if uv is None:
        raise FwsetupError("locking needs uv", "pip install uv (it is a dependency of fwsetup)")
    settings = pipconfig.read()
    args = [
        uv,
        "pip",
        "compile",
        "-",
        "--generate-hashes",
        "--no-header",
        "--no-annotate",
        "--quiet",
        "--python-version",
        plan.python,
        "--python-platform",
        uv_platform(report),
        "--index-strategy",
        "unsafe-best-match",
    ]
    if settings.index_url:
        args += ["--index-url", settings.index_url]
    for url in (*plan.index_urls, *settings.extra_index_urls):
        args += ["--extra-index-url", url]
    for fl in (*plan.find_links, *settings.find_links):
        args += ["--find-links", fl]
    for c in settings.constraints:
        args += ["--constraint", c]
    env = None
    if settings.cert:
        import os

        env = {**os.environ, "SSL_CERT_FILE": settings.cert}
    proc = subprocess.run(
        args,
        input="\n".join(plan.packages) + "\n",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )
    if proc.returncode != 0:
        raise InstallError(
            f"cannot resolve {' '.join(plan.packages)} for {name} (Python {plan.python}, {platform_key(report)}):\n"
            + summarise(proc.stderr or proc.stdout),
            "check the package sources (index, find-links) and the plan (`fwsetup install … --dry-run`)",
        )
    return LockTarget(
        name=name,
        framework=plan.framework,
        version=plan.version,
        variant=plan.variant,
        accelerator=plan.accelerator,
        python=plan.python,
        platform=platform_key(report),
        requirements=join_continuations(proc.stdout),
        gpus=[g.compute_capability or "?" for g in report.nvidia_gpus()]
        if plan.accelerator == "cuda"
        else [],
        driver=report.nvidia.driver_version if report.nvidia and plan.accelerator == "cuda" else None,
        index_urls=list(plan.index_urls),
        find_links=list(plan.find_links),
        env=dict(plan.env),
        smoke=plan.smoke,
        glibc=report.os.libc.version if report.os.libc else None,
    )


def join_continuations(text: str) -> list[str]:
    """uv's multi-line `pkg==v \\ --hash=… \\ --hash=…` entries as one line each."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        continued = line.endswith("\\")
        current += (" " if current else "") + line.rstrip("\\").strip()
        if not continued:
            lines.append(current)
            current = ""
    if current:
        lines.append(current)
    return lines


def dumps(framework: str, targets: list[LockTarget]) -> str:
    out = [
        "# fwsetup lock: exact, hash-checked builds per machine kind. Made by `fwsetup lock`;",
        "# install with `fwsetup install --lock THIS_FILE` (add --wheelhouse DIR --offline after `fwsetup bundle`).",
        f"lock_version = {LOCK_VERSION}",
        f"framework = {json.dumps(framework)}",
        f"created_by = {json.dumps('fwsetup ' + __version__)}",
    ]
    for t in targets:
        out.append("")
        out.append("[[target]]")
        for key in (
            "name",
            "framework",
            "version",
            "variant",
            "accelerator",
            "python",
            "platform",
            "driver",
            "glibc",
            "smoke",
        ):
            value = getattr(t, key)
            if value is not None:
                out.append(f"{key} = {json.dumps(value)}")
        for key in ("gpus", "index_urls", "find_links"):
            out.append(f"{key} = {json.dumps(getattr(t, key))}")
        out.append(
            "env = {"
            + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in sorted(t.env.items()))
            + "}"
        )
        out.append("requirements = [")
        out.extend(f"  {json.dumps(redact(r))}," for r in t.requirements)
        out.append("]")
    return "\n".join(out) + "\n"


def load(path: Path) -> tuple[str, list[LockTarget]]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"cannot read lock file {path}: {exc}", "pass a file written by `fwsetup lock`"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(
            f"lock file {path} is not valid TOML: {exc}", "regenerate it with `fwsetup lock`"
        ) from None
    if data.get("lock_version") != LOCK_VERSION:
        raise UsageError(
            f"lock file {path} has lock_version {data.get('lock_version')!r}; this fwsetup reads {LOCK_VERSION}",
            "regenerate it with this fwsetup: `fwsetup lock …`",
        )
    targets = []
    for i, raw in enumerate(data.get("target", [])):
        try:
            targets.append(LockTarget(**_target_fields(raw)))
        except (TypeError, KeyError, ValueError) as exc:
            raise UsageError(
                f"lock file {path}: target[{i}] is malformed ({exc})", "regenerate it with `fwsetup lock`"
            ) from None
    if not targets:
        raise UsageError(f"lock file {path} has no [[target]]", "regenerate it with `fwsetup lock`")
    return str(data.get("framework", targets[0].framework)), targets


def _target_fields(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError("not a table")
    allowed = set(LockTarget.__dataclass_fields__)
    unknown = set(raw) - allowed
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    if not isinstance(raw.get("requirements"), list) or not all(
        isinstance(r, str) for r in raw["requirements"]
    ):
        raise ValueError("requirements must be a list of strings")
    return dict(raw)


def match(targets: list[LockTarget], report: SystemReport, python_minors: list[str]) -> LockTarget:
    """The target this machine can run: same platform, an interpreter of that Python, and — for
    GPU targets — NVIDIA GPUs of the locked capabilities and a driver at least as new."""
    from fwsetup.facts.compat import driver_runs_cuda
    from fwsetup.facts.matrix import torch_variant

    plat = platform_key(report)
    reasons = []
    for t in targets:
        if t.platform != plat:
            reasons.append(f"{t.name}: for {t.platform}, this is {plat}")
            continue
        if t.python not in python_minors:
            reasons.append(f"{t.name}: needs Python {t.python}, none here ({', '.join(python_minors)})")
            continue
        if t.accelerator == "cuda":
            gpus = sorted(g.compute_capability or "?" for g in report.nvidia_gpus())
            if not gpus or report.nvidia is None:
                reasons.append(f"{t.name}: a CUDA build, and this machine has no usable NVIDIA GPU")
                continue
            if gpus != sorted(t.gpus):
                variant = torch_variant(t.version, t.variant, plat) if t.framework == "pytorch" else None
                from fwsetup.facts.compat import cc_covered

                if variant is None or not all(
                    cc != "?" and cc_covered(cc, variant.get("archs", []), variant.get("ptx", []))
                    for cc in gpus
                ):
                    reasons.append(f"{t.name}: locked for GPUs {t.gpus}, this machine has {gpus}")
                    continue
            cuda = t.variant[2:] if t.variant.startswith("cu") else None
            if cuda and cuda.isdigit():
                runs, _ = driver_runs_cuda(
                    report.nvidia.driver_version,
                    report.nvidia.cuda_driver_version,
                    f"{cuda[:-1]}.{cuda[-1]}",
                    report.os.system,
                )
                if not runs:
                    reasons.append(
                        f"{t.name}: {t.variant} needs a newer driver than {report.nvidia.driver_version}"
                    )
                    continue
        if (
            t.glibc
            and report.os.libc
            and report.os.libc.version
            and vtuple(report.os.libc.version) < vtuple("2.28") <= vtuple(t.glibc)
        ):
            reasons.append(f"{t.name}: wheels need glibc >= 2.28, this machine has {report.os.libc.version}")
            continue
        return t
    raise Refusal(
        "no target in the lock fits this machine: " + "; ".join(reasons),
        "add this machine to the lock: `fwsetup doctor --json > me.json` here, then `fwsetup lock … --system me.json`",
        code="lock-mismatch",
    )
