"""`fwsetup bundle`: download every file a lock names, once, into a wheelhouse a fleet installs
from with no network (`install --lock … --wheelhouse DIR --offline`)."""

from __future__ import annotations

import base64
import hashlib
import html
import importlib.metadata
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Optional
from urllib.parse import quote

from packaging import tags
from packaging.requirements import Requirement

import fwsetup
from fwsetup import records, runner
from fwsetup.errors import FwsetupError
from fwsetup.fleet.lockfile import LockTarget
from fwsetup.install import sources
from fwsetup.install.sources import for_pip
from fwsetup.plan.wheels import MANYLINUX_LEGACY

BUNDLE_TIMEOUT = 3600.0
# What a target records when its machine's libc was not reported: current manylinux wheels' floor.
DEFAULT_GLIBC = "2.28"
MACOS_ARCH = {"arm64": "arm64", "x86_64": "x86_64"}


def platform_tags(target: LockTarget) -> list[str]:
    """The wheel platform tags a machine of this target installs, most specific first (for
    `pip download --platform`): packaging.tags' rules for macOS (11+ and 10.x, universal2),
    manylinux with its legacy aliases (PEP 600), musllinux (PEP 656)."""
    system, arch = target.platform.split("-", 1)
    if system == "linux":
        if target.musl:
            minor = int(target.musl.split(".")[1])
            return [f"musllinux_1_{m}_{arch}" for m in range(minor, -1, -1)] + [f"linux_{arch}"]
        glibc_minor = int((target.glibc or DEFAULT_GLIBC).split(".")[1])
        return [*_manylinux(arch, glibc_minor), f"linux_{arch}"]
    if system == "macos":
        mac_arch = MACOS_ARCH.get(arch, "x86_64")
        # The newest macOS packaging knows, down to what the arch ever ran (11.0 for arm64).
        return list(tags.mac_platforms(version=(max(_MACOS_MAJORS), 0), arch=mac_arch))
    if arch == "arm64":
        return ["win_arm64"]
    return ["win_amd64"]


_MACOS_MAJORS = (26, 15, 14, 13, 12, 11)
_LEGACY_BY_GLIBC = {needs: name for name, needs in MANYLINUX_LEGACY.items()}  # (2, 17) -> manylinux2014


def _manylinux(arch: str, glibc_minor: int) -> list[str]:
    """manylinux_2_N for every glibc from the machine's down, each with its legacy alias; the
    floor is packaging.tags' (glibc 2.5 on x86, 2.17 elsewhere), and so is the order."""
    floor = 5 if arch in ("x86_64", "i686") else 17
    out = []
    for minor in range(glibc_minor, floor - 1, -1):
        out.append(f"manylinux_2_{minor}_{arch}")
        legacy = _LEGACY_BY_GLIBC.get((2, minor))
        if legacy:
            out.append(f"{legacy}_{arch}")
    return out


def abis(target: LockTarget) -> list[str]:
    """The ABI tags a CPython of the target's version loads: its own, abi3 (stable ABI wheels
    built for any older CPython 3), none (pure Python) — from packaging.tags."""
    major, minor = (int(x) for x in target.python.split("."))
    found: list[str] = []
    for tag in tags.cpython_tags(python_version=(major, minor), platforms=["any"]):
        if tag.abi not in found:
            found.append(tag.abi)
    return found


def pip_download(target: LockTarget, dest: Path) -> list[str]:
    """`pip download` of binary files for the target's Python and platform into `dest`."""
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--only-binary=:all:",
        "--python-version",
        target.python,
        "--implementation",
        "cp",
        *[a for abi in abis(target) for a in ("--abi", abi)],
        *[a for tag in platform_tags(target) for a in ("--platform", tag)],
        "-d",
        str(dest),
    ]


def download(target: LockTarget, dest: Path, timeout: float = BUNDLE_TIMEOUT) -> list[str]:
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fwsetup-bundle-") as tmp:
        reqs = Path(tmp) / "requirements.txt"
        reqs.write_text("\n".join(sources.exact_lines(target.requirements)) + "\n", encoding="utf-8")
        translated = for_pip(sources.of(target, Path(tmp), requirements_file=reqs))
        args = [*pip_download(target, dest), "--no-deps", "--require-hashes", "-r", str(reqs), *translated.args]
        before = {p.name for p in dest.iterdir()}
        result = runner.step(
            args,
            what=f"downloading the files of {target.name} (pip download)",
            timeout=timeout,
            env=runner.installer_env(translated.env),
            check=False,
        )
        if not result.ok and "No module named pip" in result.stderr:
            raise FwsetupError(
                "bundle needs pip in fwsetup's own environment", f"{sys.executable} -m ensurepip"
            )
        runner.require_ok(
            result,
            what=f"downloading the files of {target.name} (pip download)",
            fix="check the package sources; the lock's hashes must match what the index serves",
        )
    return sorted({p.name for p in dest.iterdir()} - before)


# --- fwsetup itself ------------------------------------------------------------------------
# A fresh machine installs fwsetup from the bundle too: fwsetup is published on no index a fleet
# can be assumed to reach, so the bundle carries the running fwsetup as a wheel, with its runtime
# dependencies (uv included) for each target's platform and Python.

WHEEL_DATE = (1980, 1, 1, 0, 0, 0)
FWSETUP_PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")  # requires-python >= 3.9  # fixed: the same install always makes the same wheel bytes


def self_wheel(dest: Path) -> str:
    """Write fwsetup's own wheel, rebuilt from the running install (package files, its recipes,
    its installed metadata), into `dest`; return its file name. No build backend, no network."""
    try:
        dist = importlib.metadata.distribution("fwsetup")
    except importlib.metadata.PackageNotFoundError:
        raise FwsetupError(
            "fwsetup runs from a source tree with no installed metadata, so it cannot bundle itself",
            "install it first: `pip install .` (or `pip install -e .`) in the checkout",
        ) from None
    version = fwsetup.__version__
    package = Path(fwsetup.__file__).parent
    entries: dict[str, bytes] = {}
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if path.is_file() and "__pycache__" not in rel.parts and path.suffix != ".pyc":
            entries[f"fwsetup/{rel.as_posix()}"] = path.read_bytes()
    if not (package / "_recipes").is_dir():  # a checkout: recipes sit beside the package
        recipes = package.parent / "recipes"
        for path in sorted(recipes.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                entries[f"fwsetup/_recipes/{path.relative_to(recipes).as_posix()}"] = path.read_bytes()
    info = f"fwsetup-{version}.dist-info"
    entries[f"{info}/METADATA"] = (dist.read_text("METADATA") or "").encode("utf-8")
    entries[f"{info}/entry_points.txt"] = (dist.read_text("entry_points.txt") or "").encode("utf-8")
    entries[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: fwsetup bundle\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    name = f"fwsetup-{version}-py3-none-any.whl"
    dest.mkdir(parents=True, exist_ok=True)
    _write_wheel(dest / name, entries, f"{info}/RECORD")
    return name


def _write_wheel(path: Path, entries: dict[str, bytes], record_name: str) -> None:
    record = []
    for arc, data in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{arc},sha256={digest},{len(data)}")
    record.append(f"{record_name},,")
    entries = {**entries, record_name: ("\n".join(record) + "\n").encode("utf-8")}
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for arc, data in entries.items():
            info = zipfile.ZipInfo(arc, WHEEL_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    tmp.replace(path)


def runtime_requirements(target: LockTarget) -> list[str]:
    """fwsetup's own dependencies that apply on the target's platform and Python (markers
    judged for the target, not for the machine making the bundle; extras left out)."""
    system, arch = target.platform.split("-", 1)
    environment = {
        "python_version": target.python,
        "python_full_version": f"{target.python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": {"linux": "linux", "macos": "darwin", "windows": "win32"}.get(system, system),
        "platform_system": {"linux": "Linux", "macos": "Darwin", "windows": "Windows"}.get(system, system),
        "os_name": "nt" if system == "windows" else "posix",
        "platform_machine": {"amd64": "AMD64"}.get(arch, arch),
        "extra": "",
    }
    out = []
    for raw in importlib.metadata.requires("fwsetup") or []:
        req = Requirement(raw)
        if req.marker is None or req.marker.evaluate(environment):
            req.marker = None
            out.append(str(req))
    return out


def add_fwsetup(targets: list[LockTarget], dest: Path, timeout: float = BUNDLE_TIMEOUT) -> list[str]:
    """fwsetup's wheel and, for each distinct platform and Python, its runtime dependencies."""
    added = {self_wheel(dest)}
    seen: set[tuple[str, Optional[str], Optional[str]]] = set()
    for t in targets:
        key = (t.platform, t.glibc, t.musl)
        if key in seen:
            continue
        seen.add(key)
        # fwsetup's own venv is made by the host's python3, which need not be the target's
        # Python: its dependencies for every CPython fwsetup supports (tomli below 3.11 only,
        # and built per CPython version).
        for minor in sorted({t.python, *FWSETUP_PYTHONS}, key=lambda v: tuple(map(int, v.split(".")))):
            for_minor = records.replace(t, python=minor)
            added.update(_download_requirements(for_minor, runtime_requirements(for_minor), dest, timeout))
    return sorted(added)


def _download_requirements(target: LockTarget, requirements: list[str], dest: Path, timeout: float) -> list[str]:
    what = f"downloading fwsetup's dependencies for {target.platform}, Python {target.python} (pip download)"
    before = {p.name for p in dest.iterdir()}
    translated = for_pip(sources.Sources())
    result = runner.step(
        [*pip_download(target, dest), *translated.args, *requirements],
        what=what,
        timeout=timeout,
        env=runner.installer_env(translated.env),
        check=False,
    )
    runner.require_ok(result, what=what, fix="check that the package index pip is configured for can be reached")
    return sorted({p.name for p in dest.iterdir()} - before)


INDEX = "index.html"


def write_index(dest: Path) -> Path:
    """A flat page of links to every file (with its sha256), so any static server — one without
    directory listings too: nginx without autoindex, an object store's website — serves the
    bundle as `--wheelhouse URL` (pip's and uv's find-links read such a page)."""
    links = []
    for path in sorted(dest.iterdir()):
        if path.is_file() and path.name != INDEX and path.suffix in (".whl", ".gz", ".zip"):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            links.append(f'<a href="{quote(path.name)}#sha256={digest}">{html.escape(path.name)}</a><br>')
    page = dest / INDEX
    page.write_text(
        "<!DOCTYPE html>\n<html><head><title>fwsetup bundle</title></head><body>\n"
        + "\n".join(links)
        + "\n</body></html>\n",
        encoding="utf-8",
    )
    return page
