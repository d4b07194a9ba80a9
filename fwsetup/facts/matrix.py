"""Lookups in the framework build matrices (fwsetup/facts/pytorch.toml, …)."""

from __future__ import annotations

from typing import Any, Optional

from fwsetup import facts as data
from fwsetup.facts.compat import vtuple


def torch_releases() -> list[dict[str, Any]]:
    releases: list[dict[str, Any]] = data.load("pytorch")["release"]
    return sorted(releases, key=lambda r: vtuple(r["version"]), reverse=True)


def torch_release(version: str) -> Optional[dict[str, Any]]:
    """The release entry for a torch version, matched on major.minor ('2.9.1+cu128' → 2.9)."""
    wanted = vtuple(version.split("+")[0])[:2]
    for release in torch_releases():
        if vtuple(release["version"])[:2] == wanted:
            return release
    return None


def torch_variant(version: str, variant: str, platform: str = "linux-x86_64") -> Optional[dict[str, Any]]:
    """The variant entry for this platform (aarch64 CUDA builds ship fewer architectures)."""
    release = torch_release(version)
    if release is None:
        return None
    for v in release.get("variant", []):
        if v["name"] == variant and platform in v.get("platforms", [platform]):
            found: dict[str, Any] = v
            return found
    return None
