"""Which "driver versions" are Jetson Linux (L4T) releases: a fact doctor needs on every NVIDIA
machine, kept apart from the Jetson table (facts/jetson.py) so asking costs no TOML parsing."""

from __future__ import annotations

from fwsetup import versions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

# Jetson Linux (L4T) release lines. A desktop driver version is >= 300, so a "driver version" in one of
# these lines is an L4T release (what /proc/driver/nvidia/version reports on a Jetson).
L4T_MAJORS = (28, 31, 32, 34, 35, 36, 38, 39)


def is_l4t_version(version: Optional[str]) -> bool:
    major = versions.release(version, 1)
    return bool(major) and major[0] in L4T_MAJORS
