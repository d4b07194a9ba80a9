"""Which GPU architectures a wheel's compiled code carries, read from an inflated byte stream.

* `arch_flags`: PyTorch compiles its CUDA_ARCH_FLAGS into libtorch_python.so as one NUL-terminated
  string ("sm_75 sm_80 … sm_120", "compute_XX" for PTX): torch.cuda.get_arch_list() returns it.
  The scan stops at the first match, a few MB into the member.
* `gfx_flags`: a ROCm build compiles its PYTORCH_ROCM_ARCH into the same place ("gfx900 gfx906 …"),
  which torch.cuda.get_arch_list() returns on ROCm.
* `fatbin_archs`: CUDA fat binaries (.nv_fatbin) start with the magic 0xBA55ED50; each entry header
  names its kind (1 PTX, 2 SASS/ELF) and its sm number. The whole member is streamed once.

Capabilities come back as "7.5", "10.0", "12.0" (sm_75, sm_100, sm_120), the tables' spelling.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable
from typing import Optional

_FLAGS = re.compile(rb"((?:sm|compute)_\d+[af]?(?: (?:sm|compute)_\d+[af]?)+)\x00")
_GFX_FLAGS = re.compile(rb"(gfx[0-9a-f]{3,4}(?:[ ;]gfx[0-9a-f]{3,4})+)\x00")
_FATBIN_MAGIC = struct.pack("<IHH", 0xBA55ED50, 1, 16)


def capability(sm: int) -> str:
    return f"{sm // 10}.{sm % 10}"


def _order(caps: Iterable[str]) -> list[str]:
    return sorted(set(caps), key=lambda c: tuple(int(x) for x in c.split(".")))


def arch_flags(chunks: Iterable[bytes]) -> Optional[tuple[list[str], list[str]]]:
    """(SASS, PTX) capabilities from the first CUDA_ARCH_FLAGS-like string in the stream, or None."""
    tail = b""
    for chunk in chunks:
        window = tail + chunk
        match = _FLAGS.search(window)
        if match:
            sass: list[str] = []
            ptx: list[str] = []
            for token in match.group(1).decode().split():
                kind, _, number = token.partition("_")
                cap = capability(int(number.rstrip("af")))
                (sass if kind == "sm" else ptx).append(cap)
            return _order(sass), _order(ptx)
        tail = window[-512:]
    return None


def gfx_flags(chunks: Iterable[bytes]) -> Optional[list[str]]:
    """The gfx targets of the first PYTORCH_ROCM_ARCH-like string in the stream, in its order, or None."""
    tail = b""
    for chunk in chunks:
        window = tail + chunk
        match = _GFX_FLAGS.search(window)
        if match:
            return list(dict.fromkeys(re.split(r"[ ;]", match.group(1).decode())))
        tail = window[-512:]
    return None


def fatbin_archs(chunks: Iterable[bytes]) -> tuple[list[str], list[str], int]:
    """(SASS, PTX, number of fat binaries) over every fat binary in the stream."""
    sass: set[str] = set()
    ptx: set[str] = set()
    blobs = 0
    buf = bytearray()
    base = 0  # absolute offset of buf[0]
    entry: Optional[int] = None  # absolute offset of the next entry header in the current blob
    blob_end = 0
    scan = 0  # absolute offset from which to look for the next magic
    for chunk in chunks:
        buf += chunk
        while True:
            if entry is None:
                at = buf.find(_FATBIN_MAGIC, max(0, scan - base))
                if at < 0:
                    scan = base + max(0, len(buf) - len(_FATBIN_MAGIC))
                    break
                if len(buf) < at + 16:
                    scan = base + at
                    break
                (fat_size,) = struct.unpack_from("<Q", buf, at + 8)
                blobs += 1
                entry, blob_end = base + at + 16, base + at + 16 + fat_size
                continue
            rel = entry - base
            if len(buf) < rel + 32:
                break
            kind, _, header_size, size = struct.unpack_from("<HHIQ", buf, rel)
            (sm,) = struct.unpack_from("<I", buf, rel + 28)
            if kind == 2:
                sass.add(capability(sm))
            elif kind == 1:
                ptx.add(capability(sm))
            entry += header_size + size
            if header_size == 0 or entry >= blob_end:
                entry, scan = None, blob_end
        drop = min((entry if entry is not None else scan) - base, len(buf))
        if drop > 0:
            del buf[:drop]
            base += drop
    return _order(sass), _order(ptx), blobs
