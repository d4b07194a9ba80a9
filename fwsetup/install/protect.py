"""An environment that keeps its build: `pip install transformers` inside it must not replace the
planned torch (+cu126, +rocm, +cpu) with whatever the default index resolves.

The env carries `fwsetup-constraints.txt` pinning the framework and its companions to the versions
installed, and its own `pip.conf` (pip reads `sys.prefix/pip.conf` in a venv) that applies it and
names the build's index, so a request that conflicts fails with pip's own message naming the
pinned package. uv reads no pip.conf: `fwsetup run` and every activation script the env has set
UV_CONSTRAINT (activation.py). pip.conf and UV_CONSTRAINT are lists split at whitespace, so a path
with a space is written as its file: URL (pipconfig.file_url), which both read.
Lifting it: `fwsetup install … --with X` (one resolution with the build), or delete the two files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from fwsetup.install import activation
from fwsetup.pipconfig import file_url

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fwsetup.plan.model import Plan

CONSTRAINTS = activation.CONSTRAINTS  # fwsetup-constraints.txt, which the activation scripts name
PIP_CONF = "pip.conf"
_MARK = "# fwsetup: keeps this environment's build"


def apply(
    plan: Plan,
    env: Path,
    installed: dict[str, str],
    *,
    named: Optional[Path] = None,
    warnings: Optional[list[str]] = None,
) -> bool:
    """Protect `env` (a generation, or a venv): False when the plan pins nothing. The packages added
    only for the import (NumPy) or by --with stay free to move. `named`: the path its activation
    scripts name (a generation's stable path); an activation script left unpatched adds to `warnings`."""
    from packaging.utils import canonicalize_name

    versions = {str(canonicalize_name(k)): v for k, v in installed.items()}
    pinned = [f"{n}=={versions[n]}" for n in kept_names(plan) if n in versions]
    return _protect(env, pinned, plan, named, warnings)


def kept_names(plan: Plan) -> list[str]:
    """The names `apply` pins for `plan` (its framework packages and companions), as `fwsetup lock`
    records them in a target's `keeps`: an env made from the lock is protected the same way."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from fwsetup.facts import companions

    loose = {a["name"] if isinstance(a, dict) else a.name for a in plan.companions} - {
        c.name for c in companions.of(plan.framework)
    }
    out: list[str] = []
    for requirement in plan.packages:
        try:
            name = str(canonicalize_name(Requirement(requirement).name))
        except ValueError:
            continue
        if name not in loose and name not in out:
            out.append(name)
    return out


def apply_locked(
    plan: Plan,
    env: Path,
    requirements: tuple[str, ...],
    keeps: tuple[str, ...],
    installed: dict[str, str],
    *,
    named: Optional[Path] = None,
    warnings: Optional[list[str]] = None,
) -> bool:
    """`install --lock`: pin the lock target's framework packages and companions (its `keeps`, or
    for a lock written before them its recipe's companions) to the versions of its own requirement
    lines, which lockfile.check_installable has passed (`name==version --hash=…`); a line pins only
    where that version is the one installed. The index is the target's checked sources (plan_of)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    from fwsetup.facts import companions

    wanted = set(keeps) | {str(canonicalize_name(c.name)) for c in companions.of(plan.framework)}
    versions = {canonicalize_name(k): v for k, v in installed.items()}
    pinned: list[str] = []
    for line in requirements:
        try:
            req = Requirement(line.split(" --hash=")[0].strip())
            (spec,) = tuple(req.specifier)
            version = Version(spec.version)
            have = Version(versions.get(canonicalize_name(req.name), ""))
        except (InvalidRequirement, InvalidVersion, ValueError):
            continue
        name = str(canonicalize_name(req.name))
        if spec.operator == "==" and name in wanted and have == version:
            entry = f"{name}=={version}"  # a canonical name and a normalized version: nothing to quote
            if entry not in pinned:
                pinned.append(entry)
    return _protect(env, pinned, plan, named, warnings)


def _protect(
    env: Path, pinned: list[str], plan: Plan, named: Optional[Path], warnings: Optional[list[str]]
) -> bool:
    """Write the protection for `pinned` with the plan's index: False when there is nothing to pin."""
    if not pinned:
        return False
    write(env, pinned, plan.index_urls, plan.find_links)
    left = activation.patch(env, named)
    if warnings is not None:
        warnings += left
    return True


def lift(env: Path) -> None:
    """Remove the protection fwsetup wrote (never a pip.conf of the user's)."""
    if constraints_of(env) is not None:
        for name in (CONSTRAINTS, PIP_CONF):
            (env / name).unlink(missing_ok=True)


def saved(env: Path) -> dict[str, bytes]:
    """The protection files as they are, to put back when an install that lifted them fails."""
    if constraints_of(env) is None:
        return {}
    return {name: (env / name).read_bytes() for name in (CONSTRAINTS, PIP_CONF)}


def put_back(env: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (env / name).write_bytes(data)


def write(env: Path, pinned: list[str], index_urls: list[str], find_links: list[str]) -> None:
    """The constraints file and the env's pip.conf; the user's own pip settings are kept (pip lets
    a later file override a key, so the env's file repeats the indexes configured elsewhere)."""
    from fwsetup import pipconfig

    mine = pipconfig.read(prefix="/nonexistent")  # the user's and the global files, not this env's
    extra = _unique(_conf_values([*mine.extra_index_urls, *index_urls]))
    links = _unique(_conf_values([*mine.find_links, *find_links]))
    constraints = _conf_values([*mine.constraints, str(env / CONSTRAINTS)])
    (env / CONSTRAINTS).write_text(
        f"{_MARK} (README: The env keeps its build); lift: delete this file and {PIP_CONF}\n"
        + "".join(f"{line}\n" for line in pinned),
        encoding="utf-8",
    )
    lines = [_MARK, "[global]", "constraint = " + " ".join(constraints)]
    if extra:
        lines.append("extra-index-url = " + " ".join(extra))
    if links:
        lines.append("find-links = " + " ".join(links))
    (env / PIP_CONF).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _conf_values(items: list[str]) -> list[str]:
    """Entries of a pip.conf list, which pip splits at whitespace (and reads with no interpolation):
    a local path with whitespace becomes its file: URL (pip takes those for constraints and
    find-links); a URL with whitespace or a control character cannot be written, and is left out."""
    out = []
    for item in items:
        if not item or _UNWRITABLE.search(item) or (re.search(r"\s", item) and "://" in item):
            continue
        out.append(list_entry(item))
    return out


def list_entry(path: str) -> str:
    """A local path as an entry of a whitespace-separated list (pip.conf's values, UV_CONSTRAINT):
    itself, or its file: URL when it has whitespace (pip and uv read both)."""
    return file_url(Path(path)) if re.search(r"\s", path) else path


_UNWRITABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\u2028\u2029]")


def constraints_of(env: Path) -> Optional[Path]:
    """The env's constraints file, when it is protected (both files there, written by fwsetup)."""
    found = env / CONSTRAINTS
    try:
        protected = found.is_file() and _MARK in (env / PIP_CONF).read_text(encoding="utf-8")
    except OSError:
        return None
    return found if protected else None


def uv_environ(env: Path, environ: dict[str, str]) -> dict[str, str]:
    """UV_CONSTRAINT with the env's constraints first, then the one given (uv takes a list split at
    spaces: a path with one is given as its file: URL)."""
    found = constraints_of(env)
    if found is None:
        return environ
    given = environ.get("UV_CONSTRAINT", "")
    return {**environ, "UV_CONSTRAINT": " ".join(p for p in (list_entry(str(found)), given) if p)}
