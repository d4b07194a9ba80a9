"""bin/update_data.py's check of each ROCm variant's gfx list against its wheel on download.pytorch.org
(not reachable here, so the index and the wheel are stand-ins: the HTML is PEP 503's shape, the zip
holds a libtorch_python.so whose bytes are SYNTHETIC — a NUL-terminated "gfx… gfx…" string in filler,
the layout PyTorch compiles PYTORCH_ROCM_ARCH into; no recorded ROCm wheel bytes exist here)."""

from __future__ import annotations

import datetime
import io
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bin"))

import tomltext  # noqa: E402
import update_data  # noqa: E402
import wheelarch  # noqa: E402

from fwsetup.facts import pytorch as torch_facts  # noqa: E402
from fwsetup.facts import schema  # noqa: E402

TODAY = datetime.date(2026, 12, 7)
INDEX = "https://download.pytorch.org/whl/rocm6.3/torch/"
WHEEL = "torch-2.7.1%2Brocm6.3-cp311-cp311-manylinux_2_28_x86_64.whl"


def synthetic_wheel(gfx: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("torch/version.py", "hip = '6.3.42131'\n")
        z.writestr(
            "torch/lib/libtorch_python.so", b"\x7fELF" + bytes(200_000) + gfx.encode() + b"\x00" + bytes(4000)
        )
    return buf.getvalue()


class FakeIndex:
    def __init__(self, wheel: bytes) -> None:
        self.wheel = wheel
        self.asked: list[str] = []

    def get(self, url: str) -> bytes:
        self.asked.append(url)
        if url == INDEX:
            return f'<html><body><a href="/whl/rocm6.3/{WHEEL}#sha256=00">{WHEEL}</a></body></html>'.encode()
        raise OSError(f"not served here: {url}")

    def size(self, url: str) -> int:
        assert url.endswith(WHEEL), url
        return len(self.wheel)

    def get_range(self, url: str, start: int, end: Optional[int] = None) -> Iterator[bytes]:
        stop = len(self.wheel) if end is None else end + 1
        for at in range(start, stop, 4096):
            yield self.wheel[at : min(at + 4096, stop)]


def release_block(version: str) -> tuple[tomltext.TableText, tomltext.Block]:
    table = tomltext.TableText.parse((REPO / "fwsetup/facts/pytorch.toml").read_text(encoding="utf-8"))
    block = next(b for b in table.of("release") if b.main.get("version") == version)
    return table, block


def test_gfx_flags_reader() -> None:
    assert wheelarch.gfx_flags([b"x\x00gfx900 gfx906 gfx90a\x00"]) == ["gfx900", "gfx906", "gfx90a"]
    assert wheelarch.gfx_flags([b"\x00gfx90a:sramecc+:xnack-\x00gfx942\x00"]) is None  # ISA names, no list
    assert wheelarch.gfx_flags([b"gfx900;gfx1100\x00"]) == ["gfx900", "gfx1100"]


def test_a_wheel_agreeing_with_the_table_changes_nothing() -> None:
    committed = torch_facts.variant("2.7.1", "rocm6.3")
    assert committed is not None
    fetcher = FakeIndex(synthetic_wheel(" ".join(committed.gfx)))
    _table, block = release_block("2.7.1")
    out = update_data.Outcome("pytorch", "")
    update_data.check_rocm_gfx(fetcher, update_data.Archs(fetcher, True), block, "2.7.1", out)  # type: ignore[arg-type]
    assert out.changed == [] and INDEX in fetcher.asked


def test_a_wheel_that_dropped_a_target_is_reported_and_written() -> None:
    committed = torch_facts.variant("2.7.1", "rocm6.3")
    assert committed is not None
    fewer = [g for g in committed.gfx if g != "gfx900"]
    fetcher = FakeIndex(synthetic_wheel(" ".join(fewer)))
    table, block = release_block("2.7.1")
    out = update_data.Outcome("pytorch", "")
    update_data.check_rocm_gfx(fetcher, update_data.Archs(fetcher, True), block, "2.7.1", out)  # type: ignore[arg-type]
    assert (
        len(out.changed) == 1 and "torch 2.7.1 rocm6.3 gfx" in out.changed[0] and "gfx900" in out.changed[0]
    )
    written = schema.parse(torch_facts.PytorchTable, table.text(), "updated pytorch.toml")
    release = next(r for r in written.release if r.version == "2.7.1")
    assert next(v for v in release.variant if v.name == "rocm6.3").gfx == tuple(fewer)


def test_an_unreachable_page_is_a_note_and_the_table_is_kept() -> None:
    fetcher = FakeIndex(b"")
    _table, block = release_block("2.6.0")  # rocm6.2.4: its page is not served by the fake
    out = update_data.Outcome("pytorch", "")
    update_data.check_rocm_gfx(fetcher, update_data.Archs(fetcher, True), block, "2.6.0", out)  # type: ignore[arg-type]
    assert out.changed == [] and any("rocm6.2.4/torch/ not read" in n for n in out.notes)
