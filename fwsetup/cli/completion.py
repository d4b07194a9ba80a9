"""`fwsetup completion bash|zsh|fish`: a completion script written from the grammar itself.

Each script is generated from the commands' declarations (cli/spec.py), so a new option is
completed the day it is declared: commands, their options (`--no-X` included; old aliases left
out), the fixed choices of an option or argument, paths where a path is taken, and the framework
names of the recipes for a FRAMEWORK argument. The names are read when the script is written, not
at each <TAB>: a script saved to the shell's completion folder costs the shell nothing to load.
Loaded only by this command, never on `doctor`'s path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Optional

from fwsetup.cli.spec import HELP_FLAGS, Argument, Command, Option
from fwsetup.errors import FwsetupError, UsageError
from fwsetup.progress import Progress
from fwsetup.records import dataclass

SHELLS = ("bash", "zsh", "fish")
# What a positional argument takes, by its dest: a framework name, a path or a command line.
# Every argument of the grammar has choices or an entry here (a test keeps it so).
ARGUMENT_KINDS = {"framework": "framework", "env": "path", "reports": "path", "argv": "command"}
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*\Z")  # what may go into a script unquoted
_NOT_PLAIN = re.compile(r"[^A-Za-z0-9 ,.:;()/+=_<>@#%&*?!~-]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(])")
HELP_TEXT = "Show this message and exit."


@dataclass(frozen=True)
class Options:
    shell: str  # one of SHELLS


@dataclass(frozen=True)
class CompletionScript:
    shell: str
    script: str

    def to_dict(self) -> dict[str, Any]:
        return {"shell": self.shell, "script": self.script}


def execute(options: Options, progress: Optional[Progress] = None) -> CompletionScript:
    """`fwsetup completion SHELL`, in the commands' shape (cli/app.py runs it like any other), kept
    in cli/ because it is written from the command table itself."""
    from fwsetup.cli.app import COMMANDS, PROG

    return CompletionScript(options.shell, script(options.shell, PROG, list(COMMANDS.values())))


def script(shell: str, prog: str, commands: Sequence[Command]) -> str:
    """The completion script for `shell` (one of SHELLS)."""
    writers = {"bash": bash, "zsh": zsh, "fish": fish}
    if shell not in writers:
        raise UsageError(f"no completion for shell {shell!r}", f"pass one of {', '.join(SHELLS)}")
    return writers[shell](prog, commands, framework_names())


def framework_names() -> list[str]:
    """The recipes' names; none when the recipes cannot be read (the script still completes the
    rest, and `fwsetup list` says what is wrong with them)."""
    from fwsetup.plan import recipes

    try:
        return [name for name in sorted(recipes.load_all()) if _WORD.match(name)]
    except FwsetupError:
        return []


def plain(text: str, limit: int = 70) -> str:
    """A help text as a one-line description that every shell takes inside single quotes."""
    first = _SENTENCE_END.split(text)[0].rstrip(".").replace("\u2026", "...")
    cleaned = " ".join(_NOT_PLAIN.sub("", first.replace("[", "(").replace("]", ")")).split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3].rstrip() + "..."


def argument_kind(argument: Argument) -> str:
    """choices, framework, path, command or text (nothing to offer)."""
    return "choices" if argument.choices else ARGUMENT_KINDS.get(argument.dest, "text")


def value_kind(opt: Option) -> str:
    """What an option's value is: choices, path, text, or flag (no value)."""
    if opt.choices:
        return "choices"
    return "path" if opt.kind in ("path", "paths", "locations") else "flag" if opt.kind == "flag" else "text"


def spellings(opt: Option) -> list[str]:
    """The flags a user is offered: its names and `--no-X`; aliases are accepted but not offered."""
    return [*opt.flags, *([opt.negation] if opt.negation else [])]


def _words(words: Sequence[str]) -> str:
    return " ".join(w for w in words if _WORD.match(w.lstrip("-")))


# How each shell offers each kind of value; {words}: the choices, or the framework names.
OFFERS = {
    "bash": {
        "choices": 'COMPREPLY=($(compgen -W "{words}" -- "$cur"))',
        "framework": 'COMPREPLY=($(compgen -W "{words}" -- "$cur"))',
        "path": '_{fn}_files "$cur"',
        "command": 'COMPREPLY=($(compgen -c -- "$cur"))',
        "text": ":",
    },
    "zsh": {
        "choices": "({words})",
        "framework": "({words})",
        "path": "_files",
        "command": "_normal",
        "text": " ",
    },
    "fish": {
        "choices": "-x -a '{words}'",
        "framework": "-x -a '{words}'",
        "path": "-r -F",
        "command": "-x -a '(__fish_complete_command)'",
        "text": "-x",
    },
}


def offer(shell: str, kind: str, choices: Sequence[str] = (), frameworks: Sequence[str] = ()) -> str:
    """The shell's words for completing a value of this kind (see OFFERS)."""
    return OFFERS[shell][kind].replace("{words}", _words(frameworks if kind == "framework" else choices))


# --- bash ------------------------------------------------------------------------------------

_BASH = """\
# bash completion for {prog}, written by `{prog} completion bash` from {prog}'s grammar.
_{fn}_files() {{
    local IFS=$'\\n'
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$1"))
}}

_{fn}() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}} cmd=${{COMP_WORDS[1]}}
    local word valued="" options="" i n=0 skip=0 dashes=0
    COMPREPLY=()
    [[ $cur == = ]] && cur=""
    [[ $prev == = ]] && prev=${{COMP_WORDS[COMP_CWORD-2]}}
    if ((COMP_CWORD == 1)); then
        COMPREPLY=($(compgen -W "{commands}" -- "$cur"))
        return 0
    fi
    case $cmd in
{tables}
        *) return 0 ;;
    esac
    if [[ " $valued " == *" $prev "* ]]; then
        case "$cmd $prev" in
{values}
        esac
        return 0
    fi
    for ((i = 2; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        if [[ $word == = ]]; then skip=1
        elif ((skip)); then skip=0
        elif ((dashes)) || [[ $word != -* ]]; then n=$((n + 1))
        elif [[ $word == -- ]]; then dashes=1
        elif [[ " $valued " == *" $word "* ]]; then skip=1
        fi
    done
    if ((!dashes)) && [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$options" -- "$cur"))
        return 0
    fi
    case "$cmd $n" in
{positionals}
    esac
    return 0
}}

complete -F _{fn} {prog}
"""


def bash(prog: str, commands: Sequence[Command], frameworks: Sequence[str]) -> str:
    tables, values, positionals = [], [], []
    for cmd in commands:
        opts = cmd.options()
        valued = [f for o in opts if o.kind != "flag" for f in (*o.flags, *o.aliases)]
        offered = [f for o in opts for f in spellings(o)] + list(HELP_FLAGS)
        tables.append(f'        {cmd.name}) valued="{_words(valued)}" options="{_words(offered)}" ;;')
        for opt in opts:
            if value_kind(opt) in ("choices", "path"):  # free text: nothing to offer
                arms = "|".join(f'"{cmd.name} {f}"' for f in (*opt.flags, *opt.aliases))
                values.append(f"            {arms}) {offer('bash', value_kind(opt), opt.choices)} ;;")
        for i, arg in enumerate(cmd.arguments()):
            kind = argument_kind(arg)
            this = offer("bash", kind, arg.choices, frameworks)
            positionals.append(f'        "{cmd.name} {i}") {this} ;;')
            if arg.many or kind == "command":  # every word after it: more of the same, or the command's files
                rest = this if arg.many else offer("bash", "path")
                positionals.append(f'        "{cmd.name} "*) {rest} ;;')
    fn = prog.replace("-", "_")
    top = [c.name for c in commands] + [*HELP_FLAGS, "--version"]
    return _BASH.format(
        prog=prog,
        fn=fn,
        commands=_words(top),
        tables="\n".join(tables),
        values="\n".join(values).replace("{fn}", fn),
        positionals="\n".join(positionals).replace("{fn}", fn),
    )


# --- zsh -------------------------------------------------------------------------------------

_ZSH = """\
#compdef {prog}
# zsh completion for {prog}, written by `{prog} completion zsh` from {prog}'s grammar.

_{fn}() {{
    local curcontext="$curcontext" state line
    typeset -A opt_args
    _arguments -C \\
        '(- *)'{{-h,--help}}'[{help}]' \\
        '(- *)--version[Show the version and exit]' \\
        '1:command:->command' \\
        '*::argument:->argument'
    case $state in
    command)
        local -a commands
        commands=(
{commands}
        )
        _describe -t commands '{prog} command' commands
        ;;
    argument)
        case $words[1] in
{arms}
        esac
        ;;
    esac
}}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _{fn} "$@"
else
    compdef _{fn} {prog}
fi
"""


def _zsh_option(opt: Option) -> list[str]:
    """`'(--yes -y)'{--yes,-y}'[help]'`: one _arguments spec (two with `--no-X`)."""
    names = [f for f in opt.flags if _WORD.match(f.lstrip("-"))]
    if opt.kind in ("paths", "locations"):
        prefix = "*"  # may be repeated
    else:
        prefix = "(" + " ".join(names) + ")" if len(names) > 1 else ""
    if opt.kind == "flag":
        suffix = f"[{plain(opt.help)}]"
    else:
        label = opt.metavar.lower() or "value"
        suffix = f"=[{plain(opt.help)}]:{label}:{offer('zsh', value_kind(opt), opt.choices)}"
    said = names[0] if len(names) == 1 else "'{" + ",".join(names) + "}'"
    lines = [f"'{prefix}{said}{suffix}'"]
    if opt.negation:
        lines.append(f"'{opt.negation}[Turn off {opt.flags[0]}, whatever {opt.envvar} says]'")
    return lines


def zsh(prog: str, commands: Sequence[Command], frameworks: Sequence[str]) -> str:
    described = [f"            '{c.name}:{plain(c.help)}'" for c in commands]
    arms = []
    for cmd in commands:
        specs = [line for opt in cmd.options() for line in _zsh_option(opt)]
        specs.append(f"'(- *)'{{-h,--help}}'[{HELP_TEXT}]'")
        for i, arg in enumerate(cmd.arguments(), start=1):
            kind = argument_kind(arg)
            action = offer("zsh", kind, arg.choices, frameworks)
            if kind == "command":
                specs.append(f"'*::{arg.dest}:{action}'")
            else:
                specs.append(f"'{'*' if arg.many else i}:{arg.dest}:{action}'")
        body = " \\\n                ".join(specs)
        arms.append(f"        {cmd.name})\n            _arguments \\\n                {body}\n            ;;")
    return _ZSH.format(
        prog=prog,
        fn=prog.replace("-", "_"),
        help=HELP_TEXT,
        commands="\n".join(described),
        arms="\n".join(arms),
    )


# --- fish ------------------------------------------------------------------------------------


def _fish_flags(opt: Option) -> str:
    parts = [f"-s {f[1:]}" if len(f) == 2 else f"-l {f[2:]}" for f in opt.flags if _WORD.match(f.lstrip("-"))]
    return " ".join(parts)


def fish(prog: str, commands: Sequence[Command], frameworks: Sequence[str]) -> str:
    head = f"complete -c {prog}"
    lines = [
        f"# fish completion for {prog}, written by `{prog} completion fish` from {prog}'s grammar.",
        f"{head} -f",
        f"{head} -n __fish_use_subcommand -s h -l help -d '{HELP_TEXT}'",
        f"{head} -n __fish_use_subcommand -l version -d 'Show the version and exit.'",
    ]
    lines += [f"{head} -n __fish_use_subcommand -a {c.name} -d '{plain(c.help)}'" for c in commands]
    for cmd in commands:
        seen = f"{head} -n '__fish_seen_subcommand_from {cmd.name}'"
        lines.append(f"{seen} -s h -l help -d '{HELP_TEXT}'")
        for opt in cmd.options():
            value = "" if opt.kind == "flag" else " " + offer("fish", value_kind(opt), opt.choices)
            lines.append(f"{seen} {_fish_flags(opt)}{value} -d '{plain(opt.help)}'")
            if opt.negation:
                lines.append(
                    f"{seen} -l {opt.negation[2:]} -d 'Turn off {opt.flags[0]}, whatever {opt.envvar} says'"
                )
        for arg in cmd.arguments():
            kind = argument_kind(arg)
            if kind != "text":
                lines.append(f"{seen} {offer('fish', kind, arg.choices, frameworks)} -d '{plain(arg.help)}'")
    return "\n".join(lines) + "\n"
