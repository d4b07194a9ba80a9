#!/usr/bin/env python3
"""Record the registry answers tests/test_update_data.py replays (tests/fixtures/registry).

Run from the repository root with network access to PyPI: `python bin/record_registry_fixtures.py`.
It saves PyPI JSON API answers trimmed to a few releases, the METADATA of the wheels the updater
reads for them, the exact byte ranges two ranged reads consume (a jax wheel's METADATA; one shared
library of the JAX CUDA 13 plugin, for the fat-binary reader), and the 4 KiB of torch's
libtorch_python.so around its CUDA_ARCH_FLAGS string, each with a .source.md.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import registry  # noqa: E402
import update_data  # noqa: E402

OUT = HERE.parent / "tests" / "fixtures" / "registry"
KEEP = {
    "jax": ["0.11.2", "0.12.0", "0.12.0.1"],
    "jaxlib": ["0.11.2", "0.12.0", "0.12.0.1"],
    "jax-cuda12-plugin": ["0.11.2", "0.12.0", "0.12.0.1"],
    "jax-cuda13-plugin": ["0.11.2", "0.12.0", "0.12.0.1"],
    "torch": ["2.14.0", "2.14.1", "2.15.0"],
}
TODAY = datetime.date.today().isoformat()


def source(path: Path, text: str) -> None:
    path.with_name(path.name + ".source.md").write_text(
        f"# {path.name}\n\n{text.strip()}\n", encoding="utf-8"
    )


class Recorder:
    """Passes requests to PyPI; trims JSON API answers and remembers the ranges that were consumed."""

    def __init__(self) -> None:
        self.inner = registry.HttpFetcher()
        self.ranges: dict[str, bytes] = {}

    def get(self, url: str) -> bytes:
        body = self.inner.get(url)
        for project, versions in KEEP.items():
            if url == registry.PYPI_JSON.format(project=project):
                data = json.loads(body)
                trimmed = {
                    "info": {"name": data["info"]["name"], "version": data["info"]["version"]},
                    "releases": {v: data["releases"][v] for v in versions},
                }
                file = OUT / "pypi" / f"{project}.json"
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_text(json.dumps(trimmed, indent=1) + "\n", encoding="utf-8")
                source(
                    file,
                    f"PyPI JSON API answer for {project}, fetched {TODAY} from {url}. Trimmed: `info` keeps "
                    f"name and version only, `releases` keeps {', '.join(versions)} (every file of each, as "
                    "served; the file URLs are relative to the API URL, as PyPI's mirror here serves them).",
                )
                return json.dumps(trimmed).encode()
        return body

    def size(self, url: str) -> int:
        return self.inner.size(url)

    def get_range(self, url: str, start: int, end: Optional[int] = None) -> Iterator[bytes]:
        got = bytearray()
        try:
            for chunk in self.inner.get_range(url, start, end):
                got += chunk
                yield chunk
        finally:
            self.ranges[f"{url} {start}"] = bytes(got)


def record_metadata() -> None:
    """METADATA of every wheel the updater reads for the kept releases (saved raw)."""
    original = registry.wheel_metadata

    def recording(fetcher: registry.Fetcher, wheel: registry.File) -> object:
        members = registry.central_directory(recorder.inner, wheel.url, wheel.size)
        (name,) = [n for n in members if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        raw = b"".join(registry.member_chunks(recorder.inner, wheel.url, members[name]))
        file = OUT / "metadata" / f"{wheel.filename}.METADATA"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(raw)
        source(file, f"`{name}` of {wheel.filename} ({wheel.url}), read {TODAY} by HTTP range requests.")
        return original(fetcher, wheel)

    recorder = Recorder()
    registry.wheel_metadata = recording  # type: ignore[assignment]
    try:
        archs = update_data.Archs(recorder, enabled=False)
        for name in ("jax", "pytorch"):
            text = (update_data.FACTS / f"{name}.toml").read_text(encoding="utf-8")
            if name == "jax":
                update_data.update_jax(text, recorder, archs, datetime.date.today())
            else:
                update_data.update_pytorch(text, recorder, archs, datetime.date.today(), "not asked")
    finally:
        registry.wheel_metadata = original


def record_ranges() -> None:
    """The byte ranges of two real ranged reads, replayable by URL and start offset."""
    recorder = Recorder()
    jax = registry.releases(recorder.inner, "jax")
    wheel = next(f for f in jax["0.12.0.1"] if f.filename.endswith("none-any.whl"))
    registry.wheel_metadata(recorder, wheel)
    plugin = update_data.pick(
        registry.releases(recorder.inner, "jax-cuda13-plugin")["0.12.0.1"], "linux-x86_64"
    )
    assert plugin is not None
    members = registry.central_directory(recorder, plugin.url, plugin.size)
    for _ in registry.member_chunks(recorder, plugin.url, members["jax_cuda13_plugin/_prng.so"]):
        pass
    index = {}
    for n, (key, data) in enumerate(sorted(recorder.ranges.items())):
        file = OUT / "ranges" / f"{n}.bin"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)
        url, start = key.rsplit(" ", 1)
        index[key] = file.name
        source(
            file,
            f"Bytes {start}-{int(start) + len(data) - 1} of {url}, read {TODAY} by an HTTP range request.",
        )
    (OUT / "ranges" / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")
    source(OUT / "ranges" / "index.json", "Which recorded range file answers which `URL START` request.")


def record_flags_window() -> None:
    torch = registry.releases(registry.HttpFetcher(), "torch")
    wheel = update_data.pick(torch["2.15.0"], "linux-x86_64")
    assert wheel is not None
    fetcher = registry.HttpFetcher()
    members = registry.central_directory(fetcher, wheel.url, wheel.size)
    seen = b""
    for chunk in registry.member_chunks(fetcher, wheel.url, members["torch/lib/libtorch_python.so"]):
        seen = (seen + chunk)[-(1 << 20) :]
        at = seen.find(b"sm_75 sm_80")
        if at >= 0 and len(seen) > at + 2048:
            window = seen[at - 2048 : at + 2048]
            break
    file = OUT / "libtorch_python-2.15.0-x86_64-window.bin"
    file.write_bytes(window)
    source(
        file,
        f"4096 bytes of torch/lib/libtorch_python.so (inflated) from {wheel.filename} ({wheel.url}), "
        f"read {TODAY} by a ranged, streamed download: 2048 bytes either side of the start of its "
        "CUDA_ARCH_FLAGS string `sm_75 sm_80 sm_86 sm_90 sm_100 sm_120`.",
    )


if __name__ == "__main__":
    record_metadata()
    record_ranges()
    record_flags_window()
