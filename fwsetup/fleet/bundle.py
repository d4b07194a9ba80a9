"""`fwsetup bundle`: download every file a lock names, once, into a wheelhouse a fleet installs
from with no network (`install --lock … --wheelhouse DIR --offline`)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from fwsetup.errors import FwsetupError, InstallError
from fwsetup.fleet.lockfile import LockTarget
from fwsetup.install.backends import summarise
from fwsetup.plan.select import MANYLINUX_LEGACY


def platform_tags(target: LockTarget) -> list[str]:
    """The wheel platform tags a machine of this target installs (for pip download --platform)."""
    system, arch = target.platform.split("-", 1)
    if system == "linux":
        glibc_minor = int((target.glibc or "2.28").split(".")[1])
        tags = [f"manylinux_2_{m}_{arch}" for m in range(glibc_minor, 16, -1)]
        tags += [f"{name}_{arch}" for name, (_, minor) in MANYLINUX_LEGACY.items() if minor <= glibc_minor]
        return [*tags, f"linux_{arch}"]
    if system == "macos":
        mac_arch = "arm64" if arch == "arm64" else "x86_64"
        return [f"macosx_{v}_0_{mac_arch}" for v in range(15, 10, -1)] + [
            f"macosx_{v}_0_universal2" for v in range(15, 10, -1)
        ]
    return ["win_amd64"]


def download(target: LockTarget, dest: Path, timeout: float = 3600) -> list[str]:
    dest.mkdir(parents=True, exist_ok=True)
    major, minor = target.python.split(".")
    with tempfile.TemporaryDirectory() as tmp:
        reqs = Path(tmp) / "requirements.txt"
        reqs.write_text("\n".join(target.requirements) + "\n", encoding="utf-8")
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
            f"{major}.{minor}",
            "--implementation",
            "cp",
            "--abi",
            f"cp{major}{minor}",
            "--abi",
            "abi3",
            "--abi",
            "none",
            "-d",
            str(dest),
            "-r",
            str(reqs),
        ]
        for tag in platform_tags(target):
            args += ["--platform", tag]
        for url in target.index_urls:
            args += ["--extra-index-url", url]
        for fl in target.find_links:
            args += ["--find-links", fl]
        before = {p.name for p in dest.iterdir()}
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise InstallError(
                f"downloading {target.name} took longer than {timeout:.0f} s", "check the network"
            ) from None
        if proc.returncode != 0:
            if "No module named pip" in proc.stderr:
                raise FwsetupError(
                    "bundle needs pip in fwsetup's own environment", f"{sys.executable} -m ensurepip"
                )
            raise InstallError(
                f"cannot download the files of {target.name}:\n{summarise(proc.stderr + proc.stdout)}",
                "check the package sources; the lock's hashes must match what the index serves",
            )
    return sorted({p.name for p in dest.iterdir()} - before)
