"""`install --into VENV`: the chosen build into a project's own environment, undoably.

Before anything changes, the venv's package set (name → version) and the sources the new
packages come from are recorded in FWSETUP_HOME/into/; `fwsetup rollback VENV` removes what was
added and reinstalls what was changed, exactly those versions (--no-deps: the set is complete).
A failed install or smoke test restores the set at once. A Python that is not a virtual
environment (PEP 668's system Python above all) and a conda *base* environment are refused:
those belong to the distribution or to conda itself.
"""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path
from typing import Any, Optional, Union

from fwsetup import paths, pipconfig, runner
from fwsetup.errors import FwsetupError, InstallError, UsageError
from fwsetup.install import backends, builds, envs, projects, smoke
from fwsetup.install import sources as installer_sources
from fwsetup.plan.model import Plan
from fwsetup.plan.recipes import Recipe, recipes_dir
from fwsetup.versions import exact_pin


def check_venv(venv: Path) -> Path:
    """The venv's python; refuses what is not a project's own environment."""
    python = envs.env_python(venv)
    if not python.exists() and python.with_name("python3").exists():
        python = python.with_name("python3")
    if not python.exists():
        raise UsageError(
            f"{venv} has no {python.relative_to(venv)}", "pass the directory of a virtual environment"
        )
    if (venv / "conda-meta").is_dir():
        if (venv / "condabin").is_dir() or (venv / "envs").is_dir():
            raise UsageError(
                f"{venv} is conda's base environment; fwsetup does not install into it",
                "make an environment for the project (`conda create -n NAME python`) and pass --into that one",
            )
        return python
    if not (venv / "pyvenv.cfg").is_file():
        marker = list(venv.glob("lib/python3*/EXTERNALLY-MANAGED"))
        raise UsageError(
            f"{venv} is not a virtual environment"
            + (" but a system Python managed by the distribution (PEP 668)" if marker else ""),
            f"make one with `python3 -m venv {venv.name}-venv` and pass --into that, or let fwsetup make one (--env)",
        )
    if (venv / envs.METADATA).is_file() or venv.is_symlink():
        raise UsageError(f"{venv} is an fwsetup environment", "install into it with --env, not --into")
    return python


def python_of(venv: Path) -> str:
    major, minor = backends.python_version_of(str(check_venv(venv)))
    return f"{major}.{minor}"


def install(
    plan: Plan,
    recipe: Recipe,
    venv: Path,
    *,
    installer: str,
    timeout: float,
    gpu_smoke: bool,
    wheelhouses: tuple[Union[Path, str], ...] = (),  # directories, or find-links URLs
    index_url: Optional[str] = None,
    offline: bool = False,
    skip_smoke: bool = False,
    protect: bool = False,  # the user said yes (cli/ask.py, or --protect): pip/uv in it keep the build
) -> dict[str, Any]:
    python = check_venv(venv)
    version = backends.python_version_of(str(python))
    if f"{version[0]}.{version[1]}" != plan.python:
        raise UsageError(
            f"{venv} runs Python {version[0]}.{version[1]}; the plan is for Python {plan.python}",
            f"plan for it: `--python {version[0]}.{version[1]}`",
        )
    backend = backends.choose(version, installer)
    before = envs.installed_packages(venv)
    log = (
        paths.home() / "logs" / f"{recipe.name}-into-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}.log"
    )
    log.parent.mkdir(parents=True, exist_ok=True)
    run = backends.run_logged(log, timeout)
    from fwsetup.install import protect as protecting

    entry: dict[str, Any] = {
        "venv": str(venv),
        "at": envs.now(),
        "framework": plan.framework,
        "version": plan.version,
        "variant": plan.variant,
        "packages": before,
        "index_urls": plan.index_urls,
        "find_links": [*plan.find_links, *map(str, wheelhouses)],
        "protection": protecting.state(venv),  # its pins before: `rollback` puts them back with the packages
    }
    projects.save(venv, [*projects.history(venv), entry])
    kept = protecting.saved(venv)  # its pins would refuse the new build: lifted, and put back on failure
    try:
        protecting.lift(venv)
        with tempfile.TemporaryDirectory(prefix="fwsetup-into-") as tmp:
            sources = installer_sources.of(
                plan,
                Path(tmp),
                find_links=tuple(map(str, wheelhouses)),
                index_url=index_url,
                offline=offline,
                settings=pipconfig.read(),
            )
            backend.install(python, plan.packages, sources, run)
        result: Optional[smoke.SmokeResult] = None
        script = recipes_dir() / "smoke" / plan.smoke if plan.smoke else None
        if script is not None and script.is_file() and not skip_smoke:
            result = smoke.run(
                python,
                script,
                gpu=gpu_smoke,
                env={k: v.replace("{env}", str(venv)) for k, v in plan.env.items()},
                planned=builds.planned(plan.variant, plan.accelerator),
            )
            smoke.verdict(result, gpu_smoke, recipe.display_name, build=plan.accelerator)
    except (FwsetupError, KeyboardInterrupt) as exc:
        restore(venv, entry, timeout=timeout)
        projects.save(venv, projects.history(venv)[:-1])
        protecting.put_back(venv, kept)
        if isinstance(exc, FwsetupError):
            exc.fix = (exc.fix + "; " if exc.fix else "") + f"{venv} was restored to its previous packages"
        raise
    installed = envs.installed_packages(venv)
    warnings: list[str] = []
    protected = (protect or bool(kept)) and _protect(plan, venv, installed, warnings, again=bool(kept))
    return {
        **envs.install_result(plan.framework, venv, plan.python, venv, result.to_dict() if result else None),
        "protected": protected,
        "backend": backend.name,
        "rollback": f"fwsetup rollback {venv}",
        "warnings": warnings,
    }


def _protect(plan: Plan, venv: Path, installed: dict[str, str], warnings: list[str], again: bool) -> bool:
    """Your venv keeps the build too, unless it has a pip.conf of its own (never changed), other than
    what is left of fwsetup's once lifted (`again`: it was protected; what the user added to it stays);
    an activation script that could not be patched for uv is a warning."""
    from fwsetup.install import protect

    if not again and protect.pip_conf(venv).exists() and protect.constraints_of(venv) is None:
        return False
    return protect.apply(plan, venv, installed, named=venv, warnings=warnings)


def rollback(venv: Path, timeout: float = backends.INSTALL_TIMEOUT) -> dict[str, Any]:
    entries = projects.history(venv)
    if not entries:
        raise UsageError(f"{venv}: fwsetup has installed nothing into it", "see `fwsetup envs`")
    changed = restore(venv, entries[-1], timeout=timeout)
    projects.save(venv, entries[:-1])
    _pins_as_before(venv, entries[-1], first=not entries[:-1])
    return {"env": str(venv), "restored": entries[-1]["at"], **changed}


def _pins_as_before(venv: Path, entry: dict[str, Any], first: bool) -> None:
    """The pins follow the packages: the protection the venv had before that install (none: what
    fwsetup added to it comes out, activation scripts included; what the user added stays). A record
    from before fwsetup kept it: none before the first install, else the pins at the versions back."""
    from fwsetup.install import activation, protect

    if "protection" in entry:
        before = entry["protection"] if isinstance(entry["protection"], str) else None
    elif first:
        before = None
    else:
        protect.follow(venv, envs.installed_packages(venv))
        return
    if before is None:
        protect.lift(venv)
        activation.unpatch(venv)
    elif protect.restore_state(venv, before):
        activation.patch(venv, venv)


def restore(venv: Path, entry: dict[str, Any], *, timeout: float) -> dict[str, list[str]]:
    """Make the venv's package set exactly `entry["packages"]` again."""
    python = envs.env_python(venv)
    want: dict[str, str] = dict(entry.get("packages") or {})
    have = envs.installed_packages(venv)
    remove = sorted(n for n in have if n not in want)
    # exact: the torch 2.13.0 that was there, never a 2.13.0+cpu of the sources (versions.exact_pin)
    reinstall = sorted(exact_pin(n, v) for n, v in want.items() if have.get(n) != v)
    uv = backends.find_uv()
    env = runner.installer_env()
    sources: list[str] = []
    for url in entry.get("index_urls") or []:
        sources += ["--extra-index-url", url]
    for fl in entry.get("find_links") or []:
        sources += ["--find-links", fl]
    if remove:
        argv = (
            [uv, "pip", "uninstall", "--python", str(python)]
            if uv
            else [str(python), "-m", "pip", "uninstall", "-y"]
        )
        runner.step([*argv, *remove], what="removing what the install added", timeout=timeout, env=env)
    if reinstall:
        argv = (
            [
                uv,
                "pip",
                "install",
                "--python",
                str(python),
                "--no-deps",
                "--index-strategy",
                "unsafe-best-match",
            ]
            if uv
            else [str(python), "-m", "pip", "install", "--no-deps", "--no-input"]
        )
        runner.step(
            [*argv, *sources, *reinstall], what="reinstalling the previous versions", timeout=timeout, env=env
        )
    if envs.installed_packages(venv) != want:
        raise InstallError(f"{venv} could not be restored exactly", "see the output above")
    return {"removed": remove, "reinstalled": reinstall}


def is_recorded(venv: Path) -> bool:
    return projects.is_recorded(venv)
