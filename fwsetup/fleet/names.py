"""One name per machine report, unique among the reports given together.

A report is named by its file's stem (`t4.json` → `t4`). Reports collected per rack or per site
often share a stem (`rack-a/node.json`, `rack-b/node.json`): those take as many of their parent
directories as tell them apart (`rack-a-node`, `rack-b-node`), so a lock's targets, the scripts
exported from it and the rows of `fleet report` each name one machine. What no path tells apart
(the same file twice, `node.json` beside `node.yaml`) is a usage error naming both files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from fwsetup.errors import UsageError


def machine_names(paths: Sequence[Path]) -> list[str]:
    """The name of each report, in order (exit 2 when two cannot be told apart)."""
    full = [Path(os.path.abspath(p)) for p in paths]  # the path as given, symlinks not followed
    names = [p.stem for p in paths]
    by_stem: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        by_stem.setdefault(name, []).append(i)
    for stem, group in by_stem.items():
        if len(group) > 1:
            for i, name in zip(group, _apart(stem, [full[i] for i in group])):
                names[i] = name
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            first = paths[seen[name]]
            same = full[seen[name]] == full[i]
            raise UsageError(
                f"the reports {first} and {paths[i]} would both be named {name!r}"
                + (" (the same file twice)" if same else ""),
                "give each machine's report once" if same else "rename one of the files: a machine's name is its file's",
            )
        seen[name] = i
    return names


def _apart(stem: str, paths: list[Path]) -> list[str]:
    """`stem` prefixed by the fewest parent directories that make every name differ (the
    deepest available when none does; the caller then reports the collision)."""
    parents = [[part for part in p.parent.parts if part != p.anchor] for p in paths]
    deepest = max(len(p) for p in parents)
    names: list[str] = []
    for depth in range(1, deepest + 1):
        names = ["-".join([*p[max(len(p) - depth, 0) :], stem]) for p in parents]
        if len(set(names)) == len(names):
            break
    return names
