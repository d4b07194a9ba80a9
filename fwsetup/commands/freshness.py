"""Is the world ahead of fwsetup's data? When `install` makes a plan, ask the user's package index.

Network I/O, so it lives with the command that plans (commands/plans.py calls it), not in plan/.

fwsetup can only choose builds its tables describe; when PyTorch 2.16 appears, a plan would keep
choosing 2.15 without a word. So a plan asks the index the user configured (`--index-url`, else
pip's configuration, else PyPI) for the framework's releases, with the simple API (PEP 691 JSON,
or the PEP 503 HTML page), and warns when the index offers a final release newer than the data
knows. The answer is cached in FWSETUP_HOME for a day; the question has a short, hard time limit
and every failure means "no warning" (never an error): a plan must not depend on the network.
One failure is said: an index whose URL carries credentials (`https://user:token@host/simple`,
sent as HTTP basic auth, as pip sends them) and refuses them, named with the credentials hidden:
the install that follows would fail on the same credentials.
Skipped with --offline, when the user pinned --version (a knowing choice), and when
FWSETUP_INDEX_CHECK=0 (tests).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import unquote, urlsplit, urlunsplit

from packaging.version import InvalidVersion, Version

from fwsetup import paths, pipconfig
from fwsetup.facts import jax, pytorch, tensorflow
from fwsetup.redact import redact

if TYPE_CHECKING:
    import urllib.request

    from fwsetup.pipconfig import PipSettings

PYPI_SIMPLE = "https://pypi.org/simple"
TIMEOUT_S = 2.0  # the whole question, DNS included
CACHE_S = 24 * 3600
NO_ANSWER_CACHE_S = 3600
MAX_BYTES = 16 * 1024 * 1024  # PyPI's torch page is ~0.5 MB
ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
PROJECTS = {"pytorch": "torch", "jax": "jax", "tensorflow": "tensorflow"}  # recipe → index project

_ANCHOR = re.compile(r"<a\b([^>]*)>([^<]+)</a>", re.I)
_ARCHIVE = re.compile(r"\.(?:whl|tar\.gz|zip|tar\.bz2|egg)$")


def known_versions(framework: str) -> list[str]:
    """The releases fwsetup's data describes for a framework with a facts table."""
    if framework == "pytorch":
        return [r.version for r in pytorch.table().release]
    if framework == "jax":
        return [r.version for r in jax.table().release]
    if framework == "tensorflow":
        return [r.version for r in tensorflow.table().release]
    return []


def configured_index(
    index_url: Optional[str], environ: Mapping[str, str], settings: Optional[PipSettings] = None
) -> Optional[str]:
    """The index pip would ask first: --index-url, else pip's configuration (`settings` when the
    caller has read it already), else PyPI; None with no-index."""
    if index_url:
        return index_url
    if settings is None:
        settings = pipconfig.read(environ)
    if settings.no_index:
        return None
    return settings.index_url or PYPI_SIMPLE


def versions_from_page(body: bytes, content_type: str, project: str) -> list[str]:
    """Final, non-yanked releases on a simple-API project page (JSON or HTML), newest first."""
    files: list[tuple[str, bool]] = []  # (filename, yanked)
    listed: Optional[list[str]] = None
    if "json" in content_type:
        data = json.loads(body)
        files = [
            (str(f.get("filename", "")), bool(f.get("yanked")))
            for f in data.get("files") or []
            if isinstance(f, dict)
        ]
        if isinstance(data.get("versions"), list):  # API 1.1 lists every version
            listed = [str(v) for v in data["versions"]]
    else:
        text = body.decode("utf-8", "replace")
        files = [(m.group(2).strip(), "data-yanked" in m.group(1)) for m in _ANCHOR.finditer(text)]
    kept: set[str] = set()
    yanked: set[str] = set()
    for filename, is_yanked in files:
        version = _file_version(filename, project)
        if version:
            (yanked if is_yanked else kept).add(version)
    every = listed if listed is not None else sorted(kept | yanked)
    return _finals(
        v for v in every if v in kept or v not in yanked
    )  # a release whose files are all yanked is gone


def _file_version(filename: str, project: str) -> Optional[str]:
    """`torch-2.15.0-cp311-….whl` / `jax-0.12.0.tar.gz` → the version, for this project only."""
    if not _ARCHIVE.search(filename):
        return None
    stem = _ARCHIVE.sub("", filename)
    name = re.sub(r"[-_.]+", "_", project).lower()
    head, _, rest = stem.partition("-")
    if re.sub(r"[-_.]+", "_", head).lower() != name or not rest:
        return None
    return rest.split("-")[0]


def _finals(raw: Any) -> list[str]:
    found: dict[Version, str] = {}
    for text in raw:
        try:
            v = Version(text)
        except InvalidVersion:
            continue
        if not (v.is_prerelease or v.is_devrelease):
            found.setdefault(Version(v.public), v.public)
    return [found[v] for v in sorted(found, reverse=True)]


class IndexRefused(Exception):
    """The index answered, and refused the credentials its URL carries (HTTP 401 or 403)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


REFUSED = (401, 403)


def split_credentials(url: str) -> tuple[str, Optional[str]]:
    """`https://user:token@host/simple` → (`https://host/simple`, `Basic …`), else (url, None).

    urllib takes the userinfo for part of the host name ("nonnumeric port", or a DNS name with an
    `@`) and never asks; pip sends it as basic auth, so the check sends it the same way. The parts
    are percent-decoded (a token with `@` or `:` is written `%40`, `%3A` in a URL); a user with
    no password is sent with an empty one, as pip does."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url, None
    user, _, password = userinfo.partition(":")
    token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode("ascii")
    return urlunsplit(parts._replace(netloc=hostport)), f"Basic {token}"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.rpartition("@")[2].lower()


def _opener(context: Any) -> urllib.request.OpenerDirector:
    """urllib's opener, except that credentials follow a redirect only to the same scheme, host and
    port: urllib copies every header to wherever a redirect points, another host or plain http."""
    import urllib.request

    class SameOriginAuth(urllib.request.HTTPRedirectHandler):
        def redirect_request(
            self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
        ) -> Optional[urllib.request.Request]:
            new = super().redirect_request(req, fp, code, msg, headers, newurl)
            if new is not None and _origin(newurl) != _origin(req.full_url):
                new.remove_header("Authorization")
            return new

    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), SameOriginAuth())


def _fetch(
    url: str, timeout: float, cafile: Optional[str], authorization: Optional[str] = None
) -> tuple[bytes, str]:
    import ssl  # only when the index is asked: planning with the check off never loads TLS
    import urllib.request

    context = ssl.create_default_context(cafile=cafile) if url.startswith("https:") else None
    headers = {"Accept": ACCEPT, "User-Agent": "fwsetup"}
    if authorization is not None:
        headers["Authorization"] = authorization
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    with _opener(context).open(request, timeout=timeout) as resp:
        body: bytes = resp.read(MAX_BYTES + 1)
        if len(body) > MAX_BYTES:
            raise ValueError("index page too large")
        return body, str(resp.headers.get("Content-Type", ""))


def index_versions(
    index: str, project: str, timeout: float = TIMEOUT_S, cafile: Optional[str] = None
) -> Optional[list[str]]:
    """The project's final releases on the index, or None when it does not answer within `timeout`.
    Raises IndexRefused when the index refuses the credentials in its URL (no credentials: None)."""
    if not index.startswith(("http://", "https://")):
        return None
    url, authorization = split_credentials(index.rstrip("/") + f"/{project}/")
    result: list[Optional[list[str]]] = [None]
    refused: list[int] = []

    def ask() -> None:
        import urllib.error

        try:
            body, content_type = _fetch(url, timeout, cafile, authorization)
            result[0] = versions_from_page(body, content_type, project)
        except urllib.error.HTTPError as exc:
            if authorization is not None and exc.code in REFUSED:
                refused.append(exc.code)
        except Exception:
            result[0] = None

    worker = threading.Thread(target=ask, name="fwsetup-index-check", daemon=True)
    worker.start()
    worker.join(timeout)  # a hard limit: name resolution ignores the socket timeout
    if worker.is_alive():
        return None
    if refused:
        raise IndexRefused(refused[0])
    return result[0]


def _cache_file(index: str, project: str) -> Path:
    """The answer's file, named by a digest of the index URL (credentials included, so that new
    credentials ask again); the file holds no URL."""
    digest = hashlib.sha256(f"{index.rstrip('/')}/{project}".encode()).hexdigest()[:24]
    return paths.home() / "cache" / "index" / f"{digest}.json"


def cached_versions(
    index: str,
    project: str,
    timeout: float = TIMEOUT_S,
    cafile: Optional[str] = None,
    now: Optional[float] = None,
) -> Optional[list[str]]:
    """index_versions(), answered from FWSETUP_HOME/cache/index: for a day after an answer, and for
    an hour after no answer (a machine without network pays the time limit once an hour, not per plan)."""
    now = time.time() if now is None else now
    file = _cache_file(index, project)
    try:
        saved = json.loads(file.read_text(encoding="utf-8"))
        age = now - float(saved["asked_at"])
        if isinstance(saved["versions"], list) and 0 <= age < CACHE_S:
            return [str(v) for v in saved["versions"]]
        if saved["versions"] is None and 0 <= age < NO_ANSWER_CACHE_S:
            if saved.get("refused") in REFUSED:
                raise IndexRefused(int(saved["refused"]))
            return None
    except (OSError, ValueError, KeyError, TypeError):
        pass
    refused: Optional[IndexRefused] = None
    try:
        found = index_versions(index, project, timeout, cafile)
    except IndexRefused as exc:
        found, refused = None, exc
    _save(
        file,
        {
            "asked_at": now,
            "project": project,
            "versions": found,
            "refused": refused.status if refused else None,
        },
    )
    if refused is not None:
        raise refused
    return found


def _save(file: Path, answer: dict[str, Any]) -> None:
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(answer), encoding="utf-8")
        tmp.replace(file)
    except OSError:
        pass


def newer_than_data(offered: Sequence[str], known: Sequence[str]) -> Optional[str]:
    """The newest offered release when it is newer than every release the data knows."""
    if not offered or not known:
        return None
    newest = max(Version(Version(v).public) for v in offered)
    return str(newest) if newest > max(Version(Version(k).public) for k in known) else None


def warning(framework: str, planned: str, newest: str, index: str, checked: Optional[str]) -> str:
    project = PROJECTS[framework]
    when = f" (checked {checked})" if checked else ""
    return (
        f"the package index ({redact(index)}) offers {project} {newest}, newer than any release "
        f"fwsetup's data{when} knows, so fwsetup does not know its builds yet and this plan uses "
        f"{planned}; fix: update fwsetup (`pip install -U fwsetup`) to plan {newest}, or pin "
        f"`--version {planned}` to keep this choice knowingly"
    )


def allowed(environ: Optional[Mapping[str, str]] = None) -> bool:
    """FWSETUP_INDEX_CHECK=0 (tests) turns off every plan-time question to the index."""
    env = os.environ if environ is None else environ
    return env.get("FWSETUP_INDEX_CHECK", "").strip().lower() not in ("0", "off", "no", "false")


def refused_warning(framework: str, index: str, status: int) -> str:
    """The index refused the credentials in its URL: named with them hidden (redact)."""
    return (
        f"the package index ({redact(index)}) refused the credentials in its URL (HTTP {status}), "
        f"so fwsetup could not check it for {PROJECTS[framework]} releases newer than its data, and "
        "installing from it will fail the same way; fix: correct the user or token in --index-url "
        "or pip's index-url (`pip config list`)"
    )


def check(
    framework: str,
    planned: str,
    index_url: Optional[str] = None,
    environ: Optional[Mapping[str, str]] = None,
    timeout: float = TIMEOUT_S,
) -> Optional[str]:
    """The plan warning when the user's index is ahead of the data, or refuses the credentials in
    its URL; else None (also on any other failure)."""
    env = os.environ if environ is None else environ
    if framework not in PROJECTS or not allowed(env):
        return None

    settings = pipconfig.read(env)  # once: the index and the certificate come from it
    index = configured_index(index_url, env, settings)
    if index is None:
        return None
    cafile = settings.cert
    try:
        offered = cached_versions(index, PROJECTS[framework], timeout, cafile)
    except IndexRefused as refused:
        return refused_warning(framework, index, refused.status)
    newest = newer_than_data(offered or [], known_versions(framework))
    if newest is None:
        return None
    from fwsetup.facts import dates

    day = dates.checked(framework)
    return warning(framework, planned, newest, index, day.isoformat() if day else None)
