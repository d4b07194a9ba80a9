"""Wheels already on disk (find-links directories, wheelhouses), for selection to prefer."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from fwsetup.plan.model import LocalWheel


def scan(dirs: Iterable[Path]) -> tuple[LocalWheel, ...]:
    found: list[LocalWheel] = []
    for d in dirs:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for fname in names:
            if not fname.endswith(".whl"):
                continue
            try:
                name, version, _build, tags = parse_wheel_filename(fname)
            except InvalidWheelFilename:
                continue
            tag_strings = tuple(sorted({f"{t.interpreter}-{t.abi}-{t.platform}" for t in tags}))
            found.append(
                LocalWheel(str(canonicalize_name(name)), str(version), tag_strings, str(Path(d) / fname))
            )
    return tuple(found)
