"""`export --format requirements|pylock`: a lock installed by the user's own pip and uv, for real."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import cli, fwsetup, tiny_env, wheel

from fwsetup import tomlfile
from fwsetup.fleet import lockfile


@pytest.fixture(scope="module")
def lock(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("pipexport")
    out = fwsetup(
        "lock",
        "tiny",
        "--variant",
        "cpu",
        "--version",
        "1.16.0",
        "-o",
        str(base / "tiny.lock"),
        "--json",
        env=tiny_env(base / "home"),
    )
    assert out.returncode == 0, out.stderr
    return base / "tiny.lock"


def _venv(where: Path, pip: bool) -> Path:
    args = [sys.executable, "-m", "venv", str(where)] + ([] if pip else ["--without-pip"])
    subprocess.run(args, check=True, timeout=300)
    return where / "bin" / "python"


def _installs(argv: list[str], python: Path) -> None:
    """`argv` (the user's own installer) puts the locked six into `python`'s environment."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _six(python) == "1.16.0"


def _six(python: Path) -> str:
    return subprocess.run(
        [str(python), "-c", "import six; print(six.__version__)"], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_lock_takes_the_variant_flag(lock: Path) -> None:
    _, targets = lockfile.load(lock)
    assert [(t.variant, t.version) for t in targets] == [("cpu", "1.16.0")]
    wrong = cli(
        "lock", "tiny", "--variant", "nosuch", "-o", str(lock.parent / "x.lock"), env=tiny_env(lock.parent)
    )
    assert wrong.returncode != 0 and not (lock.parent / "x.lock").exists()


def test_requirements_export_installs_with_plain_pip_require_hashes(lock: Path, tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    out = cli("export", "--lock", str(lock), "--format", "requirements", "-o", str(req))
    assert out.returncode == 0, out.stderr
    text = req.read_text()
    assert "six===1.16.0 \\" in text and "--hash=sha256:" in text and "TINY_HOME" in text
    python = _venv(tmp_path / "v", pip=True)
    _installs([str(python), "-m", "pip", "install", "--require-hashes", "-r", str(req)], python)
    tampered = tmp_path / "bad.txt"
    tampered.write_text(text.replace("--hash=sha256:", "--hash=sha256:00000000"))  # every file's hash wrong
    refused = subprocess.run(
        [
            str(_venv(tmp_path / "w", pip=True)),
            "-m",
            "pip",
            "install",
            "--require-hashes",
            "-r",
            str(tampered),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert refused.returncode != 0 and "hash" in (refused.stdout + refused.stderr).lower()


def test_requirements_export_installs_the_locked_release_beside_a_local_build_of_it(
    lock: Path, tmp_path: Path
) -> None:
    """A `six-1.16.0+cpu` wheel in a find-links folder meets `six==1.16.0` and ranks above the
    locked file: uv and pip took it and failed its hash. The export pins `six===1.16.0`, and both
    install the locked six with the folder on offer, as the file's own `uv pip install` line says."""
    from fwsetup.install.backends import find_uv

    uv = find_uv()
    assert uv is not None
    links = tmp_path / "links"
    links.mkdir()
    wheel(links, "six", "1.16.0+cpu")
    req = tmp_path / "requirements.txt"
    assert cli("export", "--lock", str(lock), "--format", "requirements", "-o", str(req)).returncode == 0
    assert "six===1.16.0" in req.read_text() and "six==1.16.0" not in req.read_text()
    with_uv = _venv(tmp_path / "u", pip=False)
    _installs(
        [uv, "pip", "install", "--python", str(with_uv), "-r", str(req), "--find-links", str(links)], with_uv
    )
    with_pip = _venv(tmp_path / "p", pip=True)
    argv = [
        str(with_pip),
        "-m",
        "pip",
        "install",
        "--require-hashes",
        "-r",
        str(req),
        "--find-links",
        str(links),
    ]
    _installs(argv, with_pip)
    # the lock file itself keeps `==`
    assert "six==1.16.0" in lock.read_text() and "six===" not in lock.read_text()


def test_pylock_export_installs_with_uv(lock: Path, tmp_path: Path) -> None:
    from fwsetup.install.backends import find_uv

    uv = find_uv()
    assert uv is not None
    pylock = tmp_path / "pylock.toml"
    out = cli("export", "--lock", str(lock), "--format", "pylock", "-o", str(pylock))
    assert out.returncode == 0, out.stderr
    doc = tomlfile.loads(pylock.read_text())
    assert doc["lock-version"] == "1.0"
    (six,) = [p for p in doc["packages"] if p["name"] == "six"]
    _, targets = lockfile.load(lock)
    pinned = targets[0].requirements[0]
    assert six["version"] == "1.16.0"
    assert all(f["hashes"]["sha256"] in pinned for f in six.get("wheels", []))
    python = _venv(tmp_path / "v", pip=False)
    _installs([uv, "pip", "install", "--python", str(python), "-r", str(pylock)], python)


def test_export_of_a_fleet_lock_needs_a_target(tmp_path: Path, lock: Path) -> None:
    _, targets = lockfile.load(lock)
    two = tmp_path / "two.lock"
    from fwsetup import records

    two.write_text(lockfile.dumps("tiny", [targets[0], records.replace(targets[0], name="other")]))
    out = cli("export", "--lock", str(two), "--format", "requirements")
    assert out.returncode == 2 and "--target" in out.stderr
    picked = cli("export", "--lock", str(two), "--format", "requirements", "--target", "other")
    assert picked.returncode == 0 and "six===1.16.0" in picked.stdout
