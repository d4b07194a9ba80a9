"""What the package registry says, read with as few bytes as possible (for bin/update_data.py).

* PyPI's JSON API (https://pypi.org/pypi/<project>/json): every release and its files.
* A wheel's METADATA alone: the PEP 658 `.metadata` file where the index serves one, otherwise
  HTTP range reads of the zip's end record, its central directory and the one member.
* A member of a wheel as a stream of inflated chunks, so a scanner can stop at the first match
  (the CUDA architecture string of libtorch_python.so is ~7 MB into a 500 MB wheel).

The network sits behind `Fetcher` so the tests replay recorded answers (tests/fixtures/registry).
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import struct
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any, Optional, Protocol
from urllib.parse import urljoin

PYPI_JSON = "https://pypi.org/pypi/{project}/json"
TIMEOUT_S = 60.0
CHUNK = 1 << 16


class Fetcher(Protocol):
    def get(self, url: str) -> bytes: ...

    def get_range(self, url: str, start: int, end: Optional[int] = None) -> Iterator[bytes]:
        """Bytes start..end (inclusive; None: to the end of the file), in chunks."""
        ...

    def size(self, url: str) -> int:
        """The file's length (an index page that names a wheel does not say it)."""
        ...


class RegistryError(RuntimeError):
    """The registry did not answer, or answered something unusable."""


class HttpFetcher:
    """urllib with a timeout, three tries, and an on-disk cache for whole answers (not ranges)."""

    def __init__(self, cache: Optional[Path] = None, max_age_s: float = 3600.0) -> None:
        self.cache, self.max_age_s = cache, max_age_s
        self.bytes_read = 0

    def _open(self, url: str, headers: dict[str, str]) -> Any:
        request = urllib.request.Request(url, headers={"User-Agent": "fwsetup-update-data", **headers})  # noqa: S310
        for attempt in range(3):
            try:
                return urllib.request.urlopen(request, timeout=TIMEOUT_S)  # noqa: S310 - https only
            except urllib.error.HTTPError:
                raise
            except OSError as exc:
                if attempt == 2:
                    raise RegistryError(f"{url}: {exc}") from None
                time.sleep(1 + attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, url: str) -> bytes:
        file = self.cache / hashlib.sha256(url.encode()).hexdigest()[:32] if self.cache else None
        if file is not None and file.exists() and time.time() - file.stat().st_mtime < self.max_age_s:
            return file.read_bytes()
        with self._open(url, {}) as resp:
            body: bytes = resp.read()
        self.bytes_read += len(body)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(body)
        return body

    def size(self, url: str) -> int:
        request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "fwsetup-update-data"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:  # noqa: S310 - https only
            length = resp.headers.get("Content-Length")
        if not length or not length.isdigit():
            raise RegistryError(f"{url}: no Content-Length")
        return int(length)

    def get_range(self, url: str, start: int, end: Optional[int] = None) -> Iterator[bytes]:
        wanted = f"bytes={start}-{'' if end is None else end}"
        with self._open(url, {"Range": wanted}) as resp:
            if resp.status != 206:
                raise RegistryError(f"{url}: the server ignored the range request (HTTP {resp.status})")
            while True:
                chunk = resp.read(CHUNK)
                if not chunk:
                    return
                self.bytes_read += len(chunk)
                yield chunk


@dataclass(frozen=True)
class File:
    """One file of a release, as the JSON API lists it."""

    filename: str
    url: str
    size: int
    requires_python: Optional[str]
    yanked: bool
    has_metadata: bool  # PEP 658/714: the index serves <url>.metadata

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @property
    def tags(self) -> tuple[str, str, str]:
        """(python, abi, platform) of a wheel: the last three dash-separated fields."""
        python, abi, platform = self.filename[: -len(".whl")].split("-")[-3:]
        return python, abi, platform


def releases(fetcher: Fetcher, project: str) -> dict[str, list[File]]:
    """Every release of a project with its files (PyPI JSON API), as listed: yanked ones included."""
    url = PYPI_JSON.format(project=project)
    try:
        data = json.loads(fetcher.get(url))
    except (ValueError, urllib.error.HTTPError) as exc:
        raise RegistryError(f"{url}: {exc}") from None
    out: dict[str, list[File]] = {}
    for version, files in data.get("releases", {}).items():
        out[version] = [
            File(
                filename=f["filename"],
                url=urljoin(url, f["url"]),
                size=int(f["size"]),
                requires_python=f.get("requires_python") or None,
                yanked=bool(f.get("yanked")),
                has_metadata=bool(f.get("core_metadata") or f.get("data_dist_info_metadata")),
            )
            for f in files
        ]
    return out


# --- reading inside a remote zip ---------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    name: str
    method: int  # 0 stored, 8 deflate
    compressed_size: int
    size: int
    header_offset: int


def _read_all(chunks: Iterator[bytes]) -> bytes:
    return b"".join(chunks)


def central_directory(fetcher: Fetcher, url: str, size: int) -> dict[str, Member]:
    """The zip's members, from its end record (in the last 8 KiB, else 64 KiB: an archive comment)
    and the central directory it points to."""
    for span in (8192, 65536 + 22):
        tail_start = max(0, size - span)
        tail = _read_all(fetcher.get_range(url, tail_start, size - 1))
        at = tail.rfind(b"PK\x05\x06")
        if at >= 0:
            break
    else:
        raise RegistryError(f"{url}: no zip end record in the last 64 KiB")
    count, cd_size, cd_offset = struct.unpack("<HII", tail[at + 10 : at + 20])
    if cd_offset >= tail_start:
        cd = tail[cd_offset - tail_start : cd_offset - tail_start + cd_size]
    else:
        cd = _read_all(fetcher.get_range(url, cd_offset, cd_offset + cd_size - 1))
    members: dict[str, Member] = {}
    pos = 0
    for _ in range(count):
        (method, csize, usize, name_len, extra_len, comment_len, offset) = struct.unpack(
            "<10xH8xIIHHH8xI", cd[pos : pos + 46]
        )
        name = cd[pos + 46 : pos + 46 + name_len].decode("utf-8")
        members[name] = Member(name, method, csize, usize, offset)
        pos += 46 + name_len + extra_len + comment_len
    return members


def member_chunks(fetcher: Fetcher, url: str, member: Member) -> Iterator[bytes]:
    """The member's content, inflated chunk by chunk; stop iterating to stop downloading."""
    header = b""
    chunks = fetcher.get_range(
        url, member.header_offset, member.header_offset + 30 + 1024 + member.compressed_size
    )
    for chunk in chunks:
        header += chunk
        if len(header) >= 30:
            break
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    skip = 30 + name_len + extra_len
    pending = header
    while len(pending) < skip:
        pending += next(chunks)
    pending = pending[skip:]
    left = member.compressed_size
    inflater = zlib.decompressobj(-15) if member.method == 8 else None

    def emit(data: bytes) -> bytes:
        return inflater.decompress(data) if inflater is not None else data

    while left > 0:
        data, pending = pending[:left], b""
        left -= len(data)
        if data:
            yield emit(data)
        if left > 0:
            try:
                pending = next(chunks)
            except StopIteration:
                return  # a recorded prefix ends here
    if inflater is not None:
        yield inflater.flush()


def wheel_metadata(fetcher: Fetcher, wheel: File) -> Message:
    """The wheel's METADATA: PEP 658 file where served, else ranged reads of the zip."""
    if wheel.has_metadata:
        text = fetcher.get(wheel.url + ".metadata")
    else:
        members = central_directory(fetcher, wheel.url, wheel.size)
        (name,) = [n for n in members if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        text = b"".join(member_chunks(fetcher, wheel.url, members[name]))
    return email.parser.BytesParser().parsebytes(text, headersonly=True)
