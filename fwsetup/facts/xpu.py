"""Intel GPUs by PCI device id and whether PyTorch's XPU builds serve them (xpu.toml).

`doctor` names every Intel display device it finds and says whether the XPU build serves it, on
any laptop with an Intel iGPU. The typed loader (facts/schema.py: typing, pathlib, tomllib) costs
doctor more than all of its probes, so lookups read the file with one regular expression instead,
as facts/dates.py does for `checked`; tests/test_intel_apple_arm.py checks that both readings of
the file agree, and the typed one validates it.
"""

from __future__ import annotations

import functools
import os
import re

from fwsetup.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime
    from typing import Optional

STATUSES = ("supported", "unvalidated", "unsupported")
FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "xpu.toml")


@dataclass(frozen=True)
class IntelFamily:
    name: str
    arch: str  # xe-hpg, xe2-lpg, …: the GPU architecture
    status: str  # supported | unvalidated | unsupported (see xpu.toml)
    since: str  # first torch release whose XPU build serves it
    discrete: bool
    ids: tuple[str, ...]
    source: str
    note: Optional[str] = None

    @property
    def runs_xpu(self) -> bool:
        return self.status in ("supported", "unvalidated")


@dataclass(frozen=True)
class XpuTable:
    family: tuple[IntelFamily, ...]
    checked: datetime.date


@functools.lru_cache(maxsize=1)
def table() -> XpuTable:
    """The table through the typed, validating loader (tests, `fwsetup` data checks)."""
    import datetime
    import typing

    from fwsetup.facts import schema

    # the annotations name these, which this module imports only for type checkers
    globals().update(datetime=datetime, Optional=typing.Optional)
    found = schema.read(XpuTable, "xpu")
    for fam in found.family:
        if fam.status not in STATUSES:
            raise schema.FactsError("fwsetup/facts/xpu.toml", f"family '{fam.name}'.status", f"not one of {STATUSES}")
    return found


_BLOCK = re.compile(r"^\[\[family\]\][ \t]*$", re.M)
_KEY = re.compile(r'^(\w+)[ \t]*=[ \t]*("[^"\\\n]*"|true|false|\[[^\]]*\])', re.M)
_ITEM = re.compile(r'"([^"\\\n]*)"')


def families() -> tuple[IntelFamily, ...]:
    """Every [[family]] of xpu.toml, read without a TOML parser (see the module docstring)."""
    return _families()


@functools.lru_cache(maxsize=1)
def _families() -> tuple[IntelFamily, ...]:
    with open(FILE, encoding="utf-8") as fh:
        text = fh.read()
    found = []
    for block in _BLOCK.split(text)[1:]:
        values: dict[str, object] = {}
        for key, raw in _KEY.findall(block):
            if raw.startswith("["):
                values[key] = tuple(_ITEM.findall(raw))
            elif raw in ("true", "false"):
                values[key] = raw == "true"
            else:
                values[key] = raw[1:-1]
        found.append(IntelFamily(**values))  # type: ignore[arg-type]
    return tuple(found)


@functools.lru_cache(maxsize=1)
def _by_id() -> dict[str, IntelFamily]:
    return {i: fam for fam in families() for i in fam.ids}


def family(device_id: str) -> Optional[IntelFamily]:
    """The family of a PCI device id ('0x56a0', '56A0'); None for ids the table does not know."""
    key = device_id.strip().lower().removeprefix("0x")
    return _by_id().get(key.zfill(4))
