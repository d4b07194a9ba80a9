"""The `fwsetup` command line: the command table and the dispatch. Each command's options are declared
once below (cli/spec.py parses them); MODULES names its module in fwsetup/commands/, imported only
when it runs: the one place start-up laziness lives. Commands never print or prompt: cli/ask.py
asks their questions first, and cli/render.py shows their results as text or JSON."""

from __future__ import annotations

import os
import sys

from fwsetup import __version__
from fwsetup.cli.errors import debug_traceback, emit_error, report_internal_error, usage_error
from fwsetup.cli.spec import (
    HELP_FLAGS,
    Argument,
    Command,
    Option,
    ParseError,
    command_help,
    json_requested,
    parse,
    root_help,
    unknown_word,
)
from fwsetup.errors import ExitCode, FwsetupError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import ModuleType
    from typing import Any, Optional, Union

    Param = Union[Option, Argument]

PROG = "fwsetup"
SUMMARY = (
    "Make this machine ready for machine learning: detect, choose the right build, "
    "install it in an isolated environment, prove it works."
)
COMMANDS: dict[str, Command] = {}
PASSTHROUGH = ("run",)  # commands whose arguments after `--` are a command line to run
# The command table's lazy half: the module of fwsetup/commands/ that runs each command.
MODULES = {
    "doctor": "fwsetup.commands.doctor", "list": "fwsetup.commands.list",
    "install": "fwsetup.commands.install", "lock": "fwsetup.commands.lock",
    "bundle": "fwsetup.commands.bundle", "export": "fwsetup.commands.export",
    "fleet": "fwsetup.commands.fleet", "smoke": "fwsetup.commands.smoke",
    "rollback": "fwsetup.commands.rollback", "envs": "fwsetup.commands.envs",
    "remove": "fwsetup.commands.remove", "run": "fwsetup.commands.run",
    "completion": "fwsetup.cli.completion",  # the grammar's own: its script is written from COMMANDS
}  # fmt: skip


def json_flag(help: str = "Print exactly one JSON document on stdout.") -> Option:
    """`--json`, which FWSETUP_JSON also turns on; every command's, `run`'s with its own help."""
    return Option(("--json",), "json_output", help, envvar="FWSETUP_JSON")


JSON = json_flag()
SYSTEM = Option(
    ("--system",),
    "system_report",
    "Plan for the machine that wrote this `doctor --json` report.",
    kind="path",
    envvar="FWSETUP_SYSTEM",
)
PYTHON = Option(
    ("--python",), "python", "Python X.Y for the environment.", kind="text", envvar="FWSETUP_PYTHON",
    env_yields_to=("lock",),  # install --lock: the lock's target names its Python
)  # fmt: skip
GPU = Option(("--gpu",), "gpu", "A GPU build; refuse if no usable GPU.")
CPU = Option(("--cpu",), "cpu", "A CPU-only build: never pulls CUDA packages.")
ALLOW_INSECURE = Option(
    ("--allow-insecure",), "allow_insecure", "Let a lock name http:// package sources (default: https only)."
)
BACKEND = Option(("--backend",), "backend", "Keras backend: tensorflow, jax or torch.", kind="text")
VERSION = Option(("--version",), "version", "Framework version or prefix (2.7, 2.7.1).", kind="text")
VARIANT = Option(("--variant",), "variant", "Force a variant by name (cu126, cpu, pieces, …).", kind="text")
GPUS = Option(("--gpus",), "gpus", "Serve only these GPU indices, e.g. 0,1.", kind="text")
HSA_OVERRIDE = Option(
    ("--hsa-override",),
    "hsa_override",
    "AMD: serve a GPU no ROCm build lists through the community-documented HSA_OVERRIDE_GFX_VERSION "
    "(set in the environment; not supported by AMD).",
)
WITH = Option(("--with",), "with_packages", "Also install these in the same resolution: companions (torchvision: made for "
              "this build, from its index) or any package; `none`: no default companions.", kind="text")  # fmt: skip
WITHOUT = Option(("--without",), "without", "Skip these default companions, e.g. torchvision.", kind="text")
EXPORT_FORMATS = (  # fleet/formats.py's ALL_FORMATS, spelled out so that parsing imports no fleet code
    "shell", "dockerfile", "cloud-init", "github-actions", "ansible", "kubernetes", "slurm", "requirements", "pylock"
)  # fmt: skip
# The plan options `install` and `lock` share: one `Choice`, one `Request` (fwsetup/commands/plans.py).
PLAN = (GPU, CPU, VERSION, PYTHON, BACKEND, VARIANT, GPUS, HSA_OVERRIDE, WITH, WITHOUT)


def timeout(
    what: str,
    default: float,
    envvar: Optional[str] = "FWSETUP_TIMEOUT",
    least: float = 1.0,
    most: Optional[float] = None,
) -> Option:
    """`--timeout SECONDS`, every command's one spelling: how long WHAT may take."""
    help = f"Seconds {what} may take."
    return Option(
        ("--timeout",), "timeout", help, kind="float", default=default, envvar=envvar, min=least, max=most
    )


def output(help: str, **more: Any) -> Option:
    """`--output/-o PATH`: where a command writes what it makes."""
    return Option(("--output", "-o"), "output", help, kind="path", **more)


def command(name: str, help: str, *params: Param) -> None:
    """Declare `fwsetup NAME`: its options (parsed by cli/spec.py) go to MODULES[name]."""
    COMMANDS[name] = Command(name, help, params, lambda **values: _execute(name, values))


command(
    "doctor",
    "Report what this machine is and what is wrong with it for ML work.",
    JSON,
    Option(("--strict",), "strict", "Exit 1 when any finding is an error (for CI).", envvar="FWSETUP_STRICT"),
    timeout("each probe", 5.0, "FWSETUP_PROBE_TIMEOUT", least=0.1, most=120.0),
    Option(
        ("--python",),
        "python",
        "Read the frameworks of this interpreter or environment (default: the active VIRTUAL_ENV "
        "or CONDA_PREFIX, else the python on PATH).",
        kind="path",
    ),
)


command("list", "Frameworks fwsetup knows, their variants, and what this machine would get.", JSON, SYSTEM)


command(
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
    *PLAN,
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
        ("--replace",),
        "replace",
        "The env holds another framework: a fresh generation with only this one (rollback keeps the old).",
    ),
    Option(
        ("--add",),
        "add",
        "The env holds another framework: keep it and add this one, resolved and smoke-tested together.",
    ),
    Option(("--force",), "force", "Rebuild even when the env already holds exactly this plan."),
    Option(
        ("--into",),
        "into",
        "Install into this existing virtual environment (recorded first: `fwsetup rollback VENV` undoes it).",
        kind="path",
    ),
    Option(("--protect",), "protect", "--into: pin the build there (a constraints file pip and uv apply); asked in a terminal."),
    Option(
        ("--index-url",),
        "index_url",
        "Package index instead of PyPI.",
        kind="text",
        envvar="FWSETUP_INDEX_URL",
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
        ("--installer",),
        "installer",
        "auto, uv or pip.",
        kind="text",
        default="auto",
        choices=("auto", "uv", "pip"),
        envvar="FWSETUP_INSTALLER",
    ),
    Option(("--quiet", "-q"), "quiet", "No progress output.", envvar="FWSETUP_QUIET"),
    timeout("each install step", 3600.0),
    Option(
        ("--log-file",),
        "log_file",
        "Write the installers' full output here (credentials redacted).",
        kind="path",
        envvar="FWSETUP_LOG_FILE",
    ),
    JSON,
)


command(
    "lock",
    "Resolve a plan to exact versions and hashes, for this machine or a set of machine reports.",
    Argument("framework", "The framework to lock."),
    *PLAN,
    Option(
        ("--wheelhouse", "--find-links"),
        "wheelhouse",
        "Directory of wheels to prefer (repeat; the variable takes a path list).",
        kind="paths",
        envvar="FWSETUP_WHEELHOUSE",
    ),
    Option(
        ("--system",),
        "system_reports",
        "A `doctor --json` report per machine kind (repeat; the variable takes a path list); "
        "default: this machine.",
        kind="paths",
        envvar="FWSETUP_SYSTEM",
    ),
    output("Where to write the lock.", default="fwsetup.lock", envvar="FWSETUP_LOCK_OUTPUT"),
    timeout("each resolution", 900.0),
    JSON,
)


command(
    "bundle",
    "Download everything a lock needs once; then `install --lock … --wheelhouse DIR --offline`.",
    Option(("--lock",), "lock", "The fwsetup.lock whose files to download.", kind="path", required=True),
    output("Wheelhouse directory to fill.", required=True, envvar="FWSETUP_WHEELHOUSE"),
    Option(("--target",), "target", "Only this target of the lock.", kind="text"),
    timeout("each target's download", 3600.0),
    ALLOW_INSECURE,
    JSON,
)


command(
    "export",
    "A provisioning script or fleet-engine job that installs fwsetup and the lock from the bundle and smoke-tests it.",
    Option(("--lock",), "lock", "The lock to reproduce.", kind="path", default="fwsetup.lock"),
    Option(
        ("--format",),
        "fmt",
        "shell, dockerfile, cloud-init, github-actions, ansible, kubernetes, slurm, requirements "
        "(pip install --require-hashes -r) or pylock (PEP 751: uv pip install -r pylock.toml).",
        kind="text",
        default="shell",
        choices=EXPORT_FORMATS,
    ),
    Option(("--target",), "target", "requirements/pylock: the lock's target to write.", kind="text"),
    Option(
        ("--bundle",),
        "wheelhouse",
        "The bundle (`fwsetup bundle`) the machines install from: a path or an http(s) URL.",
        kind="text",
        default="wheelhouse",
        aliases=("--wheelhouse",),  # its old name; elsewhere --wheelhouse is wheels to install from
    ),
    Option(
        ("--fwsetup-spec",),
        "fwsetup_spec",
        "The requirement pip installs fwsetup by, from the bundle only.",
        kind="text",
        default=f"fwsetup=={__version__}",
    ),
    output("Write here instead of stdout (ansible: the lock is copied beside it; slurm: a directory)."),
    JSON,
)


command(
    "fleet",
    "Fleet views: `fleet report REPORT.json…` is one table from `doctor --json` reports of many machines.",
    Argument("action", "report", choices=("report",)),
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


command(
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
    Option(
        ("--python",),
        "python",
        "Test this interpreter (a project's venv, a conda env) instead of an fwsetup environment.",
        kind="path",
    ),
    Option(("--gpu",), "gpu", "Fail (exit 5) unless the work ran on a GPU."),
    timeout("the smoke test", 600.0, envvar=None),
    JSON,
)


command(
    "rollback",
    "Return an environment to the generation before the last install.",
    Argument("env", "The environment path to return to its previous generation."),
    Option(("--to",), "to", "Return to generation N (see `fwsetup envs ENV`).", kind="text"),
    JSON,
)


command(
    "envs",
    "The environments fwsetup made (or one environment's generations), their state and size.",
    Argument("env", "An environment path: list its generations.", required=False),
    Option(("--prune",), "prune", "Remove orphaned stores (left by `rm -rf ENV`) and forget missing envs."),
    Option(("--yes", "-y"), "yes", "Do not ask before --prune deletes."),
    JSON,
)


command(
    "remove",
    "Delete an environment: its link, every generation, its lock and its registry entry.",
    Argument("env", "The environment path."),
    Option(("--yes", "-y"), "yes", "Do not ask."),
    JSON,
)


command(
    "run",
    "Run a command inside an environment, with its settings: `fwsetup run ENV|FRAMEWORK -- CMD …`.",
    Argument("env", "The environment path, or a framework name when one env holds it."),
    Argument("argv", "The command line to run, after `--`.", required=False),
    json_flag("fwsetup's own errors (a bad env, no command) as one JSON document; CMD's output is its own."),
)


command(
    "completion", "Print a shell completion script: `source <(fwsetup completion bash)`; README: where each shell loads it.",
    Argument("shell", "bash, zsh or fish.", choices=("bash", "zsh", "fish")), JSON,
)  # fmt: skip


def _execute(name: str, values: dict[str, Any]) -> int:
    """One command: its options record, the questions (cli/ask.py), its module, its result shown."""
    from fwsetup.cli import ask, render
    from fwsetup.progress import Progress

    module: ModuleType = __import__(MODULES[name], fromlist=["execute"])
    json_output = bool(values.pop("json_output", False))
    progress = Progress(0, quiet=json_output or bool(values.get("quiet")), clean=render.terminal)
    options = _options(module, COMMANDS[name], values)
    if name in ("envs", "remove"):
        options = ask.confirm(module.question(options), options)
    result = ask.install(options, progress) if name == "install" else module.execute(options, progress)
    if name == "run":
        module.launch(result)  # this process becomes the user's command
    render.show(result, json_output)
    failure = getattr(result, "failure", None)  # shown with the result, then exit with its code
    if failure is not None and not json_output:
        raise failure
    return int(failure.exit_code if failure is not None else getattr(result, "exit_code", 0))


def _options(module: ModuleType, cmd: Command, values: dict[str, Any]) -> Any:
    """The parsed values as the command's options record; the shared plan options as one Choice."""
    if all(option in cmd.params for option in PLAN):
        from fwsetup.commands.plans import Choice

        values["choice"] = Choice(**{o.dest: values.pop(o.dest) for o in PLAN})
    return module.Options(**values)


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

        sys.stdout.write(f"{PROG} {__version__}\ndata checked on: {dates.summary(dates.all_checked_days())}\n")
        return int(ExitCode.OK)
    wants_json = json_requested(args, environ)
    cmd = COMMANDS.get(args[0])
    if cmd is None:
        return usage_error(unknown_word(args[0], COMMANDS), PROG, wants_json)
    rest = args[1:]
    before_separator = rest[: rest.index("--")] if "--" in rest else rest
    if any(a in HELP_FLAGS for a in before_separator):
        sys.stdout.write(command_help(PROG, cmd))
        return int(ExitCode.OK)
    json_output = cmd.json_output and wants_json
    trailing: list[str] = []
    if cmd.name in PASSTHROUGH and "--" in rest:  # `run ENV -- CMD …`: CMD is not ours to parse
        trailing, rest = rest[rest.index("--") + 1 :], rest[: rest.index("--")]
    try:
        values = parse(cmd, rest, environ)
    except ParseError as exc:
        exc.command = cmd
        return usage_error(exc, PROG, json_output)
    if cmd.name in PASSTHROUGH:
        values["argv"] = trailing
    return _call(cmd, values, bool(values.get("json_output", False)))


def _call(cmd: Command, values: dict[str, Any], json_output: bool) -> int:
    """Every failure becomes one message and its documented exit code, never a traceback."""
    try:
        return int(cmd.run(**values) or 0)
    except FwsetupError as exc:
        debug_traceback(exc)
        emit_error(exc, json_output)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        emit_error(FwsetupError("interrupted", None, code="interrupted"), json_output)
        return int(ExitCode.INTERRUPTED)
    except OSError as exc:
        import errno

        if exc.errno != errno.ENAMETOOLONG:
            return report_internal_error(exc, json_output)
        # A path given on the command line (or made from one) longer than the file system takes.
        name = str(exc.filename or "")
        shown = name if len(name) <= 80 else f"{name[:80]}… ({len(name)} characters)"
        emit_error(UsageError(f"path too long for the file system: {shown}", "use a shorter path"), json_output)
        return int(ExitCode.USAGE)
    except Exception as exc:
        return report_internal_error(exc, json_output)


def main(argv: Optional[Sequence[str]] = None) -> None:
    try:
        code = run(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:  # while parsing or importing, outside any command
        code = int(ExitCode.INTERRUPTED)
    sys.exit(code)
