"""`fwsetup bundle`: download every file a lock names, once, into a wheelhouse a fleet installs
from with no network (`install --lock … --wheelhouse DIR --offline`)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from fwsetup import runner
from fwsetup.errors import FwsetupError
from fwsetup.fleet.lockfile import LockTarget
from fwsetup.install import sources
from fwsetup.install.sources import for_pip

BUNDLE_TIMEOUT = 3600.0
# What a target records when its machine's libc was not reported: current manylinux wheels' floor.
DEFAULT_GLIBC = "2.28"
MACOS_ARCH = {"arm64": "arm64", "x86_64": "x86_64"}


def platform_tags(target: LockTarget) -> list[str]:
    """The wheel platform tags a machine of this target installs, most specific first (for
    `pip download --platform`): packaging.tags' rules for macOS (11+ and 10.x, universal2),
    manylinux with its legacy aliases (PEP 600), musllinux (PEP 656)."""
    from packaging import tags

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


def _manylinux(arch: str, glibc_minor: int) -> list[str]:
    """manylinux_2_N for every glibc from the machine's down, each with its legacy alias; the
    floor is packaging.tags' (glibc 2.5 on x86, 2.17 elsewhere)."""
    from packaging._manylinux import _LEGACY_MANYLINUX_MAP, _GLibCVersion

    floor = 5 if arch in ("x86_64", "i686") else 17
    out = []
    for minor in range(glibc_minor, floor - 1, -1):
        out.append(f"manylinux_2_{minor}_{arch}")
        legacy = _LEGACY_MANYLINUX_MAP.get(_GLibCVersion(2, minor))
        if legacy:
            out.append(f"{legacy}_{arch}")
    return out


def abis(target: LockTarget) -> list[str]:
    """The ABI tags a CPython of the target's version loads: its own, abi3 (stable ABI wheels
    built for any older CPython 3), none (pure Python) — from packaging.tags."""
    from packaging import tags

    major, minor = (int(x) for x in target.python.split("."))
    found: list[str] = []
    for tag in tags.cpython_tags(python_version=(major, minor), platforms=["any"]):
        if tag.abi not in found:
            found.append(tag.abi)
    return found


def download(target: LockTarget, dest: Path, timeout: float = BUNDLE_TIMEOUT) -> list[str]:
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fwsetup-bundle-") as tmp:
        reqs = Path(tmp) / "requirements.txt"
        reqs.write_text("\n".join(target.requirements) + "\n", encoding="utf-8")
        translated = for_pip(sources.of(target, Path(tmp), requirements_file=reqs))
        args = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--require-hashes",
            "--only-binary=:all:",
            "--python-version",
            target.python,
            "--implementation",
            "cp",
            *[a for abi in abis(target) for a in ("--abi", abi)],
            "-d",
            str(dest),
            "-r",
            str(reqs),
            *[a for tag in platform_tags(target) for a in ("--platform", tag)],
            *translated.args,
        ]
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
