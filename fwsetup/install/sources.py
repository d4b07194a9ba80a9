"""Package sources -> installer arguments: the one translation install, lock and bundle share.

Sources are the user's pip configuration (read by pip's rules, `pipconfig`), fwsetup's own
flags (--index-url, --wheelhouse, --offline) and the plan's needs (extra indexes, find-links,
the recipe's build constraints). pip reads its configuration itself, so it only gets what
fwsetup adds; uv ignores pip.conf, so it gets all of it as options and environment variables.
Written once so that `lock` and `bundle` honour exactly what `install` honours.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Optional, Protocol

from fwsetup import pipconfig
from fwsetup.errors import InstallError
from fwsetup.records import dataclass, field

BUILD_CONSTRAINTS_FILE = ".fwsetup-build-constraints.txt"
# The hash-pinned requirements an install from a lock used, kept in the generation (fleet/current.py).
LOCK_REQUIREMENTS_FILE = ".fwsetup-lock-requirements.txt"
LOCK_EXACT_FILE = ".fwsetup-lock-exact.txt"  # what the installer reads of it (exact_lines)


@dataclass(frozen=True)
class Sources:
    """Where packages come from: the plan's needs on top of the user's configuration."""

    index_url: Optional[str] = None  # --index-url override
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    build_constraints: tuple[str, ...] = ()
    offline: bool = False
    env_dir: Optional[Path] = None  # where the build-constraints file is written
    requirements_file: Optional[Path] = None  # a lock's hash-pinned, complete requirements
    settings: pipconfig.PipSettings = field(default_factory=pipconfig.PipSettings)


class NeedsSources(Protocol):
    """What a Plan and a lock target both say about where their packages come from."""

    @property
    def index_urls(self) -> list[str]: ...
    @property
    def find_links(self) -> list[str]: ...
    @property
    def build_constraints(self) -> list[str]: ...


def of(needs: NeedsSources, workdir: Path, *, find_links: tuple[str, ...] = (), **more: Any) -> Sources:
    """The sources of a plan or lock target, plus `find_links` and the `more` fields of Sources."""
    return Sources(
        extra_index_urls=tuple(needs.index_urls),
        find_links=(*needs.find_links, *find_links),
        build_constraints=tuple(needs.build_constraints),
        env_dir=workdir,
        **more,
    )


@dataclass(frozen=True)
class InstallerArgs:
    args: list[str]  # options to put after the installer's subcommand
    env: dict[str, str]  # environment overrides (see runner.installer_env)


def build_constraints_file(sources: Sources) -> Optional[Path]:
    """Build constraints as a file in `env_dir`: both installers take a file."""
    if not sources.build_constraints:
        return None
    if sources.env_dir is None:
        raise InstallError("internal: build constraints need a directory to write them to", None)
    cfile = sources.env_dir / BUILD_CONSTRAINTS_FILE
    cfile.write_text("\n".join(sources.build_constraints) + "\n", encoding="utf-8")
    return cfile


def locked_args(sources: Sources) -> list[str]:
    """Install exactly a lock's files: every hash checked, nothing resolved beyond the list. The
    installer reads the lock's lines as `exact_lines` spells them, in a file beside the record."""
    if sources.requirements_file is None:
        return []
    lines = sources.requirements_file.read_text(encoding="utf-8").splitlines()
    exact = sources.requirements_file.with_name(LOCK_EXACT_FILE)
    exact.write_text("".join(f"{line}\n" for line in exact_lines(lines)), encoding="utf-8")
    return ["--require-hashes", "--no-deps", "-r", str(exact)]


_NO_LABEL_PIN = re.compile(r"([^\s=;]+)==([^\s=;+]+)(?=\s|;|$)")


def exact_lines(lines: list[str]) -> list[str]:
    """A lock's `name==version --hash=…` lines with each version that has no local label pinned by
    arbitrary equality (`name===version`, versions.exact_pin): a `+cpu` wheel of that version in a
    find-links folder meets `==` and ranks above the locked file, so uv (always) and pip (where the
    index states no hashes) take it and fail its hash."""
    return [exact_line(line) for line in lines]


def exact_line(line: str) -> str:
    """One requirement line as `exact_lines` writes it: the one converter of a lock's `==` pins, for
    the installer (`install --lock`, a bundle's download) and for every export of requirement lines."""
    return _NO_LABEL_PIN.sub(r"\1===\2", line, count=1)


def for_uv(sources: Sources) -> InstallerArgs:
    """uv pip install / compile: the pip configuration translated, then fwsetup's sources."""
    s = sources.settings
    args: list[str] = []
    if s.no_index and not sources.index_url:
        args.append("--no-index")
    elif sources.index_url or s.index_url:
        args += ["--index-url", str(sources.index_url or s.index_url)]
    for url in (*sources.extra_index_urls, *s.extra_index_urls):
        args += ["--extra-index-url", url]
    for fl in (*sources.find_links, *s.find_links):
        args += ["--find-links", fl]
    if sources.requirements_file is None:  # a lock was resolved under them already
        for c in (*s.constraints, *sources.constraints):
            args += ["--constraint", c]
    cfile = build_constraints_file(sources)
    if cfile is not None:
        args += ["--build-constraint", str(cfile)]
    for host in s.trusted_hosts:
        args += ["--allow-insecure-host", host]
    if sources.offline and served_over_http(sources):
        # uv's --offline also refuses the wheelhouse's own server: offline means no index.
        if "--no-index" not in args:
            args.append("--no-index")
    elif sources.offline:
        args.append("--offline")
    args += ["--index-strategy", "unsafe-best-match"]  # pip's semantics: every index is equal
    env: dict[str, str] = {}
    if s.cert:
        env["SSL_CERT_FILE"] = s.cert
    if s.client_cert:
        env["SSL_CLIENT_CERT"] = s.client_cert
    if s.proxy:  # pip's --proxy beats the proxy variables; uv reads only the variables
        for var in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
            env[var] = s.proxy
    if s.timeout:
        env["UV_HTTP_TIMEOUT"] = _whole_seconds(s.timeout)
    if s.retries:
        env["UV_HTTP_RETRIES"] = s.retries
    return InstallerArgs(args, env)


def for_pip(sources: Sources) -> InstallerArgs:
    """pip install / download: pip reads the user's configuration itself; add fwsetup's sources.

    Build constraints reach pip's isolated build environments through PIP_CONSTRAINT (pip <= 26.1)
    and PIP_BUILD_CONSTRAINT (pip >= 25.3): both are set (see recipes/chainer.toml's notes).
    """
    args: list[str] = []
    if sources.index_url:
        args += ["--index-url", sources.index_url]
    for url in sources.extra_index_urls:
        args += ["--extra-index-url", url]
    for fl in sources.find_links:
        args += ["--find-links", fl]
    if sources.requirements_file is None:
        for c in sources.constraints:
            args += ["--constraint", c]
    if sources.offline:
        args.append("--no-index")
    env: dict[str, str] = {}
    cfile = build_constraints_file(sources)
    if cfile is not None:
        # PIP_CONSTRAINT replaces the configured constraints in pip: carry them along.
        env["PIP_CONSTRAINT"] = " ".join([*sources.settings.constraints, str(cfile)])
        env["PIP_BUILD_CONSTRAINT"] = str(cfile)
    return InstallerArgs(args, env)


def served_over_http(sources: Sources) -> bool:
    """A wheelhouse served by a static HTTP(S) server (`--wheelhouse URL`) among the find-links."""
    return any(fl.startswith(("http://", "https://")) for fl in (*sources.find_links, *sources.settings.find_links))


def _whole_seconds(value: str) -> str:
    """pip takes float seconds, uv whole ones."""
    try:
        return str(max(1, math.ceil(float(value))))
    except ValueError:
        return value
