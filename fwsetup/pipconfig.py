"""The user's pip configuration, read by pip's own rules, so uv can be told the same.

uv ignores pip.conf; users who configured a private index, a find-links wheelhouse, a
constraint file, a proxy or a corporate certificate expect fwsetup to honour them whichever
installer runs. The rules, from pip's source (pip/_internal/configuration.py, utils/appdirs.py,
cli/parser.py, pip 23-25):

- Files, lowest priority first: global (site-wide) files, user files, the site file
  (`sys.prefix/pip.conf`), then the file PIP_CONFIG_FILE names; PIP_* variables beat them all.
  PIP_CONFIG_FILE=os.devnull reads no file at all; when PIP_CONFIG_FILE names an existing file
  the user files are skipped.
- Per platform (pip.ini on Windows, pip.conf elsewhere): Linux global = each $XDG_CONFIG_DIRS/pip
  (default /etc/xdg/pip) and /etc; macOS global = /Library/Application Support/pip; Windows
  global = %ProgramData%\\pip. User files: ~/.pip (~/pip on Windows), then the user config dir
  ($XDG_CONFIG_HOME/pip; macOS ~/Library/Application Support/pip if it exists, else
  ~/.config/pip; Windows %APPDATA%\\pip).
- Merge: keys are `section.name`, the later file wins per key; then sections apply in the order
  [global] < [<command>] < environment, so an [install] value in a global file beats a [global]
  value in the user file. Empty values are ignored.
- `--default-timeout` is an alias of `--timeout` (PIP_DEFAULT_TIMEOUT).

One difference on purpose: pip stops on a file it cannot parse; fwsetup skips it and records
why (`PipSettings.skipped`), because the file is not fwsetup's to judge.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Optional
from urllib.parse import unquote, urlparse

from fwsetup import pipfiles
from fwsetup.records import dataclass, field

# The pip options fwsetup honours: long option name (and aliases) -> PipSettings field.
# Short names (-i, -f) do not work in pip's configuration, so they are not here.
OPTIONS: dict[str, str] = {
    "index-url": "index_url",
    "extra-index-url": "extra_index_urls",
    "find-links": "find_links",
    "constraint": "constraints",
    "trusted-host": "trusted_hosts",
    "cert": "cert",
    "client-cert": "client_cert",
    "proxy": "proxy",
    "no-index": "no_index",
    "timeout": "timeout",
    "default-timeout": "timeout",
    "retries": "retries",
}
LIST_FIELDS = frozenset({"extra_index_urls", "find_links", "constraints", "trusted_hosts"})
# pip's strtobool: the spellings of true (anything else in its false list, or an error in pip).
_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})


@dataclass(frozen=True)
class PipSettings:
    index_url: Optional[str] = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    cert: Optional[str] = None
    client_cert: Optional[str] = None
    proxy: Optional[str] = None
    no_index: bool = False
    timeout: Optional[str] = None
    retries: Optional[str] = None
    files: tuple[str, ...] = field(default=())  # the configuration files that were read
    skipped: tuple[tuple[str, str], ...] = field(default=())  # (file, why) pip would stop on
    constraints_from: Optional[str] = (
        None  # where the constraint list was set: "FILE [section]", "PIP_CONSTRAINT"
    )

    def local_find_links_dirs(self) -> list[Path]:
        out = []
        for entry in self.find_links:
            path = url_to_path(entry)
            if path is not None and path.is_dir():
                out.append(path)
        return out


def file_url(path: PurePath) -> str:
    """`path`'s file: URL, percent-encoded (a space is %20; a Windows path is file:///C:/…), which
    pip and uv take where a list split at whitespace cannot hold the path (install/protect.py,
    install/activation.py); url_to_path reads it back."""
    return (path if path.is_absolute() else Path(path).absolute()).as_uri()


def url_to_path(entry: str) -> Optional[Path]:
    if entry.startswith("file://"):
        return Path(unquote(urlparse(entry).path))
    if "://" in entry:
        return None
    return Path(entry).expanduser()


def _parse(path: Path) -> Optional[configparser.RawConfigParser]:
    """The file's parser; None when it does not exist. Raises on a file pip could not load."""
    if not path.is_file():
        return None
    parser = configparser.RawConfigParser()
    with path.open(encoding="utf-8") as fh:
        parser.read_file(fh)
    return parser


def read(
    environ: Optional[Mapping[str, str]] = None,
    *,
    command: str = "install",
    platform: str = sys.platform,
    prefix: str = sys.prefix,
    site_file: Optional[Path] = None,
) -> PipSettings:
    """What pip's `command` (install, download) would take from its configuration."""
    env = environ if environ is not None else os.environ
    by_key: dict[str, str] = {}  # "section.name" -> value, the later file winning
    origin: dict[str, str] = {}  # "section.name" -> where it was set
    read_files: list[str] = []
    skipped: list[tuple[str, str]] = []
    # where pip looks: pipfiles.py (plain strings, for doctor's start-up)
    for path in map(
        Path, pipfiles.config_files(env, platform, prefix, None if site_file is None else str(site_file))
    ):
        try:
            parser = _parse(path)
        except (configparser.Error, UnicodeDecodeError, OSError) as exc:
            skipped.append((str(path), f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"))
            continue
        if parser is None:
            continue
        read_files.append(str(path))
        for section in parser.sections():
            for name, value in parser.items(section):
                by_key[f"{section}.{option_name(name)}"] = value
                origin[f"{section}.{option_name(name)}"] = f"{path} [{section}]"
    for var, value in env.items():
        if var.startswith("PIP_") and var != "PIP_CONFIG_FILE":
            by_key[":env:." + option_name(var[4:])] = value
            origin[":env:." + option_name(var[4:])] = f"the {var} variable"
    values: dict[str, str] = {}
    where: dict[str, str] = {}
    for section in ("global", command, ":env:"):
        for key, value in by_key.items():
            sect, name = key.split(".", 1)
            if sect == section and value and name in OPTIONS:
                values[OPTIONS[name]] = value
                where[OPTIONS[name]] = origin[key]
    lists = {k: tuple(values.get(k, "").split()) for k in LIST_FIELDS}
    return PipSettings(
        index_url=values.get("index_url"),
        extra_index_urls=lists["extra_index_urls"],
        find_links=lists["find_links"],
        constraints=lists["constraints"],
        trusted_hosts=lists["trusted_hosts"],
        cert=values.get("cert"),
        client_cert=values.get("client_cert"),
        proxy=values.get("proxy"),
        no_index=values.get("no_index", "").strip().lower() in _TRUE,
        timeout=values.get("timeout"),
        retries=values.get("retries"),
        files=tuple(read_files),
        skipped=tuple(skipped),
        constraints_from=where.get("constraints"),
    )


def missing_constraints(settings: PipSettings) -> list[str]:
    """The constraint files the configuration names that do not exist (a path or file: URL; an
    http(s) URL is the index's business). Pure file I/O: doctor runs it."""
    missing = []
    for entry in settings.constraints:
        path = url_to_path(entry)
        if path is not None and not path.is_file():
            missing.append(entry)
    return missing


def constraint_problem(settings: PipSettings) -> Optional[tuple[str, str]]:
    """A constraint file pip's configuration names that does not exist, as (message, fix): pip, and
    uv given the same list, stop at it ("File not found") before resolving anything."""
    missing = missing_constraints(settings)
    if not missing:
        return None
    where = settings.constraints_from or "pip's configuration"
    files = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
    message = f"the constraint file{'s' if len(missing) > 1 else ''} {files} named by {where} do{'' if len(missing) > 1 else 'es'} not exist"
    if len(settings.constraints) > 1:
        message += (
            "; pip splits the constraint list at whitespace, so a path with a space is two names "
            "(write it as its file: URL)"
        )
    if where.startswith("the PIP_"):
        fix = f"fix or unset {where[4:].split()[0]}"
    else:
        fix = f"fix or remove the constraint line in {where.rsplit(' [', 1)[0]}"
    return message, fix + " (`pip config list` shows what pip reads, `pip config debug` each file)"


def check_constraints(settings: PipSettings) -> None:
    """UsageError (exit 2) for a constraint file the user's pip configuration names that does not
    exist: caught before fwsetup makes or changes any environment, naming where it was set."""
    problem = constraint_problem(settings)
    if problem is not None:
        from fwsetup.errors import UsageError

        raise UsageError(*problem, code="bad-pip-config")


def option_name(name: str) -> str:
    """A configuration key as pip compares it (`Find_Links`, `--find-links`: `find-links`)."""
    name = name.lower().replace("_", "-")
    return name[2:] if name.startswith("--") else name
