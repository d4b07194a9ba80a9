"""Hostile input (issue 14): a lock or report written by an attacker, credentials in flags,
garbage in every option and variable, terminal escapes in machine facts, paths that cannot be
written and a full disk. Each case asserts the exit code, the one JSON document, and that nothing
ran or leaked; exported scripts are RUN, offline (`unshare -n`), in a throwaway HOME.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import cli, fwsetup, json_out, tiny_env
from machines import base_report, with_nvidia
from test_fleet import _cpu_plan

from fwsetup import records
from fwsetup.cli import app, render
from fwsetup.errors import UsageError
from fwsetup.fleet import formats, lockfile
from fwsetup.install import guards
from fwsetup.plan.model import Plan
from fwsetup.redact import redact
from fwsetup.runner import ProcResult, require_ok

SECRET = "s3cr3tPW"
HASH = "--hash=sha256:" + "a" * 64


def _has(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


OFFLINE = ["unshare", "-n"] if _has(["unshare", "-n", "true"]) else []
CAN_MOUNT = _has(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"])
needs_offline = pytest.mark.skipif(not OFFLINE, reason="needs `unshare -n` (network namespaces)")
needs_mount = pytest.mark.skipif(not CAN_MOUNT, reason="needs `unshare -m` and mount (root)")


def one_json(proc: subprocess.CompletedProcess[str]) -> Any:
    """stdout is exactly one JSON document (json.loads refuses a second one)."""
    return json_out(proc)


def _plan(**changes: Any) -> Plan:
    """test_fleet's tiny CPU plan, with the env the tiny recipe really sets."""
    return records.replace(_cpu_plan(), env={"TINY_HOME": "{env}/tiny-home"}, **changes)


def _target(**changes: Any) -> lockfile.LockTarget:
    base = lockfile.target_of(_plan(), base_report(), "t", ["six==1.16.0 " + HASH])
    return records.replace(base, **changes)


def _write_lock(path: Path, *targets: lockfile.LockTarget) -> Path:
    path.write_text(lockfile.dumps("tiny", list(targets)), encoding="utf-8")
    return path


# ------------------------------------------------------------------ 1. exports cannot be injected

# Each payload, if it escaped its quoting anywhere, creates CANARY.
PAYLOADS = [
    "'; touch CANARY; '",
    '"; touch CANARY; "',
    "`touch CANARY`",
    "$(touch CANARY)",
    "x\nFWSETUP_LOCK_EOF\ntouch CANARY\n",
    "x\nFWSETUP_LOCK_B64\ntouch CANARY\n",
    "x\r\ntouch CANARY\r\n",
    "x\u2028touch CANARY\u2029y\x85z",
    "nul\x00byte; touch CANARY",
    "${{ secrets.GITHUB_TOKEN }} $(touch CANARY)",
    "back\\\ntouch CANARY",
    "x\nRUN touch CANARY\n",
    "'''\ntouch CANARY\n'''",
    '"""\ntouch CANARY\n"""',
    "- run: touch CANARY\n  name: x",
    "\x1b]0;title\x07\x1b[2J",
]


def _stub_prefix(root: Path) -> Path:
    """An 'installed fwsetup' whose `fwsetup` only records the lock it was given (nothing installs)."""
    prefix = root / "prefix"
    (prefix / "bin").mkdir(parents=True)
    stub = prefix / "bin" / "fwsetup"
    stub.write_text('#!/bin/sh\ncp fwsetup.lock "$FWSETUP_TEST_OUT/got.lock"\necho \'{"ok": true}\'\n')
    stub.chmod(0o755)
    return prefix


def _run_offline(argv: list[str], work: Path, root: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    home = root / "home"
    home.mkdir(exist_ok=True)
    env = {
        "HOME": str(home),
        "PATH": f"{prefix / 'bin'}:{Path(sys.executable).parent}:/usr/bin:/bin",
        "FWSETUP_PREFIX": str(prefix),
        "FWSETUP_TEST_OUT": str(root),
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        [*OFFLINE, *argv], cwd=work, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _execute_export(fmt: str, text: str, root: Path) -> None:
    """Run what the format would run (all but installing fwsetup itself), as its host would."""
    prefix = _stub_prefix(root)
    work = root / "work"
    work.mkdir()
    scripts: list[list[str]] = []
    if fmt == "shell":
        script = root / "provision.sh"
        script.write_text(text)
        scripts.append(["sh", str(script)])
    elif fmt == "dockerfile":
        runs = [ln[4:] for ln in text.splitlines() if ln.startswith("RUN ")]
        assert "pip install" in runs[0]
        scripts += [["sh", "-c", cmd] for cmd in runs[1:]]  # every RUN after installing fwsetup
    elif fmt == "cloud-init":
        doc = yaml.safe_load(text)
        (work / "fwsetup.lock").write_text(doc["write_files"][0]["content"], encoding="utf-8")
        for argv in doc["runcmd"]:
            if "-c" in argv and argv[argv.index("-c") - 1] == "sh":  # [env VAR=…] sh -c CMD
                i = argv.index("-c")
                cmd = argv[i + 1].replace("/opt/fwsetup-work", str(work)).replace("/opt/fwsetup/bin", str(prefix / "bin"))
                scripts.append([*argv[:i + 1], cmd])
    else:
        doc = yaml.safe_load(text)
        for step in doc["jobs"]["provision"]["steps"]:
            if "run" in step and "pip install" not in step["run"]:
                scripts.append(["bash", "-e", "-c", step["run"]])
    for argv in scripts:
        done = _run_offline(argv, work, root, prefix)
        assert done.returncode == 0, (argv, done.stderr)


# The formats that embed the lock in a script; the fleet engines' formats carry it beside them
# (ansible, slurm) or as serialized data (kubernetes): test_hostile_lock_in_engine_formats.
EMBEDDING = [f for f in formats.PROVISIONING if f not in ("ansible", "kubernetes", "slurm")]
BUNDLE_URL = "https://bundle.example/wheelhouse"


@needs_offline
@pytest.mark.parametrize("fmt", EMBEDDING)
@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_hostile_lock_exports_run_offline_and_execute_nothing(fmt: str, payload: str, tmp_path: Path) -> None:
    canary = tmp_path / "PWNED"
    evil = payload.replace("CANARY", str(canary))
    target = _target(name=evil, driver=evil, gpus=[evil], env={"NOTE": evil}, variant="cpu")
    lock = _write_lock(tmp_path / "hostile.lock", target)
    out = cli("export", "--lock", str(lock), "--format", fmt, "--fwsetup-spec", "fwsetup==0.1.0")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "${{" not in text or fmt == "cloud-init"  # cloud-init evaluates no expressions
    if fmt in ("cloud-init", "github-actions"):
        yaml.safe_load(text)
    _execute_export(fmt, text, tmp_path)
    assert not canary.exists()
    assert (tmp_path / "got.lock").read_bytes() == lock.read_bytes()  # the lock arrived intact


@needs_offline
@pytest.mark.parametrize("fmt", EMBEDDING)
def test_hand_written_lock_with_the_old_terminator_and_an_indented_first_line(fmt: str, tmp_path: Path) -> None:
    canary = tmp_path / "PWNED"
    good = lockfile.dumps("tiny", [_target()])
    text = "   " + good.replace(
        'name = "t"', f'name = """t\nFWSETUP_LOCK_EOF\nFWSETUP_LOCK_B64\ntouch {canary}\n${{{{ secrets.X }}}}"""'
    )
    lock = tmp_path / "hand.lock"
    lock.write_text(text, encoding="utf-8")
    assert "FWSETUP_LOCK_EOF" in lockfile.load(lock)[1][0].name  # a valid lock
    out = cli("export", "--lock", str(lock), "--format", fmt)
    assert out.returncode == 0, out.stderr
    _execute_export(fmt, out.stdout, tmp_path)
    assert not canary.exists() and (tmp_path / "got.lock").read_bytes() == lock.read_bytes()


@pytest.mark.parametrize(
    "spec",
    [
        "fwsetup\nRUN touch /tmp/x",
        "fwsetup\r\ntouch x",
        "fwsetup\u2028x",
        "--index-url=https://evil.example/simple",
        "-e git+https://evil.example/x",
        "${{ secrets.GITHUB_TOKEN }}",
        "fwsetup; touch x",
        "evil==1.0",
        "ftp://evil.example/fwsetup.whl",
        "fwsetup @ http://evil.example/fwsetup.whl",
        "",
    ],
)
def test_hostile_fwsetup_spec_is_refused(spec: str, tmp_path: Path) -> None:
    lock = _write_lock(tmp_path / "l.lock", _target())
    for fmt in formats.PROVISIONING:
        out = cli(
            "export", "--lock", str(lock), "--format", fmt, "--fwsetup-spec", spec, "--wheelhouse", BUNDLE_URL, "--json"
        )
        assert out.returncode == 2 and one_json(out)["error"]["code"] == "usage", out.stdout
        assert "--fwsetup-spec" in one_json(out)["error"]["message"]


@pytest.mark.parametrize(
    "spec", ["fwsetup==0.1.0", "./dist/fwsetup-0.1.0-py3-none-any.whl", "https://h.example/fwsetup.whl", "fwsetup @ https://h.example/f.whl", "/src/it's here"]
)
def test_good_fwsetup_specs_are_quoted_by_each_format(spec: str, tmp_path: Path) -> None:
    import shlex

    lock = _write_lock(tmp_path / "l.lock", _target())
    for fmt in formats.PROVISIONING:
        out = cli("export", "--lock", str(lock), "--format", fmt, "--fwsetup-spec", spec, "--wheelhouse", BUNDLE_URL)
        assert out.returncode == 0, out.stderr
        if fmt == "shell":
            line = next(ln for ln in out.stdout.splitlines() if "pip install" in ln)
            words = shlex.split(line)
            assert words[words.index("||") - 1] == spec
        if fmt == "cloud-init":
            assert yaml.safe_load(out.stdout)["runcmd"][1][-1] == spec


def test_export_json_is_one_document_and_output_errors_are_exit_2(tmp_path: Path) -> None:
    lock = _write_lock(tmp_path / "l.lock", _target())
    out = cli("export", "--lock", str(lock), "--format", "github-actions", "--json")
    assert out.returncode == 0 and "jobs:" in one_json(out)["script"]
    (tmp_path / "adir").mkdir()
    out = cli("export", "--lock", str(lock), "-o", str(tmp_path / "adir"), "--json")
    assert out.returncode == 2 and "cannot write" in one_json(out)["error"]["message"]
    out = cli("export", "--lock", str(lock), "-o", "/proc/fwsetup-nowhere/x.sh", "--json")
    assert out.returncode == 2 and "cannot write" in one_json(out)["error"]["message"]


@needs_mount
def test_export_and_lock_into_a_read_only_mount_are_exit_2(tmp_path: Path) -> None:
    lock = _write_lock(tmp_path / "l.lock", _target())
    ro = tmp_path / "ro"
    ro.mkdir()
    env = {**os.environ, **tiny_env(tmp_path / "home")}
    for command in (f"export --lock {lock} -o {ro}/x.sh", f"lock tiny --cpu -o {ro}/fwsetup.lock"):
        script = f"mount -t tmpfs -o ro tmpfs {ro} && {sys.executable} -m fwsetup {command} --json; echo rc=$?"
        done = subprocess.run(
            ["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300, env=env, check=False
        )
        body, rc = done.stdout.rsplit("rc=", 1)
        assert rc.strip() == "2" and json.loads(body)["error"]["code"] == "usage", done.stdout + done.stderr
        assert "Read-only" in json.loads(body)["error"]["message"]


# ------------------------------------------------------------------ 2. a lock is data, never code


@pytest.mark.parametrize(
    "changes",
    [
        {"smoke": "/abs/path/evil.py"},
        {"smoke": "../../../tmp/evil.py"},
        {"smoke": "nonexistent.py"},
        {"smoke": ""},
        {"smoke": "tiny.py\nx"},
        {"env": {"X; touch /tmp/pwn; Y": "1"}},
        {"env": {"LD_PRELOAD": "/tmp/evil.so"}},
        {"env": {"PYTHONSTARTUP": "/tmp/evil.py"}},
        {"env": {"TINY_HOME": "/tmp/elsewhere"}},
        {"index_urls": ["http://evil.example/simple"]},
        {"index_urls": ["ftp://evil.example/simple"]},
        {"find_links": ["/tmp/wheels"]},
        {"find_links": ["file:///tmp/wheels"]},
        {"requirements": ["six==1.16.0 " + HASH + "\n--index-url http://evil.example/simple"]},
        {"requirements": ["--extra-index-url https://evil.example/simple"]},
        {"requirements": ["-e git+https://evil.example/x.git#egg=x"]},
        {"requirements": ["six @ https://evil.example/six.whl " + HASH]},
        {"requirements": ["six>=1 " + HASH]},
        {"requirements": ["six==1.16.0"]},
        {"requirements": ["six==1.16.0 --hash=md5:abc"]},
        {"build_constraints": ["setuptools<70\n--index-url http://evil.example"]},
    ],
    ids=lambda c: next(iter(c)),
)
def test_a_lock_that_could_run_code_is_refused_before_anything_is_installed(
    changes: dict[str, Any], tmp_path: Path
) -> None:
    canary = tmp_path / "PWNED"
    evil = tmp_path / "evil.py"
    evil.write_text(f"open({str(canary)!r}, 'w').write('ran')\n")
    changes = {k: (v.replace("/abs/path/evil.py", str(evil)) if isinstance(v, str) else v) for k, v in changes.items()}
    lock = _write_lock(tmp_path / "evil.lock", _target(**changes))
    home = tmp_path / "home"
    out = fwsetup("install", "--lock", str(lock), "--env", str(tmp_path / "e"), "--json", env=tiny_env(home))
    assert out.returncode == 2, out.stdout + out.stderr
    assert one_json(out)["error"]["code"] == "usage"
    assert not canary.exists() and not (tmp_path / "e").exists() and not (tmp_path / ".e.fwsetup").exists()


def test_http_sources_need_allow_insecure_and_paths_need_a_wheelhouse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FWSETUP_RECIPES_DIR", tiny_env(Path("/nonexistent"))["FWSETUP_RECIPES_DIR"])
    t = _target(index_urls=["http://mirror.example/simple"], find_links=["/srv/wheels"])
    with pytest.raises(UsageError):
        lockfile.check_form(t)
    with pytest.raises(UsageError):
        lockfile.check_form(t, allow_insecure=True)
    lockfile.check_form(t, allow_insecure=True, allow_paths=True)
    with pytest.raises(UsageError, match="not one the tiny recipe sets"):
        lockfile.check_installable(records.replace(t, env={"LD_LIBRARY_PATH": "/tmp"}), allow_insecure=True, allow_paths=True)


@pytest.mark.parametrize(
    "key,value",
    [("env", "abc"), ("requirements", "six"), ("gpus", [1]), ("driver", 5), ("surprise", "x"), ("smoke", [])],
)
def test_lock_fields_are_type_checked(key: str, value: Any, tmp_path: Path) -> None:
    import tomli_w

    from fwsetup import tomlfile

    doc = tomlfile.loads(lockfile.dumps("tiny", [_target()]))
    doc["target"][0][key] = value
    lock = tmp_path / "typed.lock"
    lock.write_text(tomli_w.dumps(doc), encoding="utf-8")
    out = cli("install", "--lock", str(lock), "--json")
    assert out.returncode == 2 and "malformed" in one_json(out)["error"]["message"], out.stdout


def test_a_plan_without_its_smoke_script_is_never_installed(tmp_path: Path) -> None:
    for smoke in ("", "../tiny.py", "missing.py"):
        with pytest.raises(UsageError, match="never switches to an untested environment"):
            guards.check_smoke(_plan(smoke=smoke, route="pip"))


# ------------------------------------------------------------------ 3. redaction cannot be bypassed


@needs_offline
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_credentials_in_find_links_and_index_url_never_reach_output_or_logs(
    json_flag: list[str], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    log = tmp_path / "install.log"
    argv = [
        *OFFLINE, sys.executable, "-m", "fwsetup", "install", "tiny", "--cpu",
        "--find-links", f"https://user:{SECRET}@127.0.0.1:9/links",
        "--index-url", f"https://tok:{SECRET}@127.0.0.1:9/simple?token={SECRET}",
        "--env", str(tmp_path / "e"), "--log-file", str(log), *json_flag,
    ]  # fmt: skip
    env = {**os.environ, **tiny_env(home), "FWSETUP_WHEELHOUSE": f"https://u:{SECRET}@127.0.0.1:9/more"}
    out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert out.returncode == 4, out.stdout + out.stderr
    if json_flag:
        one_json(out)
    assert SECRET not in out.stdout and SECRET not in out.stderr
    assert "user:****@" in log.read_text() or "****@" in out.stdout + out.stderr
    written = [p for p in [*home.rglob("*"), *tmp_path.rglob("*")] if p.is_file()]
    assert log in written
    for p in written:
        assert SECRET.encode() not in p.read_bytes(), p


def test_redaction_recognises_what_paths_did_to_urls() -> None:
    for text in (
        f"https://user:{SECRET}@host/links",
        f"https:/user:{SECRET}@host/links",  # a URL through a path parser
        f"https://user:p@{SECRET}@host/x",
        f"git+https://u:{SECRET}@github.com/x.git@v1",
        f"https://host/s?token={SECRET}&x=1",
        f"https://host/s?x=1&sig={SECRET}",
        f"machine host login u password {SECRET}",
        f"Authorization: Bearer {SECRET}",
    ):
        assert SECRET not in redact(text), text
    out = cli("install", "tiny", "--dry-run", "--json", "--wheelhouse", f"https://u:{SECRET}@h/x")
    assert SECRET not in out.stdout + out.stderr


def test_lock_sources_with_credentials_are_redacted_in_errors(tmp_path: Path) -> None:
    lock = _write_lock(tmp_path / "l.lock", _target(index_urls=[f"http://u:{SECRET}@mirror.example/simple"]))
    out = cli("install", "--lock", str(lock), "--json")
    assert out.returncode == 2 and SECRET not in out.stdout + out.stderr
    out = cli("install", "--lock", str(lock))
    assert out.returncode == 2 and SECRET not in out.stdout + out.stderr


# ------------------------------------------------------------------ 4. validated inputs and limits


@pytest.mark.parametrize("version", ["garbage", "-1", ">=2,<1", "$(touch CANARY)", "v2", "", "==1.0,!=1.0,<0.5"])
def test_garbage_version_is_exit_2_with_the_fix(version: str, tmp_path: Path) -> None:
    version = version.replace("CANARY", str(tmp_path / "PWNED"))
    for cmd in (["install", "pytorch", "--dry-run"], ["lock", "pytorch"]):
        out = cli(*cmd, "--version", version, "--json")
        err = one_json(out)["error"]
        assert out.returncode == 2 and "--version" in err["message"] and "specifier" in err["fix"], out.stdout
    assert not (tmp_path / "PWNED").exists()


def test_specifiers_fwsetup_can_satisfy_plan() -> None:
    out = cli("install", "pytorch", "--dry-run", "--cpu", "--version", ">=2.5,<2.8", "--json")
    assert out.returncode == 0 and one_json(out)["version"].startswith("2.7")


@pytest.mark.parametrize("python", ["abc", "3", "3.11.4.5", "$(touch x)", "4.0"])
def test_garbage_python_is_exit_2(python: str) -> None:
    out = cli("install", "pytorch", "--dry-run", "--python", python, "--json")
    assert out.returncode == 2 and "--python" in one_json(out)["error"]["message"]
    out = cli("install", "pytorch", "--dry-run", "--json", env={"FWSETUP_PYTHON": python})
    assert out.returncode == 2


def _deep_json(tmp_path: Path) -> Path:
    p = tmp_path / "deep.json"
    p.write_text("[" * 200_000 + "]" * 200_000)
    return p


@pytest.mark.parametrize(
    "make",
    [
        lambda d: Path("/dev/zero"),
        _deep_json,
        lambda d: _w(d / "n.json", '{"schema_version": ' + "9" * 5000 + "}"),
        lambda d: _w(d / "d.json", '{"schema_version": 1, "x": ' + "[" * 100 + "]" * 100 + "}"),
        lambda d: _w(d / "big.json", '{"x": "' + "a" * (11 * 1024 * 1024) + '"}'),
    ],
    ids=["dev-zero", "nested-200000", "5000-digits", "nested-100", "11-MiB"],
)
def test_hostile_reports_are_exit_2_quickly(make: Any, tmp_path: Path) -> None:
    path = make(tmp_path)
    for argv, env in (
        (["install", "pytorch", "--dry-run", "--system", str(path), "--json"], None),
        (["list", "--json"], {"FWSETUP_SYSTEM": str(path)}),
    ):
        started = time.perf_counter()
        out = fwsetup(*argv, env=env, timeout=60)
        assert out.returncode == 2 and one_json(out)["error"]["code"] == "bad-report", out.stdout + out.stderr
        assert time.perf_counter() - started < 20


def _w(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text",
    [
        "lock_version = 1\nx = " + "[" * 200_000 + "]" * 200_000 + "\n",
        "lock_version = " + "9" * 5000 + "\n",
        "lock_version = 1\nx = " + "[" * 100 + "]" * 100 + "\n",
        'lock_version = 1\nx = "' + "a" * (11 * 1024 * 1024) + '"\n',
        "/dev/zero",
    ],
    ids=["nested-200000", "5000-digits", "nested-100", "11-MiB", "dev-zero"],
)
def test_hostile_locks_are_exit_2(text: str, tmp_path: Path) -> None:
    lock = _w(tmp_path / "h.lock", text) if text != "/dev/zero" else Path(text)
    for argv in (["install", "--lock", str(lock)], ["export", "--lock", str(lock)], ["bundle", "--lock", str(lock), "-o", str(tmp_path / "w")]):
        out = fwsetup(*argv, "--json", timeout=60)
        assert out.returncode == 2 and one_json(out)["error"]["code"] == "usage", out.stdout + out.stderr


def test_reports_with_thousands_of_gpus_read_and_plan_in_linear_time(tmp_path: Path) -> None:
    from fwsetup.report import SystemReport

    def timed(n: int) -> tuple[float, Path]:
        r = with_nvidia(base_report(), "580.65.06", "13.0", [(f"RTX 4090 #{i}", "8.9") for i in range(n)])
        p = tmp_path / f"g{n}.json"
        p.write_text(r.to_json())
        started = time.perf_counter()
        SystemReport.from_file(p)
        return time.perf_counter() - started, p

    small, _ = timed(2_000)
    large, path = timed(20_000)
    assert large < 10 * small * 2.5 + 0.5, (small, large)  # 10x the GPUs: about 10x the time
    started = time.perf_counter()
    out = cli("install", "pytorch", "--dry-run", "--system", str(path), "--json")
    assert out.returncode == 0 and time.perf_counter() - started < 30


# ------------------------------------------------------------------ 5. the JSON promise


def _bad_option_lines() -> list[tuple[str, list[str], dict[str, str]]]:
    cases: list[tuple[str, list[str], dict[str, str]]] = []
    for name, cmd in app.COMMANDS.items():
        cases.append((name, ["--bogus-option"], {}))
        cases.append((name, ["-Z"], {}))
        cases.append((name, ["a", "b", "c", "d"], {}))
        for opt in cmd.options():
            if opt.kind == "flag":
                cases.append((name, [f"{opt.flags[0]}=yes"], {}))
                if opt.envvar and opt.envvar != "FWSETUP_JSON":
                    cases.append((name, [], {opt.envvar: "maybe"}))
            else:
                cases.append((name, [opt.flags[0]], {}))  # a value missing
            if opt.kind == "float":
                cases.append((name, [opt.flags[0], "abc"], {}))
                cases.append((name, [opt.flags[0], "-5"], {}))
                if opt.envvar:
                    cases.append((name, [], {opt.envvar: "abc"}))
    return cases


BAD_LINES = _bad_option_lines()


@pytest.mark.parametrize("how", ["flag", "env"])
@pytest.mark.parametrize("name,argv,env", BAD_LINES, ids=[f"{n}:{' '.join(a)}:{e}" for n, a, e in BAD_LINES])
def test_every_command_with_bad_options_prints_one_json_document(
    name: str, argv: list[str], env: dict[str, str], how: str
) -> None:
    if how == "flag":
        out = cli(name, *argv, "--json", env=env)
    else:
        out = cli(name, *argv, env={**env, "FWSETUP_JSON": "1"})
    assert out.returncode == 2, out.stdout + out.stderr
    assert one_json(out)["error"]["code"] in ("usage", "unknown-framework"), out.stdout
    assert out.stderr == ""


@pytest.mark.parametrize("argv", [["bogus"], ["--bogus"], ["--json"]])
def test_unknown_commands_keep_the_json_promise(argv: list[str]) -> None:
    out = cli(*argv, env={"FWSETUP_JSON": "1"})
    assert out.returncode == 2 and one_json(out)["error"]["code"] == "usage"
    out = cli(*argv, "--json")
    assert out.returncode == 2 and one_json(out)["error"]["code"] == "usage"


@pytest.fixture(scope="module")
def tiny_installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("tinyenv")
    env = tiny_env(base / "home")
    out = fwsetup("install", "tiny", "--cpu", "--env", str(base / "e"), "--json", env=env)
    assert out.returncode == 0, out.stderr
    return base / "e", env


def test_smoke_gpu_json_is_one_document(tiny_installed: tuple[Path, dict[str, str]]) -> None:
    env_dir, env = tiny_installed
    out = fwsetup("smoke", "tiny", "--env", str(env_dir), "--gpu", "--json", env=env)
    assert out.returncode == 5
    doc = one_json(out)
    # the env holds a CPU build: the error says so (issue 11), in the one document
    assert doc["error"]["code"] == "cpu-build" and doc["smoke"]["framework"] == "tiny"


# ------------------------------------------------------------------ 6. exit codes, no half-built generation


def _no_generation(*roots: Path) -> bool:
    return not any(p.name.startswith("gen-") for r in roots if r.exists() for p in r.rglob("gen-*"))


@pytest.mark.parametrize(
    "extra,code",
    [
        ({"FWSETUP_HOME": "/dev/null/x"}, 4),
        ({"FWSETUP_LOG_FILE": "DIR"}, 2),
        ({"FWSETUP_LOG_FILE": "/dev/full"}, 2),
        ({"FWSETUP_ENV": "/proc/fwsetup-nowhere/env"}, 4),
    ],
    ids=["home-under-dev-null", "log-is-a-directory", "log-is-dev-full", "env-under-proc"],
)
def test_unwritable_places_are_documented_exits_and_leave_nothing(
    extra: dict[str, str], code: int, tmp_path: Path
) -> None:
    (tmp_path / "DIR").mkdir()
    env = {**tiny_env(tmp_path / "home"), **{k: v.replace("DIR", str(tmp_path / "DIR")) for k, v in extra.items()}}
    argv = ["install", "tiny", "--cpu", "--json"]
    if "FWSETUP_ENV" not in extra:
        argv += ["--env", str(tmp_path / "e")]
    out = fwsetup(*argv, env=env)
    assert out.returncode == code, out.stdout + out.stderr
    assert one_json(out)["error"]["fix"]
    assert _no_generation(tmp_path) and not (tmp_path / "e").exists()


@needs_mount
def test_a_full_disk_before_the_install_is_exit_4_and_leaves_nothing(tmp_path: Path) -> None:
    full = tmp_path / "full"
    full.mkdir()
    script = (
        f"mount -t tmpfs -o size=1m tmpfs {full} && (dd if=/dev/zero of={full}/fill bs=64k 2>/dev/null; true) && "
        f"FWSETUP_HOME={full}/home FWSETUP_RECIPES_DIR={tiny_env(tmp_path)['FWSETUP_RECIPES_DIR']} "
        f"{sys.executable} -m fwsetup install tiny --cpu --env {full}/e --json; echo rc=$?; ls -A {full}"
    )
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120, check=False)
    body, rest = done.stdout.rsplit("rc=", 1)
    rc, *listing = rest.split()
    assert rc == "4" and json.loads(body)["error"]["code"] == "no-space", done.stdout + done.stderr
    assert listing == ["fill"]  # no env, no generation, no lock file


def test_rollback_of_a_missing_path_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "not" / "there"
    out = cli("rollback", str(target), "--json")
    assert out.returncode == 2 and one_json(out)["error"]["code"] == "usage"
    assert not (tmp_path / "not").exists()
    out = cli("rollback", str(tmp_path / "nothing"))
    assert out.returncode == 2 and list(tmp_path.iterdir()) == []


def test_a_tampered_hash_says_hash_mismatch() -> None:
    output = (
        "Using Python 3.11.7 environment at: /e\nerror: Failed to download `six==1.16.0`\n"
        "  cause: Hash mismatch for `six==1.16.0`\n"
    )
    with pytest.raises(Exception) as caught:
        require_ok(ProcResult(["uv", "pip", "install"], 1, output, ""), what="installing the packages")
    assert "hash mismatch" in str(caught.value) and getattr(caught.value, "code", "") == "hash-mismatch"
    pip_output = "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.\n"
    with pytest.raises(Exception, match="hash mismatch"):
        require_ok(ProcResult(["pip", "install"], 1, pip_output, ""), what="installing the packages")


# ------------------------------------------------------------------ 7. terminal safety

ESCAPE = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eevil"


def _evil_report() -> Any:
    return with_nvidia(base_report(), "580.65.06" + ESCAPE, "13.0", [("RTX 4090" + ESCAPE, "8.9")])


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    report = _evil_report()
    text = render.report_text(report, color=True)
    assert "RTX 4090" in text and "\x07" not in text and "\x1b]" not in text and "\x1b[2J" not in text
    assert "\u202e" not in text and "\x9b" not in text
    path = tmp_path / "evil.json"
    path.write_text(report.to_json())
    for argv in (["install", "pytorch", "--dry-run", "--system", str(path)], ["list", "--system", str(path)]):
        out = cli(*argv)
        assert out.returncode == 0, out.stderr
        assert "\x1b" not in out.stdout + out.stderr and "\x07" not in out.stdout + out.stderr
    out = cli("install", "pytorch", "--dry-run", "--gpu", "--system", str(path), "--version", "1.13.1")
    assert "\x1b" not in out.stdout + out.stderr


def test_json_keeps_the_raw_value_escaped(tmp_path: Path) -> None:
    path = tmp_path / "evil.json"
    path.write_text(_evil_report().to_json())
    out = cli("list", "--system", str(path), "--json")
    assert out.returncode == 0 and "\x1b" not in out.stdout
    buf = render.json.dumps({"name": "RTX" + ESCAPE})
    assert "\\u001b]0;pwned\\u0007" in buf
    import io

    stream = io.StringIO()
    render.dump_json({"gpu": "RTX" + ESCAPE}, stream)
    assert json.loads(stream.getvalue())["gpu"] == "RTX" + ESCAPE and "\x1b" not in stream.getvalue()


def test_errors_and_usage_messages_are_stripped_too() -> None:
    out = cli("install", "tiny", "--bogus\x1b]0;x\x07")
    assert out.returncode == 2 and "\x1b" not in out.stderr and "\x07" not in out.stderr
    assert "\x1b" not in render.error_text("bad \x1b[2J" + ESCAPE, "fix \x1b[31m", color=False)


def test_doctor_strips_escapes_from_a_hostile_nvidia_smi(tmp_path: Path) -> None:
    from fakes import fixture_bytes, make_tool

    name = "NVIDIA H100" + ESCAPE
    make_tool(
        tmp_path / "bin",
        "nvidia-smi",
        fixture_bytes("nvidia-smi/driver-590.48.01-cuda13.1-H100-80GB-HBM3-MIG-4-instances.txt"),
        by_args={"--query-gpu": f"0, {name}, GPU-0, 00000000:00:09.0, 81559, 9.0, 590.48.01, Enabled\n"},
    )
    env = {"PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    out = fwsetup("doctor", env=env, timeout=120)
    assert out.returncode == 0 and "NVIDIA H100" in out.stdout, out.stdout + out.stderr
    assert "\x1b" not in out.stdout + out.stderr and "\x07" not in out.stdout and "\u202e" not in out.stdout
    raw = fwsetup("doctor", "--json", env=env, timeout=120)
    assert "\x1b" not in raw.stdout and one_json(raw)["gpus"][0]["name"].startswith("NVIDIA H100\x1b]0;pwned")


@pytest.mark.parametrize("fmt", ["ansible", "kubernetes", "slurm"])
@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_hostile_lock_in_engine_formats_stays_data(fmt: str, payload: str, tmp_path: Path) -> None:
    """The engines' formats parse as what they are, and the lock reaches them only as data."""
    evil = payload.replace("CANARY", str(tmp_path / "PWNED"))
    target = _target(name=evil, driver=evil, gpus=[evil], env={"NOTE": evil}, variant="cpu")
    lock = _write_lock(tmp_path / "hostile.lock", target)
    out = cli("export", "--lock", str(lock), "--format", fmt, "--wheelhouse", BUNDLE_URL)
    assert out.returncode == 0, out.stderr
    if fmt == "slurm":
        script = tmp_path / "job.sbatch"
        script.write_text(out.stdout, encoding="utf-8")
        assert subprocess.run(["bash", "-n", str(script)], capture_output=True, timeout=30, check=False).returncode == 0
        assert not any(ln.startswith("#SBATCH") and "PWNED" in ln for ln in out.stdout.splitlines())
    else:
        docs = list(yaml.safe_load_all(out.stdout))
        assert docs and all(d is not None for d in docs)
        if fmt == "ansible":  # Jinja templating: no lock value may be inside the playbook at all
            assert "PWNED" not in out.stdout
        else:  # Kubernetes evaluates nothing: the lock is a ConfigMap's data, byte for byte
            items = [i for d in docs for i in (d.get("items") or [d])]
            maps = [i for i in items if i.get("kind") == "ConfigMap"]
            assert lock.read_text(encoding="utf-8") in [v for m in maps for v in m["data"].values()]
    assert not (tmp_path / "PWNED").exists()


HOSTILE_BUNDLES = [
    "",
    "wh\nRUN touch x",
    "wh\u2028x",
    "--index-url=https://evil.example/simple",
    "${{ secrets.X }}",
    "ftp://h/wh",
]


@pytest.mark.parametrize("wheelhouse", HOSTILE_BUNDLES)
def test_hostile_export_wheelhouse_is_refused(wheelhouse: str, tmp_path: Path) -> None:
    lock = _write_lock(tmp_path / "l.lock", _target())
    for fmt in EMBEDDING:
        out = cli("export", "--lock", str(lock), "--format", fmt, "--wheelhouse", wheelhouse, "--json")
        assert out.returncode == 2 and one_json(out)["error"]["code"] == "usage", out.stdout
        assert "--wheelhouse" in one_json(out)["error"]["message"]


@pytest.mark.parametrize("wheelhouse", HOSTILE_BUNDLES)
def test_hostile_bundle_is_refused_by_every_format_to_stdout_and_with_o_alike(wheelhouse: str, tmp_path: Path) -> None:
    """Issue 20 point 10: `-o` (a file, a playbook with the lock beside it, a directory of sbatch
    scripts) skipped the check that the stdout form made. Every format, both spellings, both
    forms: exit 2 with the same message, and nothing written."""
    lock = _write_lock(tmp_path / "l.lock", _target())
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for fmt in formats.ALL_FORMATS:
        for flag in ("--bundle", "--wheelhouse"):
            args = ["export", "--lock", str(lock), "--format", fmt, flag, wheelhouse, "--json"]
            messages = []
            for where in ([], ["-o", str(out_dir / f"{fmt}.out")]):
                out = cli(*args, *where)
                assert out.returncode == 2 and one_json(out)["error"]["code"] == "usage", (fmt, where, out.stdout)
                messages.append(one_json(out)["error"]["message"])
            assert "--bundle/--wheelhouse" in messages[0] and messages[0] == messages[1], (fmt, messages)
    assert list(out_dir.iterdir()) == []  # no export, no lock copied beside one, no slurm directory


@pytest.mark.parametrize("how", ["option", "variable"])
def test_install_with_system_but_no_dry_run_installs_nothing(tmp_path: Path, how: str) -> None:
    """`install FW --system report.json` without --dry-run built the other machine's plan here:
    it ran the report's python.executable (someone else's data) to make the venv. Now exit 2."""
    marker = tmp_path / "ran"
    evil = tmp_path / "python3"
    evil.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    evil.chmod(0o755)
    data = json.loads(base_report().to_json())
    data["python"]["executable"] = str(evil)
    report = tmp_path / "report.json"
    report.write_text(json.dumps(data))
    env_dir = tmp_path / "env"
    args = ["install", "tiny", "--cpu", "--env", str(env_dir), "--json"]
    extra = {"FWSETUP_SYSTEM": str(report)} if how == "variable" else {}
    if how == "option":
        args += ["--system", str(report)]
    out = cli(*args, env=tiny_env(tmp_path, **extra))
    assert out.returncode == 2, out.stdout
    assert "--dry-run" in json_out(out)["error"]["fix"]
    assert not marker.exists() and not env_dir.exists()
    planned = cli(*args, "--dry-run", env=tiny_env(tmp_path, **extra))
    assert planned.returncode == 0, planned.stdout
