"""The glibc and macOS floors of a torch release's wheels, read from their platform tags and
checked against fwsetup/facts/floors.toml, so that `update_data.py --check` lists a release whose
wheels need a newer glibc or macOS than the table says (a new manylinux or macosx tag), instead of
fwsetup planning it where it will not install. Floors.toml itself is written by hand, with its
sources; this only tells a maintainer when it is behind."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Optional

from registry import File

from fwsetup.facts import floors

LEGACY = {"manylinux1": "2.5", "manylinux2010": "2.12", "manylinux2014": "2.17"}  # PEP 600
_MANYLINUX = re.compile(r"manylinux_(\d+)_(\d+)_(x86_64|aarch64)")
_LEGACY = re.compile(r"(manylinux1|manylinux2010|manylinux2014)_(x86_64|aarch64)")
_MACOS = re.compile(r"macosx_(\d+)_(\d+)_(arm64|x86_64)")


def tag_floor(tag: str) -> Optional[tuple[str, str, str]]:
    """(platform, 'glibc' | 'macos', version) of one platform tag; None for others (win, musl)."""
    if m := _MANYLINUX.fullmatch(tag):
        return f"linux-{m.group(3)}", "glibc", f"{m.group(1)}.{m.group(2)}"
    if m := _LEGACY.fullmatch(tag):
        return f"linux-{m.group(2)}", "glibc", LEGACY[m.group(1)]
    if m := _MACOS.fullmatch(tag):
        return f"macos-{m.group(3)}", "macos", f"{m.group(1)}.{m.group(2)}"
    return None


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def release_floors(files: Sequence[File]) -> dict[tuple[str, str], str]:
    """(platform, kind) -> the lowest floor among the release's wheels: where any wheel installs."""
    found: dict[tuple[str, str], str] = {}
    for f in files:
        if not f.is_wheel or f.yanked:
            continue
        for tag in f.tags[2].split("."):
            got = tag_floor(tag)
            if got is None:
                continue
            platform, kind, version = got
            have = found.get((platform, kind))
            if have is None or _key(version) < _key(have):
                found[(platform, kind)] = version
    return found


def drift(version: str, files: Sequence[File]) -> list[str]:
    """What floors.toml says wrongly about torch `version`, one line each (empty: it agrees)."""
    out = []
    for (platform, kind), need in sorted(release_floors(files).items()):
        entry = floors.wheel_floor(version, platform)
        said = getattr(entry, kind) if entry is not None else None
        if said != need:
            out.append(
                f"torch {version} {platform}: its wheels need {kind} {need}; floors.toml says {said or 'nothing'}"
            )
    return out
