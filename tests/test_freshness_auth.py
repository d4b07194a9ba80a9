"""The plan-time index check (fwsetup/commands/freshness.py) against an index whose URL carries
credentials (issue 20, point 10): they are sent as HTTP basic auth to a real loopback index that
requires them, never printed, never stored, and never sent to another host a redirect names."""

from __future__ import annotations

import base64
import http.server
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Callable, Optional

import pytest
from helpers import cli, json_out
from machines import base_report

from fwsetup.commands import freshness

USER = "alice"
TOKEN = "t0k:@n/S3CRET"  # a ':', an '@' and a '/' in a token: percent-encoded in the URL
QUOTED = "t0k%3A%40n%2FS3CRET"
# PEP 691 JSON for torch (API 1.1 lists the versions), a PEP 503 page for jax.
TORCH_JSON = json.dumps(
    {
        "meta": {"api-version": "1.1"},
        "name": "torch",
        "versions": ["2.15.0", "2.16.0"],
        "files": [
            {
                "filename": f"torch-{v}-cp312-cp312-manylinux_2_28_x86_64.whl",
                "url": f"t-{v}.whl",
                "hashes": {},
            }
            for v in ("2.15.0", "2.16.0")
        ],
    }
).encode()
JAX_HTML = b'<!DOCTYPE html><html><body><a href="j.whl">jax-99.0.0-py3-none-any.whl</a></body></html>'


class Index:
    """A loopback simple index that answers only basic auth USER:TOKEN; records each request's
    path and Authorization header. `redirect(path)` → a URL makes it answer 302 there instead."""

    def __init__(self, redirect: Optional[Callable[[str], Optional[str]]] = None, auth: bool = True) -> None:
        self.asked: list[tuple[str, Optional[str]]] = []
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                sent = self.headers.get("Authorization")
                index.asked.append((self.path, sent))
                if auth and sent != "Basic " + base64.b64encode(f"{USER}:{TOKEN}".encode()).decode():
                    self._answer(401, b"no", "text/plain", {"WWW-Authenticate": 'Basic realm="idx"'})
                elif redirect is not None and (to := redirect(self.path)) is not None:
                    self._answer(302, b"", "text/plain", {"Location": to})
                elif self.path.endswith("/torch/"):
                    self._answer(200, TORCH_JSON, "application/vnd.pypi.simple.v1+json")
                elif self.path.endswith("/jax/"):
                    self._answer(200, JAX_HTML, "text/html")
                else:
                    self._answer(404, b"", "text/plain")

            def _answer(
                self, code: int, body: bytes, kind: str, extra: Optional[dict[str, str]] = None
            ) -> None:
                self.send_response(code)
                for key, value in {
                    "Content-Type": kind,
                    "Content-Length": str(len(body)),
                    **(extra or {}),
                }.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, userinfo: str = f"{USER}:{QUOTED}@") -> str:
        return f"http://{userinfo}127.0.0.1:{self.port}/simple"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def index() -> Iterator[Index]:
    served = Index()
    yield served
    served.close()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("FWSETUP_HOME", str(tmp_path / "home"))
    return {"FWSETUP_HOME": str(tmp_path / "home"), "PIP_CONFIG_FILE": os.devnull}


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_credentials_in_the_url_are_split_off_and_percent_decoded() -> None:
    assert freshness.split_credentials("https://h/simple/torch/") == ("https://h/simple/torch/", None)
    assert freshness.split_credentials(f"https://{USER}:{QUOTED}@h:8443/simple/") == (
        "https://h:8443/simple/",
        _basic(USER, TOKEN),
    )
    assert freshness.split_credentials("https://TOKEN@h/s/") == ("https://h/s/", _basic("TOKEN", ""))
    assert freshness.split_credentials("https://u:p@ss@[::1]:8/s/") == (
        "https://[::1]:8/s/",
        _basic("u", "p@ss"),
    )


def test_the_check_sends_the_urls_credentials_as_basic_auth_and_sees_the_releases(
    index: Index, env: dict[str, str], tmp_path: Path
) -> None:
    """PEP 691 JSON (torch) and a PEP 503 page (jax) behind basic auth: both read, nothing printed."""
    text = freshness.check("pytorch", "2.15.0", index.url(), env)
    assert text is not None and "torch 2.16.0" in text and "--version 2.15.0" in text
    assert index.asked == [("/simple/torch/", _basic(USER, TOKEN))]  # asked once, with the credentials
    assert freshness.cached_versions(index.url(), "jax") == ["99.0.0"]
    assert index.asked[-1] == ("/simple/jax/", _basic(USER, TOKEN))
    assert TOKEN not in text and QUOTED not in text and f"{USER}:****@127.0.0.1" in text
    cache = "".join(p.read_text() for p in (tmp_path / "home" / "cache" / "index").iterdir())
    assert "t0k" not in cache and USER not in cache  # the cache holds answers, never the URL


def test_wrong_credentials_are_one_warning_that_names_the_index_redacted(
    index: Index, env: dict[str, str]
) -> None:
    wrong = index.url(f"{USER}:not-{QUOTED}@")
    text = freshness.check("pytorch", "2.15.0", wrong, env)
    assert text is not None and "HTTP 401" in text and "fix:" in text
    assert f"(http://{USER}:****@127.0.0.1:{index.port}/simple)" in text
    assert "not-" not in text and "t0k" not in text
    assert len(index.asked) == 1
    assert freshness.check("pytorch", "2.15.0", wrong, env) == text and len(index.asked) == 1  # remembered
    # no credentials at all: pip may have a keyring or netrc that fwsetup does not read; silent
    assert freshness.check("pytorch", "2.15.0", index.url(""), env) is None
    assert freshness.check("pytorch", "2.15.0", index.url(), env) is not None  # the right ones: asked again


def test_credentials_follow_a_redirect_only_to_the_same_origin(env: dict[str, str]) -> None:
    other = Index(auth=False)  # another port: another origin
    same = Index(redirect=lambda path: "/mirror/torch/" if path == "/simple/torch/" else None)
    away = Index(redirect=lambda path: f"http://127.0.0.1:{other.port}/simple/torch/")
    try:
        assert freshness.index_versions(same.url(), "torch") == ["2.16.0", "2.15.0"]
        assert [a for _, a in same.asked] == [_basic(USER, TOKEN)] * 2
        assert freshness.index_versions(away.url(), "torch") == ["2.16.0", "2.15.0"]
        assert other.asked == [("/simple/torch/", None)]  # the other host never saw them
    finally:
        for served in (other, same, away):
            served.close()


def test_dry_run_with_wrong_credentials_warns_in_text_and_json_with_them_hidden(
    index: Index, env: dict[str, str], tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    report.write_text(base_report(("ubuntu", "22.04"), python="3.12.3", interpreters=["3.12.3"]).to_json())
    wrong = index.url(f"{USER}:wrong-{QUOTED}@")
    run_env = {**env, "FWSETUP_INDEX_CHECK": "1"}
    args = ["install", "pytorch", "--cpu", "--dry-run", "--system", str(report), "--index-url", wrong]
    as_json = cli(*args, "--json", env=run_env)
    as_text = cli(*args, env=run_env)
    for out in (as_json, as_text):
        assert out.returncode == 0, out.stdout + out.stderr
        assert "wrong-" not in out.stdout + out.stderr and "t0k" not in out.stdout + out.stderr
    assert [w for w in json_out(as_json)["warnings"] if "HTTP 401" in w and f"{USER}:****@127.0.0.1" in w]
    assert "HTTP 401" in as_text.stdout + as_text.stderr
