"""CUDA toolkits on the machine: nvcc on PATH, CUDA_HOME/CUDA_PATH and /usr/local/cuda*.

A toolkit is identified by its real directory, so `/usr/local/cuda -> cuda-13.0` and a
PATH nvcc inside it are listed once. Versions come from `version.json`, `version.txt` or the
nvcc wheel's dist-info where the toolkit has one (a file read), and only otherwise from `nvcc --version`
(a process, tens of milliseconds), at most once per toolkit. cuDNN and NCCL versions
are read from their headers: cheap file reads, no imports, no tools.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Iterable

from fwsetup.probe.base import Probed, ProbeEnv, run_problem
from fwsetup.records import dataclass
from fwsetup.report import CudaToolkit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

SOURCE = "cuda"

_NVCC_RELEASE = re.compile(r"\brelease\s+(\d+\.\d+)")
_NVCC_FULL = re.compile(r"\bV(\d+\.\d+(?:\.\d+)*)\b")
_VERSION_TXT = re.compile(r"CUDA\s+Version\s+(\d+\.\d+(?:\.\d+)*)", re.IGNORECASE)
_USR_LOCAL_NAME = re.compile(r"^cuda(?:-\d[\w.]*)?$")
# A shell wrapper (`exec /usr/local/cuda-13.0/bin/nvcc "$@"`) names the real nvcc.
_WRAPPED_NVCC = re.compile(r"(/[^\s\"'$;|&<>()]+)/bin/nvcc\b")

NVCC_NAMES = ("nvcc", "nvcc.exe")
_NVCC_DIST = re.compile(r"^nvidia_cuda_nvcc(?:_cu\d+)?-(\d+\.\d+(?:\.\d+)*)\.dist-info$")
CUDNN_HEADERS = ("cudnn_version.h", "cudnn_version_v9.h", "cudnn_version_v8.h", "cudnn.h")
SYSTEM_INCLUDE_DIRS = (
    "/usr/include",
    "/usr/include/x86_64-linux-gnu",
    "/usr/include/aarch64-linux-gnu",
)
MAX_SYMLINKS = 40


# ---------------------------------------------------------------- pure parsers


def parse_nvcc_version(text: str) -> Optional[str]:
    """`nvcc --version` → "12.5.82" (the V build number), or "12.5" from `release` alone."""
    release = _NVCC_RELEASE.search(text)
    full = _NVCC_FULL.search(text)
    if full and (release is None or (full.group(1) + ".").startswith(release.group(1) + ".")):
        return full.group(1)
    return release.group(1) if release else None


def parse_version_json(text: str) -> Optional[str]:
    """CUDA 11.1+ `version.json`: {"cuda": {"version": "12.5.82"}, "cuda_nvcc": {...}, …}."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    for key in ("cuda", "cuda_nvcc", "cuda_cudart"):
        entry = data.get(key)
        if isinstance(entry, dict):
            version = entry.get("version")
            if isinstance(version, str) and re.fullmatch(r"\d+\.\d+(?:\.\d+)*", version.strip()):
                return version.strip()
    return None


def parse_version_txt(text: str) -> Optional[str]:
    """CUDA ≤ 11.0 `version.txt`: "CUDA Version 10.1.243"."""
    m = _VERSION_TXT.search(text)
    return m.group(1) if m else None


def _defines(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]+(\S+)", text, re.MULTILINE):
        found.setdefault(m.group(1), m.group(2))
    return found


def _version_from_defines(text: str, major: str, minor: str, patch: str) -> Optional[str]:
    d = _defines(text)
    parts = [d.get(major), d.get(minor)]
    if not all(p is not None and p.isdigit() for p in parts):
        return None
    p = d.get(patch)
    if p is not None and p.isdigit():
        parts.append(p)
    return ".".join(str(int(x)) for x in parts if x is not None)


def parse_cudnn_header(text: str) -> Optional[str]:
    """CUDNN_MAJOR/MINOR/PATCHLEVEL from cudnn_version.h (cuDNN 8+) or cudnn.h (≤ 7)."""
    return _version_from_defines(text, "CUDNN_MAJOR", "CUDNN_MINOR", "CUDNN_PATCHLEVEL")


def parse_nccl_header(text: str) -> Optional[str]:
    """NCCL_MAJOR/MINOR/PATCH from nccl.h."""
    return _version_from_defines(text, "NCCL_MAJOR", "NCCL_MINOR", "NCCL_PATCH")


def _natural_key(name: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(t), "") if t.isdigit() else (-1, t) for t in re.split(r"(\d+)", name) if t)


# ---------------------------------------------------------------- paths under env.root


def resolve_under_root(env: ProbeEnv, p: str) -> str:
    """Resolve symlinks in absolute path `p` as seen from env.root (absolute link targets
    stay inside the root, as in a chroot). Returns the resolved absolute path string."""
    if env.is_real_root:
        try:
            return os.path.realpath(p)
        except (OSError, ValueError):
            return p
    pending = [part for part in p.split("/") if part]
    done: list[str] = []
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if done:
                done.pop()
            continue
        candidate = "/" + "/".join([*done, part])
        try:
            target = os.readlink(env.path(candidate))
        except (OSError, ValueError):  # not a link, or absent: keep it as it is
            done.append(part)
            continue
        hops += 1
        if hops > MAX_SYMLINKS:
            return "/" + "/".join([*done, part, *pending])
        target_parts = [part for part in target.split("/") if part]
        if target.startswith("/"):
            done = []
        pending = target_parts + pending
    return "/" + "/".join(done)


def _host_to_root(env: ProbeEnv, host_path: str) -> Optional[str]:
    """A path found on the real filesystem (PATH lookup) as a path under env.root."""
    if env.is_real_root:
        return host_path
    root = os.path.abspath(os.fspath(env.root))
    host = os.path.abspath(host_path)
    if os.path.commonpath([root, host]) != root:
        return None
    rel = os.path.relpath(host, root)
    return "/" if rel == "." else "/" + rel.replace(os.sep, "/")


def _join(base: str, *names: str) -> str:
    return base.rstrip("/\\") + "/" + "/".join(names)


def _is_file(env: ProbeEnv, p: str) -> bool:
    try:
        return os.path.isfile(env.path(p))
    except OSError:
        return False


def _is_dir(env: ProbeEnv, p: str) -> bool:
    try:
        return os.path.isdir(env.path(p))
    except OSError:
        return False


# ---------------------------------------------------------------- the probe


@dataclass
class _Found:
    """A toolkit candidate while the probe still gathers its facts."""

    path: str  # resolved, as seen from env.root (or a host path when outside it)
    source: str
    version: Optional[str] = None
    nvcc: Optional[str] = None  # argv[0] that answers for this toolkit, if any
    readable: bool = True  # its files can be read through env (False: outside a fake root)


class _Runner:
    """Runs nvcc at most once per executable, and stops running any after a timeout."""

    def __init__(self, env: ProbeEnv, out: Probed) -> None:
        self.env = env
        self.out = out
        self.timed_out = False

    def version(self, argv0: str, where: str) -> Optional[str]:
        if self.timed_out:
            self.out.problem(
                "cuda-version-unknown",
                f"did not run {argv0} for {where}: an earlier nvcc did not answer in time",
                SOURCE,
            )
            return None
        result = self.env.run([argv0, "--version"])
        if result.error == "timeout":
            self.timed_out = True
        if not result.ok:
            self.out.problems.append(run_problem(result, SOURCE))
            return None
        version = parse_nvcc_version(result.output)
        if version is None:
            self.out.problem(
                "nvcc-unparseable",
                f"`{argv0} --version` printed no CUDA release: {result.output[:120]!r}",
                SOURCE,
            )
        return version


def probe(env: ProbeEnv) -> Probed:
    out = Probed()
    try:
        out.fields["cuda_toolkits"] = find_toolkits(env, out)
    except Exception as exc:  # a bug here must not cost the rest of the report
        out.fields["cuda_toolkits"] = []
        out.problem("cuda-probe-error", f"{type(exc).__name__}: {exc}", SOURCE)
    return out


def find_toolkits(env: ProbeEnv, out: Probed) -> list[CudaToolkit]:
    runner = _Runner(env, out)
    found: list[_Found] = []
    seen: set[str] = set()

    path_tk = _from_path(env)
    if path_tk is not None:
        found.append(path_tk)
        seen.add(path_tk.path)

    for var in ("CUDA_HOME", "CUDA_PATH"):
        value = env.environ.get(var, "").strip()
        if not value:
            continue
        real = resolve_under_root(env, value)
        if not _is_dir(env, real):
            out.problem("cuda-home-missing", f"{var}={value} is not a directory", SOURCE)
            continue
        if real not in seen:
            seen.add(real)
            found.append(_Found(real, "cuda-home"))

    for name in _usr_local_names(env):
        real = resolve_under_root(env, _join("/usr/local", name))
        if real in seen or not _is_dir(env, real):
            continue
        seen.add(real)
        found.append(_Found(real, "usr-local"))

    toolkits = []
    headers = _HeaderCache(env)
    for tk in found:
        if tk.version is None and tk.readable:
            tk.version = _version_from_files(env, tk.path)
        if tk.version is None:
            argv0 = tk.nvcc or _nvcc_in(env, tk.path)
            if argv0 is not None:
                tk.version = runner.version(argv0, tk.path)
            else:
                out.problem(
                    "cuda-version-unknown",
                    f"{tk.path} looks like a CUDA toolkit but has no version.json, version.txt or bin/nvcc",
                    SOURCE,
                )
        include = [_join(tk.path, "include")] if tk.readable else []
        toolkits.append(
            CudaToolkit(
                version=tk.version,
                path=tk.path,
                source=tk.source,
                cudnn_version=headers.first([*include, *SYSTEM_INCLUDE_DIRS], CUDNN_HEADERS),
                nccl_version=headers.first([*include, *SYSTEM_INCLUDE_DIRS], ("nccl.h",)),
            )
        )
    return toolkits


def _from_path(env: ProbeEnv) -> Optional[_Found]:
    host = env.which("nvcc")
    if host is None:
        return None
    rel = _host_to_root(env, host)
    if rel is None:  # outside a fake root: nothing to read there, only the tool to ask
        root = os.path.dirname(os.path.dirname(os.path.realpath(host)))
        return _Found(root, "nvcc-on-path", nvcc=host, readable=False)
    nvcc = resolve_under_root(env, rel)
    argv0 = host
    target = _wrapped_nvcc(env, nvcc)
    if target is not None:
        nvcc, argv0 = target, env.path(target)
    return _Found(posixpath.dirname(posixpath.dirname(nvcc)), "nvcc-on-path", nvcc=argv0)


def _wrapped_nvcc(env: ProbeEnv, nvcc: str) -> Optional[str]:
    """If nvcc is a small script that execs another nvcc, the real one (resolved)."""
    head = env.read_text(nvcc, limit=4096)
    if head is None or not head.startswith("#!"):
        return None
    for m in _WRAPPED_NVCC.finditer(head):
        candidate = resolve_under_root(env, m.group(1) + "/bin/nvcc")
        if candidate != nvcc and _is_file(env, candidate):
            return candidate
    return None


def _usr_local_names(env: ProbeEnv) -> list[str]:
    try:
        names = os.listdir(env.path("/usr/local"))
    except OSError:
        return []
    picked = [n for n in names if _USR_LOCAL_NAME.match(n)]
    # /usr/local/cuda first (the one builds default to), then newest versioned dirs first
    return sorted(picked, key=lambda n: (n != "cuda", tuple(-k for k, _ in _natural_key(n))))


def _version_from_files(env: ProbeEnv, root: str) -> Optional[str]:
    text = env.read_text(_join(root, "version.json"), limit=1 << 16)
    if text is not None:
        version = parse_version_json(text)
        if version is not None:
            return version
    text = env.read_text(_join(root, "version.txt"), limit=4096)
    if text is not None:
        return parse_version_txt(text)
    return _version_from_wheel_metadata(env, root)


def _version_from_wheel_metadata(env: ProbeEnv, root: str) -> Optional[str]:
    """A toolkit assembled from NVIDIA's pip wheels (nvidia-cuda-nvcc[-cuNN]) has neither file but
    keeps their dist-info directories, whose names carry nvcc's version ("13.0.88" = nvcc V13.0.88)."""
    try:
        names = os.listdir(env.path(_join(root, "dist-info")))
    except OSError:
        return None
    for name in sorted(names):
        found = _NVCC_DIST.match(name)
        if found:
            return found.group(1)
    return None


def _nvcc_in(env: ProbeEnv, root: str) -> Optional[str]:
    for name in NVCC_NAMES:
        p = _join(root, "bin", name)
        if _is_file(env, p):
            return env.path(p)
    return None


class _HeaderCache:
    """Each header file read and parsed at most once across all toolkits."""

    def __init__(self, env: ProbeEnv) -> None:
        self.env = env
        self.cache: dict[str, Optional[str]] = {}

    def version(self, path: str) -> Optional[str]:
        if path not in self.cache:
            text = self.env.read_text(path)
            parse = parse_nccl_header if path.endswith("nccl.h") else parse_cudnn_header
            self.cache[path] = parse(text) if text is not None else None
        return self.cache[path]

    def first(self, dirs: Iterable[str], names: Iterable[str]) -> Optional[str]:
        names = tuple(names)
        for d in dirs:
            for name in names:
                version = self.version(_join(d, name))
                if version is not None:
                    return version
        return None
