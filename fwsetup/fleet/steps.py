"""What every fleet job runs on its machine, as shell: fwsetup from the bundle into its own venv,
the locked environment from the bundle offline, the smoke test. One text for the Kubernetes and
Slurm exports (and the bundle-install line for the others).

The script reads everything variable from the environment (FWSETUP_PREFIX, FWSETUP_WHEELHOUSE,
FWSETUP_LOCK, FWSETUP_FRAMEWORK, FWSETUP_PYTHON, FWSETUP_SMOKE_FLAGS), so no value of a lock is
ever part of shell code. Exit codes are fwsetup's: fwsetup's own, and 4 (install failed) when fwsetup
itself cannot be installed from the bundle.
"""

from __future__ import annotations

import hashlib
import re

from fwsetup import __version__
from fwsetup.errors import ExitCode

SPEC = f"fwsetup=={__version__}"


# sed: the host[:port] of an http:// URL (user info dropped), nothing for https or a path.
_HTTP_HOST = r"s|^[Hh][Tt][Tt][Pp]://\([^/@]*@\)\{0,1\}\([^/?#]*\).*|\2|p"


def pip_from_bundle(python: str, wheelhouse: str, spec: str = SPEC) -> str:
    """The shell line installing fwsetup from the bundle and never from an index. pip takes plain
    http only from localhost unless told: a bundle the user serves over http (the README's
    `http://bundle:8000/`) is trusted for this step, which reads nothing but the bundle."""
    trusted = f"$(printf '%s\\n' {wheelhouse} | sed -n '{_HTTP_HOST}')"
    return (
        f'PIP_TRUSTED_HOST="{trusted}" {python} -m pip install --quiet --disable-pip-version-check --no-index '
        f"--find-links {wheelhouse} {spec}"
    )


def http_host(url: str) -> str:
    """What pip_from_bundle trusts, for an export that knows the URL when it is written ('' if none)."""
    if not url.lower().startswith("http://"):
        return ""
    return re.split(r"[/?#]", url[len("http://") :], maxsplit=1)[0].rpartition("@")[2]


PROVISION = f"""\
set -eu
prefix="${{FWSETUP_PREFIX:-/opt/fwsetup}}"
# the lock's Python if one answers (a pyenv shim of an inactive version exits 127), else python3
py=python3
for candidate in "python${{FWSETUP_PYTHON:-3}}" python3; do
  if "$candidate" -c "" >/dev/null 2>&1; then py="$candidate"; break; fi
done
[ -x "$prefix/bin/python" ] || "$py" -m venv "$prefix"
{pip_from_bundle('"$prefix/bin/python"', '"$FWSETUP_WHEELHOUSE"', '"${FWSETUP_SPEC:-' + SPEC + '}"')} || {{
  echo "fwsetup: cannot install fwsetup from the bundle $FWSETUP_WHEELHOUSE" >&2
  echo "fix: serve the directory \\`fwsetup bundle\\` made there (or mount it) and retry" >&2
  exit {int(ExitCode.INSTALL_FAILED)}
}}
"$prefix/bin/fwsetup" install --lock "$FWSETUP_LOCK" --wheelhouse "$FWSETUP_WHEELHOUSE" --offline --yes --json --env "$prefix/env"
"""

SMOKE = '"$prefix/bin/fwsetup" smoke "$FWSETUP_FRAMEWORK" --env "$prefix/env" ${FWSETUP_SMOKE_FLAGS:-} --json\n'


def dns_label(name: str, prefix: str = "fwsetup-") -> str:
    """A Kubernetes object name / Slurm job name / file name from any target name: lower-case
    letters, digits and '-', at most 63 characters, unique per name (a short hash of the original)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-") or "target"
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{prefix}{slug}-{digest}"
