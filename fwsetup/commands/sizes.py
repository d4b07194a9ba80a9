"""How much an install will download (`download_bytes` in the plan): the plan resolved for its
Python and platform by `uv pip compile` into a PEP 751 pylock, whose files carry their index's
sizes. A file already on disk (a find-links folder, a wheelhouse, a file:// index) counts as
zero; uv's and pip's caches are not looked into (their layouts are not an interface), so a wheel
fetched before is still counted. `pip cache list --format=abspath` lists only wheels pip built
from sdists, not downloaded ones (those sit in its HTTP cache under hashed names; `--http`, newer
than the pip here, names them by looking inside), and uv's cache is internal to uv. Network I/O, so here and not in plan/; the resolved list is kept in
FWSETUP_HOME for a day (the next dry run costs nothing), and any failure leaves the size unknown
(None), never the plan."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional

from fwsetup import paths
from fwsetup.plan.model import Plan
from fwsetup.report import SystemReport

DAY = 86400.0


def download_bytes(plan: Plan, report: SystemReport, wheelhouses: tuple[str, ...] = (), timeout: float = 30.0) -> Optional[int]:
    """Bytes to fetch over the network for this plan on the machine `report` describes."""
    if plan.route != "pip" or not plan.packages:
        return None
    files = _files(plan, report, wheelhouses, timeout)
    if files is None:
        return None
    return int(sum(size for _, where, size in files if not _local(where)))


def _local(where: str) -> bool:
    return not where.startswith(("http://", "https://"))


def _files(plan: Plan, report: SystemReport, wheelhouses: tuple[str, ...], timeout: float) -> Optional[list[Any]]:
    key = json.dumps([plan.packages, plan.index_urls, plan.find_links, plan.python, list(wheelhouses),
                      report.os.system, report.os.arch], sort_keys=True)  # fmt: skip
    import zlib  # not hashlib: OpenSSL's start-up cost, for a cache file name

    cache = paths.home() / "cache" / "sizes" / f"{zlib.crc32(key.encode()):08x}-{len(key)}.json"
    try:
        if time.time() - cache.stat().st_mtime < DAY:
            found: list[Any] = json.loads(cache.read_text(encoding="utf-8"))
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


def _resolve(plan: Plan, report: SystemReport, wheelhouses: tuple[str, ...], timeout: float) -> Optional[list[Any]]:
    """[(name, url or path, size)] of every file the plan installs, from `uv pip compile`'s pylock."""
    import tempfile  # here, not above: a dry run answered from the day's cache starts no process

    from fwsetup import pipconfig, runner, tomlfile
    from fwsetup.errors import FwsetupError
    from fwsetup.fleet.lockfile import uv_platform
    from fwsetup.install import sources
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
                        env=runner.installer_env(translated.env), input_text="\n".join(plan.packages) + "\n")  # fmt: skip
            data = tomlfile.loads(out.read_text(encoding="utf-8"))
        except (FwsetupError, OSError, tomlfile.TOMLDecodeError):
            return None
    return [entry for package in data.get("packages", []) for entry in _entry(package)]


def _entry(package: dict[str, Any]) -> list[tuple[str, str, int]]:
    name = str(package.get("name", ""))
    for wheel in package.get("wheels", [])[:1]:  # uv writes the one wheel for the platform asked
        return [(name, str(wheel.get("url") or wheel.get("path") or ""), int(wheel.get("size") or 0))]
    for kind in ("archive", "sdist"):
        found = package.get(kind)
        if isinstance(found, dict):
            return [(name, str(found.get("url") or found.get("path") or ""), int(found.get("size") or 0))]
    return []
