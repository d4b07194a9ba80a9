"""How much an install will download (`download_bytes` in the plan) and how much of it uv's cache
already holds (`cached_bytes`): the plan resolved for its Python and platform by `uv pip compile`
into a PEP 751 pylock, whose files carry their index's sizes. A file already on disk (a find-links
folder, a wheelhouse, a file:// index) counts as none, and so does a wheel uv's cache holds
(install/uvcache.py: read conservatively, so a wheel counts only where uv's installer will find
it; in doubt it is counted as a download). uv installs (install/backends.py), so its cache is the
one that matters; it does not count for a plan made for another machine (`--system`) or one that
pip installs (`--installer pip`, a Python older than 3.6), and pip's cache is never looked into
(`pip cache list` lists only the wheels pip built, not those it downloaded). Network I/O, so here
and not in plan/; the resolved file list is kept in FWSETUP_HOME for a day (the next dry run
costs nothing), while what the cache holds is looked up at every call (a few directory listings
and small files, no process), so a wheel downloaded since counts as none at once. Any failure
leaves the size unknown (None), never the plan."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional

from fwsetup import paths
from fwsetup.plan.model import Plan
from fwsetup.report import SystemReport

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fwsetup.install.uvcache import Lookup

DAY = 86400.0


def download(
    plan: Plan,
    report: SystemReport,
    wheelhouses: tuple[str, ...] = (),
    timeout: float = 30.0,
    uv_cache: bool = True,
) -> Optional[tuple[int, int]]:
    """(bytes to fetch over the network, bytes of the download uv's cache already holds) for this
    plan on the machine `report` describes; `uv_cache`: uv installs it on this machine."""
    if plan.route != "pip" or not plan.packages:
        return None
    resolved = _files(plan, report, wheelhouses, timeout)
    if resolved is None:
        return None
    remote = [(name, where, int(size)) for name, where, size in resolved["files"] if not _local(where)]
    lookup = _lookup(resolved, timeout) if uv_cache and _uv_serves(plan.python) else None
    cached = sum(size for name, where, size in remote if lookup is not None and lookup.cached(name, where))
    return sum(size for _, _, size in remote) - cached, cached


def download_bytes(plan: Plan, report: SystemReport, wheelhouses: tuple[str, ...] = (), timeout: float = 30.0) -> Optional[int]:
    """Bytes to fetch over the network for this plan on the machine `report` describes."""
    found = download(plan, report, wheelhouses, timeout)
    return None if found is None else found[0]


def _local(where: str) -> bool:
    return not where.startswith(("http://", "https://"))


def _uv_serves(python: str) -> bool:
    """uv installs for Python 3.6 and later (backends.choose); pip for older ones."""
    try:
        return tuple(int(p) for p in python.split(".")[:2]) >= (3, 6)
    except ValueError:
        return False


def _lookup(resolved: dict[str, Any], timeout: float) -> Optional[Lookup]:
    """uv's cache as the install will read it (`uv cache dir` once a day, else no process)."""
    from fwsetup import runner
    from fwsetup.install import uvcache

    cache = uvcache.locate(str(resolved["uv"]), runner.installer_env(), timeout=timeout)
    return None if cache is None else uvcache.Lookup(cache, resolved["indexes"])


def _files(plan: Plan, report: SystemReport, wheelhouses: tuple[str, ...], timeout: float) -> Optional[dict[str, Any]]:
    key = json.dumps([plan.packages, plan.index_urls, plan.find_links, plan.python, list(wheelhouses),
                      report.os.system, report.os.arch], sort_keys=True)  # fmt: skip
    import zlib  # not hashlib: OpenSSL's start-up cost, for a cache file name

    cache = paths.home() / "cache" / "sizes" / f"{zlib.crc32(key.encode()):08x}-{len(key)}.json"
    try:
        if time.time() - cache.stat().st_mtime < DAY:
            found = json.loads(cache.read_text(encoding="utf-8"))
            if isinstance(found, dict) and {"files", "indexes", "uv"} <= set(found):
                return found
    except (OSError, ValueError):
        pass
    files = _resolve(plan, report, wheelhouses, timeout)
    if files is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(files), encoding="utf-8")
        except OSError:
            pass
    return files


def _resolve(plan: Plan, report: SystemReport, wheelhouses: tuple[str, ...], timeout: float) -> Optional[dict[str, Any]]:
    """{"files": [(name, url or path, size)] of every file the plan installs, from `uv pip compile`'s
    pylock; "indexes": the indexes it read; "uv": the uv that read them}."""
    import tempfile  # here, not above: a dry run answered from the day's cache starts no process

    from fwsetup import pipconfig, runner, tomlfile
    from fwsetup.errors import FwsetupError
    from fwsetup.fleet.lockfile import uv_platform, uv_platform_env
    from fwsetup.install import sources, uvcache
    from fwsetup.install.backends import find_uv

    uv = find_uv()
    if uv is None:
        return None
    with tempfile.TemporaryDirectory(prefix="fwsetup-sizes-") as tmp:
        out = Path(tmp) / "pylock.toml"
        try:
            translated = sources.for_uv(
                sources.of(plan, Path(tmp), find_links=wheelhouses, settings=pipconfig.read())
            )
            args = [uv, "pip", "compile", "-", "-o", str(out), "--quiet", "--python-version", plan.python,
                    "--python-platform", uv_platform(report), *translated.args]  # fmt: skip
            runner.step(args, what="sizing the download (uv pip compile)", timeout=timeout,
                        env=runner.installer_env({**translated.env, **uv_platform_env(report)}),
                        input_text="\n".join(plan.packages) + "\n")  # fmt: skip
            data = tomlfile.loads(out.read_text(encoding="utf-8"))
        except (FwsetupError, OSError, tomlfile.TOMLDecodeError):
            return None
    files = [entry for package in data.get("packages", []) for entry in _entry(package)]
    return {"files": files, "indexes": uvcache.indexes(translated.args), "uv": uv}


def _entry(package: dict[str, Any]) -> list[tuple[str, str, int]]:
    name = str(package.get("name", ""))
    for wheel in package.get("wheels", [])[:1]:  # uv writes the one wheel for the platform asked
        return [(name, str(wheel.get("url") or wheel.get("path") or ""), int(wheel.get("size") or 0))]
    for kind in ("archive", "sdist"):
        found = package.get(kind)
        if isinstance(found, dict):
            return [(name, str(found.get("url") or found.get("path") or ""), int(found.get("size") or 0))]
    return []
