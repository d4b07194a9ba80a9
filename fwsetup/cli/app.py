"""The `fwsetup` command line: parse, call, render. No decisions are made here.

Each command is a plain function registered with its options (cli/spec.py declares the grammar);
the modules that do the work are imported inside the command that needs them, so `--help` or
`doctor` never pays for planning, installing or the fleet tools."""

from __future__ import annotations

import os
import sys

from fwsetup import __version__
from fwsetup.cli.errors import debug_enabled, emit_error, report_internal_error
from fwsetup.cli.spec import (
    HELP_FLAGS,
    TRUE,
    Argument,
    Command,
    Option,
    ParseError,
    command_help,
    parse,
    root_help,
    usage,
)
from fwsetup.errors import ExitCode, FwsetupError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path
    from typing import Any, Callable, Optional, Union

PROG = "fwsetup"
SUMMARY = (
    "Make this machine ready for machine learning: detect, choose the right build, "
    "install it in an isolated environment, prove it works."
)
COMMANDS: dict[str, Command] = {}

JSON = Option(("--json",), "json_output", "Print exactly one JSON document on stdout.", envvar="FWSETUP_JSON")
SYSTEM = Option(
    ("--system",),
    "system_report",
    "Plan for the machine that wrote this `doctor --json` report.",
    kind="path",
    envvar="FWSETUP_SYSTEM",
)
PYTHON = Option(("--python",), "python", "Python X.Y for the environment.", kind="text", envvar="FWSETUP_PYTHON")
GPU = Option(("--gpu",), "gpu", "A GPU build; refuse if no usable GPU.")
CPU = Option(("--cpu",), "cpu", "A CPU-only build: never pulls CUDA packages.")
ALLOW_INSECURE = Option(
    ("--allow-insecure",), "allow_insecure", "Let a lock name http:// package sources (default: https only)."
)
BACKEND = Option(("--backend",), "backend", "Keras backend: tensorflow, jax or torch.", kind="text")


def command(name: str, help: str, *params: Any) -> Callable[[Callable[..., Optional[int]]], Callable[..., Optional[int]]]:
    """Register `fn` as `fwsetup NAME`; its keyword parameters are the params' dests."""

    def register(fn: Callable[..., Optional[int]]) -> Callable[..., Optional[int]]:
        COMMANDS[name] = Command(name, help, tuple(params), fn)
        return fn

    return register


@command(
    "doctor",
    "Report what this machine is and what is wrong with it for ML work.",
    JSON,
    Option(("--strict",), "strict", "Exit 1 when any finding is an error (for CI).", envvar="FWSETUP_STRICT"),
    Option(
        ("--timeout",),
        "timeout",
        "Seconds each probe may take.",
        kind="float",
        default=5.0,
        min=0.1,
        max=120.0,
        envvar="FWSETUP_PROBE_TIMEOUT",
    ),
)
def doctor(json_output: bool, strict: bool, timeout: float) -> int:
    from fwsetup.cli.doctor import run_doctor

    return run_doctor(json_output, strict, timeout)


@command("list", "Frameworks fwsetup knows, their variants, and what this machine would get.", JSON, SYSTEM)
def list_frameworks(json_output: bool, system_report: Optional[Path]) -> None:
    from fwsetup.cli import render
    from fwsetup.plan import planning

    report = planning.machine_report(system_report)
    rows = planning.machine_summary(report, planning.local_wheels([], use_pip_config=system_report is None))
    if json_output:
        render.dump_json({"frameworks": rows})
    else:
        sys.stdout.write(render.framework_table(rows, render.use_color(sys.stdout)))


@command(
    "install",
    "Choose the right build for this machine and install it in an isolated environment.",
    Argument(
        "framework",
        "pytorch, tensorflow, jax, keras, theano, … (see `fwsetup list`); omit with --lock",
        required=False,
    ),
    Option(
        ("--lock",),
        "lock",
        "Install exactly what this fwsetup.lock holds for this machine. FWSETUP_LOCK is ignored "
        "when --dry-run or --system is given.",
        kind="path",
        envvar="FWSETUP_LOCK",
        env_yields_to=("dry_run", "system_report"),
    ),
    GPU,
    CPU,
    Option(("--version",), "version", "Framework version or prefix (2.7, 2.7.1).", kind="text"),
    PYTHON,
    BACKEND,
    Option(("--variant",), "variant", "Force a variant by name (cu126, cpu, pieces, …).", kind="text"),
    Option(("--gpus",), "gpus", "Serve only these GPU indices, e.g. 0,1.", kind="text"),
    SYSTEM,
    Option(
        ("--wheelhouse", "--find-links"),
        "wheelhouse",
        "Directory of wheels, or a find-links URL, to prefer/use (repeat; the variable takes a path "
        "list, or whitespace-separated URLs).",
        kind="locations",
        envvar="FWSETUP_WHEELHOUSE",
    ),
    ALLOW_INSECURE,
    Option(("--dry-run",), "dry_run", "Print the plan; change nothing.", envvar="FWSETUP_DRY_RUN"),
    Option(("--env",), "env", "Environment path (default: see README).", kind="path", envvar="FWSETUP_ENV"),
    Option(
        ("--index-url",), "index_url", "Package index instead of PyPI.", kind="text", envvar="FWSETUP_INDEX_URL"
    ),
    Option(
        ("--offline",),
        "offline",
        "No network: install only from --wheelhouse/find-links.",
        envvar="FWSETUP_OFFLINE",
    ),
    Option(
        ("--system-packages",),
        "system_packages",
        "Allow apt-get for the system libraries the recipe needs.",
        envvar="FWSETUP_SYSTEM_PACKAGES",
    ),
    Option(
        ("--yes", "-y"),
        "yes",
        "Answer yes to every prompt, the system-package one included.",
        envvar="FWSETUP_YES",
    ),
    Option(
        ("--installer",), "installer", "auto, uv or pip.", kind="text", default="auto", envvar="FWSETUP_INSTALLER"
    ),
    Option(("--quiet", "-q"), "quiet", "No progress output.", envvar="FWSETUP_QUIET"),
    Option(
        ("--timeout",),
        "timeout",
        "Seconds each install step may take.",
        kind="float",
        default=3600.0,
        min=1.0,
        envvar="FWSETUP_TIMEOUT",
    ),
    Option(
        ("--log-file",),
        "log_file",
        "Write the installers' full output here (credentials redacted).",
        kind="path",
        envvar="FWSETUP_LOG_FILE",
    ),
    JSON,
)
def install(
    framework: Optional[str],
    lock: Optional[Path],
    gpu: bool,
    cpu: bool,
    version: Optional[str],
    python: Optional[str],
    backend: Optional[str],
    variant: Optional[str],
    gpus: Optional[str],
    system_report: Optional[Path],
    wheelhouse: list[Union[Path, str]],
    allow_insecure: bool,
    dry_run: bool,
    env: Optional[Path],
    index_url: Optional[str],
    offline: bool,
    system_packages: bool,
    yes: bool,
    installer: str,
    quiet: bool,
    timeout: float,
    log_file: Optional[Path],
    json_output: bool,
) -> None:
    from fwsetup.cli import render
    from fwsetup.plan import requested

    version, python = requested.check_version(version), requested.check_python(python)
    if lock is not None:
        if system_report is not None or dry_run:
            raise UsageError(
                "--lock installs on this machine; it cannot be combined with --system or --dry-run",
                "use `fwsetup lock --system …` to plan for other machines",
            )
        from fwsetup.fleet.fromlock import plan_from_lock

        outcome, recipe_name, locked = plan_from_lock(
            lock, framework, allow_insecure=allow_insecure, allow_paths=bool(wheelhouse)
        )
    elif framework is None:
        raise UsageError(
            "install needs a framework name (or --lock FILE)", "e.g. `fwsetup install pytorch --cpu`"
        )
    else:
        from fwsetup.errors import Refusal
        from fwsetup.plan import planning
        from fwsetup.plan.model import Request

        report = planning.machine_report(system_report)
        request = Request(
            framework=framework,
            accelerator=planning.accelerator_flag(gpu, cpu),
            version=version,
            python=python,
            backend=backend,
            variant=variant,
            gpu_indices=planning.parse_gpus(gpus),
            local_wheels=planning.local_wheels(
                [w for w in wheelhouse if not isinstance(w, str)], use_pip_config=system_report is None
            ),
        )
        planned = planning.make_plan(framework, report, request, check_index=not offline, index_url=index_url)
        if isinstance(planned, Refusal):
            raise planned
        outcome, recipe_name, locked = planned, planned.framework, ()
    if dry_run:
        if json_output:
            render.dump_json(outcome.to_dict())
        else:
            sys.stdout.write(render.plan_text(outcome, render.use_color(sys.stdout)))
        return
    from fwsetup.install.execute import InstallOptions, execute
    from fwsetup.plan import recipes

    if installer not in ("auto", "uv", "pip"):
        raise UsageError(f"--installer {installer!r} is not one of auto, uv, pip", "pass --installer auto")
    options = InstallOptions(
        env_path=env,
        index_url=index_url,
        wheelhouses=tuple(wheelhouse),
        offline=offline,
        system_packages=system_packages,
        assume_yes=yes,
        quiet=quiet or json_output,
        installer=installer,
        timeout=timeout,
        gpu_smoke=outcome.accelerator in ("cuda", "rocm", "mps"),
        locked_requirements=locked,
        log_file=log_file,
    )
    from fwsetup.install.execute import target_path

    if lock is not None:  # an environment already holding this lock target: prove it, change nothing
        from fwsetup.fleet import current

        env_dir = target_path(outcome, options)
        same = current.matching_generation(env_dir, outcome, locked)
        if same is not None:
            kept = current.reprove(
                env_dir,
                same,
                gpu=options.gpu_smoke,
                timeout=timeout,
                display_name=recipes.find(recipe_name).display_name,
            )
            if json_output:
                render.dump_json(kept)
            else:
                sys.stdout.write(f"{env_dir} already holds {lock}: unchanged, smoke test passed\n")
            return
    from fwsetup.install.guards import preflight

    preflight(outcome, target_path(outcome, options), log_file)  # nothing is created when it refuses
    result = execute(outcome, recipes.find(recipe_name), options)
    if json_output:
        render.dump_json(result.to_dict())
    else:
        sys.stdout.write(render.install_text(result, render.use_color(sys.stdout)))


@command(
    "lock",
    "Resolve a plan to exact versions and hashes, for this machine or a set of machine reports.",
    Argument("framework", "The framework to lock."),
    Option(("--gpu",), "gpu", "GPU builds; refuse machines without a usable GPU."),
    Option(("--cpu",), "cpu", "CPU-only builds."),
    Option(("--version",), "version", "Framework version or prefix.", kind="text"),
    Option(("--python",), "python", "Python X.Y.", kind="text", envvar="FWSETUP_PYTHON"),
    Option(("--backend",), "backend", "Keras backend.", kind="text"),
    Option(
        ("--system",),
        "system_reports",
        "A `doctor --json` report per machine kind (repeat; the variable takes a path list); "
        "default: this machine.",
        kind="paths",
        envvar="FWSETUP_SYSTEM",
    ),
    Option(
        ("--output", "-o"),
        "output",
        "Where to write the lock.",
        kind="path",
        default="fwsetup.lock",
        envvar="FWSETUP_LOCK_OUTPUT",
    ),
    Option(
        ("--timeout",),
        "timeout",
        "Seconds each resolution may take.",
        kind="float",
        default=900.0,
        min=1.0,
        envvar="FWSETUP_TIMEOUT",
    ),
    JSON,
)
def lock_command(
    framework: str,
    gpu: bool,
    cpu: bool,
    version: Optional[str],
    python: Optional[str],
    backend: Optional[str],
    system_reports: list[Path],
    output: Path,
    timeout: float,
    json_output: bool,
) -> None:
    from fwsetup.cli import render
    from fwsetup.errors import Refusal
    from fwsetup.fleet import lockfile
    from fwsetup.plan import planning, recipes
    from fwsetup.plan.model import Request
    from fwsetup.plan.requested import check_python, check_version

    version, python = check_version(version), check_python(python)
    recipe = recipes.find(framework)
    sources: list[tuple[str, Optional[Path]]] = [(p.stem, p) for p in system_reports] or [
        ("this-machine", None)
    ]
    targets = []
    for name, path in sources:
        report = planning.machine_report(path)
        request = Request(
            recipe.name,
            accelerator=planning.accelerator_flag(gpu, cpu),
            version=version,
            python=python,
            backend=backend,
            local_wheels=planning.local_wheels([], use_pip_config=path is None),
        )
        outcome = planning.make_plan(recipe.name, report, request)
        if isinstance(outcome, Refusal):
            outcome.message = f"{name}: {outcome.message}"
            raise outcome
        if not json_output:
            sys.stderr.write(
                render.terminal(
                    f"locking {name}: {outcome.framework} {outcome.version} {outcome.variant}, Python {outcome.python}\n"
                )
            )
        targets.append(lockfile.resolve(outcome, report, name, timeout=timeout))
    write_output(output, lockfile.dumps(recipe.name, targets), "the lock")
    summary = {
        "lock": str(output),
        "targets": [
            {
                "name": t.name,
                "version": t.version,
                "variant": t.variant,
                "python": t.python,
                "platform": t.platform,
                "packages": len(t.requirements),
            }
            for t in targets
        ],
    }
    if json_output:
        render.dump_json(summary)
    else:
        for t in targets:
            sys.stdout.write(render.terminal(f"{t.describe()} — {len(t.requirements)} packages\n"))
        sys.stdout.write(render.terminal(f"wrote {output}\n"))


@command(
    "bundle",
    "Download everything a lock needs once; then `install --lock … --wheelhouse DIR --offline`.",
    Option(("--lock",), "lock", "The fwsetup.lock whose files to download.", kind="path", required=True),
    Option(
        ("--output", "-o"),
        "output",
        "Wheelhouse directory to fill.",
        kind="path",
        required=True,
        envvar="FWSETUP_WHEELHOUSE",
    ),
    Option(("--target",), "target", "Only this target of the lock.", kind="text"),
    Option(
        ("--timeout",),
        "timeout",
        "Seconds each target's download may take.",
        kind="float",
        default=3600.0,
        min=1.0,
        envvar="FWSETUP_TIMEOUT",
    ),
    ALLOW_INSECURE,
    JSON,
)
def bundle(
    lock: Path, output: Path, target: Optional[str], timeout: float, allow_insecure: bool, json_output: bool
) -> None:
    from fwsetup.cli import render
    from fwsetup.fleet import bundle as bundling
    from fwsetup.fleet import lockfile

    _, targets = lockfile.load(lock)
    for t in targets:  # downloads only from the sources a lock may name
        lockfile.check_form(t, allow_insecure=allow_insecure, allow_paths=True)
    chosen = [t for t in targets if target is None or t.name == target]
    if not chosen:
        raise UsageError(f"no target {target!r} in {lock}", "targets: " + ", ".join(t.name for t in targets))
    files: dict[str, list[str]] = {}
    for t in chosen:
        if not json_output:
            sys.stderr.write(render.terminal(f"downloading {t.describe()}\n"))
        files[t.name] = bundling.download(t, output, timeout=timeout)
    if not json_output:
        sys.stderr.write("adding fwsetup itself and its dependencies\n")
    itself = bundling.add_fwsetup(chosen, output, timeout=timeout)
    bundling.write_index(output)  # served by any static server, listings or not
    if json_output:
        render.dump_json({"wheelhouse": str(output), "downloaded": files, "fwsetup": itself})
    else:
        total = sum(len(v) for v in files.values()) + len(itself)
        sys.stdout.write(
            render.terminal(
                f"{total} files in {output}; install with: fwsetup install --lock {lock} --wheelhouse {output} --offline\n"
            )
        )


@command(
    "export",
    "A provisioning script or fleet-engine job that installs fwsetup and the lock from the bundle and smoke-tests it.",
    Option(("--lock",), "lock", "The lock to reproduce.", kind="path", default="fwsetup.lock"),
    Option(
        ("--format",),
        "fmt",
        "shell, dockerfile, cloud-init, github-actions, ansible, kubernetes or slurm.",
        kind="text",
        default="shell",
    ),
    Option(
        ("--wheelhouse",),
        "wheelhouse",
        "The bundle (`fwsetup bundle`) the machines install from: a path or an http(s) URL.",
        kind="text",
        default="wheelhouse",
    ),
    Option(
        ("--fwsetup-spec",),
        "fwsetup_spec",
        "The requirement pip installs fwsetup by, from the bundle only.",
        kind="text",
        default=f"fwsetup=={__version__}",
    ),
    Option(
        ("--output", "-o"),
        "output",
        "Write here instead of stdout (ansible: the lock is copied beside it; slurm: a directory).",
        kind="path",
    ),
    JSON,
)
def export(
    lock: Path, fmt: str, wheelhouse: str, fwsetup_spec: str, output: Optional[Path], json_output: bool
) -> None:
    from fwsetup.cli import render
    from fwsetup.fleet import engines, lockfile
    from fwsetup.fleet import export as exporting

    if fmt not in exporting.FORMATS:
        raise UsageError(
            f"--format {fmt!r} is not one of {', '.join(exporting.FORMATS)}", "pick one of those"
        )
    exporting.check_spec(fwsetup_spec)
    if fmt == "kubernetes" and not wheelhouse.startswith(("http://", "https://")):
        raise UsageError(
            "--format kubernetes needs the bundle's URL: pods fetch it", "pass --wheelhouse http(s)://…"
        )
    _, targets = lockfile.load(lock)  # refuse to export a broken lock, or one that could run code
    for t in targets:
        lockfile.check_form(t)  # the recipe checks are made where it is installed
    if output is not None and fmt in engines.ENGINES:
        written = [str(path) for path in engines.write(fmt, lock, output, fwsetup_spec, wheelhouse)]
        if json_output:
            render.dump_json({"format": fmt, "output": written})
        else:
            sys.stderr.write("".join(f"wrote {path}\n" for path in written))
        return
    text = exporting.render(fmt, lock.read_text(encoding="utf-8"), fwsetup_spec, wheelhouse)
    if output is None:
        if json_output:
            render.dump_json({"format": fmt, "script": text})
        else:
            sys.stdout.write(text)
        return
    write_output(output, text, "the export", mode=0o755 if fmt == "shell" else None)
    if json_output:
        render.dump_json({"format": fmt, "output": str(output)})


def write_output(path: Path, text: str, what: str, mode: Optional[int] = None) -> None:
    """Write a file the user named (-o): a directory, a read-only mount or a full disk is exit 2."""
    try:
        path.write_text(text, encoding="utf-8")
        if mode is not None:
            path.chmod(mode)
    except OSError as exc:
        raise UsageError(
            f"cannot write {what} to {path}: {exc.strerror or exc}", "pass a writable file path with -o"
        ) from None


@command(
    "fleet",
    "Fleet views: `fleet report REPORT.json…` is one table from `doctor --json` reports of many machines.",
    Argument("action", "report"),
    Argument("reports", "`doctor --json` reports, one per machine (named by file name).", many=True),
    Option(
        ("--frameworks",),
        "frameworks",
        "Comma-separated frameworks to show.",
        kind="text",
        default="pytorch,tensorflow,jax",
    ),
    JSON,
)
def fleet(action: str, reports: list[str], frameworks: str, json_output: bool) -> None:
    from pathlib import Path

    from fwsetup.cli import render
    from fwsetup.fleet import report

    if action != "report":
        raise UsageError(f"no fleet action {action!r}", "use `fwsetup fleet report REPORT.json…`")
    table = report.build([Path(p) for p in reports], tuple(f.strip() for f in frameworks.split(",") if f.strip()))
    if json_output:
        render.dump_json(table)
    else:
        sys.stdout.write(report.text(table, render.use_color(sys.stdout)))


@command(
    "smoke",
    "Prove an environment works: a real computation checked against known answers.",
    Argument("framework", "The framework whose environment to test."),
    Option(
        ("--env",),
        "env",
        "Environment path (default: the framework's one).",
        kind="path",
        envvar="FWSETUP_ENV",
    ),
    Option(("--gpu",), "gpu", "Fail (exit 5) unless the work ran on a GPU."),
    Option(("--timeout",), "timeout", "Seconds the smoke test may take.", kind="float", default=600.0, min=1.0),
    JSON,
)
def smoke(framework: str, env: Optional[Path], gpu: bool, timeout: float, json_output: bool) -> Optional[int]:
    from fwsetup.cli import render
    from fwsetup.install.smoke import run_in_env, verdict
    from fwsetup.plan import recipes

    recipe = recipes.find(framework)
    result, env_dir = run_in_env(recipe, env, gpu=gpu, timeout=timeout)
    payload = {"framework": recipe.name, "env": str(env_dir), **result.to_dict()}
    if not json_output:
        sys.stdout.write(render.smoke_text(payload, render.use_color(sys.stdout)))
        verdict(result, gpu, recipe.display_name)
        return None
    try:
        verdict(result, gpu, recipe.display_name)
    except FwsetupError as exc:  # one document: the error, with the result it judged
        render.dump_json({"error": exc.to_dict(), "smoke": payload})
        return int(exc.exit_code)
    render.dump_json(payload)
    return None


@command(
    "rollback",
    "Return an environment to the generation before the last install.",
    Argument("env", "The environment path to return to its previous generation."),
    JSON,
)
def rollback(env: str, json_output: bool) -> None:
    from pathlib import Path

    from fwsetup.cli import render
    from fwsetup.install import envs

    layout = envs.EnvLayout(Path(os.path.abspath(env)))
    if layout.current() is None:  # refuse before taking the lock: nothing is created beside a wrong path
        raise UsageError(f"{layout.path} is not an fwsetup environment", "pass the --env path used at install")
    with envs.locked(layout):
        gen = envs.rollback(layout)
    if json_output:
        render.dump_json({"env": str(layout.path), "generation": str(gen)})
    else:
        sys.stdout.write(render.terminal(f"{layout.path} now points to {gen}\n"))


# --- dispatch ------------------------------------------------------------------------------


def run(argv: Sequence[str], environ: Optional[Mapping[str, str]] = None) -> int:
    """Run one command line and return its exit code: what `main` does, callable in-process."""
    environ = os.environ if environ is None else environ
    args = list(argv)
    if not args or args[0] in HELP_FLAGS:
        sys.stdout.write(root_help(PROG, SUMMARY, list(COMMANDS.values())))
        return int(ExitCode.OK)
    if args[0] == "--version":
        from fwsetup.facts import dates

        sys.stdout.write(f"{PROG} {__version__}\ndata checked on: {dates.summary(dates.all_checked())}\n")
        return int(ExitCode.OK)
    wants_json = environ.get("FWSETUP_JSON", "").strip().lower() in TRUE
    cmd = COMMANDS.get(args[0])
    if cmd is None:
        what = "option" if args[0].startswith("-") else "command"
        return _usage_error(ParseError(f"No such {what}: {args[0]}"), wants_json or "--json" in args)
    rest = args[1:]
    before_separator = rest[: rest.index("--")] if "--" in rest else rest
    if any(a in HELP_FLAGS for a in before_separator):
        sys.stdout.write(command_help(PROG, cmd))
        return int(ExitCode.OK)
    json_output = cmd.json_output and ("--json" in before_separator or wants_json)
    try:
        values = parse(cmd, rest, environ)
    except ParseError as exc:
        exc.command = cmd
        return _usage_error(exc, json_output)
    return _call(cmd, values, bool(values.get("json_output", False)))


def _usage_error(exc: ParseError, json_output: bool) -> int:
    name = f" {exc.command.name}" if exc.command else ""
    if json_output:
        emit_error(UsageError(exc.message, f"see `{PROG}{name} --help`"), True)
    else:
        from fwsetup.cli.render import terminal

        sys.stderr.write(
            f"{usage(PROG, exc.command)}\nTry '{PROG}{name} --help' for help.\n\nError: {terminal(exc.message)}\n"
        )
    return int(ExitCode.USAGE)


def _call(cmd: Command, values: dict[str, Any], json_output: bool) -> int:
    """Every failure becomes one message and its documented exit code, never a traceback."""
    try:
        return int(cmd.run(**values) or 0)
    except FwsetupError as exc:
        if debug_enabled():
            import traceback

            traceback.print_exc()
        emit_error(exc, json_output)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        emit_error(FwsetupError("interrupted", None, code="interrupted"), json_output)
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:
        return report_internal_error(exc, json_output)


def main(argv: Optional[Sequence[str]] = None) -> None:
    try:
        code = run(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:  # while parsing or importing, outside any command
        code = int(ExitCode.INTERRUPTED)
    sys.exit(code)
