"""`fwsetup export`: provisioning scripts that install fwsetup, reproduce a lock, and prove it.

Each format embeds the lock so the script is self-contained, fails with fwsetup's exit codes
(`set -eu`; CI systems stop on the first non-zero step), and writes the install result as JSON.
"""

from __future__ import annotations

import json
import shlex

from fwsetup.fleet import pipexport

FORMATS = ("shell", "dockerfile", "cloud-init", "github-actions")
ALL_FORMATS = (*FORMATS, *pipexport.FORMATS)  # requirements, pylock: for pip and uv (pipexport.py)


def install_line(gpu: bool) -> str:
    accel = " --gpu" if gpu else ""
    return f"fwsetup install --lock fwsetup.lock{accel} --yes --json > fwsetup-result.json"


def shell(lock_text: str, fwsetup_spec: str) -> str:
    return f"""#!/bin/sh
# Made by `fwsetup export --format shell`: installs fwsetup, then the locked environment (its
# smoke test included). Exits with fwsetup's code (see its README) on any failure.
# FWSETUP_PREFIX: where fwsetup itself goes (default /opt/fwsetup); run it in a work directory.
set -eu
prefix="${{FWSETUP_PREFIX:-/opt/fwsetup}}"
cat > fwsetup.lock <<'FWSETUP_LOCK_EOF'
{lock_text.rstrip()}
FWSETUP_LOCK_EOF
python3 -m venv "$prefix"
"$prefix/bin/python" -m pip install --quiet {shlex.quote(fwsetup_spec)}
PATH="$prefix/bin:$PATH"
export PATH
{install_line(False)}
cat fwsetup-result.json
"""


def dockerfile(lock_text: str, fwsetup_spec: str, base_image: str = "python:3.11-slim") -> str:
    escaped = json.dumps(lock_text)
    return f"""# Made by `fwsetup export --format dockerfile`
FROM {base_image}
ENV FWSETUP_YES=1 FWSETUP_QUIET=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /opt/fwsetup-work
RUN python3 -m venv /opt/fwsetup && /opt/fwsetup/bin/python -m pip install --quiet {shlex.quote(fwsetup_spec)}
ENV PATH=/opt/fwsetup/bin:$PATH
RUN printf '%s' {shlex.quote(escaped)} | python3 -c "import json,sys; open('fwsetup.lock','w').write(json.load(sys.stdin))"
RUN {install_line(False)}
CMD ["fwsetup", "smoke", "--help"]
"""


def _yaml_block(text: str, indent: int) -> str:
    pad = " " * indent
    return "\n".join(pad + line if line else "" for line in text.rstrip().splitlines())


def cloud_init(lock_text: str, fwsetup_spec: str) -> str:
    return f"""#cloud-config
# Made by `fwsetup export --format cloud-init`
package_update: true
packages:
  - python3-venv
write_files:
  - path: /opt/fwsetup-work/fwsetup.lock
    permissions: "0644"
    content: |
{_yaml_block(lock_text, 6)}
runcmd:
  - [python3, -m, venv, /opt/fwsetup]
  - [/opt/fwsetup/bin/python, -m, pip, install, --quiet, {json.dumps(fwsetup_spec)}]
  - [sh, -c, "cd /opt/fwsetup-work && PATH=/opt/fwsetup/bin:$PATH {install_line(False)}"]
"""


def github_actions(lock_text: str, fwsetup_spec: str) -> str:
    return f"""# Made by `fwsetup export --format github-actions`
name: fwsetup environment
on: [push, workflow_dispatch]
jobs:
  provision:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install fwsetup
        run: python -m pip install {shlex.quote(fwsetup_spec)}
      - name: Write the lock
        run: |
          cat > fwsetup.lock <<'FWSETUP_LOCK_EOF'
{_yaml_block(lock_text, 10)}
          FWSETUP_LOCK_EOF
      - name: Install the locked environment and smoke-test it
        env:
          FWSETUP_YES: "1"
        run: {install_line(False)}
      - name: Result
        run: cat fwsetup-result.json
"""


def render(fmt: str, lock_text: str, fwsetup_spec: str) -> str:
    if fmt == "shell":
        return shell(lock_text, fwsetup_spec)
    if fmt == "dockerfile":
        return dockerfile(lock_text, fwsetup_spec)
    if fmt == "cloud-init":
        return cloud_init(lock_text, fwsetup_spec)
    if fmt == "github-actions":
        return github_actions(lock_text, fwsetup_spec)
    raise ValueError(fmt)
