"""`fwsetup export`: provisioning scripts that install fwsetup, reproduce a lock, and prove it.

Each format embeds the lock so the script is self-contained, fails with fwsetup's exit codes
(`set -eu`; CI systems stop on the first non-zero step), and writes the install result as JSON.

Injection-proof by construction, whatever the lock holds (it travels, and whoever edits it must
not run code where it is exported to): shell and Dockerfile carry the lock as base64, whose
alphabet cannot end a here-document, close a quote or start a command, and the decoder checks
its SHA-256; YAML formats are written by a serializer (yamlout), never by string formatting;
no value is ever placed inside `${{ }}`; the one user value, `--fwsetup-spec`, is validated as
a requirement, a URL or a path and shell-quoted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shlex
import unicodedata
from typing import Any
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from fwsetup.errors import UsageError
from fwsetup.fleet import steps, yamlout

LOCK_TERMINATOR = "FWSETUP_LOCK_B64"  # "_" is not in the base64 alphabet: no line of it can be this
_B64_WIDTH = 76
_DOCKER_CHUNK = 16384
# Reads base64 on stdin, checks the SHA-256 given as its argument, writes fwsetup.lock.
DECODER = (
    "import base64,hashlib,sys; d=base64.b64decode(sys.stdin.read()); "
    'sys.exit("fwsetup.lock: the embedded copy is damaged") '
    'if hashlib.sha256(d).hexdigest()!=sys.argv[1] else open("fwsetup.lock","wb").write(d)'
)
_SPEC_URL_SCHEMES = frozenset({"https", "git+https", "file"})
# The bundle (`fwsetup bundle`), a path or an http(s) URL: fwsetup and the environment come from it.
WHEELHOUSE = "wheelhouse"


def install_line(gpu: bool) -> str:
    accel = " --gpu" if gpu else ""
    return (
        f'fwsetup install --lock fwsetup.lock --wheelhouse "$FWSETUP_WHEELHOUSE" --offline{accel} --yes --json'
        " > fwsetup-result.json"
    )


def pip_line(python: str, fwsetup_spec: str) -> str:
    """Install fwsetup from the bundle, never from an index; exit 4 (install failed) when it cannot."""
    return steps.pip_from_bundle(python, '"$FWSETUP_WHEELHOUSE"', shlex.quote(fwsetup_spec)) + " || exit 4"


def check_wheelhouse(wheelhouse: str) -> str:
    """`--bundle` (old name `--wheelhouse`) of an export: a path or an http(s) URL, one line that no
    format reads as code."""
    if not wheelhouse.strip() or any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in wheelhouse):
        raise UsageError(f"--bundle/--wheelhouse {wheelhouse!r} is empty or has control characters", "pass a path or URL")
    if wheelhouse.startswith("-") or "${{" in wheelhouse:
        raise UsageError(f"--bundle/--wheelhouse {wheelhouse!r} could be read as an option or a CI expression", "pass a path or URL")
    scheme = urlsplit(wheelhouse).scheme.lower()
    if "://" in wheelhouse and scheme not in ("http", "https", "file"):
        raise UsageError(f"--bundle/--wheelhouse {wheelhouse!r} has URL scheme {scheme!r}", "use http(s) or a path")
    return wheelhouse


def check_spec(spec: str) -> str:
    """`--fwsetup-spec`: a requirement naming fwsetup, an https/git+https/file URL, or a path —
    one line of text that cannot be read as an option or a CI expression."""

    def bad(why: str) -> UsageError:
        return UsageError(
            f"--fwsetup-spec {spec!r} {why}",
            "pass a requirement (fwsetup==0.1.0), an https URL or a path to fwsetup's wheel or source",
        )

    if not spec.strip():
        raise bad("is empty")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in spec):
        raise bad("contains control or line-separator characters")
    if spec.startswith("-"):
        raise bad("would be read by pip as an option")
    if "${{" in spec:
        raise bad("contains a CI expression (${{ … }})")
    scheme = urlsplit(spec).scheme
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", spec):
        if scheme.lower() not in _SPEC_URL_SCHEMES:
            raise bad(f"has URL scheme {scheme!r}; use https")
        return spec

    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        if "/" in spec or spec.startswith(".") or spec.endswith((".whl", ".tar.gz", ".zip")):
            return spec  # a path: shell-quoted where it is used
        raise bad(f"is not a requirement ({exc})") from None
    if canonicalize_name(req.name) != "fwsetup":
        raise bad(f"names {req.name!r}, not fwsetup")
    if req.url and urlsplit(req.url).scheme.lower() not in _SPEC_URL_SCHEMES:
        raise bad(f"installs from {urlsplit(req.url).scheme!r}; use https")
    return spec


def _b64_lines(lock_text: str) -> list[str]:
    data = base64.b64encode(lock_text.encode("utf-8")).decode("ascii")
    return [data[i : i + _B64_WIDTH] for i in range(0, len(data), _B64_WIDTH)] or [""]


def _digest(lock_text: str) -> str:
    return hashlib.sha256(lock_text.encode("utf-8")).hexdigest()


def write_lock_sh(lock_text: str) -> str:
    """Shell that writes fwsetup.lock from its base64 here-document (the terminator cannot occur)."""
    lines = _b64_lines(lock_text)
    assert LOCK_TERMINATOR not in lines
    body = "\n".join(lines)
    return (
        f"python3 -c {shlex.quote(DECODER)} {_digest(lock_text)} <<'{LOCK_TERMINATOR}'\n"
        f"{body}\n{LOCK_TERMINATOR}\n"
    )


def shell(lock_text: str, fwsetup_spec: str, wheelhouse: str = WHEELHOUSE) -> str:
    return f"""#!/bin/sh
# Made by `fwsetup export --format shell`: installs fwsetup, then the locked environment (its
# smoke test included). Exits with fwsetup's code (see its README) on any failure.
# FWSETUP_PREFIX: where fwsetup itself goes (default /opt/fwsetup; an fwsetup already there is
# used as it is); run it in a work directory. The lock is embedded as base64 (checked by SHA-256).
# FWSETUP_WHEELHOUSE: the bundle (`fwsetup bundle`), a path or an http(s) URL.
set -eu
prefix="${{FWSETUP_PREFIX:-/opt/fwsetup}}"
[ -n "${{FWSETUP_WHEELHOUSE:-}}" ] || FWSETUP_WHEELHOUSE={shlex.quote(wheelhouse)}
export FWSETUP_WHEELHOUSE
{write_lock_sh(lock_text)}if [ ! -x "$prefix/bin/fwsetup" ]; then
  python3 -m venv "$prefix"
  {pip_line('"$prefix/bin/python"', fwsetup_spec)}
fi
PATH="$prefix/bin:$PATH"
export PATH
{install_line(False)}
cat fwsetup-result.json
"""


def dockerfile(
    lock_text: str, fwsetup_spec: str, wheelhouse: str = WHEELHOUSE, base_image: str = "python:3.11-slim"
) -> str:
    data = "".join(_b64_lines(lock_text))
    served = wheelhouse.startswith(("http://", "https://"))
    # JSON forms: Dockerfile's COPY takes a JSON array, ENV a double-quoted string with escapes.
    copy = "" if served else f"COPY {json.dumps([wheelhouse, '/opt/fwsetup-wheelhouse/'])}\n"
    where = wheelhouse if served else "/opt/fwsetup-wheelhouse"
    # One RUN per chunk keeps every Dockerfile line short; base64 cannot close the quotes.
    chunks = "".join(
        f"RUN printf '%s' '{data[i : i + _DOCKER_CHUNK]}' >> fwsetup.lock.b64\n"
        for i in range(0, len(data), _DOCKER_CHUNK)
    )
    return f"""# Made by `fwsetup export --format dockerfile` (the lock is embedded as base64, checked by SHA-256)
FROM {base_image}
ENV FWSETUP_YES=1 FWSETUP_QUIET=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /opt/fwsetup-work
{copy}ENV FWSETUP_WHEELHOUSE={json.dumps(where)}
RUN python3 -m venv /opt/fwsetup && {pip_line("/opt/fwsetup/bin/python", fwsetup_spec)}
ENV PATH=/opt/fwsetup/bin:$PATH
{chunks}RUN python3 -c {shlex.quote(DECODER)} {_digest(lock_text)} < fwsetup.lock.b64 && rm fwsetup.lock.b64
RUN {install_line(False)}
CMD ["fwsetup", "smoke", "--help"]
"""


def cloud_init(lock_text: str, fwsetup_spec: str, wheelhouse: str = WHEELHOUSE) -> str:
    doc: dict[str, Any] = {
        "package_update": True,
        "packages": ["python3-venv"],
        "write_files": [
            {"path": "/opt/fwsetup-work/fwsetup.lock", "permissions": "0644", "content": lock_text}
        ],
        "runcmd": [
            ["python3", "-m", "venv", "/opt/fwsetup"],
            [
                *(["env", f"PIP_TRUSTED_HOST={steps.http_host(wheelhouse)}"] if steps.http_host(wheelhouse) else []),
                "/opt/fwsetup/bin/python",
                *["-m", "pip", "install", "--quiet", "--no-index", "--find-links"],
                wheelhouse,
                fwsetup_spec,
            ],
            [
                "env",
                f"FWSETUP_WHEELHOUSE={wheelhouse}",
                "sh",
                "-c",
                f"cd /opt/fwsetup-work && PATH=/opt/fwsetup/bin:$PATH {install_line(False)}",
            ],
        ],
    }
    return yamlout.dumps(doc, "#cloud-config\n# Made by `fwsetup export --format cloud-init`\n")


def github_actions(lock_text: str, fwsetup_spec: str, wheelhouse: str = WHEELHOUSE) -> str:
    job_steps: list[dict[str, Any]] = [
        {"uses": "actions/checkout@v4"},
        {"uses": "actions/setup-python@v5", "with": {"python-version": "3.11"}},
        {"name": "Install fwsetup from the bundle", "run": pip_line("python", fwsetup_spec)},
        {"name": "Write the lock", "run": write_lock_sh(lock_text)},
        {
            "name": "Install the locked environment and smoke-test it",
            "env": {"FWSETUP_YES": "1"},
            "run": install_line(False),
        },
        {"name": "Result", "run": "cat fwsetup-result.json"},
    ]
    doc: dict[str, Any] = {
        "name": "fwsetup environment",
        "on": ["push", "workflow_dispatch"],
        "jobs": {
            "provision": {
                "runs-on": "ubuntu-latest",
                "env": {"FWSETUP_WHEELHOUSE": wheelhouse},
                "steps": job_steps,
            }
        },
    }
    return yamlout.dumps(doc, "# Made by `fwsetup export --format github-actions`\n")
