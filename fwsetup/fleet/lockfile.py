"""Lock files: a plan resolved to exact versions and hashes, for one machine or a fleet.

A lock holds one *target* per machine kind (a `--system` report, or this machine): the
framework build chosen for it, the Python, the platform, and hash-pinned requirements made
by `uv pip compile --generate-hashes` for that Python and platform — so a GPU-less laptop
can lock for the fleet. `install --lock` picks the target this machine matches and installs
exactly those files (hash-checked); nothing is resolved again.

Format (TOML written by tomli-w, diffable, one requirement per line):

    lock_version = 1
    framework = "pytorch"
    created_by = "fwsetup 0.1.0"

    [[target]]
    name = "rtx4090-580"
    framework = "pytorch"  version = "2.15.0"  variant = "cu130"  accelerator = "cuda"
    python = "3.11"  platform = "linux-x86_64"
    gpus = ["8.9"]  driver = "580.65.06"
    cuda = "13.0"  archs = [...]  ptx = [...]  min_driver = …   (what the build needs of a machine)
    index_urls = [...]  find_links = [...]  env = {...}  smoke = "pytorch.py"
    requirements = ["filelock==3.20.0 --hash=sha256:…", …]
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Optional

from fwsetup import __version__, runner
from fwsetup.errors import FwsetupError, Refusal, UsageError
from fwsetup.install import pipconfig, sources
from fwsetup.install.backends import find_uv
from fwsetup.install.sources import for_uv
from fwsetup.plan.model import MachineNeeds, Plan
from fwsetup.plan.select import platform_key
from fwsetup.redact import redact
from fwsetup.report import SystemReport

LOCK_VERSION = 1
LOCK_TIMEOUT = 900.0

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
    glibc: Optional[str] = None  # the machine's glibc version (manylinux wheels)
    musl: Optional[str] = None  # or its musl version (musllinux wheels)
    build_constraints: list[str] = field(default_factory=list)
    # What the build needs of a machine (Plan.needs, set by select), judged at install with select's checks.
    cuda: Optional[str] = None
    archs: list[str] = field(default_factory=list)
    ptx: list[str] = field(default_factory=list)
    min_driver: Optional[str] = None
    gpu_names: list[str] = field(default_factory=list)  # as the driver names them (fleet exports select nodes by it)

    @property
    def needs(self) -> MachineNeeds:
        return MachineNeeds(self.cuda, tuple(self.archs), tuple(self.ptx), self.min_driver)

    def describe(self) -> str:
        gpus = f", GPUs {' '.join('sm_' + g.replace('.', '') for g in self.gpus)}" if self.gpus else ""
        return f"{self.name}: {self.framework} {self.version} {self.variant} on {self.platform}, Python {self.python}{gpus}"


def uv_platform(report: SystemReport) -> str:
    key = platform_key(report)
    libc = report.os.libc
    if key.startswith("linux-") and libc is not None and libc.name == "musl":
        return f"{key.split('-', 1)[1]}-unknown-linux-musl"
    try:
        return UV_PLATFORMS[key]
    except KeyError:
        raise Refusal(
            f"fwsetup cannot lock for platform {key}",
            "lock on a supported platform",
            code="unsupported-platform",
        ) from None


def resolve(
    plan: Plan,
    report: SystemReport,
    name: str,
    timeout: float = LOCK_TIMEOUT,
    settings: Optional[pipconfig.PipSettings] = None,
) -> LockTarget:
    """Hash-pinned requirements for `plan` on the machine `report` describes (not necessarily
    this one), resolved from the sources `install` would use (install/sources.py)."""
    if plan.route != "pip" or not plan.packages:
        raise Refusal(
            f"{plan.framework} is installed through {plan.route}: there are no Python packages to lock",
            "lock a framework installed through pip",
            code="not-lockable",
        )
    uv = find_uv()
    if uv is None:
        raise FwsetupError("locking needs uv", "pip install uv (it is a dependency of fwsetup)")
    platform = platform_key(report)
    with tempfile.TemporaryDirectory(prefix="fwsetup-lock-") as tmp:
        translated = for_uv(
            sources.of(plan, Path(tmp), settings=settings if settings is not None else pipconfig.read())
        )
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
            *translated.args,
        ]
        result = runner.step(
            args,
            what=f"resolving {' '.join(plan.packages)} for {name} (Python {plan.python}, {platform}; uv pip compile)",
            timeout=timeout,
            env=runner.installer_env(translated.env),
            input_text="\n".join(plan.packages) + "\n",
            fix="check the package sources (index, find-links) and the plan (`fwsetup install … --dry-run`)",
        )
    return target_of(plan, report, name, join_continuations(result.stdout))


def target_of(plan: Plan, report: SystemReport, name: str, requirements: list[str]) -> LockTarget:
    """A lock target: the plan, the machine it was made for and what the build needs of one."""
    platform = platform_key(report)
    needs = plan.needs
    libc = report.os.libc
    cuda = plan.accelerator == "cuda"
    return LockTarget(
        name=name,
        framework=plan.framework,
        version=plan.version,
        variant=plan.variant,
        accelerator=plan.accelerator,
        python=plan.python,
        platform=platform,
        requirements=requirements,
        gpus=[g.compute_capability or "?" for g in report.nvidia_gpus()] if cuda else [],
        driver=report.nvidia.driver_version if report.nvidia and cuda else None,
        index_urls=list(plan.index_urls),
        find_links=list(plan.find_links),
        env=dict(plan.env),
        smoke=plan.smoke,
        glibc=libc.version if libc and libc.name == "glibc" else None,
        musl=(libc.version or "1.2") if libc and libc.name == "musl" else None,
        build_constraints=list(plan.build_constraints),
        cuda=needs.cuda,
        archs=list(needs.archs),
        ptx=list(needs.ptx),
        min_driver=needs.min_driver,
        gpu_names=[g.name or "?" for g in report.nvidia_gpus()] if cuda else [],
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


HEADER = (
    "# fwsetup lock: exact, hash-checked builds per machine kind. Made by `fwsetup lock`;\n"
    "# install with `fwsetup install --lock THIS_FILE` (add --wheelhouse DIR --offline after `fwsetup bundle`).\n"
)


def dumps(framework: str, targets: list[LockTarget]) -> str:
    """The lock as TOML (tomli-w: any Unicode name round-trips), one requirement per line."""
    import tomli_w

    doc: dict[str, Any] = {
        "lock_version": LOCK_VERSION,
        "framework": framework,
        "created_by": f"fwsetup {__version__}",
        "target": [_target_table(t) for t in targets],
    }
    return HEADER + tomli_w.dumps(doc, multiline_strings=False, indent=2)


def _target_table(t: LockTarget) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for f in fields(LockTarget):
        value = getattr(t, f.name)
        if value is None or (f.name in _OPTIONAL_LISTS and not value):
            continue
        if f.name == "requirements":
            value = [redact(r) for r in value]
        elif f.name == "env":
            value = dict(sorted(value.items()))
        table[f.name] = value
    return table


# Written only when non-empty, so a CPU target stays short (older locks lack them entirely).
_OPTIONAL_LISTS = frozenset({"build_constraints", "archs", "ptx", "gpu_names"})


def load(path: Path) -> tuple[str, list[LockTarget]]:
    from fwsetup import tomlfile

    try:
        data = tomlfile.load(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, tomlfile.TOMLDecodeError):
            raise UsageError(
                f"lock file {path} is not valid TOML: {exc}", "regenerate it with `fwsetup lock`"
            ) from None
        raise UsageError(
            f"cannot read lock file {path}: {exc}", "pass a file written by `fwsetup lock`"
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
    allowed = {f.name for f in fields(LockTarget)}
    unknown = set(raw) - allowed
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    for key in ("name", "framework", "version", "variant", "accelerator", "python", "platform"):
        if not isinstance(raw.get(key), str):
            raise ValueError(f"{key} must be a string")
    if not isinstance(raw.get("requirements"), list) or not all(
        isinstance(r, str) for r in raw["requirements"]
    ):
        raise ValueError("requirements must be a list of strings")
    return dict(raw)
