"""`install --lock` installs the lock's target for this machine exactly: a plan option beside it
(--with, --without, --version, --gpu, --python, …) would be ignored, so it is a usage error (exit 2)
saying how to get what it asks for; FWSETUP_PYTHON, a default, yields to the lock."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import cli, json_out, tiny_env


@pytest.fixture(scope="module")
def lock(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real lock of the tiny recipe for this machine."""
    base = tmp_path_factory.mktemp("lock")
    out = cli("lock", "tiny", "--cpu", "-o", str(base / "tiny.lock"), env=tiny_env(base / "home"))
    assert out.returncode == 0, out.stderr
    return base / "tiny.lock"


@pytest.mark.parametrize(
    ("flags", "says", "fix"),
    [
        (("--with", "attrs"), "--with", "fwsetup lock tiny … --with"),
        (("--without", "xx"), "--without", "fwsetup lock tiny … --with"),
        (("--version", "1.16"), "--version", "fwsetup lock tiny --version"),
        (("--cpu",), "--cpu", "fwsetup lock tiny --version"),
        (("--gpu",), "--gpu", "fwsetup lock tiny --version"),
        (("--python", "3.11"), "--python", "fwsetup lock tiny --version"),
        (("--variant", "cpu"), "--variant", "fwsetup lock tiny --version"),
        (("--backend", "torch"), "--backend", "fwsetup lock tiny --version"),
        (("--gpus", "0"), "--gpus", "fwsetup lock tiny --version"),
        (("--hsa-override",), "--hsa-override", "fwsetup lock tiny --version"),
    ],
)
def test_a_plan_option_beside_a_lock_is_a_usage_error(
    lock: Path, tmp_path: Path, flags: tuple[str, ...], says: str, fix: str
) -> None:
    env = tmp_path / "env"
    out = cli("install", "--lock", str(lock), *flags, "--env", str(env), "--json", env=tiny_env(tmp_path / "home"))
    assert out.returncode == 2, out.stdout + out.stderr
    error = json_out(out)["error"]
    assert says in error["message"] and "lock" in error["message"]
    assert fix in error["fix"], error["fix"]
    assert not env.exists() and not env.is_symlink()  # nothing installed


def test_with_and_version_together_are_named_in_one_error(lock: Path, tmp_path: Path) -> None:
    out = cli("install", "tiny", "--lock", str(lock), "--with", "attrs", "--version", "1.16", "--env",
              str(tmp_path / "env"), env=tiny_env(tmp_path / "home"))  # fmt: skip
    assert out.returncode == 2 and "--version, --with" in out.stderr, out.stderr


def test_fwsetup_python_from_the_environment_yields_to_a_lock(lock: Path, tmp_path: Path) -> None:
    """The variable is a default for planning; a lock names its own Python."""
    env = tmp_path / "env"
    home = tmp_path / "home"
    out = cli("install", "--lock", str(lock), "--env", str(env), "--json",
              env=tiny_env(home, FWSETUP_PYTHON="3.99"))  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "six" in json_out(out)["packages"]
    planned = cli("install", "tiny", "--dry-run", "--json", env=tiny_env(home, FWSETUP_PYTHON="3.99"))
    assert json_out(planned)["python"] == "3.99"  # without a lock it still applies
