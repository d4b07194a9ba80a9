"""Fleets through existing engines: the bundle carries fwsetup, served over HTTP; Ansible runs for
real against two hosts; Kubernetes Jobs checked against the API's models; Slurm scripts run under a
fake srun/sbatch."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import TINY_RECIPES, cli, fwsetup, json_out, tiny_env

from fwsetup.errors import UsageError
from fwsetup.fleet import ansible, bundle, formats, kubernetes, lockfile, slurm
from fwsetup.fleet.lockfile import LockTarget
from fwsetup.install import sources

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent


def _target(name: str = "a100-node", **kw: Any) -> LockTarget:
    base: dict[str, Any] = {
        "name": name,
        "framework": "pytorch",
        "version": "2.9.1",
        "variant": "cu128",
        "accelerator": "cuda",
        "python": "3.11",
        "platform": "linux-x86_64",
        "requirements": ["torch==2.9.1 --hash=sha256:" + "a" * 64],
        "gpus": ["8.0", "8.0"],
        "gpu_names": ["NVIDIA A100-SXM4-80GB", "NVIDIA A100-SXM4-80GB"],
        "glibc": "2.35",
        "cuda": "12.8",
        "smoke": "pytorch.py",
    }
    base.update(kw)
    return LockTarget(**base)


# ------------------------------------------------------------------ --wheelhouse URL


def test_an_http_wheelhouse_offline_means_no_index_for_uv_and_pip(tmp_path: Path) -> None:
    url = sources.Sources(find_links=("http://127.0.0.1:8000/",), offline=True, env_dir=tmp_path)
    uv = sources.for_uv(url).args
    assert "--no-index" in uv and "--offline" not in uv  # uv's --offline would refuse the server too
    assert uv[uv.index("--find-links") + 1] == "http://127.0.0.1:8000/"
    assert "--no-index" in sources.for_pip(url).args
    local = sources.Sources(find_links=(str(tmp_path),), offline=True, env_dir=tmp_path)
    assert "--offline" in sources.for_uv(local).args and "--no-index" not in sources.for_uv(local).args
    online = sources.Sources(find_links=("https://h/wh/",), env_dir=tmp_path)
    assert "--no-index" not in sources.for_uv(online).args


def test_install_keeps_a_wheelhouse_url_as_a_url(tmp_path: Path) -> None:
    from fwsetup.cli import app
    from fwsetup.cli.spec import parse

    cmd = app.COMMANDS["install"]
    values = parse(cmd, ["tiny", "--wheelhouse", "http://127.0.0.1:8000/wh/", "--wheelhouse", "d"], {})
    assert values["wheelhouse"] == ["http://127.0.0.1:8000/wh/", Path("d")]
    from_env = parse(cmd, ["tiny"], {"FWSETUP_WHEELHOUSE": "https://h:8443/x"})
    assert from_env["wheelhouse"] == ["https://h:8443/x"]
    paths = parse(cmd, ["tiny"], {"FWSETUP_WHEELHOUSE": f"a{os.pathsep}b"})
    assert paths["wheelhouse"] == [Path("a"), Path("b")]


def test_pip_takes_fwsetup_from_a_bundle_served_over_plain_http(tmp_path: Path) -> None:
    """pip ignores an http find-links URL whose host is not localhost ("not a trusted or secure
    host"): the README's `http://bundle:8000/` failed on every machine. The line installing
    fwsetup trusts the bundle's own host, and nothing for https or a path."""
    from fwsetup.fleet import steps

    line = steps.pip_from_bundle(sys.executable, '"$FWSETUP_WHEELHOUSE"', "no-such-package-fwsetup")
    for wheelhouse, trusted in (
        ("http://user:pw@bundle.invalid:8000/wh/?x", "bundle.invalid:8000"),
        ("HTTP://bundle.invalid/wh", "bundle.invalid"),
        ("https://bundle.invalid/wh/", ""),
        (str(tmp_path / "wh"), ""),
    ):
        shown = subprocess.run(
            ["bash", "-c", line.replace(" -m pip install", " -c 'import os; print(os.environ[\"PIP_TRUSTED_HOST\"])' #")],
            capture_output=True, text=True, env=dict(os.environ, FWSETUP_WHEELHOUSE=wheelhouse), check=False,
        )  # fmt: skip
        assert shown.stdout == trusted + "\n", (wheelhouse, shown.stdout, shown.stderr)
        assert steps.http_host(wheelhouse) == trusted
    said = dict(os.environ, PIP_CONFIG_FILE=os.devnull, PIP_RETRIES="0", PIP_TIMEOUT="2", PIP_VERBOSE="1",
                FWSETUP_WHEELHOUSE="http://bundle.invalid:8000/wh/")  # fmt: skip
    for pip_line, ignored in ((line, False), (line[line.index(sys.executable) :], True)):  # with, without the trust
        pip = subprocess.run(["bash", "-c", pip_line], capture_output=True, text=True, env=said, timeout=300, check=False)
        assert "http://bundle.invalid:8000/wh/" in pip.stdout + pip.stderr, pip.stdout + pip.stderr
        assert ("not a trusted or secure host" in pip.stderr) is ignored, pip.stderr
    # Every export that installs fwsetup with pip carries it (the playbook: its own, tested above).
    lock = tmp_path / "fwsetup.lock"
    lock.write_text(lockfile.dumps("pytorch", [_target()]))
    for fmt in ("shell", "dockerfile", "github-actions", "kubernetes", "slurm", "cloud-init"):
        out = cli("export", "--lock", str(lock), "--format", fmt, "--wheelhouse", "http://bundle:8000/")
        assert out.returncode == 0, (fmt, out.stderr)
        text = out.stdout.replace('\\"', '"')  # the YAML forms write JSON strings
        assert ("PIP_TRUSTED_HOST=bundle:8000" if fmt == "cloud-init" else 'PIP_TRUSTED_HOST="$(printf') in text, fmt


# ------------------------------------------------------------------ the bundle carries fwsetup


def test_a_bundle_is_served_by_a_static_server_without_directory_listings(tmp_path: Path) -> None:
    """nginx without autoindex, an object store's website: only files. The bundle's index.html
    is what pip and uv read as `--find-links URL`."""
    import functools
    import http.server
    import threading

    wh = tmp_path / "wh"
    name = bundle.self_wheel(wh)
    bundle.write_index(wh)

    class FilesOnly(http.server.SimpleHTTPRequestHandler):
        def list_directory(self, path: Any) -> None:  # type: ignore[override]
            self.send_error(404, "no listings here")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(FilesOnly, directory=str(wh)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        quiet = dict(os.environ, PIP_CONFIG_FILE=os.devnull, UV_CACHE_DIR=str(tmp_path / "uv-cache"))
        pip = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-index", "--no-deps", "--find-links", url,
             "-d", str(tmp_path / "got"), "fwsetup"],
            capture_output=True, text=True, timeout=300, env=quiet, check=False,
        )  # fmt: skip
        assert pip.returncode == 0, pip.stderr
        assert (tmp_path / "got" / name).read_bytes() == (wh / name).read_bytes()
        uv = subprocess.run(
            [str(BIN / "uv"), "pip", "install", "--no-index", "--no-deps", "--find-links", url,
             "--target", str(tmp_path / "uv-target"), "fwsetup"],
            capture_output=True, text=True, timeout=300, env=quiet, check=False,
        )  # fmt: skip
        assert uv.returncode == 0, uv.stderr
        assert (tmp_path / "uv-target" / "fwsetup" / "cli" / "app.py").is_file()
        (wh / bundle.INDEX).unlink()  # without the page, such a server offers nothing
        again = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-index", "--no-deps", "--find-links", url,
             "-d", str(tmp_path / "got2"), "fwsetup"],
            capture_output=True, text=True, timeout=300, env=quiet, check=False,
        )  # fmt: skip
        assert again.returncode != 0
    finally:
        server.shutdown()
        server.server_close()


def test_fwsetup_wheel_is_rebuilt_from_the_running_install(tmp_path: Path) -> None:
    name = bundle.self_wheel(tmp_path)
    again = bundle.self_wheel(tmp_path / "again")
    assert (tmp_path / name).read_bytes() == (tmp_path / "again" / again).read_bytes()  # reproducible
    with zipfile.ZipFile(tmp_path / name) as zf:
        names = set(zf.namelist())
        meta = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        record = zf.read(next(n for n in names if n.endswith("RECORD"))).decode()
    assert "fwsetup/cli/app.py" in names and "fwsetup/fleet/bundle.py" in names
    assert any(n.startswith("fwsetup/_recipes/") and n.endswith(".toml") for n in names)
    assert "fwsetup/_recipes/smoke/pytorch.py" in names
    assert not any("__pycache__" in n for n in names)
    assert "Name: fwsetup" in meta and "Requires-Dist: uv" in meta
    assert all(n in record for n in names if not n.endswith("RECORD"))
    # pip accepts it: it installs into a fresh environment with nothing else.
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120)
    out = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install", "--no-deps",
         "--no-index", str(tmp_path / name)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert (env / "bin" / "fwsetup").exists()
    site = next((env / "lib").glob("python*/site-packages"))
    assert (site / "fwsetup" / "_recipes" / "pytorch.toml").is_file()


def test_runtime_requirements_are_judged_for_the_target_python() -> None:
    old = bundle.runtime_requirements(_target(python="3.10"))
    new = bundle.runtime_requirements(_target(python="3.12"))
    assert any(r.startswith("tomli") and not r.startswith("tomli-w") for r in old)
    assert not any(r.startswith("tomli") and not r.startswith("tomli-w") for r in new)
    assert any(r.startswith("uv") for r in new) and not any(";" in r for r in old + new)


# ------------------------------------------------------------------ ansible


def test_the_playbook_holds_no_lock_value_and_parses_as_yaml() -> None:
    text = ansible.render()
    doc = yaml.safe_load(text)
    assert doc == ansible.playbook()
    play = doc[0]
    names = [t["name"] for t in play["tasks"]]
    assert names[0] == "fwsetup's own environment" and any("doctor" in n for n in names)
    install = next(t for t in play["tasks"] if "locked environment" in t["name"])
    argv = install["ansible.builtin.command"]["argv"]
    assert argv[1:3] == ["install", "--lock"] and "--offline" in argv and "--json" in argv
    pip = next(t for t in play["tasks"] if "from the bundle" in t["name"])["ansible.builtin.command"]["argv"]
    assert "--no-index" in pip and pip[-1].startswith("fwsetup==")


def test_playbook_is_accepted_by_ansible_playbook_syntax_check(tmp_path: Path) -> None:
    exe = BIN / "ansible-playbook"
    if not exe.exists():
        pytest.skip("ansible-core is a test dependency: pip install -e '.[test]'")
    play = tmp_path / "site.yml"
    play.write_text(ansible.render())
    (tmp_path / "fwsetup.lock").write_text("")
    out = subprocess.run(
        [str(exe), "--syntax-check", "-i", "localhost,", str(play)],
        capture_output=True, text=True, timeout=300, env=_ansible_env(tmp_path), check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr


def _ansible_env(tmp: Path) -> dict[str, str]:
    return dict(
        os.environ,
        ANSIBLE_HOME=str(tmp / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"),
        ANSIBLE_REMOTE_TEMP=str(tmp / "ansible-remote-tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_HOST_KEY_CHECKING="0",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        LC_ALL="C.UTF-8",
        LANG="C.UTF-8",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )


def _recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP lines: host -> {ok, changed, failed, …}."""
    out = {}
    for host, counts in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M):
        out[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _readme_fleet_commands() -> dict[str, str]:
    """The README's fleet commands, as it prints them (the test runs these lines, not its own)."""
    text = (HERE.parent / "README.md").read_text(encoding="utf-8")
    fleets = text[text.index("### Fleets and CI") : text.index("**Kubernetes**")]
    lines = [
        line.split("  #")[0].strip()
        for block in re.findall(r"```sh\n(.*?)```", fleets, re.S)
        for line in block.splitlines()
    ]
    found = {
        "bundle": next(ln for ln in lines if ln.startswith("fwsetup bundle ")),
        "serve": next(ln for ln in lines if ln.startswith("python3 -m http.server ")),
        "playbook": next(ln for ln in lines if ln.startswith("ansible-playbook ")),
        "report": next(ln for ln in lines if ln.startswith("fwsetup fleet report ")),
    }
    export = re.search(r"`(fwsetup export --format ansible [^`]*)`", fleets)
    assert export, "the README's Ansible paragraph names its export command"
    found["export"] = export.group(1)
    return found


def test_the_readme_fleet_commands_are_the_ones_the_ansible_test_runs() -> None:
    readme = _readme_fleet_commands()
    assert readme == {
        "bundle": "fwsetup bundle --lock fwsetup.lock -o wheelhouse/",
        "serve": "python3 -m http.server --directory wheelhouse 8000",
        "playbook": "ansible-playbook -i inventory.yml play/site.yml -e fwsetup_wheelhouse=http://bundle:8000/",
        "report": "fwsetup fleet report play/reports/*.json",
        "export": "fwsetup export --format ansible -o play/site.yml",
    }


def test_the_playbook_makes_its_reports_directory_on_the_controller() -> None:
    """Point 9: `play/reports/` (or fwsetup_reports) exists before any report is copied there,
    also for a playbook written to stdout; made on the controller, for each host's setting."""
    tasks = ansible.playbook()[0]["tasks"]
    names = [t["name"] for t in tasks]
    made = tasks[names.index("the reports directory on the controller")]
    collect = next(t for t in tasks if t["name"].startswith("collect the doctor report"))
    assert names.index(made["name"]) < names.index(collect["name"])
    assert made["delegate_to"] == "localhost" and made["when"] == collect["when"]
    assert made["ansible.builtin.file"] == {"path": ansible.REPORTS, "state": "directory"}
    assert collect["ansible.builtin.copy"]["dest"].startswith(ansible.REPORTS + "/")


def test_export_o_makes_the_playbooks_directory_and_an_unwritable_one_is_a_usage_error(tmp_path: Path) -> None:
    """The README's `-o play/site.yml` where no play/ exists was an internal error (exit 1)."""
    lock = tmp_path / "fwsetup.lock"
    lock.write_text(lockfile.dumps("pytorch", [_target()]))
    play = tmp_path / "play" / "site.yml"
    made = cli("export", "--lock", str(lock), "--format", "ansible", "-o", str(play))
    assert made.returncode == 0, made.stderr
    assert play.is_file() and (play.parent / "fwsetup.lock").read_text() == lock.read_text()
    (tmp_path / "a-file").write_text("")
    for fmt, output in (("ansible", "a-file/site.yml"), ("slurm", "a-file/jobs")):
        out = cli("export", "--lock", str(lock), "--format", fmt, "-o", str(tmp_path / output), "--json")
        assert out.returncode == 2 and "Traceback" not in out.stderr, (fmt, out.stdout, out.stderr)
        assert json.loads(out.stdout)["error"]["message"].startswith("cannot write the export to ")


# pylock reads the index for its files' sizes and URLs (no network here); it is written by the same
# one-file path as requirements.
@pytest.mark.parametrize("fmt", [f for f in formats.ALL_FORMATS if f != "pylock"])
def test_export_o_reports_what_it_wrote_the_same_way_for_every_format(tmp_path: Path, fmt: str) -> None:
    """shell, dockerfile and requirements wrote silently while ansible and slurm said `wrote …`, and
    their --json `output` was a string where the engines' was a list."""
    lock = tmp_path / "fwsetup.lock"
    lock.write_text(lockfile.dumps("pytorch", [_target()]))
    argv = ["export", "--lock", str(lock), "--format", fmt, "--bundle", "http://bundle:8000/"]
    (tmp_path / "text").mkdir()
    (tmp_path / "json").mkdir()
    text = cli(*argv, "-o", str(tmp_path / "text" / "out"))
    assert text.returncode == 0, text.stderr
    wrote = [line.removeprefix("wrote ") for line in text.stderr.splitlines()]
    assert text.stdout == "" and wrote and all(Path(p).is_file() for p in wrote), text.stderr
    assert all(line.startswith("wrote ") for line in text.stderr.splitlines())
    data = json_out(cli(*argv, "-o", str(tmp_path / "json" / "out"), "--json"))
    assert set(data) == {"format", "output"} and data["format"] == fmt
    assert [Path(p).relative_to(tmp_path / "json") for p in data["output"]] == [
        Path(p).relative_to(tmp_path / "text") for p in wrote
    ]


@pytest.mark.e2e
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare -n -m")
def test_ansible_provisions_two_hosts_from_a_served_bundle_with_no_network(tmp_path: Path) -> None:
    """The README's commands as it writes them, in one directory: one lock → `fwsetup bundle` →
    its `python3 -m http.server` line inside `unshare -n -m` (the URL's host `bundle` is loopback
    there) → `fwsetup export --format ansible -o play/site.yml` → its `ansible-playbook` line for
    two local hosts with their own prefix, and no `play/reports/` made beforehand: both
    environments compute, the reports are collected; the second run changes nothing."""
    started = time.monotonic()
    exe = BIN / "ansible-playbook"
    assert exe.exists(), "ansible-core is a test dependency"
    readme = _readme_fleet_commands()
    env = tiny_env(tmp_path / "home")

    def sh(line: str, **extra: str) -> subprocess.CompletedProcess[str]:
        """A README line run as a user types it, in the directory that holds the lock."""
        return subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, capture_output=True, text=True, timeout=900,
            env=dict(_ansible_env(tmp_path), **extra), check=False,
        )  # fmt: skip

    lock = tmp_path / "fwsetup.lock"
    assert fwsetup("lock", "tiny", "--cpu", "-o", str(lock), "--json", env=env).returncode == 0
    wh = tmp_path / "wheelhouse"
    made = sh(readme["bundle"], **env)
    assert made.returncode == 0, made.stderr
    itself = [f.name for f in wh.iterdir()]
    assert any(f.startswith("fwsetup-") for f in itself) and any(f.startswith("uv-") for f in itself)
    assert any(f.startswith("tomli-") for f in itself)  # for a host python3 older than the target's
    play_dir = tmp_path / "play"
    assert not play_dir.exists()
    exported = sh(readme["export"])
    assert exported.returncode == 0, exported.stderr
    assert (play_dir / "fwsetup.lock").read_text() == lock.read_text()
    assert not (play_dir / "reports").exists()  # the playbook makes it
    bundled_at = time.monotonic()

    url = re.search(r"fwsetup_wheelhouse=http://([a-z]+):([0-9]+)/", readme["playbook"])
    assert url, readme["playbook"]
    hosts = {}
    for host in ("alpha", "beta"):
        hosts[host] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "fwsetup_prefix": str(tmp_path / host),
            "fwsetup_environment": {
                "FWSETUP_HOME": str(tmp_path / host / "home"),
                "FWSETUP_RECIPES_DIR": str(TINY_RECIPES),
                "PIP_CONFIG_FILE": os.devnull,  # the bundle alone: no index, no find-links of this machine
                "UV_CACHE_DIR": str(tmp_path / "empty-uv-cache"),
            },
        }
    # A third host whose fwsetup knows no such framework (no test recipes): it must fail with
    # fwsetup's own message, fix and exit code, and leave the other two alone.
    hosts["gamma"] = dict(
        hosts["alpha"],
        fwsetup_prefix=str(tmp_path / "gamma"),
        fwsetup_environment={k: v for k, v in hosts["alpha"]["fwsetup_environment"].items() if k != "FWSETUP_RECIPES_DIR"},
    )
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))  # the wheelhouse and reports as the README has them
    results = tmp_path / "results"
    results.mkdir()
    run = subprocess.run(
        ["unshare", "-n", "-m", sys.executable, str(HERE / "fleet_offline_run.py"), str(results), url.group(1),
         url.group(2), readme["serve"], readme["playbook"]],
        cwd=tmp_path, capture_output=True, text=True, timeout=1500, env=_ansible_env(tmp_path), check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    first, second = (results / "first.out").read_text(), (results / "second.out").read_text()
    assert (results / "first.rc").read_text() == "2", first[-6000:]  # ansible: a host failed
    assert (results / "second.rc").read_text() == "2", second[-6000:]
    one, two = _recap(first), _recap(second)
    assert set(one) == set(two) == {"alpha", "beta", "gamma"}, first[-3000:]
    assert all(one[h]["failed"] == 0 and one[h]["changed"] >= 3 for h in ("alpha", "beta")), one
    assert all(two[h]["failed"] == 0 and two[h]["changed"] == 0 for h in ("alpha", "beta")), second[-6000:]
    assert one["gamma"]["failed"] == 1 and two["gamma"]["failed"] == 1
    failure = re.search(r"fatal: \[gamma\]: FAILED! => .*", first)
    assert failure and "fwsetup install exited 2: " in failure.group() and "fix: " in failure.group(), first[-6000:]
    assert second.count("tiny 1.16.0 on cpu: unchanged") == 2, second[-6000:]
    for host in ("alpha", "beta"):  # each host's own environment computes
        smoked = fwsetup(
            "smoke", "tiny", "--env", str(tmp_path / host / "env"), "--json",
            env=tiny_env(tmp_path / host / "home"),
        )  # fmt: skip
        assert smoked.returncode == 0 and json_out(smoked)["ok"], smoked.stdout + smoked.stderr
        report = json.loads((play_dir / "reports" / f"{host}.json").read_text())
        assert report["os"]["system"] == "Linux"
    # The reports the run collected make the fleet's table, by the README's line.
    table = json_out(sh(readme["report"] + " --json"))
    assert [r["machine"] for r in table["machines"]] == ["alpha", "beta", "gamma"]
    printed = sh(readme["report"])
    assert printed.returncode == 0 and [ln.split()[0] for ln in printed.stdout.splitlines()[1:4]] == [
        "alpha", "beta", "gamma"
    ], printed.stdout  # fmt: skip
    seconds = {r: float((results / f"{r}.seconds").read_text()) for r in ("first", "second")}
    size = sum(f.stat().st_size for f in wh.iterdir())
    print(
        f"\nansible two hosts: first run {seconds['first']:.1f}s, second {seconds['second']:.1f}s; "
        f"bundle {size / 1e6:.1f} MB in {len(list(wh.iterdir()))} files; lock+bundle+export "
        f"{bundled_at - started:.1f}s; whole test {time.monotonic() - started:.1f}s"
    )
    # Two hosts at once took about a minute here; the budget leaves room for a slower CI machine.
    assert seconds["first"] < 600 and seconds["second"] < 300


def test_a_failing_host_shows_fwsetups_message_and_fix(tmp_path: Path) -> None:
    """The playbook's failure task turns fwsetup's JSON error into the host's message."""
    play = ansible.playbook()[0]
    fail = next(t for t in play["tasks"] if "ansible.builtin.fail" in t)
    msg = fail["ansible.builtin.fail"]["msg"]
    assert "error.message" in msg and "error.fix" in msg and "fwsetup_install.rc" in msg
    assert fail["when"] == "fwsetup_install.rc != 0"
    # Rendered by Ansible's own templating against a real fwsetup error document:
    jinja2 = pytest.importorskip("jinja2")
    error = cli("install", "--lock", str(tmp_path / "missing.lock"), "--json")
    assert error.returncode == 2
    registered = {"fwsetup_install": {"rc": error.returncode, "stdout": error.stdout, "stderr": ""}}
    rendered = _ansible_template(jinja2, msg, registered)
    assert rendered.startswith("fwsetup install exited 2: ") and "fix: " in rendered
    assert json.loads(error.stdout)["error"]["message"] in rendered


def _ansible_template(jinja2: Any, text: str, variables: dict[str, Any]) -> str:
    environment = jinja2.Environment()
    environment.filters["from_json"] = json.loads
    return str(environment.from_string(text).render(**variables))


# ------------------------------------------------------------------ kubernetes


def _k8s_models() -> Any:
    return pytest.importorskip("kubernetes", reason="the kubernetes client is a test dependency")


def _as_model(client_module: Any, data: dict[str, Any], kind: str) -> Any:
    """Deserialize through the client's own models: wrong types and missing required fields
    raise (client-side validation); a key the API does not know is dropped, so the model must
    serialize back to exactly the data."""

    class Response:
        def __init__(self, body: dict[str, Any]) -> None:
            self.data = json.dumps(body)

    api = client_module.ApiClient()
    import inspect

    if "response_text" in inspect.signature(api.deserialize).parameters:  # client >= 35
        model = api.deserialize(json.dumps(data), kind, "application/json")
    else:
        model = api.deserialize(Response(data), kind)
    assert api.sanitize_for_serialization(model) == data
    return model


def test_kubernetes_jobs_validate_against_the_api_models() -> None:
    k8s = _k8s_models()
    from kubernetes import client

    targets = [
        _target(),
        _target("cpu-box", accelerator="cpu", variant="cpu", gpus=[], gpu_names=[], cuda=None),
        _target("mixed", gpus=["8.9", "8.6"], gpu_names=["NVIDIA GeForce RTX 4090", "NVIDIA RTX A6000"]),
    ]
    text = kubernetes.render("lock_version = 1\n", targets, "http://bundle.example:8000/wh/")
    doc = yaml.safe_load(text)
    assert doc["kind"] == "List" and len(doc["items"]) == 1 + len(targets)
    cm = _as_model(client, doc["items"][0], "V1ConfigMap")
    assert cm.data["fwsetup.lock"] == "lock_version = 1\n"
    jobs = [_as_model(client, item, "V1Job") for item in doc["items"][1:]]
    assert k8s and all(isinstance(j, client.V1Job) for j in jobs)
    a100, cpu, mixed = (j.spec.template.spec for j in jobs)
    assert a100.node_selector == {
        "kubernetes.io/arch": "amd64",
        "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB",
    }
    assert a100.containers[0].resources.limits == {"nvidia.com/gpu": "2"}
    assert a100.restart_policy == "Never" and a100.containers[0].image == "python:3.11-slim"
    env = {e.name: e.value for e in a100.containers[0].env}
    assert env["FWSETUP_WHEELHOUSE"] == "http://bundle.example:8000/wh/" and env["FWSETUP_SMOKE_FLAGS"] == "--gpu"
    script = a100.containers[0].command[2]
    assert "--no-index --find-links" in script and "smoke" in script and "--offline" in script
    assert cpu.containers[0].resources is None and "nvidia.com/gpu.product" not in cpu.node_selector
    terms = mixed.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
    assert terms[0].match_expressions[0].values == ["NVIDIA-GeForce-RTX-4090", "NVIDIA-RTX-A6000"]
    names = [j.metadata.name for j in jobs]
    assert len(set(names)) == 3 and all(re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", n) for n in names)
    assert all(len(n) <= 63 for n in names)


def test_kubernetes_keeps_hostile_target_names_as_data() -> None:
    _k8s_models()
    from kubernetes import client

    hostile = 'x"\n  - evil: {{ lookup("pipe", "id") }}\u2028$(reboot)\x85#'
    doc = yaml.safe_load(kubernetes.render('name = "' + hostile + '"', [_target(hostile)], "https://h/"))
    job = _as_model(client, doc["items"][1], "V1Job")
    assert job.metadata.annotations["fwsetup.io/target-name"] == hostile
    assert doc["items"][0]["data"]["fwsetup.lock"] == 'name = "' + hostile + '"'
    assert re.fullmatch(r"fwsetup-[a-z0-9-]+", job.metadata.name)


def test_kubernetes_refuses_a_python_that_is_not_a_version() -> None:
    with pytest.raises(UsageError, match=r"not X\.Y") as caught:
        kubernetes.job(_target(python="3.11-slim@sha256:evil"), "https://h/", "cm")
    assert getattr(caught.value, "exit_code", None) == 2
    odd = kubernetes.job(_target(platform="linux-weird arch!"), "https://h/", "cm")
    assert odd["spec"]["template"]["spec"]["nodeSelector"]["kubernetes.io/arch"] == "weird-arch"


def test_kubernetes_export_needs_a_url(tmp_path: Path) -> None:
    lock = tmp_path / "fwsetup.lock"
    lock.write_text(lockfile.dumps("pytorch", [_target()]))
    out = cli("export", "--lock", str(lock), "--format", "kubernetes", "--wheelhouse", "/srv/wh")
    assert out.returncode == 2 and "URL" in out.stderr
    ok = cli("export", "--lock", str(lock), "--format", "kubernetes", "--wheelhouse", "https://h/wh/")
    assert ok.returncode == 0 and yaml.safe_load(ok.stdout)["items"][1]["kind"] == "Job"


def test_gpu_product_labels_as_gpu_feature_discovery_writes_them() -> None:
    assert kubernetes.gpu_product_label("Tesla T4") == "Tesla-T4"
    assert kubernetes.gpu_product_label("NVIDIA H100 80GB HBM3") == "NVIDIA-H100-80GB-HBM3"
    assert kubernetes.gpu_product_label(" (weird) ") == "weird"
    assert len(kubernetes.gpu_product_label("x" * 100)) == 63


# ------------------------------------------------------------------ slurm


def test_slurm_scripts_ask_for_the_gpus_and_parse() -> None:
    hostile = "rack'1\"; reboot; `id` $(id)\n#SBATCH --partition=evil"
    scripts = slurm.scripts([_target(), _target(hostile)], "/shared/fwsetup bundle")
    assert len(scripts) == 2
    for text in scripts.values():
        assert subprocess.run(["bash", "-n"], input=text, text=True, check=False).returncode == 0
        directives = [ln for ln in text.splitlines() if ln.startswith("#SBATCH")]
        assert "#SBATCH --gres=gpu:2" in directives
        assert [d.split()[1].split("=")[0] for d in directives] == [
            "--job-name", "--nodes", "--ntasks", "--output", "--gres"
        ]  # fmt: skip
        assert all("\n" not in line for line in text.splitlines()) and text.count("\n#SBATCH") == 5
    printed = subprocess.run(
        ["bash", "-c", 'eval "$(sed -n "/^FWSETUP_TARGET=/,/^FWSETUP_LOCK=/p")"; printf %s "$FWSETUP_TARGET|$FWSETUP_WHEELHOUSE"'],
        input=list(scripts.values())[1], capture_output=True, text=True, check=False, env={"HOME": "/h", "PATH": os.environ["PATH"]},
    )  # fmt: skip
    assert printed.stdout == hostile + "|/shared/fwsetup bundle"
    for odd in ("a\tb\x7f'c\\", "plain", "e\u2028f", ""):
        said = subprocess.run(["bash", "-c", f"printf %s {slurm.bash_quote(odd)}"], capture_output=True, check=False)
        assert said.stdout.decode() == odd
    cpu = slurm.script(_target("cpu", accelerator="cpu", gpus=[], gpu_names=[]), "wh")
    assert "--gres" not in cpu and "FWSETUP_SMOKE_FLAGS=''" in cpu


def _documents(text: str) -> list[Any]:
    """The JSON documents printed one after another."""
    decoder, docs, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        doc, i = decoder.raw_decode(text, i)
        docs.append(doc)
    return docs


FAKE_SRUN = """#!/bin/sh
# a compute node's job step, here: drop srun's options, run the command
while [ $# -gt 0 ]; do case "$1" in --*) shift ;; *) break ;; esac; done
echo "srun ran: $1" >> "$SLURM_SUBMIT_DIR/steps.log"
exec "$@"
"""
FAKE_SBATCH = """#!/bin/sh
# run the batch script as Slurm would on the first node: from the submit directory, with a job id
SLURM_SUBMIT_DIR="$PWD" SLURM_JOB_ID=4242 exec bash "$1"
"""


@pytest.mark.e2e
def test_slurm_script_runs_under_a_fake_sbatch_and_srun(tmp_path: Path) -> None:
    env = tiny_env(tmp_path / "home")
    lock = tmp_path / "tiny.lock"
    assert fwsetup("lock", "tiny", "--cpu", "-o", str(lock), "--json", env=env).returncode == 0
    wh = tmp_path / "bundle"
    assert fwsetup("bundle", "--lock", str(lock), "-o", str(wh), "--json", env=env).returncode == 0
    jobs = tmp_path / "jobs"
    out = fwsetup("export", "--lock", str(lock), "--format", "slurm", "--wheelhouse", str(wh), "-o", str(jobs))
    assert out.returncode == 0, out.stderr
    fake = tmp_path / "fakebin"
    fake.mkdir()
    for name, text in (("srun", FAKE_SRUN), ("sbatch", FAKE_SBATCH)):
        (fake / name).write_text(text)
        (fake / name).chmod(0o755)
    script = next(jobs.glob("*.sbatch"))
    run_env = dict(
        os.environ,
        PATH=f"{fake}{os.pathsep}{os.environ['PATH']}",
        HOME=str(tmp_path / "user"),
        PIP_CONFIG_FILE=os.devnull,
        UV_CACHE_DIR=str(tmp_path / "empty-uv-cache"),
        **env,
    )
    done = subprocess.run(
        ["sbatch", str(script)], cwd=jobs, capture_output=True, text=True, timeout=900, env=run_env, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "srun ran: " in (jobs / "steps.log").read_text()
    smoke = _documents(done.stdout)[-1]
    assert smoke["ok"] and smoke["framework"] == "tiny"
    # A bundle that is not there: fwsetup's install-failed code, not pip's 1.
    bad = subprocess.run(
        ["sbatch", str(script)], cwd=jobs, capture_output=True, text=True, timeout=300,
        env=dict(run_env, FWSETUP_WHEELHOUSE=str(tmp_path / "nothing"), FWSETUP_PREFIX=str(tmp_path / "p2")),
        check=False,
    )  # fmt: skip
    assert bad.returncode == 4 and "fix:" in bad.stderr


@pytest.mark.e2e
def test_the_bundle_carries_fwsetup_for_another_platform(tmp_path: Path) -> None:
    mac = _target("mac", platform="macos-arm64", glibc=None, accelerator="cpu", gpus=[], gpu_names=[])
    files = bundle.add_fwsetup([mac], tmp_path)
    assert any(f.startswith("uv-") and "macosx" in f and "arm64" in f for f in files), files
    assert any(f.startswith("psutil-") and "macosx" in f for f in files), files
    assert not any("manylinux" in f for f in files)


# ------------------------------------------------------------------ fleet report


def test_fleet_report_one_table_with_unserved_machines_standing_out(tmp_path: Path) -> None:
    from machines import write_all

    paths = write_all(tmp_path / "reports")
    chosen = [str(paths[n]) for n in ("rtx4090-580", "k80-470", "macos-m2", "no-avx-cpu")]
    data = json_out(cli("fleet", "report", *chosen, "--frameworks", "jax,pytorch", "--json"))
    rows = {r["machine"]: r for r in data["machines"]}
    assert list(rows) == ["rtx4090-580", "k80-470", "macos-m2", "no-avx-cpu"]
    assert rows["rtx4090-580"]["gpus"] == ["NVIDIA GeForce RTX 4090"]
    assert rows["rtx4090-580"]["driver"] == "580.65.06" and rows["rtx4090-580"]["os"] == "ubuntu 22.04"
    assert rows["rtx4090-580"]["frameworks"]["pytorch"]["variant"].startswith("cu")
    assert rows["k80-470"]["frameworks"]["jax"]["code"] == "gpu-arch-unsupported"
    assert rows["no-avx-cpu"]["problems"] and rows["no-avx-cpu"]["served"]
    # A K80 only JAX is asked about: no build serves it.
    only_jax = json_out(cli("fleet", "report", chosen[1], chosen[0], "--frameworks", "jax", "--json"))
    assert only_jax["unserved"] == ["k80-470"]
    assert only_jax["machines"][0]["unserved_because"] == "no framework gets a build here"
    text = cli("fleet", "report", chosen[1], chosen[0], "--frameworks", "jax").stdout
    lines = text.splitlines()
    assert lines[0].split() == ["machine", "OS", "GPUs", "driver", "problems", "jax"]
    assert lines[1].startswith("!!  k80-470") and not lines[2].startswith("!!")
    assert "!! k80-470: no build serves it" in text


def test_fleet_report_planning_matches_fwsetup_list(tmp_path: Path) -> None:
    from machines import write_all

    path = write_all(tmp_path / "r")["t4-470"]
    listed = {r["name"]: r["this_machine"] for r in json_out(cli("list", "--system", str(path), "--json"))["frameworks"]}
    row = json_out(cli("fleet", "report", str(path), "--json"))["machines"][0]
    for fw, got in row["frameworks"].items():
        assert got["ok"] == listed[fw]["ok"] and got.get("variant") == listed[fw].get("variant")


def test_fleet_report_usage_errors(tmp_path: Path) -> None:
    assert cli("fleet", "report").returncode == 2
    assert cli("fleet", "summon", "x.json").returncode == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    out = cli("fleet", "report", str(bad))
    assert out.returncode == 2 and "not valid JSON" in out.stderr and "Traceback" not in out.stderr


# ------------------------------------------------------------------ install --lock, again


def test_install_lock_again_is_unchanged_until_the_environment_differs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tiny_env(tmp_path / "home")
    lock = tmp_path / "tiny.lock"
    assert cli("lock", "tiny", "--cpu", "-o", str(lock), "--json", env=env).returncode == 0
    target = tmp_path / "env"
    first = json_out(cli("install", "--lock", str(lock), "--env", str(target), "--json", env=env))
    assert "unchanged" not in first
    again = json_out(cli("install", "--lock", str(lock), "--env", str(target), "--json", env=env))
    assert again["unchanged"] is True and again["generation"] == first["generation"]
    assert again["smoke"]["ok"] and again["packages"]["six"] == "1.16.0"
    # Someone changed the environment: six is gone. The next run installs a new generation.
    site = next(Path(first["generation"]).glob("lib/python*/site-packages"))
    for d in site.glob("six-*.dist-info"):
        shutil.rmtree(d)
    third = json_out(cli("install", "--lock", str(lock), "--env", str(target), "--json", env=env))
    assert "unchanged" not in third and third["generation"] != first["generation"]
    # A lock for other requirements does not match either.
    other = tmp_path / "other.lock"
    other.write_text(lock.read_text().replace('version = "1.16.0"', 'version = "1.16.0-other"'))
    from fwsetup.fleet import current
    from fwsetup.fleet.fromlock import plan_from_lock

    for key, value in env.items():  # the tiny recipe set, as the CLI calls had it
        monkeypatch.setenv(key, value)
    plan, _, locked, _ = plan_from_lock(other, None)
    assert current.matching_generation(target, plan, locked) is None
