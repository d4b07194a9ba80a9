"""`fwsetup export --format ansible`: a playbook for ansible-core that provisions every host of an
inventory from one lock and one bundle.

The playbook holds no value from the lock: the lock travels beside it as a file (`fwsetup.lock`,
copied byte for byte), so nothing a lock says is ever read as Ansible template or YAML. Hosts set
`fwsetup_wheelhouse` (the bundle: a path on the host or an http(s) URL) and `fwsetup_prefix`
(where fwsetup, the lock and the environment go; default /opt/fwsetup), per host if wanted;
`fwsetup_environment` (a mapping) is the environment of every step, `fwsetup_reports` the
controller directory the hosts' `doctor --json` reports are collected in (for `fleet report`;
made by the play, default `reports/` beside the playbook).

Idempotent: fwsetup's venv is made once (`creates`), pip reports whether it installed anything,
the copy module compares the lock, and `install --lock` reports `unchanged` for an environment
that already holds the lock (after smoke-testing it again). A failing host shows fwsetup's own
message and fix, and fwsetup's exit code.
"""

from __future__ import annotations

from typing import Any

from fwsetup import __version__
from fwsetup.fleet import yamlout

LOCK_NAME = "fwsetup.lock"  # beside the playbook
PREFIX = "{{ fwsetup_prefix | default('/opt/fwsetup') }}"
WHEELHOUSE = "{{ fwsetup_wheelhouse | mandatory('set fwsetup_wheelhouse: the bundle, a path or an http(s) URL') }}"
FWSETUP = "{{ _fwsetup_prefix }}/bin/fwsetup"
INSTALL_JSON = "(fwsetup_install.stdout | from_json)"
# pip takes plain http only from localhost unless told: a bundle served as the README serves it
# (`http://bundle:8000/`) is trusted for this one step, which reads nothing but the bundle.
TRUSTED_HOST = "{{ _fwsetup_wheelhouse | urlsplit('hostname') if _fwsetup_wheelhouse is match('http://') else '' }}"
REPORTS = "{{ fwsetup_reports | default(playbook_dir ~ '/reports') }}"  # on the controller
COLLECT = "fwsetup_collect_reports | default(true) | bool"


def playbook(fwsetup_spec: str = f"fwsetup=={__version__}") -> list[dict[str, Any]]:
    """The play as data; `fwsetup_spec` is the requirement pip installs from the bundle."""
    command = "ansible.builtin.command"
    tasks: list[dict[str, Any]] = [
        {
            "name": "fwsetup's own environment",
            command: {
                "argv": ["{{ fwsetup_python | default('python3') }}", "-m", "venv", "{{ _fwsetup_prefix }}"],
                "creates": "{{ _fwsetup_prefix }}/bin/python",
            },
        },
        {
            "name": "fwsetup from the bundle (no package index)",
            command: {
                "argv": [
                    "{{ _fwsetup_prefix }}/bin/python",
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-index",
                    "--find-links",
                    "{{ _fwsetup_wheelhouse }}",
                    fwsetup_spec,
                ],
            },
            "environment": {"PIP_TRUSTED_HOST": TRUSTED_HOST},
            "register": "fwsetup_pip",
            "changed_when": "'Successfully installed' in fwsetup_pip.stdout",
        },
        {
            "name": "the lock, beside fwsetup",
            "ansible.builtin.copy": {
                "src": "{{ playbook_dir }}/" + LOCK_NAME,
                "dest": "{{ _fwsetup_prefix }}/" + LOCK_NAME,
                "mode": "0644",
            },
        },
        {
            "name": "fwsetup doctor",
            command: {"argv": [FWSETUP, "doctor", "--json"]},
            "register": "fwsetup_doctor",
            "changed_when": False,
        },
        {
            # Each host's own setting (fwsetup_reports may differ per host), so not run_once; the
            # file module makes a directory that another host's task made meanwhile without error.
            "name": "the reports directory on the controller",
            "ansible.builtin.file": {"path": REPORTS, "state": "directory"},  # an existing one kept as it is
            "delegate_to": "localhost",
            "when": COLLECT,
        },
        {
            "name": "collect the doctor report on the controller (for `fwsetup fleet report`)",
            "ansible.builtin.copy": {
                "content": "{{ fwsetup_doctor.stdout }}\n",
                "dest": REPORTS + "/{{ inventory_hostname }}.json",
                "mode": "0644",
            },
            "delegate_to": "localhost",
            "changed_when": False,
            "when": COLLECT,
        },
        {
            "name": "install the locked environment from the bundle, offline, and smoke-test it",
            command: {
                "argv": [
                    FWSETUP,
                    "install",
                    "--lock",
                    "{{ _fwsetup_prefix }}/" + LOCK_NAME,
                    "--wheelhouse",
                    "{{ _fwsetup_wheelhouse }}",
                    "--offline",
                    "--yes",
                    "--json",
                    "--env",
                    "{{ _fwsetup_prefix }}/env",
                ],
            },
            "register": "fwsetup_install",
            "failed_when": False,
            "changed_when": f"fwsetup_install.rc == 0 and not {INSTALL_JSON}.get('unchanged', false)",
        },
        {
            "name": "fwsetup's message and fix",
            "ansible.builtin.fail": {
                "msg": (
                    "fwsetup install exited {{ fwsetup_install.rc }}: "
                    f"{{{{ {INSTALL_JSON}.error.message | default(fwsetup_install.stderr) }}}}"
                    f" — fix: {{{{ {INSTALL_JSON}.error.fix | default('see the message') }}}}"
                ),
            },
            "when": "fwsetup_install.rc != 0",
        },
        {
            "name": "the smoke test's answer",
            "ansible.builtin.debug": {
                "msg": (
                    f"{{{{ {INSTALL_JSON}.framework }}}} {{{{ {INSTALL_JSON}.smoke.framework_version | default('') }}}}"
                    f" on {{{{ {INSTALL_JSON}.smoke.device | default('') }}}}: "
                    f"{{{{ 'unchanged' if {INSTALL_JSON}.get('unchanged', false) else 'installed' }}}}"
                ),
            },
        },
    ]
    return [
        {
            "name": "fwsetup: the locked environment, from one bundle",
            "hosts": "{{ fwsetup_hosts | default('all') }}",
            "gather_facts": False,
            "vars": {"_fwsetup_prefix": PREFIX, "_fwsetup_wheelhouse": WHEELHOUSE},
            "environment": "{{ fwsetup_environment | default({}) }}",
            "tasks": tasks,
        }
    ]


def render(fwsetup_spec: str = f"fwsetup=={__version__}") -> str:
    return yamlout.dumps(
        playbook(fwsetup_spec),
        yamlout.comment(
            "Made by `fwsetup export --format ansible`. Put the lock beside this file as fwsetup.lock;\n"
            "run: ansible-playbook -i INVENTORY THIS.yml -e fwsetup_wheelhouse=URL-OR-PATH\n"
            "Per host: fwsetup_prefix (default /opt/fwsetup), fwsetup_wheelhouse, fwsetup_environment.",
        ),
    )
