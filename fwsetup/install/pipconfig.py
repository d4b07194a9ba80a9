"""The user's pip configuration, read the way pip reads it, so uv can be told the same.

uv ignores pip.conf; users who configured a private index, a find-links wheelhouse, a
constraint file or a corporate certificate expect fwsetup to honour them whichever
installer runs. Order (pip's documented one): global files, user files, the site
(virtualenv) file, PIP_CONFIG_FILE; then PIP_* environment variables override; the
[install] section overrides [global]. PIP_CONFIG_FILE=/dev/null disables the files.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from urllib.parse import unquote, urlparse

LIST_KEYS = ("extra-index-url", "find-links", "constraint", "trusted-host")
SCALAR_KEYS = ("index-url", "cert", "client-cert", "proxy", "no-index", "timeout", "retries", "pre")


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

    def local_find_links_dirs(self) -> list[Path]:
        out = []
        for entry in self.find_links:
            path = url_to_path(entry)
            if path is not None and path.is_dir():
                out.append(path)
        return out


def url_to_path(entry: str) -> Optional[Path]:
    if entry.startswith("file://"):
        return Path(unquote(urlparse(entry).path))
    if "://" in entry:
        return None
    return Path(entry).expanduser()


def config_files(environ: Mapping[str, str]) -> list[Path]:
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    files: list[Path] = []
    xdg_dirs = environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    files += [Path(d) / "pip" / "pip.conf" for d in xdg_dirs if d]
    files.append(Path("/etc/pip.conf"))
    home = Path(environ.get("HOME", str(Path.home())))
    files.append(home / ".pip" / "pip.conf")
    xdg_home = environ.get("XDG_CONFIG_HOME") or str(home / ".config")
    files.append(Path(xdg_home) / "pip" / "pip.conf")
    virtual_env = environ.get("VIRTUAL_ENV") or (sys.prefix if sys.prefix != sys.base_prefix else None)
    if virtual_env:
        files.append(Path(virtual_env) / "pip.conf")
    if env_file:
        files.append(Path(env_file))
    return files


def _split(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.split() if v)


def read(environ: Optional[Mapping[str, str]] = None) -> PipSettings:
    env = environ if environ is not None else os.environ
    values: dict[str, str] = {}
    read_files: list[str] = []
    for path in config_files(env):
        parser = configparser.RawConfigParser()
        try:
            if not parser.read(path, encoding="utf-8"):
                continue
        except (configparser.Error, UnicodeDecodeError, OSError):
            continue  # pip would fail loudly; we simply don't use an unreadable file
        read_files.append(str(path))
        for section in ("global", "install"):
            if parser.has_section(section):
                for key, value in parser.items(section):
                    values[key.replace("_", "-")] = value
    for key in (*LIST_KEYS, *SCALAR_KEYS):
        env_value = env.get("PIP_" + key.upper().replace("-", "_"))
        if env_value is not None:
            values[key] = env_value
    no_index = values.get("no-index", "").strip().lower() in ("1", "true", "yes", "on")
    return PipSettings(
        index_url=values.get("index-url") or None,
        extra_index_urls=_split(values.get("extra-index-url", "")),
        find_links=_split(values.get("find-links", "")),
        constraints=_split(values.get("constraint", "")),
        trusted_hosts=_split(values.get("trusted-host", "")),
        cert=values.get("cert") or None,
        client_cert=values.get("client-cert") or None,
        proxy=values.get("proxy") or None,
        no_index=no_index,
        timeout=values.get("timeout") or None,
        retries=values.get("retries") or None,
        files=tuple(read_files),
    )
