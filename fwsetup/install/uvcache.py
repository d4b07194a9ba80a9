"""Is a wheel already in uv's cache? So the plan's `download_bytes` (commands/sizes.py) counts it
as none: uv installs it from there without fetching it again.

uv's cache is uv's own, not an interface, so this reads it the way the installed uv's installer
does and answers "no" whenever in doubt: an overstated download is acceptable, an understated one
is not. If a uv release changes any of what follows, cached wheels simply stop counting (the size
goes back to counting every file) — nothing breaks. What it relies on, seen with uv 0.13.9:

- Where: `uv cache dir`, run with the installer's environment from the current directory, so it
  honours UV_CACHE_DIR, XDG_CACHE_HOME and a `cache-dir` or `no-cache` in a uv.toml or a
  pyproject.toml's [tool.uv] exactly as the install will. Its answer is kept a day in
  $FWSETUP_HOME/cache/uv-cache/, keyed by everything that changes it (the uv binary, those
  variables, the config files' sizes and times), so a dry run answered from the day's sizes cache
  starts no process. With `no-cache` uv names a temporary folder that is gone when it exits.
- Which buckets: the running uv's own. Its binary holds each bucket's name once (`wheels-v8`,
  `simple-v28`, `archive-v0`); a uv that changes a layout bumps that name, so a bucket an older or
  newer uv left on disk is never read. Not exactly one name of a kind: nothing counts.
- A downloaded wheel: `<wheels>/<bucket>/<name>/<version>-<tags>.http` (`2.13.0+cpu-cp311-…`; a
  long tag set is hashed into the name instead, so the version's pointers are read and matched by
  content), a msgpack pointer whose first field is the id of the unpacked wheel, `<archive>/<id>/`,
  and which holds the URL it was fetched from. That pointer is what uv's installer looks for (its RegistryWheelIndex, which asks
  no server whether it is fresh). A `<version>-<tags>.msgpack` alone is the wheel's metadata only
  (what resolving, `uv pip compile` included, fetches): not cached; nor is a pointer whose
  unpacked wheel is gone (`uv cache prune`/`clean`).
- The bucket is the index's: `pypi` for `https://pypi.org/simple` spelled exactly so (uv's
  default), `index/<digest>` for any other (`https://pypi.org/simple/` with its slash included),
  the digest uv's own hash of the URL, not worked out here: a digest counts for an index in play
  only when its page for the package, `<simple>/index/<digest>/<name>.rkyv`, was fetched from that
  index (holds `<index>/<name>/`). So a wheel cached through another index that lists the same
  URL (PyTorch's variant indexes share their dependencies' files) is not counted, and neither is
  one from a find-links page over HTTP (its page is kept under another digest). The default
  bucket is not trusted when a variable or a uv config file may name indexes of its own.
- Nothing counts with UV_NO_CACHE, UV_REFRESH or UV_REFRESH_PACKAGE set.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Optional, Union
from urllib.parse import unquote

from fwsetup import paths
from fwsetup.records import dataclass

PYPI = "https://pypi.org/simple"  # uv's default index, and the one URL it keeps in the `pypi` bucket
DAY = 86400.0
BUCKETS = (b"wheels-v", b"simple-v", b"archive-v")
# What changes where `uv cache dir` points (uv's own variables, and those it derives folders from).
LOCATION_ENV = (
    "UV_CACHE_DIR", "UV_NO_CACHE", "UV_CONFIG_FILE", "UV_NO_CONFIG", "XDG_CACHE_HOME", "XDG_CONFIG_HOME",
    "XDG_CONFIG_DIRS", "HOME", "USERPROFILE", "LOCALAPPDATA", "APPDATA", "PROGRAMDATA",
)  # fmt: skip
# Variables that make uv fetch again what it holds, or skip its cache.
BYPASS_ENV = ("UV_NO_CACHE", "UV_REFRESH", "UV_REFRESH_PACKAGE")
# Variables that may take uv's default index away, or add indexes fwsetup does not pass.
INDEX_ENV = ("UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_NO_INDEX", "UV_INDEX", "UV_EXTRA_INDEX_URL",
             "UV_FIND_LINKS")  # fmt: skip
FALSE = {"", "0", "false", "no", "off", "n", "f"}  # uv's "boolish" false values; anything else counts as set
MEMO_KEYS = {"root", "wheels", "simple", "archive", "default_trusted"}
_ID = re.compile(rb"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Cache:
    """uv's cache as the install will use it: its folder and the running uv's bucket names."""

    root: Path
    wheels: str  # e.g. wheels-v8
    simple: str  # e.g. simple-v28
    archive: str  # e.g. archive-v0
    default_trusted: bool = True  # no variable or config file may name indexes of its own


def locate(uv: str, env: Mapping[str, str], timeout: float = 10.0) -> Optional[Cache]:
    """The cache the installer will read with this environment, or None (no cache, or unknown)."""
    if any(env.get(var, "").strip().lower() not in FALSE for var in BYPASS_ENV):
        return None
    try:
        binary = os.stat(uv)
    except OSError:
        return None
    configs = _config_files(env)
    key = json.dumps([uv, binary.st_size, binary.st_mtime_ns, [env.get(v) for v in LOCATION_ENV],
                      _relative_cwd(env), [_stat(p) for p in configs]])  # fmt: skip
    import zlib  # not hashlib: OpenSSL's start-up cost, for a cache file name

    memo = paths.home() / "cache" / "uv-cache" / f"{zlib.crc32(key.encode()):08x}-{len(key)}.json"
    found = _read_memo(memo)
    if found is None:
        found = _ask(uv, env, configs, timeout)
        if found is None:
            return None
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            memo.write_text(json.dumps(found), encoding="utf-8")
        except OSError:
            pass
    default_trusted = bool(found["default_trusted"]) and not any(env.get(var) for var in INDEX_ENV)
    return Cache(Path(str(found["root"])), str(found["wheels"]), str(found["simple"]), str(found["archive"]),
                 default_trusted)  # fmt: skip


def indexes(args: Sequence[str]) -> list[str]:
    """The indexes a `uv pip` command with these options reads: its --index-url (else uv's
    default) unless --no-index, then each --extra-index-url."""
    found: list[str] = []
    default: Optional[str] = PYPI
    for i, arg in enumerate(args):
        value = args[i + 1] if i + 1 < len(args) else ""
        if arg == "--no-index":
            default = None
        elif arg == "--index-url" and default is not None:
            default = value
        elif arg == "--extra-index-url":
            found.append(value)
    return [*found, *([default] if default else [])]


class Lookup:
    """Which wheels of one plan uv's cache holds: `cached(name, url)`, reading only the package's
    folders (a directory listing and a few small files each)."""

    def __init__(self, cache: Cache, in_play: Iterable[str]) -> None:
        self.cache = cache
        given = [u for u in in_play if u]
        self.pypi = cache.default_trusted and PYPI in given
        # file:// indexes are on disk (their wheels count as none before this is asked)
        self.others = [u.rstrip("/") for u in given if u != PYPI and u.startswith(("http://", "https://"))]
        self._digests: Optional[list[str]] = None

    def cached(self, name: str, url: str) -> bool:
        if not url.startswith(("http://", "https://")) or not url.endswith(".whl"):
            return False  # an sdist is built, not unpacked: uv keeps it elsewhere; count it
        name = re.sub(r"[-_.]+", "-", name).lower()
        # name-version(-build)-python-abi-platform
        parts = unquote(url.rsplit("/", 1)[-1])[: -len(".whl")].split("-")
        if len(parts) < 5:
            return False
        wanted = {url.encode(), unquote(url).encode()}  # `+` or `%2B`: the same file
        for folder in self._folders(name):
            try:
                entries = os.listdir(folder)
            except OSError:
                continue
            for entry in entries:
                if not (entry.startswith(f"{parts[1]}-") and entry.endswith(".http")):
                    continue
                if self._holds(folder / entry, wanted):
                    return True
        return False

    def _folders(self, name: str) -> list[Path]:
        wheels = self.cache.root / self.cache.wheels
        found = []
        if self.pypi:
            found.append(wheels / "pypi" / name)
        others = [f"{u}/{name}/".encode() for u in self.others]
        if not others:
            return found
        if self._digests is None:  # only a digest with a page cached can be told which index it is
            try:
                paged = set(os.listdir(self.cache.root / self.cache.simple / "index"))
                self._digests = sorted(paged.intersection(os.listdir(wheels / "index")))
            except OSError:
                self._digests = []
        for digest in self._digests:
            folder = wheels / "index" / digest / name
            if not folder.is_dir():
                continue
            try:
                page = (self.cache.root / self.cache.simple / "index" / digest / f"{name}.rkyv").read_bytes()
            except OSError:
                continue  # no page: which index this digest is, is not known
            if any(want in page for want in others):
                found.append(folder)
        return found

    def _holds(self, pointer: Path, urls: set[bytes]) -> bool:
        """The pointer names this URL and its unpacked wheel is there."""
        try:
            data = pointer.read_bytes()
        except OSError:
            return False
        archive = _archive_id(data)
        if archive is None or not any(u in data for u in urls):
            return False
        return (self.cache.root / self.cache.archive / archive).is_dir()


def _archive_id(data: bytes) -> Optional[str]:
    """The first field of a msgpack array, a string: [id, hashes, filename, …]."""
    if not data or not (0x90 <= data[0] <= 0x9F or data[0] == 0xDC):
        return None
    at = 1 if data[0] != 0xDC else 3
    if at >= len(data):
        return None
    if 0xA0 <= data[at] <= 0xBF:
        size, at = data[at] - 0xA0, at + 1
    elif data[at] == 0xD9 and at + 1 < len(data):
        size, at = data[at + 1], at + 2
    else:
        return None
    found = data[at : at + size]
    return found.decode() if len(found) == size and _ID.fullmatch(found) else None


def _read_memo(memo: Path) -> Optional[dict[str, object]]:
    try:
        if time.time() - memo.stat().st_mtime < DAY:
            found = json.loads(memo.read_text(encoding="utf-8"))
            if isinstance(found, dict) and set(found) >= MEMO_KEYS:
                return found
    except (OSError, ValueError):
        pass
    return None


def _ask(uv: str, env: Mapping[str, str], configs: list[Path], timeout: float) -> Optional[dict[str, object]]:
    """`uv cache dir`, and the bucket names the uv binary holds."""
    from fwsetup import runner
    from fwsetup.errors import FwsetupError

    names = _bucket_names(uv)
    if names is None:
        return None
    try:
        what = "asking uv where its cache is (uv cache dir)"
        out = runner.step([uv, "cache", "dir"], what=what, timeout=timeout, env=dict(env))
    except FwsetupError:
        return None
    lines = out.stdout.strip().splitlines()
    if len(lines) != 1 or not lines[0].strip():
        return None
    root = os.path.abspath(lines[0].strip())
    wheels, simple, archive = names
    return {"root": root, "wheels": wheels, "simple": simple, "archive": archive,
            "default_trusted": not any(_names_indexes(p) for p in configs)}  # fmt: skip


def _bucket_names(uv: str) -> Optional[tuple[str, str, str]]:
    """(wheels-vN, simple-vN, archive-vN) as the uv binary spells them, each exactly once."""
    try:
        with open(uv, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            found = [_names(data, prefix) for prefix in BUCKETS]
    except (OSError, ValueError):
        return None
    if any(len(names) != 1 for names in found):
        return None
    wheels, simple, archive = (names.pop() for names in found)
    return wheels, simple, archive


def _names(data: Union[bytes, mmap.mmap], prefix: bytes) -> set[str]:
    found = set()
    at = data.find(prefix)
    while at >= 0:
        start = end = at + len(prefix)
        while end < len(data) and end - start < 4 and 0x30 <= data[end] <= 0x39:
            end += 1
        if end > start:
            found.add(bytes(data[at:end]).decode())
        at = data.find(prefix, at + 1)
    return found


def _config_files(env: Mapping[str, str]) -> list[Path]:
    """The uv.toml and pyproject.toml files uv may read settings from (whether or not they exist):
    the project's (the current directory and its parents), the user's, the system's, UV_CONFIG_FILE."""
    found: list[Path] = []
    if env.get("UV_CONFIG_FILE"):
        found.append(Path(env["UV_CONFIG_FILE"]))
    here = Path.cwd()
    for folder in (here, *here.parents):
        found += [folder / "uv.toml", folder / "pyproject.toml"]
    home = Path(env.get("HOME") or env.get("USERPROFILE") or "~").expanduser()
    if sys.platform == "win32":
        for var in ("APPDATA", "PROGRAMDATA"):
            if env.get(var):
                found.append(Path(env[var]) / "uv" / "uv.toml")
    else:
        found.append(Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "uv" / "uv.toml")
        for base in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":"):
            if base:
                found.append(Path(base) / "uv" / "uv.toml")
        found.append(Path("/etc/uv/uv.toml"))
    return found


def _stat(path: Path) -> Optional[list[int]]:
    try:
        found = path.stat()
    except OSError:
        return None
    return [found.st_size, found.st_mtime_ns]


def _relative_cwd(env: Mapping[str, str]) -> Optional[str]:
    """The current directory, where a relative UV_CACHE_DIR is taken from."""
    given = env.get("UV_CACHE_DIR")
    return os.getcwd() if given and not os.path.isabs(given) else None


def _names_indexes(path: Path) -> bool:
    """A config file that may name indexes or find-links of its own (read loosely: any mention)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if path.name == "pyproject.toml" and "tool.uv" not in text:
        return False
    return bool(re.search(r"index|find-links|find_links", text))
