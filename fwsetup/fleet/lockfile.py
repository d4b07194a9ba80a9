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
    keeps = ["torch", "torchvision"]   (what its env pins against a later pip install: install/protect.py)
    requirements = ["filelock==3.20.0 --hash=sha256:…", …]
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

import tomli_w
from packaging.requirements import InvalidRequirement, Requirement

from fwsetup import __version__, pipconfig, runner, tomlfile
from fwsetup.errors import FwsetupError, Refusal, UsageError, shorten
from fwsetup.install import sources
from fwsetup.install.backends import find_uv
from fwsetup.install.sources import for_uv
from fwsetup.plan import recipes
from fwsetup.plan.model import MachineNeeds, Plan
from fwsetup.plan.recipes import recipes_dir
from fwsetup.records import dataclass, field, fields
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
    # A Jetson: the L4T release its JetPack build is made for (its CUDA comes with L4T, not a driver).
    l4t: Optional[str] = None
    gpu_names: list[str] = field(default_factory=list)  # as the driver names them (fleet exports select nodes by it)
    # The packages an env made from this target pins (install/protect.py): the framework's and its companions.
    keeps: list[str] = field(default_factory=list)

    @property
    def needs(self) -> MachineNeeds:
        return MachineNeeds(self.cuda, tuple(self.archs), tuple(self.ptx), self.min_driver)

    def describe(self) -> str:
        gpus = f", GPUs {' '.join('sm_' + g.replace('.', '') for g in self.gpus)}" if self.gpus else ""
        return f"{self.name}: {self.framework} {self.version} {self.variant} on {self.platform}, Python {self.python}{gpus}"


def uv_platform_for(key: str, musl: bool) -> Optional[str]:
    """uv's --python-platform for a platform key ("linux-x86_64", …) and C library; None if uv has none."""
    if musl and key.startswith("linux-"):
        return f"{key.split('-', 1)[1]}-unknown-linux-musl"
    return UV_PLATFORMS.get(key)


def uv_platform(report: SystemReport) -> str:
    key = report.platform_key()
    libc = report.os.libc
    found = uv_platform_for(key, libc is not None and libc.name == "musl")
    if found is None:
        raise Refusal(
            f"fwsetup cannot lock for platform {key}",
            "lock on a supported platform",
            code="unsupported-platform",
        )
    return found


_MACOS_VERSION = re.compile(r"([0-9]{1,3})(?:\.([0-9]{1,3}))?")


def uv_platform_env(report: SystemReport) -> dict[str, str]:
    """What uv needs beside `--python-platform` for the machine `report` describes: for a Mac, its
    macOS version as MACOSX_DEPLOYMENT_TARGET. uv assumes macOS 13.0 for `aarch64-apple-darwin`, so
    a wheel tagged macosx_14_0 (torchaudio 2.11.1) had "no matching platform tag" for a Mac on
    14.5. Empty for other systems, and for a report without a readable macOS version."""
    if report.platform_key() not in ("macos-arm64", "macos-x86_64"):
        return {}
    found = _MACOS_VERSION.match((report.os.distro_version or "").strip())
    if found is None:
        return {}
    return {"MACOSX_DEPLOYMENT_TARGET": f"{int(found.group(1))}.{int(found.group(2) or 0)}"}


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
    platform = report.platform_key()
    settings = settings if settings is not None else pipconfig.read()
    with tempfile.TemporaryDirectory(prefix="fwsetup-lock-") as tmp:
        translated = for_uv(sources.of(plan, Path(tmp), settings=settings))
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
            env=runner.installer_env({**translated.env, **uv_platform_env(report)}),
            input_text="\n".join(plan.packages) + "\n",
            fix="check the package sources (index, find-links) and the plan (`fwsetup install … --dry-run`)",
        )
    requirements = join_continuations(result.stdout)
    check_builds(plan, requirements, name, [*plan.find_links, *settings.find_links])
    return target_of(plan, report, name, requirements)


def check_builds(plan: Plan, requirements: list[str], name: str, find_links: list[str]) -> None:
    """Each package the plan pins to one version resolved to exactly that version, local label
    included: `torch==2.13.0` is met by `2.13.0+cpu`, which a find-links folder may offer (the
    plan's own pins of a PyTorch build are exact, versions.exact_pin; this holds any pin to the
    same rule). Refusal naming the find-links wheel that is the other build, and the fix."""
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    resolved = {n: version for n, _, version in _pins(requirements)}
    for req_name, operator, want in _pins(plan.packages):
        got = resolved.get(req_name)
        if operator not in ("==", "===") or got is None or Version(got) == Version(want):
            continue
        from fwsetup.plan import wheels

        folders = [p for p in map(pipconfig.url_to_path, find_links) if p is not None]
        held = [
            w.path
            for w in wheels.scan(folders)
            if canonicalize_name(w.name) == req_name and Version(w.version) == Version(got)
        ]
        where = f"the wheel {held[0]} (find-links)" if held else "from one of the package sources"
        raise Refusal(
            f"{name}: {req_name} {got} was resolved for the plan's {req_name} {want} "
            f"({plan.framework} {plan.version}, the {plan.variant} build); {got} is {where}",
            "lock with that build out of the package sources: move the wheel out of its folder, or leave the "
            "folder out of pip's find-links for this run (`pip config list` shows where it is set; "
            "PIP_FIND_LINKS, PIP_CONFIG_FILE)",
            code="other-build-resolved",
        )


def _pins(lines: list[str]) -> list[tuple[str, str, str]]:
    """(canonical name, operator, version) of each line that names one exact version."""
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    out = []
    for line in lines:
        try:
            req = Requirement(line.split(" --hash=")[0].strip())
            (spec,) = tuple(req.specifier)
            Version(spec.version)
        except (InvalidRequirement, InvalidVersion, ValueError):
            continue  # a range, ==2.7.*, several clauses
        out.append((str(canonicalize_name(req.name)), spec.operator, spec.version))
    return out


def target_of(plan: Plan, report: SystemReport, name: str, requirements: list[str]) -> LockTarget:
    """A lock target: the plan, the machine it was made for and what the build needs of one."""
    platform = report.platform_key()
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
        gpus=_locked_gpus(report) if cuda else [],
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
        l4t=report.jetson.l4t if report.jetson is not None and cuda else None,
        gpu_names=[g.name or "?" for g in report.nvidia_gpus()] if cuda else [],
        keeps=_kept_names(plan),
    )


def _kept_names(plan: Plan) -> list[str]:
    from fwsetup.install import protect

    return protect.kept_names(plan)


def _locked_gpus(report: SystemReport) -> list[str]:
    gpus = [g.compute_capability or "?" for g in report.nvidia_gpus()]
    if not gpus and report.jetson is not None and report.jetson.compute_capability:
        gpus = [report.jetson.compute_capability]  # JetPack 4/5 have no nvidia-smi to list it
    return gpus


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
_OPTIONAL_LISTS = frozenset({"build_constraints", "archs", "ptx", "gpu_names", "keeps"})


def load(path: Path) -> tuple[str, list[LockTarget]]:
    """A lock's targets, schema-checked: types, allowed keys, size and nesting limits. Whether a
    target may be installed (its smoke, env, sources, requirement lines) is `check_installable`."""
    try:
        data = tomlfile.load(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, tomlfile.TOMLDecodeError):
            raise UsageError(
                f"lock file {path} is not valid TOML: {exc}", "regenerate it with `fwsetup lock`"
            ) from None
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise UsageError(
            f"cannot read lock file {shorten(str(path))}: {why}", "pass a file written by `fwsetup lock`"
        ) from None
    if data.get("lock_version") != LOCK_VERSION:
        raise UsageError(
            f"lock file {path} has lock_version {_short(data.get('lock_version'))}; this fwsetup reads {LOCK_VERSION}",
            "regenerate it with this fwsetup: `fwsetup lock …`",
        )
    unknown = set(data) - _TOP_KEYS
    if unknown or not isinstance(data.get("framework", ""), str) or not isinstance(data.get("target", []), list):
        raise UsageError(
            f"lock file {path} does not fit the lock format"
            + (f" (unknown keys {sorted(unknown)})" if unknown else " (framework must be a string, target a list)"),
            "regenerate it with `fwsetup lock`",
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


_TOP_KEYS = frozenset({"lock_version", "framework", "created_by", "target"})
_STR_KEYS = ("name", "framework", "version", "variant", "accelerator", "python", "platform")
_OPT_STR_KEYS = ("driver", "smoke", "glibc", "musl", "cuda", "min_driver")
_LIST_KEYS = ("requirements", "gpus", "index_urls", "find_links", "build_constraints", "archs", "ptx", "keeps")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _target_fields(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError("not a table")
    allowed = {f.name for f in fields(LockTarget)}
    unknown = set(raw) - allowed
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    for key in _STR_KEYS:
        if not isinstance(raw.get(key), str):
            raise ValueError(f"{key} must be a string")
    for key in _OPT_STR_KEYS:
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise ValueError(f"{key} must be a string")
    for key in _LIST_KEYS:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
            raise ValueError(f"{key} must be a list of strings")
    if "requirements" not in raw:
        raise ValueError("requirements must be a list of strings")
    env = raw.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise ValueError("env must be a table of strings")
    return dict(raw)


# --------------------------------------------------------------- what a lock may make fwsetup do

# Environment variables select's hooks set (beyond the recipes' own `env`), with inert values.
INERT_ENV = frozenset(
    {
        "KERAS_BACKEND",
        "XLA_PYTHON_CLIENT_PREALLOCATE",
        "TF_CPP_MIN_LOG_LEVEL",
        "HSA_OVERRIDE_GFX_VERSION",  # select/rocm.py, --hsa-override: which kernels load, not what code runs
        "HIP_VISIBLE_DEVICES",  # select/rocm.py: an integrated GPU without kernels left out ("0" or "0,1")
    }
)
_INERT_VALUE = re.compile(r"[A-Za-z0-9_.,-]{0,32}\Z")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SMOKE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.py\Z")
_HASH = re.compile(r"--hash=(?:sha256|sha384|sha512):[0-9a-f]{32,128}\Z")
_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*\Z")  # a normalized project name (PEP 503)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _refusal(t: LockTarget) -> Any:
    def bad(problem: str) -> UsageError:
        return UsageError(
            f"lock target {_short(t.name)}: {problem}",
            "a lock holds only what `fwsetup lock` writes; regenerate it with `fwsetup lock`",
        )

    return bad


def check_form(t: LockTarget, *, allow_insecure: bool = False, allow_paths: bool = False) -> None:
    """What can be judged without the recipe (so also where a lock is exported, not installed):
    the smoke is a bare script name, env keys are variable names, sources are https (http with
    --allow-insecure; paths with --wheelhouse), and every requirement line is exactly
    `name==version --hash=…` (an option or URL line would change where code comes from)."""
    bad = _refusal(t)
    if not t.smoke:
        raise bad("names no smoke test; fwsetup never switches to an untested environment")
    if not _SMOKE_NAME.match(t.smoke):
        raise bad(f"smoke {_short(t.smoke)} is not one of fwsetup's smoke scripts (a name, no path)")
    for key in t.env:
        if not _ENV_KEY.match(key):
            raise bad(f"env key {_short(key)} is not a variable name")
    for url in [*t.index_urls, *t.find_links]:
        check_location(url, allow_insecure=allow_insecure, allow_paths=allow_paths, what="source")
    for line in t.requirements:
        _check_requirement(line, bad)
    for line in t.build_constraints:
        _check_requirement(line, bad, pinned=False)
    for name in t.keeps:
        if not _NAME.match(name):
            raise bad(f"keeps {_short(name)} is not a package name")


def check_names(targets: list[LockTarget]) -> None:
    """Every target's name is its own: an export writes one script, Job or file per name, and
    two of one name would leave one machine kind without its own (exit 2 before anything is written)."""
    seen: set[str] = set()
    for t in targets:
        if t.name in seen:
            raise UsageError(
                f"the lock has two targets named {_short(t.name)}; an export needs one name per target",
                "regenerate the lock with `fwsetup lock` (it names reports that share a file name by their "
                "directories), or rename one target",
            )
        seen.add(t.name)


def check_installable(t: LockTarget, *, allow_insecure: bool = False, allow_paths: bool = False) -> None:
    """A lock is data, never code: `check_form`, then against this fwsetup's recipe — the smoke
    must be one of fwsetup's own scripts, and every env variable one a recipe (or select, for
    the inert INERT_ENV) sets, with that recipe's value. Refused with exit 2 before anything runs."""
    check_form(t, allow_insecure=allow_insecure, allow_paths=allow_paths)
    bad = _refusal(t)

    recipe = recipes.find(t.framework)
    shipped = recipes_smoke_dir()
    known_smokes = {recipe.smoke, *(v.smoke for v in recipe.variants)} - {None}
    if t.smoke not in known_smokes and not (shipped / t.smoke).is_file():
        raise bad(f"smoke {_short(t.smoke)} is not one of fwsetup's smoke scripts")
    if not (shipped / t.smoke).is_file():
        raise bad(f"smoke script {_short(t.smoke)} is not in {shipped}")
    if t.env:  # a dependent (keras on a backend) carries its backend recipe's env: any recipe's pair
        declared = {
            (k, v) for r in recipes.load_all().values() for variant in r.variants for k, v in variant.env.items()
        }
        for key, value in t.env.items():
            if (key, value) not in declared and not (key in INERT_ENV and _INERT_VALUE.match(value)):
                raise bad(f"env {key}={_short(value)} is not one the {recipe.name} recipe sets")


def recipes_smoke_dir() -> Path:
    return recipes_dir() / "smoke"


def check_location(text: str, *, allow_insecure: bool, allow_paths: bool, what: str) -> None:
    """An index or find-links location: https; http only when allowed; file paths only when allowed."""
    hint = "use an https index, or pass --allow-insecure (http) / --wheelhouse (local paths)"
    if _CONTROL.search(text) or not text.strip():
        raise UsageError(f"{what} {_short(text)} contains control characters", hint)
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    if scheme == "https" or (scheme == "http" and allow_insecure):
        return
    if scheme in ("", "file") and allow_paths:
        return
    raise UsageError(
        f"{what} {redact(_short(text))} is {'a local path' if scheme in ('', 'file') else scheme + '://'}, "
        "which a lock may not name here",
        hint,
    )


def _check_requirement(line: str, bad: Any, pinned: bool = True) -> None:
    if _CONTROL.search(line):
        raise bad(f"requirement {_short(line)} contains control characters")
    parts = line.split(" --hash=")
    head, hashes = parts[0].strip(), ["--hash=" + h.strip() for h in parts[1:]]
    try:
        req = Requirement(head)
    except InvalidRequirement:
        raise bad(f"requirement {_short(line)} is not `name==version --hash=…`") from None
    if req.url or head.startswith("-"):
        raise bad(f"requirement {_short(line)} names a URL or an option")
    if pinned and (
        not hashes
        or not all(_HASH.match(h) for h in hashes)
        or [s.operator for s in req.specifier] not in (["=="], ["==="])
    ):
        raise bad(f"requirement {_short(line)} is not `name==version --hash=…`")
