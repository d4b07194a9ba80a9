"""Developer sessions: tests on every supported Python found here, lint, typecheck, bench, e2e."""

from __future__ import annotations

import shutil

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

SUPPORTED = ["3.9", "3.10", "3.11", "3.12", "3.13"]
AVAILABLE = [v for v in SUPPORTED if shutil.which(f"python{v}")]


@nox.session(python=AVAILABLE or None)
def tests(session: nox.Session) -> None:
    """The README's test command (unit tests and the quick real installs; no GPU needed) on each
    Python 3.9-3.13 installed on this machine."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=AVAILABLE or None)
def unit(session: nox.Session) -> None:
    """Unit tests only (no network, no GPU), on each Python found: the quick loop while editing."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-m", "not e2e", *session.posargs)


@nox.session
def e2e(session: nox.Session) -> None:
    """Real installs into temporary environments (network, minutes), slow ones included."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "e2e", *session.posargs, env={"FWSETUP_E2E_SLOW": "1"})


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", "fwsetup", "tests", "bench", "bin", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".", "mypy>=1.10", "nox")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks print ratios measured side by side; they are not tests."""
    session.install("-e", ".")
    for script in sorted(__import__("pathlib").Path("bench").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)


@nox.session(python=False)
def update_data(session: nox.Session) -> None:
    """Regenerate the framework tables from the registry (network; minutes): `nox -s update_data`,
    or `nox -s update_data -- jax --check` (exit 1 when something is new)."""
    args = session.posargs or ["pytorch", "jax", "tensorflow", "companions"]
    session.run("python", "bin/update_data.py", *args)
