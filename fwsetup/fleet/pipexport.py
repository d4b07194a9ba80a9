"""A lock target in the formats people's own tools install: requirements.txt and pylock.toml.

`requirements`: the target's hash-pinned requirements with the index options the build needs,
installable by plain `pip install --require-hashes -r requirements.txt` (or `uv pip install`).
`pylock`: PEP 751, installable by `uv pip install -r pylock.toml`. A pylock names each file's
URL, which the lock does not record, so uv resolves the lock's exact pins again for the
target's Python and platform and every file is checked against the lock's hashes: a file the
lock did not pin is dropped, a pin with no file left is an error, never a silent substitute.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any, Optional

import tomli_w

from fwsetup import __version__, pipconfig, runner, tomlfile
from fwsetup.errors import FwsetupError, UsageError
from fwsetup.fleet.lockfile import LockTarget, uv_platform_for
from fwsetup.install import sources
from fwsetup.install.backends import find_uv
from fwsetup.install.sources import for_uv

_HASH = re.compile(r"--hash=(?P<algo>\w+):(?P<digest>[0-9a-fA-F]+)")


def choose_target(targets: list[LockTarget], name: Optional[str]) -> LockTarget:
    if name is not None:
        for t in targets:
            if t.name == name:
                return t
        raise UsageError(f"no target {name!r} in the lock", "targets: " + ", ".join(t.name for t in targets))
    if len(targets) == 1:
        return targets[0]
    raise UsageError(
        f"the lock has {len(targets)} targets; a requirements file or pylock holds one",
        "pick one with --target NAME: " + ", ".join(t.name for t in targets),
    )


def split(requirement: str) -> tuple[str, dict[str, set[str]]]:
    """'six==1.16.0 ; marker --hash=sha256:ab --hash=…' → ('six==1.16.0 ; marker', {'sha256': {…}})."""
    hashes: dict[str, set[str]] = {}
    for m in _HASH.finditer(requirement):
        hashes.setdefault(m.group("algo").lower(), set()).add(m.group("digest").lower())
    return _HASH.sub("", requirement).strip(), hashes


def _name(spec: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[=<>!~ ;\[]", spec, maxsplit=1)[0]).lower()


def comment(text: str) -> str:
    """One comment line whatever a lock's fields hold: a control or line-separator character (a
    newline would start a requirement, an option or a TOML table) is written as its escape."""
    return "# " + "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def requirements(target: LockTarget, lock_name: str) -> str:
    lines = [
        comment(target.describe()),
        comment(f"Made by `fwsetup export --format requirements` from {lock_name} (fwsetup {__version__})."),
        "# Install: pip install --require-hashes -r THIS_FILE   (or: uv pip install -r THIS_FILE)",
    ]
    lines += [f"--extra-index-url {url}" for url in target.index_urls]
    lines += [f"--find-links {fl}" for fl in target.find_links]
    # `six===1.16.0`, as `install --lock` hands the installer (sources.exact_lines): `==1.16.0` is
    # also met by a `1.16.0+cpu` wheel in a find-links folder, which ranks above the locked file
    # and fails its hash
    lines += [
        " \\\n    ".join([spec, *(f"--hash={a}:{d}" for a, ds in sorted(h.items()) for d in sorted(ds))])
        for spec, h in ((sources.exact_line(s), h) for s, h in map(split, target.requirements))
    ]
    if target.env:
        lines.insert(
            3,
            comment(
                "The framework's settings (export them, or use `fwsetup install --lock`): "
                + " ".join(f"{k}={v}" for k, v in sorted(target.env.items()))
            ),
        )
    return "\n".join(lines) + "\n"


def pylock(target: LockTarget, timeout: float = 900.0) -> str:
    """PEP 751 for the target: uv's file URLs for the lock's pins, filtered by the lock's hashes."""
    if not re.fullmatch(r"[0-9]+\.[0-9]+", target.python):  # uv's --python-version: X.Y only
        raise UsageError(
            f"lock target {target.name!r} has Python {target.python!r}, not X.Y",
            "regenerate the lock with `fwsetup lock`",
        )
    uv = find_uv()
    if uv is None:
        raise FwsetupError("exporting a pylock needs uv", "pip install uv (it is a dependency of fwsetup)")
    pinned = {_name(spec): (spec, hashes) for spec, hashes in map(split, target.requirements)}
    with tempfile.TemporaryDirectory(prefix="fwsetup-pylock-") as tmp:
        translated = for_uv(sources.of(target, Path(tmp), settings=pipconfig.read()))
        out = Path(tmp) / "pylock.toml"
        runner.step(
            [
                uv,
                "pip",
                "compile",
                "-",
                "--format",
                "pylock.toml",
                "--generate-hashes",
                "--no-header",
                "--quiet",
                "--no-deps",
                "--python-version",
                target.python,
                "--python-platform",
                uv_platform_of(target),
                "-o",
                str(out),
                *translated.args,
            ],
            what=f"naming the files of {target.name} (uv pip compile --format pylock.toml)",
            timeout=timeout,
            env=runner.installer_env(translated.env),
            input_text="\n".join(spec for spec, _ in pinned.values()) + "\n",
            fix="the lock's package sources must be reachable to name its files",
        )
        doc = tomlfile.loads(out.read_text(encoding="utf-8"))
    packages: list[dict[str, Any]] = []
    for pkg in doc.get("packages", []):
        name = _name(str(pkg.get("name", "")))
        if name not in pinned:
            raise FwsetupError(f"uv named a package the lock does not hold: {name}", "regenerate the lock")
        allowed = pinned[name][1]
        pkg = dict(pkg)
        for kind in ("wheels",):
            kept = [f for f in pkg.get(kind, []) if _allowed(f.get("hashes") or {}, allowed)]
            if kind in pkg:
                pkg[kind] = kept
        if "sdist" in pkg and not _allowed(pkg["sdist"].get("hashes") or {}, allowed):
            del pkg["sdist"]
        if not pkg.get("wheels") and "sdist" not in pkg:
            raise FwsetupError(
                f"no file of {name} has a hash the lock pins",
                "the index now serves other files for this version: regenerate the lock with `fwsetup lock`",
            )
        if not pkg.get("wheels"):
            pkg.pop("wheels", None)
        packages.append(pkg)
    missing = sorted(set(pinned) - {_name(str(p.get("name", ""))) for p in packages})
    if missing:
        raise FwsetupError(
            f"uv found no files for {', '.join(missing)}", "regenerate the lock with `fwsetup lock`"
        )
    doc["packages"] = packages
    doc["created-by"] = f"fwsetup {__version__}"
    head = (
        f"{comment(target.describe())}\n"
        "# Made by `fwsetup export --format pylock` (PEP 751); every file's hash is the lock's.\n"
        "# Install: uv pip install -r pylock.toml\n"
    )
    return head + tomli_w.dumps(doc)


def uv_platform_of(target: LockTarget) -> str:
    """uv's --python-platform for the machine kind the target was locked for."""
    found = uv_platform_for(target.platform, bool(target.musl))
    if found is None:
        raise UsageError(
            f"cannot export a pylock for platform {target.platform}", "use --format requirements"
        )
    return found


def _allowed(hashes: dict[str, str], pinned: dict[str, set[str]]) -> bool:
    return any(str(d).lower() in pinned.get(a.lower(), set()) for a, d in hashes.items())
