"""bin/update_data.py without the network: recorded PyPI answers (tests/fixtures/registry, each with
its .source.md) replayed through the updater, the zip range reader and the architecture readers."""

from __future__ import annotations

import datetime
import difflib
import email.parser
import io
import json
import sys
import zipfile
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any, Optional

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bin"))

import registry  # noqa: E402
import tomltext  # noqa: E402
import update_data  # noqa: E402
import wheelarch  # noqa: E402

from fwsetup.facts import jax as jax_facts  # noqa: E402
from fwsetup.facts import pytorch as torch_facts  # noqa: E402
from fwsetup.facts import schema  # noqa: E402

REGISTRY = REPO / "tests" / "fixtures" / "registry"
TODAY = datetime.date(2026, 11, 30)


class Replay:
    """A Fetcher answering from the recordings; any other request fails the test."""

    def __init__(self) -> None:
        self.ranges = json.loads((REGISTRY / "ranges" / "index.json").read_text())
        self.asked: list[str] = []

    def get(self, url: str) -> bytes:
        self.asked.append(url)
        for project in ("jax", "jaxlib", "jax-cuda12-plugin", "jax-cuda13-plugin", "torch"):
            if url == registry.PYPI_JSON.format(project=project):
                return (REGISTRY / "pypi" / f"{project}.json").read_bytes()
        raise AssertionError(f"not recorded: {url}")

    def get_range(self, url: str, start: int, end: Optional[int] = None) -> Iterator[bytes]:
        self.asked.append(f"{url} {start}")
        name = self.ranges.get(f"{url} {start}")
        if name is None:
            raise AssertionError(f"range not recorded: {url} {start}")
        data = (REGISTRY / "ranges" / name).read_bytes()
        for at in range(0, len(data), 4096):
            yield data[at : at + 4096]


def recorded_metadata(fetcher: Any, wheel: registry.File) -> Message:
    raw = (REGISTRY / "metadata" / f"{wheel.filename}.METADATA").read_bytes()
    return email.parser.BytesParser().parsebytes(raw, headersonly=True)


class WindowArchs(update_data.Archs):
    """Architectures of x86_64 wheels from the recorded libtorch_python.so window; no others read."""

    def torch(self, wheel: registry.File) -> Optional[tuple[list[str], list[str]]]:
        if not wheel.filename.endswith("x86_64.whl"):
            return None
        return wheelarch.arch_flags([(REGISTRY / "libtorch_python-2.15.0-x86_64-window.bin").read_bytes()])

    def fatbins(self, wheel: registry.File) -> Optional[tuple[list[str], list[str]]]:
        return None


@pytest.fixture(autouse=True)
def _recorded_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "wheel_metadata", recorded_metadata)


def committed(name: str) -> str:
    return (REPO / "fwsetup" / "facts" / f"{name}.toml").read_text(encoding="utf-8")


def changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def without_block(text: str, header: str, version: str) -> str:
    table = tomltext.TableText.parse(text)
    table.blocks = [b for b in table.blocks if not (b.name == header and b.main.get("version") == version)]
    return table.text()


def test_jax_reproduces_the_committed_releases_it_has_recordings_for() -> None:
    fetcher = Replay()
    out = update_data.update_jax(committed("jax"), fetcher, update_data.Archs(fetcher, False), TODAY)
    assert out.new == [] and out.changed == [], (out.new, out.changed)
    assert changed_lines(committed("jax"), out.text) == [
        "-checked = 2026-11-25  # the day this table was last checked against its sources",
        "+checked = 2026-11-30  # the day this table was last checked against its sources",
    ]
    assert any("not (or no longer) on the index, kept: 0.4.18" in n for n in out.notes)  # trimmed recordings
    assert any("cuda_extra cuda12: architectures not read (kept)" in n for n in out.notes)
    table = schema.parse(jax_facts.JaxTable, out.text, "updated jax.toml")
    assert table.checked == TODAY


def test_a_new_jax_release_is_a_few_added_lines_identical_to_the_hand_written_ones() -> None:
    fetcher = Replay()
    old = without_block(committed("jax"), "release", "0.12.0.1")
    out = update_data.update_jax(old, fetcher, update_data.Archs(fetcher, False), TODAY)
    assert out.stale and out.changed == []
    assert out.new == ["jax 0.12.0.1 (jaxlib 0.12.0.1, Python >=3.12,<3.16, extras ['cuda12', 'cuda13'])"]
    added = [
        line for line in changed_lines(old, out.text) if line.startswith("+") and "checked =" not in line
    ]
    block = tomltext.TableText.parse(committed("jax")).of("release")[-1].text()  # its lines and a blank one
    assert sorted(added) == sorted("+" + line for line in block) and len(added) == 9
    assert out.text.replace("checked = 2026-11-30", "checked = 2026-11-25") == committed("jax")


def test_pytorch_reproduces_the_committed_releases_and_keeps_the_index_only_variants() -> None:
    fetcher = Replay()
    out = update_data.update_pytorch(
        committed("pytorch"), fetcher, WindowArchs(fetcher, True), TODAY, "no DNS"
    )
    assert out.new == [] and out.changed == [], (out.new, out.changed)
    assert any("download.pytorch.org is not reachable from here (no DNS)" in n for n in out.notes)
    assert len(changed_lines(committed("pytorch"), out.text)) == 2  # the `checked` line
    schema.parse(torch_facts.PytorchTable, out.text, "updated pytorch.toml")


def test_a_new_pytorch_series_from_pypi_alone_is_marked_unverified_and_validates() -> None:
    fetcher = Replay()
    old = without_block(committed("pytorch"), "release", "2.15.0")
    out = update_data.update_pytorch(old, fetcher, WindowArchs(fetcher, True), TODAY, "no DNS")
    assert out.new == ["torch 2.15.0 (Python >=3.11,<3.16, PyPI default cu132)"] and out.changed == []
    assert all(line.startswith("+") for line in changed_lines(old, out.text) if "checked =" not in line)
    table = schema.parse(torch_facts.PytorchTable, out.text, "updated pytorch.toml")
    new = next(r for r in table.release if r.version == "2.15.0")
    assert (new.python, new.pypi_default, new.pypi_default_aarch64, new.verified) == (
        ">=3.11,<3.16",
        "cu132",
        "cu132",
        False,
    )
    assert new.note and "download.pytorch.org (not reachable)" in new.note
    by_platform = {(v.name, v.platforms): v for v in new.variant}
    assert by_platform[("cu132", ("linux-x86_64",))].archs == ("7.5", "8.0", "8.6", "9.0", "10.0", "12.0")
    arm = by_platform[("cu132", ("linux-aarch64",))]
    assert arm.cuda == "13.2" and arm.archs == () and not arm.verified  # not read: said so
    assert by_platform[("cpu", ("linux-x86_64", "linux-aarch64", "windows-amd64", "macos-arm64"))]


INDEX_PAGES = {
    "cu130": ["manylinux_2_28_x86_64", "win_amd64", "manylinux_2_28_aarch64"],
    "cu132": ["manylinux_2_28_x86_64", "win_amd64"],
}


class WithPytorchIndex(Replay):
    """The recordings plus a download.pytorch.org that answers. It is not reachable from where the
    recordings were made, so its pages are synthetic: PEP 503 anchors named as that index names them."""

    def get(self, url: str) -> bytes:
        if not url.startswith(update_data.PYTORCH_INDEX):
            return super().get(url)
        name = url[len(update_data.PYTORCH_INDEX) :].split("/")[0]
        if name == "rocm7.14":
            raise registry.RegistryError(f"{url}: HTTP Error 404")
        files = [f"torch-2.14.1+{name}-cp312-cp312-{p}.whl" for p in INDEX_PAGES.get(name, ["win_amd64"])]
        files += [f"torch-2.15.0+{name}-cp312-cp312-{p}.whl" for p in INDEX_PAGES.get(name, [])]
        return "\n".join(f'<a href="/whl/{name}/{f.replace("+", "%2B")}">{f}</a><br>' for f in files).encode()


def test_where_the_pytorch_index_answers_a_new_series_gets_its_variants_unverified() -> None:
    fetcher = WithPytorchIndex()
    old = without_block(committed("pytorch"), "release", "2.15.0")
    out = update_data.update_pytorch(old, fetcher, WindowArchs(fetcher, True), TODAY, None)
    table = schema.parse(torch_facts.PytorchTable, out.text, "updated pytorch.toml")
    new = next(r for r in table.release if r.version == "2.15.0")
    got = [(v.name, v.platforms, v.verified) for v in new.variant]
    assert ("cu130", ("linux-x86_64", "windows-amd64"), False) in got  # copied from 2.14.1, unverified
    assert ("cu130", ("linux-aarch64",), False) in got
    assert not [g for g in got if g[0] in ("cu126", "rocm7.14")]  # not offered for 2.15.0 / page missing
    assert [g for g in got if g[0] == "cu132"] == [
        ("cu132", ("linux-x86_64",), True),
        ("cu132", ("linux-aarch64",), False),
    ]
    cu130 = next(v for v in new.variant if v.name == "cu130" and "linux-x86_64" in v.platforms)
    assert cu130.note and "archs copied from 2.14.1" in cu130.note and cu130.source.startswith("PTINDEX")
    assert any("rocm7.14/torch/ not read" in n for n in out.notes)
    assert new.note and "download.pytorch.org; index variants are unverified copies" in new.note


def test_cuda_pins_are_read_per_machine_with_markers() -> None:
    meta = recorded_metadata(None, _file("torch-2.15.0-cp315-cp315-manylinux_2_28_x86_64.whl"))
    assert update_data.cuda_pin(meta, "x86_64") == "13.2"
    old = email.parser.Parser().parsestr(
        'Requires-Dist: nvidia-cuda-runtime-cu12==12.1.105; platform_system == "Linux" and '
        'platform_machine == "x86_64"\n\n'
    )
    assert update_data.cuda_pin(old, "x86_64") == "12.1" and update_data.cuda_pin(old, "aarch64") is None


def _file(name: str) -> registry.File:
    return registry.File(name, "https://example.invalid/" + name, 0, None, False, False)


def test_wheel_metadata_by_range_reads_of_a_recorded_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real reader, on recorded byte ranges
    fetcher = Replay()
    wheel = next(f for f in registry.releases(fetcher, "jax")["0.12.0.1"] if f.filename.endswith(".whl"))
    meta = registry.wheel_metadata(fetcher, wheel)
    assert meta["Name"] == "jax" and meta["Version"] == "0.12.0.1" and meta["Requires-Python"] == ">=3.12"
    assert "cuda13" in (meta.get_all("Provides-Extra") or [])
    ranges = [a for a in fetcher.asked if a.startswith(wheel.url + " ")]
    assert ranges[0] == f"{wheel.url} {wheel.size - 8192}"  # the end record first
    read = sum(len((REGISTRY / "ranges" / fetcher.ranges[a]).read_bytes()) for a in ranges)
    assert read < wheel.size / 40  # 66 kB of a 3.5 MB wheel


def test_fatbin_headers_of_a_recorded_plugin_library_give_the_committed_cuda13_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.undo()
    fetcher = Replay()
    plugin = update_data.pick(registry.releases(fetcher, "jax-cuda13-plugin")["0.12.0.1"], "linux-x86_64")
    assert plugin is not None
    members = registry.central_directory(fetcher, plugin.url, plugin.size)
    sass, ptx, blobs = wheelarch.fatbin_archs(
        registry.member_chunks(fetcher, plugin.url, members["jax_cuda13_plugin/_prng.so"])
    )
    extra = jax_facts.table().find_extra("cuda13")
    assert extra is not None and blobs == 1
    assert (tuple(sass), tuple(ptx)) == (extra.archs, extra.ptx)


def test_arch_flags_from_a_recorded_window_streamed_through_a_zip() -> None:
    window = (REGISTRY / "libtorch_python-2.15.0-x86_64-window.bin").read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("torch/version.py", "__version__ = '2.15.0'\n")
        z.writestr("torch/lib/libtorch_python.so", b"\x7fELF" + bytes(300_000) + window + bytes(5000))
    data = buf.getvalue()

    class Local:
        def get(self, url: str) -> bytes:
            raise AssertionError(url)

        def get_range(self, url: str, start: int, end: Optional[int] = None) -> Iterator[bytes]:
            stop = len(data) if end is None else end + 1
            for at in range(start, stop, 1000):
                yield data[at : min(at + 1000, stop)]

    members = registry.central_directory(Local(), "local", len(data))
    found = wheelarch.arch_flags(
        registry.member_chunks(Local(), "local", members["torch/lib/libtorch_python.so"])
    )
    variant = torch_facts.variant("2.15.0", "cu132")
    assert variant is not None and found == (list(variant.archs), list(variant.ptx))
    assert wheelarch.arch_flags([b"\x00sm_80\x00 nothing here"]) is None
    assert wheelarch.arch_flags([b"x\x00sm_80 sm_90 compute_90\x00"]) == (["8.0", "9.0"], ["9.0"])


def test_check_exits_1_listing_what_is_new_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    facts = tmp_path / "facts"
    facts.mkdir()
    (facts / "jax.toml").write_text(without_block(committed("jax"), "release", "0.12.0.1"))
    monkeypatch.setattr(update_data, "FACTS", facts)
    monkeypatch.setattr(registry, "HttpFetcher", lambda cache=None: _Counting())
    assert update_data.main(["jax", "--check", "--no-archs"]) == 1
    printed = capsys.readouterr().out
    assert "jax: 1 new, 0 changed" in printed and "new: jax 0.12.0.1" in printed
    assert "2026-11-25" in (facts / "jax.toml").read_text()  # untouched
    assert update_data.main(["jax", "--no-archs", "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "jax.toml").read_text().count("[[release]]") == committed("jax").count(
        "[[release]]"
    )
    (facts / "jax.toml").write_text(committed("jax"))
    assert update_data.main(["jax", "--check", "--no-archs"]) == 0


class _Counting(Replay):
    bytes_read = 0


def test_the_weekly_workflow_parses_and_runs_the_updater() -> None:
    yaml = pytest.importorskip("yaml")
    flow = yaml.safe_load((REPO / ".github" / "workflows" / "update-data.yml").read_text())
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "schedule" in triggers and "workflow_dispatch" in triggers
    steps = [s for job in flow["jobs"].values() for s in job["steps"]]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "bin/update_data.py" in runs and "--check" in runs
    assert any("create-pull-request" in s.get("uses", "") for s in steps)
