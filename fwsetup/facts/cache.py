"""TOML data parsed once per change, not once per process.

tomllib is pure Python: parsing the facts tables and recipes costs more CPU than selecting from
them. The parsed dict is kept with `marshal` (which reads it back in a fraction of the time) in
the user's cache directory (`paths.cache_dir()`), one file per source path, checked like a
`.pyc`: the source's size and modification time must match. It is not kept beside the source
(a `__pycache__`), because installed packages are often read-only and PYTHONDONTWRITEBYTECODE
forbids that. Any problem with the cache falls back to parsing; nothing fails because of it.
"""

from __future__ import annotations

import binascii
import contextlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any

from fwsetup import tomlfile

_TAG = f"{sys.implementation.cache_tag}.marshal"
_MAGIC = b"fwsetup-toml-1\n"


def _cache_path(path: Path) -> Path:
    from fwsetup import paths

    where = binascii.crc32(os.fsencode(path))  # a collision only costs a parse: the stamp names the path
    return paths.cache_dir() / "toml" / f"{path.stem}-{where:08x}.{_TAG}"


def load(path: Path) -> dict[str, Any]:
    """The parsed TOML file; raises what `tomlfile.load` raises."""
    stat = path.stat()
    path = path.absolute()
    stamp = _MAGIC + os.fsencode(path) + f"\n{stat.st_size}:{stat.st_mtime_ns}\n".encode()
    cached = _cache_path(path)
    try:
        blob = cached.read_bytes()
        if blob.startswith(stamp):
            # same trust as the .pyc beside it: whoever can write here can write the TOML itself
            table: dict[str, Any] = marshal.loads(blob[len(stamp) :])  # noqa: S302
            return table
    except (OSError, ValueError, EOFError, TypeError):
        pass
    table = tomlfile.load(path)
    try:
        blob = marshal.dumps(table)
    except ValueError:  # a TOML date or time: not marshal-able, parse every time
        return table
    _write(cached, stamp + blob)
    return table


def _write(cached: Path, blob: bytes) -> None:
    tmp = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(blob)
        os.replace(tmp, cached)
    except OSError:  # no writable cache directory: parse every time
        with contextlib.suppress(OSError):
            tmp.unlink()
