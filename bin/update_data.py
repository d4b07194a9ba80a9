#!/usr/bin/env python3
"""Regenerate fwsetup/facts/{jax,pytorch,tensorflow,companions}.toml from the package registry.

    bin/update_data.py FRAMEWORK... [--out DIR] [--check] [--cache DIR] [--no-archs]

What the registry states is recomputed and written into the committed file's own text: releases,
Python tags, platforms, extras and Requires-Dist pins from PyPI's JSON API and the wheels' METADATA
(fetched alone: PEP 658 where served, else ranged reads of the zip), and the CUDA architectures
from the wheels' compiled code (ranged reads: torch's CUDA_ARCH_FLAGS string, the fat binaries of
the JAX CUDA plugin). Hand-verified fields, notes, `source` entries and comments stay as they are;
a new release is added as a block written like its neighbours, so the diff is a few added lines.
The PyTorch index (download.pytorch.org) holds the non-default CUDA and ROCm variants; where it is
not reachable the run says so and keeps the committed values for those variants. Where it answers,
each ROCm variant's gfx list is checked against the PYTORCH_ROCM_ARCH string its x86_64 wheel
compiled into libtorch_python.so (what torch.cuda.get_arch_list() returns on ROCm).

--check writes nothing and exits 1 listing what is new or changed (0: the data is current).
Without --out the files in fwsetup/facts are rewritten; their `checked` date becomes today.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Callable, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import registry  # noqa: E402
import tomltext  # noqa: E402
import wheelarch  # noqa: E402
import wheelfloors  # noqa: E402
from packaging.requirements import InvalidRequirement, Requirement  # noqa: E402
from packaging.version import InvalidVersion, Version  # noqa: E402
from registry import Fetcher, File  # noqa: E402
from tomltext import Block, Section, TableText  # noqa: E402

FACTS = HERE.parent / "fwsetup" / "facts"
PYTORCH_INDEX = "https://download.pytorch.org/whl/"
PLATFORM_ORDER = {
    "jax": ["linux-x86_64", "linux-aarch64", "macos-x86_64", "macos-arm64", "windows-amd64"],
    "pytorch": ["linux-x86_64", "linux-aarch64", "windows-amd64", "macos-arm64", "macos-x86_64"],
}
JAX_RELEASE_KEYS = [
    "version", "python", "jaxlib", "platforms", "cuda_extras", "cuda_platforms",
    "legacy_cuda_extras", "rocm_extras", "note", "source",
]  # fmt: skip
JAX_EXTRA_KEYS = [
    "name", "legacy", "cuda", "min_driver_linux", "min_driver_windows", "min_compute_capability",
    "platforms", "packages", "archs", "ptx", "find_links", "note", "source",
]  # fmt: skip
TORCH_RELEASE_KEYS = [
    "version",
    "python",
    "pypi_default",
    "pypi_default_aarch64",
    "verified",
    "note",
    "source",
]
TORCH_VARIANT_KEYS = [
    "name", "cuda", "rocm", "archs", "ptx", "gfx", "xpu", "platforms", "index_url", "verified", "note", "source",
]  # fmt: skip


@dataclass
class Outcome:
    """What one framework's run found: the new text and the lines for the person reading the run."""

    framework: str
    text: str
    new: list[str] = field(default_factory=list)  # releases the committed file lacks
    changed: list[str] = field(default_factory=list)  # committed facts the registry contradicts
    notes: list[str] = field(default_factory=list)  # what was not checked, and why

    @property
    def stale(self) -> bool:
        return bool(self.new or self.changed)


# --- small readers ---------------------------------------------------------------------------


def platform_of(tag: str) -> Optional[str]:
    """A wheel platform tag as the tables name platforms."""
    if tag.startswith(("manylinux", "linux")):
        return (
            "linux-x86_64" if tag.endswith("x86_64") else "linux-aarch64" if tag.endswith("aarch64") else None
        )
    if tag.startswith("macosx"):
        return "macos-arm64" if tag.endswith("arm64") else "macos-x86_64" if tag.endswith("x86_64") else None
    return "windows-amd64" if tag == "win_amd64" else None


def ordered(platforms: Iterable[str], framework: str) -> list[str]:
    order = PLATFORM_ORDER[framework]
    return [p for p in order if p in set(platforms)]


def wheels(files: Sequence[File]) -> list[File]:
    return [f for f in files if f.is_wheel and not f.yanked]


def platforms_of(files: Sequence[File], framework: str) -> list[str]:
    found = set()
    for f in wheels(files):
        for tag in f.tags[2].split("."):
            p = platform_of(tag)
            if p:
                found.add(p)
    return ordered(found, framework)


def cpython_minors(files: Sequence[File], platform: Optional[str] = None) -> set[int]:
    """CPython 3.X minors with a cpXY wheel (free-threaded cpXYt builds not counted)."""
    minors = set()
    for f in wheels(files):
        python, abi, plat = f.tags
        if platform is not None and platform not in {platform_of(t) for t in plat.split(".")}:
            continue
        if abi.endswith("t"):
            continue
        for tag in python.split("."):
            m = re.fullmatch(r"cp3(\d+)", tag)
            if m:
                minors.add(int(m.group(1)))
    return minors


def finals(releases: dict[str, list[File]], floor: Version) -> list[str]:
    """Final releases at or above `floor` with at least one file that is not yanked, oldest first."""
    out = []
    for text, files in releases.items():
        try:
            v = Version(text)
        except InvalidVersion:
            continue
        if v >= floor and not (v.is_prerelease or v.is_devrelease) and any(not f.yanked for f in files):
            out.append(text)
    return sorted(out, key=Version)


def cuda_pin(meta: Message, machine: str) -> Optional[str]:
    """The CUDA minor a Linux wheel pins in Requires-Dist for this machine (x86_64, aarch64):
    cuda-toolkit==13.0.2 or nvidia-cuda-runtime-cu12==12.1.105, markers evaluated (torch < 2.11
    pins them for x86_64 only, in the aarch64 wheel's METADATA as well)."""
    env = {"platform_machine": machine, "platform_system": "Linux", "sys_platform": "linux", "extra": ""}
    for line in meta.get_all("Requires-Dist") or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        if re.fullmatch(r"cuda-toolkit|nvidia-cuda-runtime(?:-cu\d+)?", req.name):
            pins = [s.version for s in req.specifier if s.operator == "=="]
            if pins:
                return ".".join(pins[0].split(".")[:2])
    return None


def cuda_floor(meta: Message) -> Optional[str]:
    """The lowest CUDA runtime a plugin's with-cuda extra allows (nvidia-cuda-runtime-cu12>=12.1.105)."""
    for req in meta.get_all("Requires-Dist") or []:
        m = re.match(r"\s*nvidia-cuda-runtime(?:-cu\d+)?\s*(?:\[[^]]*\])?\s*>=\s*(\d+)\.(\d+)", req)
        if m:
            return f"{m.group(1)}.{m.group(2)}"
    return None


def python_spec(lower: str, minors: set[int]) -> str:
    return f">={lower},<3.{max(minors) + 1}"


def pick(files: Sequence[File], platform: str) -> Optional[File]:
    """The wheel for a platform with the newest CPython tag (the most likely to be current)."""
    found = [f for f in wheels(files) if platform in {platform_of(t) for t in f.tags[2].split(".")}]
    found.sort(key=lambda f: (not f.tags[1].endswith("t"), f.tags[0]))
    return found[-1] if found else None


class Archs:
    """Reads architecture lists from wheels, remembering each answer for the rest of the run."""

    def __init__(self, fetcher: Fetcher, enabled: bool) -> None:
        self.fetcher, self.enabled = fetcher, enabled
        self.seen: dict[str, Optional[tuple[list[str], list[str]]]] = {}

    def torch(self, wheel: File) -> Optional[tuple[list[str], list[str]]]:
        if not self.enabled:
            return None
        if wheel.url not in self.seen:
            members = registry.central_directory(self.fetcher, wheel.url, wheel.size)
            lib = members.get("torch/lib/libtorch_python.so")
            stream = registry.member_chunks(self.fetcher, wheel.url, lib) if lib else iter(())
            self.seen[wheel.url] = wheelarch.arch_flags(stream)
        return self.seen[wheel.url]

    def rocm(self, url: str, size: int) -> Optional[list[str]]:
        """The gfx targets compiled into a ROCm torch wheel on the PyTorch index."""
        if not self.enabled:
            return None
        if url not in self.seen:
            members = registry.central_directory(self.fetcher, url, size)
            lib = members.get("torch/lib/libtorch_python.so")
            stream = registry.member_chunks(self.fetcher, url, lib) if lib else iter(())
            found = wheelarch.gfx_flags(stream)
            self.seen[url] = (found, []) if found else None
        seen = self.seen[url]
        return seen[0] if seen else None

    def fatbins(self, wheel: File) -> Optional[tuple[list[str], list[str]]]:
        """The union over every shared library of a (small) JAX CUDA plugin wheel."""
        if not self.enabled:
            return None
        if wheel.url not in self.seen:
            sass: set[str] = set()
            ptx: set[str] = set()
            members = registry.central_directory(self.fetcher, wheel.url, wheel.size)
            for name, member in members.items():
                if name.endswith(".so"):
                    s, p, _ = wheelarch.fatbin_archs(registry.member_chunks(self.fetcher, wheel.url, member))
                    sass.update(s)
                    ptx.update(p)
            self.seen[wheel.url] = (wheelarch._order(sass), wheelarch._order(ptx)) if sass or ptx else None
        return self.seen[wheel.url]


def compare(section: Section, key: str, value: Optional[tomltext.Value], order: Sequence[str], what: str,
            outcome: Outcome) -> None:  # fmt: skip
    """Write the registry's value; a committed value it contradicts is reported."""
    before = section.get(key)
    if section.set(key, value, order):
        outcome.changed.append(f"{what} {key}: committed {before!r}, registry {value!r}")


# --- JAX ---------------------------------------------------------------------------------------


def update_jax(text: str, fetcher: Fetcher, archs: Archs, today: datetime.date) -> Outcome:
    table = TableText.parse(text)
    out = Outcome("jax", text)
    committed = {b.main.get("version"): b for b in table.of("release")}
    floor = min(Version(v) for v in committed)
    jax = registry.releases(fetcher, "jax")
    jaxlib = registry.releases(fetcher, "jaxlib")
    jaxlibs = finals(jaxlib, Version("0"))
    plugins = {n: registry.releases(fetcher, f"jax-cuda{n}-plugin") for n in (12, 13)}
    meta_of: dict[str, Message] = {}
    last: Optional[Block] = None
    for version in finals(jax, floor):
        files = jax[version]
        wheel = next((f for f in wheels(files) if f.filename.endswith("-py3-none-any.whl")), None)
        if wheel is None:
            out.notes.append(f"jax {version}: no py3-none-any wheel; skipped")
            continue
        meta = meta_of[version] = registry.wheel_metadata(fetcher, wheel)
        lib = (
            version
            if version in jaxlibs
            else max((v for v in jaxlibs if Version(v) < Version(version)), key=Version)
        )
        lib_files = jaxlib[lib]
        minors = cpython_minors(lib_files)
        lower = str(meta.get("Requires-Python") or "").replace(" ", "")
        lower = lower.split(",")[0].lstrip(">=") if lower.startswith(">=") else f"3.{min(minors)}"
        extras = [str(e) for e in meta.get_all("Provides-Extra") or []]
        usable, missing, plugin_platforms = [], [], []
        for extra in extras:
            m = re.fullmatch(r"cuda(\d+)", extra)
            if not m or int(m.group(1)) not in plugins:
                continue
            plugin = plugins[int(m.group(1))].get(lib, [])
            if wheels(plugin):
                usable.append(extra)
                plugin_platforms.append(set(platforms_of(plugin, "jax")))
            else:
                missing.append(extra)
        linux = {"linux-x86_64", "linux-aarch64"}
        cuda_platforms = set.intersection(*plugin_platforms) if plugin_platforms else linux
        fields: dict[str, Optional[tomltext.Value]] = {
            "python": python_spec(lower, minors),
            "jaxlib": lib,
            "platforms": platforms_of(lib_files, "jax"),
            "cuda_extras": usable,
            "cuda_platforms": ordered(cuda_platforms, "jax") if not linux <= cuda_platforms else None,
            "rocm_extras": [e for e in extras if e.startswith("rocm")] or None,
        }
        # legacy_cuda_extras stay hand-verified: jax declared cuda12_pip until 0.4.35, but the monolithic
        # jaxlibs it names live in Google's bucket, not on PyPI, and ended with 0.4.29 (CHANGELOG)
        block = committed.get(version)
        if block is None:
            block = Block(
                "release", Section(["[[release]]", f"version = {tomltext.fmt(version)}"]), tail=[""]
            )
            notes = [f"the {e} extra is declared but jax-{e}-plugin {lib} is not on PyPI" for e in missing]
            if not linux <= cuda_platforms:
                where = ", ".join(ordered(cuda_platforms, "jax"))
                notes.append(f"jax-{usable[0]}-plugin {lib} has wheels for {where} only")
            if notes:
                block.main.set("note", "; ".join(notes), JAX_RELEASE_KEYS)
            span = f"cp3{min(minors)}-cp3{max(minors)}"
            block.main.set("source", f"PYPI (jax Requires-Python and extras; jaxlib {lib} {span} wheels)",
                           JAX_RELEASE_KEYS)  # fmt: skip
            for key, value in fields.items():
                block.main.set(key, value, JAX_RELEASE_KEYS)
            table.insert(block, last)
            out.new.append(f"jax {version} (jaxlib {lib}, Python {fields['python']}, extras {usable})")
        else:
            for key, value in fields.items():
                compare(block.main, key, value, JAX_RELEASE_KEYS, f"jax {version}", out)
        last = block
    gone = sorted(set(committed) - set(finals(jax, floor)), key=Version)
    if gone:
        out.notes.append(f"committed but not (or no longer) on the index, kept: {', '.join(gone)}")
    _jax_extras(table, plugins, fetcher, archs, out)
    out.text = _finish(table, out, today)
    return out


def _jax_extras(table: TableText, plugins: dict[int, dict[str, list[File]]], fetcher: Fetcher, archs: Archs,
                out: Outcome) -> None:  # fmt: skip
    for block in table.of("cuda_extra"):
        name = block.main.get("name")
        m = re.fullmatch(r"cuda(\d+)", name or "")
        if block.main.get("legacy") or not m or int(m.group(1)) not in plugins:
            continue
        releases = plugins[int(m.group(1))]
        newest = finals(releases, Version("0"))[-1]
        x86 = pick(releases[newest], "linux-x86_64")
        if x86 is None:
            continue
        floor = cuda_floor(registry.wheel_metadata(fetcher, x86))
        if floor:
            compare(block.main, "cuda", floor, JAX_EXTRA_KEYS, f"cuda_extra {name}", out)
        compare(block.main, "platforms", platforms_of(releases[newest], "jax"), JAX_EXTRA_KEYS,
                f"cuda_extra {name}", out)  # fmt: skip
        found = archs.fatbins(x86)
        if found is None:
            out.notes.append(f"cuda_extra {name}: architectures not read (kept)")
            continue
        compare(
            block.main,
            "archs",
            found[0],
            JAX_EXTRA_KEYS,
            f"cuda_extra {name} (jax-{name}-plugin {newest})",
            out,
        )
        compare(
            block.main,
            "ptx",
            found[1],
            JAX_EXTRA_KEYS,
            f"cuda_extra {name} (jax-{name}-plugin {newest})",
            out,
        )


# --- PyTorch -----------------------------------------------------------------------------------


def pytorch_index_reachable(timeout: float = 5.0) -> Optional[str]:
    """None when download.pytorch.org answers, else why not."""
    try:
        with urllib.request.urlopen(PYTORCH_INDEX, timeout=timeout):
            return None
    except urllib.error.HTTPError:
        return None  # it answered
    except OSError as exc:
        return str(getattr(exc, "reason", exc))


def update_pytorch(text: str, fetcher: Fetcher, archs: Archs, today: datetime.date,
                   index_problem: Optional[str]) -> Outcome:  # fmt: skip
    table = TableText.parse(text)
    out = Outcome("pytorch", text)
    if index_problem is not None:
        out.notes.append(
            f"download.pytorch.org is not reachable from here ({index_problem}): the variants only on the "
            "PyTorch index (other CUDA versions, ROCm) are kept as committed and not added for new releases"
        )
    committed = {tuple(Version(b.main.get("version")).release[:2]): b for b in table.of("release")}
    floor = Version(".".join(map(str, min(committed))))
    torch = registry.releases(fetcher, "torch")
    newest: dict[tuple[int, ...], str] = {}
    for version in finals(torch, floor):
        newest[tuple(Version(version).release[:2])] = version
    last: Optional[Block] = None
    for series in sorted(newest):
        version = newest[series]
        files = torch[version]
        out.changed.extend(wheelfloors.drift(version, files))  # floors.toml is checked, not rewritten
        platforms = platforms_of(files, "pytorch")
        common = set.intersection(*(cpython_minors(files, p) for p in platforms))
        x86, arm = pick(files, "linux-x86_64"), pick(files, "linux-aarch64")
        x86_cuda = cuda_pin(registry.wheel_metadata(fetcher, x86), "x86_64") if x86 else None
        arm_cuda = cuda_pin(registry.wheel_metadata(fetcher, arm), "aarch64") if arm else None
        every = set.union(*(cpython_minors(files, p) for p in platforms))
        python = python_spec(f"3.{min(common)}", common)
        block = committed.get(series)
        if block is not None and block.main.get("python") == python_spec(f"3.{min(common)}", every):
            # a Python with wheels on some platforms only (1.13.1: cp311, 2.5.1: cp313 on Linux x86_64):
            # whether it counts depends on the PyTorch index's builds, so PyPI alone keeps either choice
            python = block.main.get("python")
        fields: dict[str, Optional[tomltext.Value]] = {
            "version": version,
            "python": python,
            "pypi_default": _cu(x86_cuda) or "cpu",
            "pypi_default_aarch64": _cu(arm_cuda),
        }
        what = f"torch {version}"
        is_new = block is None
        if block is None:
            block = _new_torch_release(version, fields, platforms, common, x86_cuda, arm_cuda, index_problem)
            if index_problem is None and last is not None:
                block.subs += index_variants(fetcher, version, last, block, out)
            table.insert(block, last)
            out.new.append(
                f"torch {version} (Python {fields['python']}, PyPI default {fields['pypi_default']})"
            )
        else:
            for key, value in fields.items():
                compare(block.main, key, value, TORCH_RELEASE_KEYS, what, out)
            cpu = next((v for v in block.subs if v.get("name") == "cpu"), None)
            if cpu is not None:
                compare(cpu, "platforms", platforms, TORCH_VARIANT_KEYS, f"{what} cpu variant", out)
        for wheel, cuda, plat in ((x86, x86_cuda, "linux-x86_64"), (arm, arm_cuda, "linux-aarch64")):
            if wheel is None or cuda is None:
                continue
            variant = next(
                (v for v in block.subs if v.get("name") == _cu(cuda) and plat in v.get("platforms")), None
            )
            found = archs.torch(wheel)
            if variant is None:
                continue
            if found is None:
                out.notes.append(f"{what} {plat}: CUDA_ARCH_FLAGS not read (kept)")
                if is_new:
                    variant.set("verified", False, TORCH_VARIANT_KEYS)
                    variant.set("note", "architectures not read from the wheel", TORCH_VARIANT_KEYS)
                continue
            if is_new:
                variant.set("archs", found[0], TORCH_VARIANT_KEYS)
                variant.set("ptx", found[1], TORCH_VARIANT_KEYS)
                continue
            compare(variant, "archs", found[0], TORCH_VARIANT_KEYS, f"{what} {_cu(cuda)} {plat}", out)
            compare(variant, "ptx", found[1], TORCH_VARIANT_KEYS, f"{what} {_cu(cuda)} {plat}", out)
        if index_problem is None and not is_new:
            check_rocm_gfx(fetcher, archs, block, version, out)
        last = block
    out.text = _finish(table, out, today)
    return out


_WHEEL_HREF = re.compile(r'href="([^"#]+\.whl)[^"]*"', re.I)


def check_rocm_gfx(fetcher: Fetcher, archs: Archs, block: Block, version: str, out: Outcome) -> None:
    """The gfx list of each ROCm variant of a release, checked against the one its wheel on
    download.pytorch.org compiled in (torch.cuda.get_arch_list()); a difference is reported and written."""
    for variant in block.subs:
        name = variant.get("name")
        if not variant.get("rocm") or not variant.get("gfx"):
            continue
        page_url = f"{PYTORCH_INDEX}{name}/torch/"
        try:
            html = fetcher.get(page_url).decode("utf-8", "replace")
        except (OSError, registry.RegistryError, urllib.error.HTTPError) as exc:
            out.notes.append(f"torch {version} {name}: {page_url} not read ({exc})")
            continue
        prefix = f"torch-{version}+{name}-".replace("+", "%2B")
        hrefs = [h for h in _WHEEL_HREF.findall(html) if prefix in h or prefix.replace("%2B", "+") in h]
        hrefs = [h for h in hrefs if h.endswith("x86_64.whl")]
        if not hrefs:
            out.notes.append(f"torch {version} {name}: no Linux x86_64 wheel on {page_url} (gfx kept)")
            continue
        url = urllib.parse.urljoin(page_url, hrefs[-1])
        try:
            found = archs.rocm(url, fetcher.size(url))
        except (OSError, registry.RegistryError, urllib.error.HTTPError) as exc:
            out.notes.append(f"torch {version} {name}: {url} not read ({exc})")
            continue
        if found is None:
            out.notes.append(f"torch {version} {name}: no gfx list found in its libtorch_python.so (kept)")
            continue
        compare(variant, "gfx", found, TORCH_VARIANT_KEYS, f"torch {version} {name}", out)


_ANCHOR = re.compile(r"<a\b[^>]*>([^<]+)</a>", re.I)


def index_variants(
    fetcher: Fetcher, version: str, previous: Block, new: Block, out: Outcome
) -> list[Section]:
    """For a new series: the previous release's index-only variants that download.pytorch.org also
    offers for `version` (its PEP 503 page per variant), copied with the platforms found there and
    marked unverified: their architecture lists are the previous release's until a person reads them."""
    have = {(v.get("name"), tuple(v.get("platforms") or ())) for v in new.subs}
    added: list[Section] = []
    pages: dict[str, set[str]] = {}
    for prev in previous.subs:
        name = prev.get("name")
        if name not in pages:
            try:
                html = fetcher.get(f"{PYTORCH_INDEX}{name}/torch/").decode("utf-8", "replace")
            except (OSError, registry.RegistryError, urllib.error.HTTPError) as exc:
                out.notes.append(f"torch {version}: {PYTORCH_INDEX}{name}/torch/ not read ({exc})")
                html = ""
            found: set[str] = set()
            for link in _ANCHOR.findall(html):
                link = link.strip()
                if link.startswith(f"torch-{version}+{name}-") and link.endswith(".whl"):
                    found.update(p for t in link[:-4].split("-")[-1].split(".") if (p := platform_of(t)))
            pages[name] = found
        platforms = [p for p in prev.get("platforms") or () if p in pages[name]]
        if not platforms or any(n == name and set(platforms) & set(ps) for n, ps in have):
            continue
        copy = Section(list(prev.lines))
        copy.set("platforms", platforms, TORCH_VARIANT_KEYS)
        copy.set("verified", False, TORCH_VARIANT_KEYS)
        copy.set("note", f"on download.pytorch.org for {version}; archs copied from {previous.main.get('version')}, "
                 "not read from this wheel", TORCH_VARIANT_KEYS)  # fmt: skip
        copy.set(
            "source", f"PTINDEX ({PYTORCH_INDEX}{name}/torch/ lists {version}+{name})", TORCH_VARIANT_KEYS
        )
        added.append(copy)
        out.notes.append(
            f"torch {version}: {name} on {', '.join(platforms)} from download.pytorch.org (unverified)"
        )
    return added


def _cu(cuda: Optional[str]) -> Optional[str]:
    return "cu" + cuda.replace(".", "") if cuda else None


def _new_torch_release(version: str, fields: dict[str, Optional[tomltext.Value]], platforms: list[str],
                       minors: set[int], x86_cuda: Optional[str], arm_cuda: Optional[str],
                       index_problem: Optional[str]) -> Block:  # fmt: skip
    """A release block from PyPI alone; its index-only variants need the PyTorch index or a person."""
    main = Section(["[[release]]"])
    for key, value in fields.items():
        main.set(key, value, TORCH_RELEASE_KEYS)
    main.set("verified", False, TORCH_RELEASE_KEYS)
    if index_problem:
        note = "written by bin/update_data.py from PyPI; the variants on download.pytorch.org (not reachable) are not listed yet"
    else:
        note = "written by bin/update_data.py from PyPI and download.pytorch.org; index variants are unverified copies"
    main.set("note", note, TORCH_RELEASE_KEYS)
    pins = ", ".join(f"{p} +{_cu(c)}" for p, c in (("x86_64", x86_cuda), ("aarch64", arm_cuda)) if c)
    main.set("source", f"PYPI (cp3{min(minors)}-cp3{max(minors)}; {pins or 'CPU-only'})", TORCH_RELEASE_KEYS)
    subs = [
        Section(["  [[release.variant]]"]),
    ]
    for key, value in (
        ("name", "cpu"), ("archs", []), ("ptx", []), ("platforms", platforms),
        ("index_url", "https://download.pytorch.org/whl/cpu"),
        ("source", "PYPI (cpu wheels on every platform listed; Linux/Windows CPU builds come from the cpu index)"),
    ):  # fmt: skip
        subs[0].set(key, value, TORCH_VARIANT_KEYS)
    for cuda, plat in ((x86_cuda, "linux-x86_64"), (arm_cuda, "linux-aarch64")):
        if cuda is None:
            continue
        sub = Section(["  [[release.variant]]"])
        for key, value in (
            ("name", _cu(cuda)), ("cuda", cuda), ("archs", []), ("ptx", []), ("platforms", [plat]),
            ("index_url", f"https://download.pytorch.org/whl/{_cu(cuda)}"),
            ("source", f"ARCHFLAGS (PyPI {version} {plat.split('-')[1]})"),
        ):  # fmt: skip
            sub.set(key, value, TORCH_VARIANT_KEYS)
        subs.append(sub)
    return Block("release", main, subs, tail=[""])


# --- TensorFlow (releases only) ------------------------------------------------------------------


def update_tensorflow(text: str, fetcher: Fetcher, archs: Archs, today: datetime.date) -> Outcome:
    """New minor series and Python tags; the CUDA/cuDNN/Keras columns come from TensorFlow's tested
    build table, which is not in the registry, so a new series is listed for a person to add."""
    table = TableText.parse(text)
    out = Outcome("tensorflow", text)
    committed = {tuple(Version(b.main.get("version")).release[:2]): b for b in table.of("release")}
    tf = registry.releases(fetcher, "tensorflow")
    newest: dict[tuple[int, ...], str] = {}
    for version in finals(tf, Version(".".join(map(str, min(committed))))):
        newest[tuple(Version(version).release[:2])] = version
    for series, version in sorted(newest.items()):
        block = committed.get(series)
        if block is None:
            out.new.append(f"tensorflow {version} (not added: its CUDA/cuDNN/Keras columns need a person)")
        elif block.main.get("version") != version:
            out.changed.append(
                f"tensorflow {series}: committed {block.main.get('version')}, PyPI newest {version}"
            )
    out.notes.append("tensorflow: only releases are compared; python/cuda/archs columns are hand-verified")
    out.text = _finish(table, out, today)
    return out


def update_companions(text: str, fetcher: Fetcher, archs: Archs, today: datetime.date) -> Outcome:
    """companions.toml is generated whole from each companion's METADATA (bin/companions.py)."""
    import companions

    fresh = companions.generate(fetcher, today)
    out = Outcome("companions", fresh)
    old, new = _without_checked(text), _without_checked(fresh)
    if old != new:
        added = sorted(set(new.splitlines()) - set(old.splitlines()))
        out.changed.extend(line for line in added if line.startswith(("version", "requires")))
        out.changed = out.changed or ["companions.toml differs from the registry"]
    return out


def _without_checked(text: str) -> str:
    return "\n".join(line for line in text.strip().splitlines() if not line.startswith("checked = "))


def _finish(table: TableText, out: Outcome, today: datetime.date) -> str:
    table.set_checked(today)
    return table.text()


UPDATERS: dict[str, Callable[..., Outcome]] = {
    "jax": update_jax,
    "pytorch": update_pytorch,
    "tensorflow": update_tensorflow,
    "companions": update_companions,
}


def run(frameworks: Sequence[str], fetcher: Fetcher, today: datetime.date, read_archs: bool = True,
        index_problem: Optional[str] = None, facts: Optional[Path] = None) -> list[Outcome]:  # fmt: skip
    archs = Archs(fetcher, read_archs)
    facts = facts or FACTS
    outcomes = []
    for name in frameworks:
        text = (facts / f"{name}.toml").read_text(encoding="utf-8")
        if name == "pytorch":
            outcomes.append(update_pytorch(text, fetcher, archs, today, index_problem))
        else:
            outcomes.append(UPDATERS[name](text, fetcher, archs, today))
    return outcomes


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="bin/update_data.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("frameworks", nargs="+", choices=sorted(UPDATERS), metavar="FRAMEWORK")
    parser.add_argument("--out", type=Path, help="write NAME.toml here instead of fwsetup/facts")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when something is new")
    parser.add_argument("--cache", type=Path, help="keep registry answers here for an hour (reruns)")
    parser.add_argument("--no-archs", action="store_true", help="do not read architectures from wheels")
    args = parser.parse_args(argv)
    fetcher = registry.HttpFetcher(args.cache)
    started = time.monotonic()
    problem = pytorch_index_reachable() if "pytorch" in args.frameworks else None
    try:
        outcomes = run(args.frameworks, fetcher, datetime.date.today(), not args.no_archs, problem)
    except registry.RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for outcome in outcomes:
        print(f"{outcome.framework}: {len(outcome.new)} new, {len(outcome.changed)} changed")
        for line in outcome.new:
            print(f"  new: {line}")
        for line in outcome.changed:
            print(f"  changed: {line}")
        for line in outcome.notes:
            print(f"  note: {line}")
        if not args.check:
            target = (args.out or FACTS) / f"{outcome.framework}.toml"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(outcome.text, encoding="utf-8")
            print(f"  wrote {target}")
    print(f"{time.monotonic() - started:.1f} s, {fetcher.bytes_read / 1e6:.1f} MB read from the registry")
    return 1 if args.check and any(o.stale for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
