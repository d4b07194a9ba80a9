"""Where an interpreter imports packages from, and why each directory is there.

An environment's site-packages is not all it imports: PYTHONPATH (what an HPC `module load` sets)
comes first, and each .pth file in a site directory adds directories after it. A torch found there
shadows the one the environment installed, so doctor reads the same path the interpreter builds and
says, per framework, which of these it came from. Read from disk, as site.py would: no child process
and no .pth line executed (`import …` lines are code; they are skipped).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Optional

PYTHONPATH = "PYTHONPATH"
PTH = ".pth"
SITE = "site-packages"
_SITE_DIRS = ("site-packages", "dist-packages")
_PTH_LIMIT = 64 * 1024  # a .pth file is a few lines; a huge one is not read


def pythonpath(environ: Mapping[str, str]) -> list[str]:
    """The PYTHONPATH entries, absolute, in order (empty entries are the working directory, skipped)."""
    return [os.path.abspath(p) for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p]


def pth_dirs(site: str) -> list[str]:
    """The directories the .pth files of `site` add, in site.py's order (files sorted by name)."""
    try:
        names = sorted(n for n in os.listdir(site) if n.endswith(".pth") and not n.startswith("."))
    except OSError:
        return []
    found: list[str] = []
    for name in names:
        try:
            with open(os.path.join(site, name), encoding="utf-8", errors="replace") as fh:
                lines = fh.read(_PTH_LIMIT).splitlines()
        except OSError:
            continue
        for line in lines:
            line = line.rstrip()
            if not line or line.startswith("#") or line.startswith(("import ", "import\t")):
                continue
            path = os.path.abspath(os.path.join(site, line))
            if os.path.isdir(path) and path not in found:
                found.append(path)
    return found


def build(sites: Iterable[str], environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """The import path of an interpreter whose site directories are `sites` (read from disk):
    (directory, origin) with PYTHONPATH first, then each site directory and what its .pth files add."""
    out: list[tuple[str, str]] = [(p, PYTHONPATH) for p in pythonpath(environ)]
    for site in sites:
        out.append((site, SITE))
        out.extend((p, PTH) for p in pth_dirs(site))
    return _first_only(out)


def label(path: Iterable[str], environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """An import path the interpreter reported (sys.path, already holding PYTHONPATH and the .pth
    directories), each entry with its origin; entries of none of these keep "sys.path"."""
    entries = [os.path.abspath(p) for p in path if p]
    from_env = set(pythonpath(environ))
    from_pth = {d for e in entries if os.path.basename(e) in _SITE_DIRS for d in pth_dirs(e)}
    out = []
    for entry in entries:
        if entry in from_env:
            origin = PYTHONPATH
        elif os.path.basename(entry) in _SITE_DIRS:
            origin = SITE
        elif entry in from_pth:
            origin = PTH
        else:
            origin = "sys.path"
        out.append((entry, origin))
    return _first_only(out)


def _first_only(entries: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    kept = []
    for path, origin in entries:
        if path not in seen:
            seen.add(path)
            kept.append((path, origin))
    return kept


def origin_of(entries: list[tuple[str, str]], location: Optional[str]) -> Optional[str]:
    return next((origin for path, origin in entries if path == location), None)
