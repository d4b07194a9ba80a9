"""Environments people live in: generations, --replace/--add, envs/remove/run, direct use.

Real venvs and real installs of two tiny recipes (six, iniconfig): seconds each."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from helpers import cli, fwsetup, interrupted_at_smoke, json_out, tiny_env

from fwsetup.install import envs


def py(env: Path, code: str, **extra: str) -> str:
    """ENV/bin/python run directly, as cron or an IDE would: no activation, a bare environment."""
    clean = {"PATH": "/usr/bin:/bin", **extra}
    out = subprocess.run(
        [str(env / "bin" / "python"), "-c", code], capture_output=True, text=True, env=clean, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def six_version(env: Path) -> str:
    return py(env, "import six; print(six.__version__)")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def install(home: Path, env: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return fwsetup("install", *args, "--cpu", "--env", str(env), "--json", env=tiny_env(home))


def test_rollback_returns_to_the_generation_active_before_the_last_install(
    home: Path, tmp_path: Path
) -> None:
    env = tmp_path / "tiny"
    assert install(home, env, "tiny", "--version", "1.16.0").returncode == 0  # gen 1: A
    assert install(home, env, "tiny", "--version", "1.17.0").returncode == 0  # gen 2: B
    assert cli("rollback", str(env)).returncode == 0  # → A
    assert six_version(env) == "1.16.0"
    assert install(home, env, "tinyb", "--replace").returncode == 0  # gen 3: C
    back = cli("rollback", str(env), "--json")
    assert back.returncode == 0, back.stderr
    assert json_out(back)["generation"].endswith("gen-1")  # A, not B
    assert six_version(env) == "1.16.0"
    again = cli("rollback", str(env), "--json")  # and back to C: the one active before this rollback
    assert again.returncode == 0, again.stderr
    assert json_out(again)["generation"].endswith("gen-3")
    to = cli("rollback", str(env), "--to", "1", "--json")
    assert to.returncode == 0 and json_out(to)["generation"].endswith("gen-1")
    missing = cli("rollback", str(env), "--to", "99")
    assert missing.returncode == 2 and "no generation 99" in missing.stderr
    listed = json_out(cli("envs", str(env), "--json"))
    rows = {r["generation"]: r for r in listed["generations"]}
    assert rows[1]["active"] and rows[3]["rollback_target"]
    assert rows[3]["frameworks"][0]["framework"] == "tinyb" and rows[1]["created"]


def test_pruning_never_deletes_the_rollback_target(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "tiny"
    assert install(home, env, "tiny", "--version", "1.16.0").returncode == 0  # 1
    assert install(home, env, "tiny", "--version", "1.17.0").returncode == 0  # 2
    assert cli("rollback", str(env)).returncode == 0  # active 1
    assert install(home, env, "tinyb", "--replace").returncode == 0  # 3, prunes
    assert install(home, env, "tinyb", "--version", "0.1").returncode == 0  # 4, prunes
    kept = [g.name for g in envs.EnvLayout(env).generations()]
    assert "gen-3" in kept and "gen-4" in kept  # active and the one rollback returns to
    assert cli("rollback", str(env)).returncode == 0
    assert os.readlink(env).endswith("gen-3")


def test_another_framework_is_refused_then_replaced_or_added(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "mixed"
    assert install(home, env, "tiny").returncode == 0
    refused = install(home, env, "tinyb")
    assert refused.returncode == 2, refused.stderr
    err = json_out(refused)["error"]
    assert "holds tiny 1.16.0" in err["message"] and "--replace" in err["fix"] and "--add" in err["fix"]
    assert six_version(env) == "1.16.0"

    added = install(home, env, "tinyb", "--add")
    assert added.returncode == 0, added.stderr
    data = json_out(added)
    assert data["frameworks"] == ["tinyb", "tiny"]
    assert data["packages"]["six"] == "1.16.0" and data["packages"]["iniconfig"] == "2.0.0"
    assert py(env, "import six, iniconfig; print(six.__version__)") == "1.16.0"
    assert fwsetup("smoke", "tiny", "--env", str(env), env=tiny_env(home)).returncode == 0
    assert fwsetup("smoke", "tinyb", "--env", str(env), env=tiny_env(home)).returncode == 0
    assert fwsetup("smoke", "tinyb", env=tiny_env(home)).returncode == 0  # found through the registry

    replaced = install(home, env, "tiny", "--replace", "--version", "1.17.0")
    assert replaced.returncode == 0, replaced.stderr
    assert json_out(replaced)["frameworks"] == ["tiny"]
    assert py(env, "import importlib.util as u; print(u.find_spec('iniconfig') is None)") == "True"
    assert cli("rollback", str(env)).returncode == 0
    assert py(env, "import iniconfig, six; print(six.__version__)") == "1.16.0"


def test_add_with_a_conflicting_pin_names_the_packages(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "clash"
    assert install(home, env, "tiny").returncode == 0  # six==1.16.0
    clash = install(home, env, "tinyb", "--version", "0.1", "--add")  # six==1.15.0
    assert clash.returncode == 4, clash.stderr
    err = json_out(clash)["error"]
    assert "cannot be installed together with tiny 1.16.0" in err["message"]
    assert "six==1.15.0" in err["message"] and "six==1.16.0" in err["message"]
    assert six_version(env) == "1.16.0"


def test_same_plan_again_is_up_to_date_unless_forced(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "tiny"
    first = install(home, env, "tiny")
    again = install(home, env, "tiny")
    assert again.returncode == 0, again.stderr
    data = json_out(again)
    assert data["up_to_date"] is True and data["generation"] == json_out(first)["generation"]
    text = fwsetup("install", "tiny", "--cpu", "--env", str(env), env=tiny_env(home))
    assert text.returncode == 0 and "up to date, nothing rebuilt" in text.stdout
    forced = install(home, env, "tiny", "--force")
    assert json_out(forced)["up_to_date"] is False and json_out(forced)["generation"].endswith("gen-2")


def test_the_second_install_with_an_empty_uv_cache_is_up_to_date(home: Path, tmp_path: Path) -> None:
    """The first install fills uv's cache, so the next plan's download_bytes and cached_bytes
    differ from the recorded ones: estimates, not content, so the second run rebuilds nothing."""
    env, cache = tmp_path / "tiny", tmp_path / "uv-cache"
    cache.mkdir()
    first = fwsetup(
        "install", "tiny", "--cpu", "--env", str(env), "--json", env=tiny_env(home, UV_CACHE_DIR=str(cache))
    )
    assert first.returncode == 0, first.stderr
    assert json_out(first)["rebuilt_because"] is None
    again = fwsetup(
        "install", "tiny", "--cpu", "--env", str(env), env=tiny_env(home, UV_CACHE_DIR=str(cache))
    )
    assert again.returncode == 0 and "up to date, nothing rebuilt" in again.stdout, (
        again.stdout + again.stderr
    )
    forced = fwsetup(
        "install", "tiny", "--cpu", "--env", str(env), "--force", env=tiny_env(home, UV_CACHE_DIR=str(cache))
    )
    assert "rebuilt    --force" in forced.stdout, forced.stdout + forced.stderr


def _held(plan: dict[str, object]) -> object:
    from fwsetup.install.generation import GenerationMeta

    return GenerationMeta.from_dict(
        {
            "framework": "pytorch",
            "version": "2.14.1",
            "variant": "cpu",
            "python": "3.11",
            "frameworks": [{"framework": "pytorch", "plan": plan, "sources": {}}],
        }
    )


def test_a_plan_recorded_by_an_older_fwsetup_or_with_other_estimates_is_the_same_plan() -> None:
    """`torch==2.14.1` (recorded before exact_pin) is `torch===2.14.1`; a record without
    cached_bytes, or with other download estimates, reasons or interpreter, is the same plan."""
    from fwsetup import records
    from fwsetup.install import combine
    from fwsetup.plan.model import Addition, Plan

    plan = Plan(
        "pytorch",
        "2.14.1",
        "cpu",
        "cpu",
        "3.11",
        ["torch===2.14.1", "numpy===2.1.0 ; python_version >= '3.10'"],
        companions=[Addition("numpy", "numpy===2.1.0", "torch imports it")],
        download_bytes=0,
        cached_bytes=123,
        interpreter="/usr/bin/python3.11",
        reasons=["now"],
    )
    old = records.replace(
        plan,
        packages=["torch==2.14.1", "numpy==2.1.0 ; python_version >= '3.10'"],
        companions=[Addition("numpy", "numpy==2.1.0", "an older why")],
        download_bytes=900_000_000,
        interpreter=None,
        reasons=["then"],
    ).to_dict()
    del old["cached_bytes"]
    assert combine.decide(plan, _held(old), "/e", mode="", force=False).kind == "up-to-date"  # type: ignore[arg-type]

    labelled = records.replace(plan, packages=["torch==2.14.1+cpu"])
    changed = combine.decide(labelled, _held(old), "/e", mode="", force=False)  # type: ignore[arg-type]
    assert changed.kind == "update" and changed.why == "the plan differs in packages"
    other_python = records.replace(plan, python="3.12", packages=["torch===2.14.2"])
    why = combine.plan_difference(plan.to_dict(), other_python.to_dict())
    assert why == "packages, python"
    assert combine.decide(plan, _held(old), "/e", mode="", force=True).why == "--force"  # type: ignore[arg-type]


def test_envs_lists_orphans_and_remove_and_prune_clean_up(home: Path, tmp_path: Path) -> None:
    kept, gone = tmp_path / "a" / "kept", tmp_path / "b" / "gone"
    assert install(home, kept, "tiny").returncode == 0
    assert install(home, gone, "tinyb").returncode == 0
    gone.unlink()  # what `rm -rf gone` does to the link
    listed = json_out(cli("envs", "--json", env=tiny_env(home)))
    rows = {r["env"]: r for r in listed["envs"]}
    assert rows[str(kept)]["status"] == "ok" and rows[str(kept)]["frameworks"][0]["framework"] == "tiny"
    assert rows[str(kept)]["size_bytes"] > 100_000 and rows[str(kept)]["last_smoke"]["ok"] is True
    assert rows[str(gone)]["status"] == "orphaned" and "fwsetup remove" in rows[str(gone)]["fix"]
    text = cli("envs", env=tiny_env(home)).stdout
    assert "orphaned" in text and f"fwsetup remove {gone}" in text

    no_tty = cli("envs", "--prune", env=tiny_env(home))
    assert no_tty.returncode == 2 and "--yes" in no_tty.stderr
    pruned = cli("envs", "--prune", "--yes", "--json", env=tiny_env(home))
    assert pruned.returncode == 0, pruned.stderr
    assert not envs.EnvLayout(gone).store.exists() and not envs.EnvLayout(gone).lock_file.exists()

    assert cli("remove", str(kept), env=tiny_env(home)).returncode == 2  # asks; no terminal
    removed = cli("remove", str(kept), "--yes", env=tiny_env(home))
    assert removed.returncode == 0, removed.stderr
    assert not kept.is_symlink() and not envs.EnvLayout(kept).store.exists()
    assert sorted(p.name for p in kept.parent.iterdir()) == []
    assert json_out(cli("envs", "--json", env=tiny_env(home)))["envs"] == []


def test_run_uses_the_env_and_its_settings(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "tiny"
    assert install(home, env, "tiny").returncode == 0
    code = "import os, sys, six; print(sys.prefix, os.environ['TINY_HOME'], os.environ['VIRTUAL_ENV'])"
    by_path = fwsetup("run", str(env), "--", "python", "-c", code, env=tiny_env(home))
    assert by_path.returncode == 0, by_path.stderr
    prefix, tiny_home, venv = by_path.stdout.split()
    assert venv == str(env) and tiny_home.startswith(str(envs.EnvLayout(env).store))
    assert os.path.realpath(prefix) == os.path.realpath(env)
    by_name = fwsetup(
        "run", "tiny", "--", "python", "-c", "import six; print(six.__version__)", env=tiny_env(home)
    )
    assert by_name.returncode == 0 and by_name.stdout.strip() == "1.16.0"
    failing = fwsetup("run", str(env), "--", "python", "-c", "raise SystemExit(7)", env=tiny_env(home))
    assert failing.returncode == 7
    assert fwsetup("run", str(env), env=tiny_env(home)).returncode == 2


def test_env_python_run_directly_gets_the_recipe_settings(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "tb"
    assert install(home, env, "tinyb").returncode == 0
    flags = py(env, "import os; print(os.environ['TINYB_FLAGS'])")
    assert flags.startswith("base_compiledir=" + str(envs.EnvLayout(env).store))
    # a setting the user made wins over the recipe's
    assert py(env, "import os; print(os.environ['TINYB_FLAGS'])", TINYB_FLAGS="mine") == "mine"


def test_startup_hook_puts_the_library_path_in_place_before_the_loader_reads_it(tmp_path: Path) -> None:
    """CNTK's case without CNTK: a library known only by the name the recipe linked it under, in
    a directory only the recipe's LD_LIBRARY_PATH names, loads from ENV/bin/python run directly;
    the command line, stdin and the pid stay the user's."""
    import sys

    from fwsetup.install import hooks

    found = [
        p
        for d in (
            "/lib/x86_64-linux-gnu",
            "/usr/lib/x86_64-linux-gnu",
            "/lib64",
            "/usr/lib64",
            "/lib/aarch64-linux-gnu",
        )
        for p in sorted(Path(d).glob("libz.so.1*"))
    ]
    if not found or sys.platform != "linux":
        pytest.skip("no libz to alias on this machine")
    libdir = tmp_path / "fwsetup-libs"
    libdir.mkdir()
    (libdir / "libfwalias.so.7").symlink_to(found[0])  # the soname inside stays libz.so.1
    gen = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(gen)], check=True)
    hooks.write_startup_hook(gen, {"LD_LIBRARY_PATH": str(libdir), "X_FLAG": "on"})
    code = (
        "import ctypes, os, sys; ctypes.CDLL('libfwalias.so.7'); "
        "print(os.environ['X_FLAG'], os.getpid(), sys.stdin.read().strip(), '_FWSETUP_ENV_REEXEC' in os.environ, "
        "os.environ['LD_LIBRARY_PATH'])"
    )
    proc = subprocess.Popen(
        [str(gen / "bin" / "python"), "-c", code, "arg"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    out, err = proc.communicate("from-stdin", timeout=60)
    assert proc.returncode == 0, err
    flag, pid, stdin, guard, ld = out.split()
    assert flag == "on" and int(pid) == proc.pid and stdin == "from-stdin" and guard == "False"
    assert ld == str(libdir)


def test_activation_names_the_env_and_uses_the_stable_path(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "myenv"
    assert install(home, env, "tiny").returncode == 0
    activate = (env / "bin" / "activate").read_text()
    assert "gen-1" not in activate and str(env) in activate and "myenv" in activate
    shell = subprocess.run(
        ["bash", "-c", f". {env}/bin/activate && echo $VIRTUAL_ENV && echo $PS1"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PS1": "$ "},
    )
    venv, ps1 = shell.stdout.splitlines()[:2]
    assert venv == str(env) and ps1.startswith("(myenv)")
    pip = env / "bin" / "pip"
    if pip.exists():
        assert str(envs.EnvLayout(env).store) not in pip.read_text().splitlines()[0]


def test_refused_install_into_a_new_path_leaves_nothing(home: Path, tmp_path: Path) -> None:
    parent = tmp_path / "p"
    parent.mkdir()
    env = parent / "new"
    bad = install(home, env, "tiny", "--version", "999.0")
    assert bad.returncode == 4
    assert sorted(p.name for p in parent.iterdir()) == []


def test_interrupt_says_the_previous_environment_is_kept(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "tiny"
    assert install(home, env, "tiny").returncode == 0
    args = ("install", "tiny", "--cpu", "--force", "--env", str(env), "-q")
    proc = interrupted_at_smoke(home, tmp_path / "smoke-started", *args)
    assert proc.returncode == 130, proc.stderr
    assert "previous environment is kept" in proc.stderr and str(env) in proc.stderr
    assert six_version(env) == "1.16.0"


def test_dry_run_names_the_env_path(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "where"
    out = cli("install", "tiny", "--cpu", "--dry-run", "--env", str(env), "--json", env=tiny_env(home))
    assert json_out(out)["env_path"] == str(env)
    default = cli("install", "tiny", "--cpu", "--dry-run", env=tiny_env(home))
    assert f"env path      {home / 'envs' / 'tiny-cpu'}" in default.stdout


def test_smoke_python_tests_any_interpreter(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "tiny"
    assert install(home, env, "tiny").returncode == 0
    target = os.path.realpath(env / "bin" / "python")
    ok = cli("smoke", "tiny", "--python", str(env / "bin" / "python"), "--json", env=tiny_env(home))
    assert ok.returncode == 0, ok.stderr
    assert json_out(ok)["framework_version"] == "1.16.0" and target
    bare = tmp_path / "bare"
    subprocess.run(["python3", "-m", "venv", "--without-pip", str(bare)], check=True)
    failed = cli("smoke", "tiny", "--python", str(bare), "--json", env=tiny_env(home))
    assert failed.returncode == 5 and "No module named 'six'" in json.dumps(json_out(failed))
    nothing = cli("smoke", "tiny", "--python", str(tmp_path / "nope"), env=tiny_env(home))
    assert nothing.returncode == 2 and "Errno" not in nothing.stderr


def test_smoke_gpu_on_a_cpu_build_says_so(home: Path, tmp_path: Path) -> None:
    env = tmp_path / "tiny"
    assert install(home, env, "tiny").returncode == 0
    out = cli("smoke", "tiny", "--env", str(env), "--gpu", env=tiny_env(home))
    assert out.returncode == 5
    assert "holds a CPU build" in out.stderr and "smoke test passed" not in out.stdout


def _venv_with_fake_torch(where: Path) -> Path:
    """A project's venv holding a torch CPU build (its metadata: what doctor reads)."""
    import sys

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    site = next(where.glob("lib/python*/site-packages"))
    info = site / "torch-2.7.1+cpu.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 2.7.1+cpu\n")
    return where


def test_doctor_reads_the_venv_it_is_pointed_at(tmp_path: Path) -> None:
    venv = _venv_with_fake_torch(tmp_path / "proj")
    out = cli("doctor", "--python", str(venv / "bin" / "python"), "--json")
    data = json_out(out)
    assert data["frameworks_from"]["source"] == "--python"
    assert data["frameworks_from"]["python"] == str(venv / "bin" / "python")
    torch = [f for f in data["frameworks"] if f["name"] == "torch"]
    assert torch and torch[0]["variant"] == "cpu" and torch[0]["location"].startswith(str(venv))

    active = cli("doctor", "--json", env={"VIRTUAL_ENV": str(venv)})
    assert json_out(active)["frameworks_from"]["source"] == "VIRTUAL_ENV"
    assert [f["version"] for f in json_out(active)["frameworks"] if f["name"] == "torch"] == ["2.7.1+cpu"]
    text = cli("doctor", env={"VIRTUAL_ENV": str(venv)}).stdout
    assert "torch 2.7.1+cpu" in text and f"read from {venv / 'bin' / 'python'}" in text
    assert "the active virtual environment" in text

    missing = cli("doctor", "--python", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_install_into_a_project_venv_and_roll_it_back_exactly(home: Path, tmp_path: Path) -> None:
    import sys

    from fwsetup.install.backends import find_uv

    venv = tmp_path / "proj"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    uv = find_uv()
    assert uv is not None
    subprocess.run(
        [uv, "pip", "install", "--python", str(venv / "bin" / "python"), "six==1.17.0"], check=True
    )
    original = envs.installed_packages(venv)

    done = fwsetup("install", "tiny", "--cpu", "--into", str(venv), "--json", env=tiny_env(home))
    assert done.returncode == 0, done.stderr
    assert json_out(done)["smoke"]["ok"] is True and six_version(venv) == "1.16.0"
    assert (
        fwsetup("install", "tinyb", "--cpu", "--into", str(venv), "--json", env=tiny_env(home)).returncode
        == 0
    )
    assert "iniconfig" in envs.installed_packages(venv)
    listed = [r for r in json_out(cli("envs", "--json", env=tiny_env(home)))["envs"] if r["env"] == str(venv)]
    assert listed and listed[0]["status"] == "project-venv" and listed[0]["generations"] == 2
    assert [f["framework"] for f in listed[0]["frameworks"]] == ["tiny", "tinyb"]

    first = fwsetup("rollback", str(venv), "--json", env=tiny_env(home))
    assert first.returncode == 0, first.stderr
    assert json_out(first)["removed"] == ["iniconfig"]
    second = fwsetup("rollback", str(venv), "--json", env=tiny_env(home))
    assert second.returncode == 0, second.stderr
    assert envs.installed_packages(venv) == original and six_version(venv) == "1.17.0"
    assert fwsetup("rollback", str(venv), env=tiny_env(home)).returncode == 2  # nothing left to undo
    assert json_out(cli("envs", "--json", env=tiny_env(home)))["envs"] == []


def test_into_refuses_a_system_python_and_conda_base(home: Path, tmp_path: Path) -> None:
    system = cli("install", "tiny", "--cpu", "--into", "/usr", env=tiny_env(home))
    assert system.returncode == 2 and "not a virtual environment" in system.stderr
    if list(Path("/usr/lib").glob("python3*/EXTERNALLY-MANAGED")):
        assert "PEP 668" in system.stderr
    base = tmp_path / "miniconda3"
    for d in ("conda-meta", "condabin", "bin"):
        (base / d).mkdir(parents=True)
    (base / "bin" / "python").symlink_to(Path(os.path.realpath("/usr/bin/python3")))
    conda = cli("install", "tiny", "--cpu", "--into", str(base), env=tiny_env(home))
    assert conda.returncode == 2 and "conda's base environment" in conda.stderr


def _fake_cargo(bindir: Path, record: Path) -> None:
    bindir.mkdir(parents=True, exist_ok=True)
    tool = bindir / "cargo"
    tool.write_text(f'#!/bin/sh\necho "$@" >> {record}\nif [ "$1" = new ]; then mkdir -p "$3"; fi\n')
    tool.chmod(0o755)


def test_a_dry_runs_can_run_here_is_what_install_does(home: Path, tmp_path: Path) -> None:
    """Leaf: with cargo on PATH both steps can run here, and install runs them; without, both refuse."""
    bindir, record = tmp_path / "bin", tmp_path / "cargo-calls"
    env = tmp_path / "leaf"
    without = {"FWSETUP_HOME": str(home), "PATH": "/usr/bin:/bin"}
    dry = json_out(cli("install", "leaf", "--cpu", "--dry-run", "--json", env=without))
    assert not any(s["can_run_here"] for s in dry["steps"])
    refused = cli("install", "leaf", "--cpu", "--env", str(env), env=without)
    assert refused.returncode == 3 and not env.exists()

    _fake_cargo(bindir, record)
    with_cargo = {"FWSETUP_HOME": str(home), "PATH": f"{bindir}:/usr/bin:/bin"}
    dry = json_out(cli("install", "leaf", "--cpu", "--dry-run", "--json", env=with_cargo))
    assert all(s["can_run_here"] for s in dry["steps"])
    done = fwsetup("install", "leaf", "--cpu", "--env", str(env), "--json", env=with_cargo)
    assert done.returncode == 0, done.stderr
    calls = record.read_text().splitlines()
    store = str(envs.EnvLayout(env).store)
    assert calls[0].startswith(f"new --lib {store}/gen-1/leaf-env") and calls[1].startswith(
        "add --manifest-path"
    )
    assert (env / "leaf-env").is_dir()


def test_manual_steps_say_what_to_do_not_see_description() -> None:
    out = cli("install", "torch7", "--cpu", "--dry-run")
    assert "(see description)" not in out.stdout and "you do it by hand" in out.stdout


def test_plan_messages(tmp_path: Path) -> None:
    """did-you-mean for framework names; the driver table fills a report's missing CUDA version;
    native Windows GPU refusals for TensorFlow and JAX name WSL2."""
    from machines import base_report, with_nvidia

    from fwsetup import records
    from fwsetup.report import OSInfo

    typo = cli("install", "pytroch", "--dry-run")
    assert typo.returncode == 2 and "did you mean 'pytorch'?" in typo.stderr
    assert "did you mean 'tensorflow'" in cli("install", "tensorflwo", "--dry-run").stderr

    old = with_nvidia(base_report(), "580.95.05", "13.0", [("NVIDIA GeForce RTX 4090", "8.9")])
    assert old.nvidia is not None
    old = records.replace(old, nvidia=records.replace(old.nvidia, cuda_driver_version=None))
    (tmp_path / "old.json").write_text(old.to_json())
    plan = cli("install", "pytorch", "--gpu", "--dry-run", "--system", str(tmp_path / "old.json"))
    assert plan.returncode == 0, plan.stderr
    assert "CUDA ?" not in plan.stdout and "driver 580.95.05 (CUDA 13.0)" in plan.stdout

    win = with_nvidia(
        base_report(system="Windows", arch="AMD64"), "581.57", "13.0", [("NVIDIA GeForce RTX 4070", "8.9")]
    )
    win = records.replace(
        win, os=OSInfo(system="Windows", distro_id="windows", distro_version="11", arch="AMD64")
    )
    (tmp_path / "win.json").write_text(win.to_json())
    for fw in ("tensorflow", "jax"):
        out = cli("install", fw, "--gpu", "--dry-run", "--system", str(tmp_path / "win.json"))
        assert out.returncode == 3 and "WSL2" in out.stderr, (fw, out.stderr)
    assert (
        "cuDNN 8.1"
        in cli("install", "tensorflow", "--gpu", "--dry-run", "--system", str(tmp_path / "win.json")).stderr
    )


def test_dns_failure_gets_the_network_fix_and_leaves_nothing(home: Path, tmp_path: Path) -> None:
    parent = tmp_path / "p"
    parent.mkdir()
    out = fwsetup(
        "install",
        "tiny",
        "--cpu",
        "--env",
        str(parent / "new"),
        "--index-url",
        "http://pypi.nonexistent.invalid/simple",
        "--json",
        env=tiny_env(home),
    )
    assert out.returncode == 4
    err = json_out(out)["error"]
    assert "could not be resolved (DNS)" in err["message"] and "check the network" in err["fix"]
    assert "version pin" not in err["fix"]
    assert sorted(p.name for p in parent.iterdir()) == []


def test_smoke_gpu_on_a_machine_without_a_gpu_says_so(home: Path, tmp_path: Path) -> None:
    from fwsetup.install.smoke import gpu_visible

    if gpu_visible():
        pytest.skip("this machine has a GPU device node")
    env = tmp_path / "tiny"
    assert install(home, env, "tiny").returncode == 0
    out = cli("smoke", "tiny", "--python", str(env / "bin" / "python"), "--gpu", env=tiny_env(home))
    assert out.returncode == 5 and "this machine has no GPU fwsetup can see" in out.stderr
    assert "cannot use this GPU" not in out.stderr


def test_in_a_terminal_install_asks_before_replacing(monkeypatch: pytest.MonkeyPatch) -> None:
    from fwsetup.cli import ask
    from fwsetup.errors import UsageError
    from fwsetup.install import combine
    from fwsetup.install.generation import GenerationMeta
    from fwsetup.plan.model import Plan

    raw = {
        "framework": "jax",
        "version": "0.7.0",
        "variant": "cpu",
        "python": "3.11",
        "plan": {"packages": ["jax==0.7.0"]},
    }
    held = GenerationMeta.from_dict(raw)
    torch = Plan("pytorch", "2.8.0", "cpu", "cpu", "3.11", ["torch==2.8.0"])
    answers = iter(["a", "r", "n"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))

    def asked() -> combine.Decision:  # the command line asks (cli/ask.py), combine decides with the answer
        found = combine.conflict(torch, held, "/e")
        assert found is not None
        return combine.decide(torch, held, "/e", mode=ask.mode(found), force=False)

    added = asked()
    assert added.plan.packages == ["jax==0.7.0", "torch==2.8.0"] and added.kept
    replaced = asked()
    assert replaced.plan.packages == ["torch==2.8.0"] and not replaced.kept
    with pytest.raises(UsageError, match=r"holds jax 0\.7\.0"):
        asked()
    other_python = GenerationMeta.from_dict(dict(raw, python="3.10"))
    with pytest.raises(UsageError, match=r"needs Python 3\.11"):
        combine.decide(torch, other_python, "/e", mode="", force=False)


def test_doctor_asks_an_interpreter_that_is_not_a_venv(tmp_path: Path) -> None:
    """A system or pyenv Python: only the interpreter knows its sys.path, so it is asked."""
    system = Path("/usr/bin/python3")
    if not system.exists():
        pytest.skip("no /usr/bin/python3")
    want = subprocess.run(
        [str(system), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    data = json_out(cli("doctor", "--python", str(system), "--json"))
    assert data["frameworks_from"] == {"python": str(system), "source": "--python", "python_version": want}
    assert all(
        not (f["location"] or "").startswith(os.path.dirname(os.path.dirname(__file__)))
        for f in data["frameworks"]
    )


def test_a_bad_installer_is_refused_before_anything_for_into_too(home: Path, tmp_path: Path) -> None:
    out = cli("install", "tiny", "--cpu", "--into", str(tmp_path / "venv"), "--installer", "foo", env=tiny_env(home))
    assert out.returncode == 2 and "--installer 'foo' is not one of auto, uv, pip" in out.stderr
    assert not (tmp_path / "venv").exists()


def test_smoke_python_that_is_not_executable_is_a_usage_error(home: Path, tmp_path: Path) -> None:
    """`smoke --python /etc/passwd` (a file, not a program) was exit 5, "smoke test failed:
    PermissionError"; it is a wrong argument like a missing path."""
    text = tmp_path / "python"
    text.write_text("not a program\n")
    out = cli("smoke", "tiny", "--python", str(text), "--json", env=tiny_env(home))
    assert out.returncode == 2, out.stdout
    assert "is not a Python interpreter" in json_out(out)["error"]["message"]
