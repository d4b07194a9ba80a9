"""The command line's grammar: each command's options declared once, parsed and documented from here.

Why not typer: typer (with click, rich and, in its newer releases, pydantic) costs more CPU to
import and to parse one command line than every probe of `doctor` together, and its help shows
`<bool>` where a user wants the value's type. This module is the whole interface instead: an
option is declared once (flags, type, default, range, environment variable, help), and the same
declaration parses argv, reads the environment and writes `--help`. It imports nothing heavy, so
`fwsetup doctor` needs no separate fast path.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing, dataclasses and pathlib cost `--help` more than the rest of it
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any, Callable, Optional, Union

    Param = Union["Option", "Argument"]

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
FALSE = frozenset({"0", "false", "f", "no", "n", "off"})
METAVAR = {"text": "TEXT", "path": "PATH", "float": "FLOAT", "paths": "PATH", "locations": "PATH"}
REPEATED = ("paths", "locations")
COMMAND_LINE = "from the command line"  # where a value came from, as errors name it


class ParseError(Exception):
    """A usage error found while parsing: exit 2 with the command's usage line.

    suggestion: the close spelling of a mistyped command, option or choice (`install` for
    `instal`), shown in the text and put first in the JSON envelope's fix."""

    def __init__(self, message: str, command: Optional[Command] = None, suggestion: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.command = command
        self.suggestion = suggestion

    def fix(self, prog: str) -> str:
        """The JSON envelope's fix: the close spelling, then where the help is."""
        name = f" {self.command.name}" if self.command else ""
        see = f"see `{prog}{name} --help`"
        return f"did you mean {self.suggestion}? {see}" if self.suggestion else see

    def text(self, prog: str) -> str:
        """What a terminal is shown: the usage line, where the help is, the error, the close spelling."""
        name = f" {self.command.name}" if self.command else ""
        hint = f"Did you mean {self.suggestion}?\n" if self.suggestion else ""
        return f"{usage(prog, self.command)}\nTry '{prog}{name} --help' for help.\n\nError: {self.message}\n{hint}"


def closest(name: str, known: Iterable[str], renamed: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The one of `known` a typo most likely meant, quoted, or None (difflib, loaded only here: a
    mistyped command line is the one path that pays for it). A close old name (a key of
    `renamed`) is suggested by its current name."""
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"'{(renamed or {}).get(close[0], close[0])}'" if close else None


def unknown(what: str, name: str, known: Iterable[str], command: Optional[Command] = None) -> ParseError:
    """`No such WHAT: NAME`, with the closest of `known` when one is close."""
    renamed = {alias: opt.flags[0] for opt in command.options() for alias in opt.aliases} if command else {}
    return ParseError(f"No such {what}: {name}", command, closest(name, known, renamed))


def unknown_word(word: str, commands: Iterable[str]) -> ParseError:
    """`fwsetup WORD` where WORD is no command (or, with a dash, no option of fwsetup itself)."""
    if word.startswith("-"):
        return unknown("option", word, (*HELP_FLAGS, "--version"))
    return unknown("command", word, commands)


def not_one_of(label: str, raw: str, choices: Sequence[str], note: str = "") -> ParseError:
    """`--format 'dockerfil' is not one of …`, with the close choice when there is one."""
    message = f"{label} {raw!r} is not one of {', '.join(choices)}{note}"
    return ParseError(message, None, closest(raw, choices))


class Option:
    """One `--flag`: kind is flag (no value), text, path, float, paths (repeatable path) or
    locations (repeatable path or URL: a URL stays a string, so `https://u:pw@h` keeps its `//`
    and redaction recognises it; a Path would collapse it to `https:/u:pw@h`).

    env_yields_to: a value that came from `envvar` is dropped when one of these options is set;
    the environment is a default, and the command line's explicit request wins over it.
    aliases: old spellings still accepted, never shown (help and completion show `flags`).
    choices: the only values accepted (a close miss gets a did-you-mean); completion offers them.
    A flag with an `envvar` also gets `--no-X`, so a command line can turn off what the
    environment turned on."""

    def __init__(
        self,
        flags: tuple[str, ...],
        dest: str,
        help: str,
        kind: str = "flag",
        default: Any = None,
        envvar: Optional[str] = None,
        min: Optional[float] = None,
        max: Optional[float] = None,
        required: bool = False,
        env_yields_to: tuple[str, ...] = (),
        aliases: tuple[str, ...] = (),
        choices: tuple[str, ...] = (),
    ):
        self.flags, self.dest, self.help, self.kind = flags, dest, help, kind
        self.default, self.envvar, self.required = default, envvar, required
        self.env_yields_to, self.aliases, self.choices = env_yields_to, aliases, choices
        self.min, self.max = min, max

    def default_value(self) -> Any:
        """The value when neither the command line nor the environment gives one."""
        if self.kind in REPEATED:
            return []
        if self.kind == "flag":
            return False
        if self.kind == "path" and self.default is not None:
            return self.convert(self.default, "default")
        return self.default

    @property
    def metavar(self) -> str:
        return METAVAR.get(self.kind, "")

    @property
    def label(self) -> str:
        return "/".join(self.flags)

    @property
    def negation(self) -> Optional[str]:
        """`--no-json` for `--json` when FWSETUP_JSON can turn it on; None otherwise."""
        return f"--no-{self.flags[0][2:]}" if self.kind == "flag" and self.envvar else None

    def convert(self, raw: str, source: str) -> Any:
        if self.kind == "flag":
            text = raw.strip().lower()
            if text in TRUE or text in FALSE:
                return text in TRUE
            raise ParseError(f"Invalid value for '{self.label}' ({source}): {raw!r} is not a valid boolean.")
        if self.choices and raw not in self.choices:
            note = "" if source == COMMAND_LINE else f" ({source})"
            raise not_one_of(self.flags[0], raw, self.choices, note)
        if self.kind == "locations" and _URL.match(raw):
            return raw
        if self.kind in ("path", "paths", "locations"):
            from pathlib import Path

            return Path(raw)
        if self.kind == "float":
            try:
                value = float(raw)
            except ValueError:
                raise ParseError(
                    f"Invalid value for '{self.label}' ({source}): {raw!r} is not a valid float."
                ) from None
            if value != value or value in (float("inf"), float("-inf")):  # nan passed every range check
                raise ParseError(f"Invalid value for '{self.label}' ({source}): {raw!r} is not a finite number.")
            if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
                raise ParseError(
                    f"Invalid value for '{self.label}' ({source}): {value} is not in the range {self.range_text()}."
                )
            return value
        return raw

    def range_text(self) -> str:
        low = f"{self.min}<=" if self.min is not None else ""
        high = f"<={self.max}" if self.max is not None else ""
        return f"{low}x{high}"


class Argument:
    """A positional value, passed as a string; `many` (the last one): every value left, a list.
    choices: the only values accepted (a close miss gets a did-you-mean); completion offers them."""

    def __init__(
        self, dest: str, help: str, required: bool = True, many: bool = False, choices: tuple[str, ...] = ()
    ):
        self.dest, self.help, self.required, self.many, self.choices = dest, help, required, many, choices

    @property
    def metavar(self) -> str:
        name = self.dest.upper() + ("..." if self.many else "")
        return name if self.required else f"[{name}]"


class Command:
    """A subcommand: its one-line help, its parameters, and the function they are passed to."""

    def __init__(self, name: str, help: str, params: tuple[Param, ...], run: Callable[..., Optional[int]]):
        self.name, self.help, self.params, self.run = name, help, params, run

    def options(self) -> list[Option]:
        return [p for p in self.params if isinstance(p, Option)]

    def arguments(self) -> list[Argument]:
        return [p for p in self.params if isinstance(p, Argument)]

    @property
    def json_output(self) -> bool:
        return any(o.dest == "json_output" for o in self.options())


HELP_FLAGS = ("--help", "-h")


def flag_table(command: Command) -> dict[str, tuple[Option, bool]]:
    """Every spelling the command accepts → its option and the value a flag so spelled sets
    (False for `--no-X`); aliases included."""
    table: dict[str, tuple[Option, bool]] = {}
    for opt in command.options():
        table.update(dict.fromkeys((*opt.flags, *opt.aliases), (opt, True)))
        if opt.negation:
            table[opt.negation] = (opt, False)
    return table


def parse(command: Command, argv: Sequence[str], environ: Mapping[str, str]) -> dict[str, Any]:
    """argv (after the command name) → keyword arguments for `command.run`.

    Precedence: the command line, then the option's environment variable, then its default.
    `-qy` is `-q -y`; in a cluster, an option that takes a value takes the rest (`-qoFILE`) or
    the next word (`-qo FILE`)."""
    table = flag_table(command)
    given: dict[str, Any] = {}
    positional: list[str] = []
    rest = list(argv)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            positional.extend(rest)
            break
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        name, attached = arg, None
        if arg.startswith("--") and "=" in arg:
            name, attached = arg.split("=", 1)
        elif not arg.startswith("--") and len(arg) > 2:
            name, attached = arg[:2], arg[2:]
        if name in HELP_FLAGS:  # only in a cluster: `-h` alone was answered before parsing
            raise ParseError(f"Option '{name}' goes alone, not in a cluster.", command)
        if name not in table:
            raise unknown("option", name, [*table, *HELP_FLAGS], command)
        opt, on = table[name]
        if opt.kind == "flag":
            if attached is not None and (arg.startswith("--") or attached.startswith("=")):
                raise ParseError(f"Option '{name}' does not take a value.", command)
            if attached is not None and attached.startswith("-"):  # `-q-y` read on as `--y`
                parts = " ".join("-" + c for c in arg if c != "-")
                raise ParseError(f"No such option: {arg} ('-' inside a cluster)", command, suggestion=parts)
            if attached is not None:
                rest.insert(0, "-" + attached)  # the rest of a cluster: more short flags
            given[opt.dest] = on
            continue
        if attached is None:
            # `--version --json`: the next word is another option, so this one's value is missing
            # (taking it would also drop --json, and with it the JSON promise).
            if not rest or rest[0] in table or rest[0] in HELP_FLAGS:
                raise ParseError(f"Option '{name}' requires an argument.", command)
            attached = rest.pop(0)
        try:
            value = opt.convert(attached, COMMAND_LINE)
        except ParseError as exc:
            exc.command = command
            raise
        if opt.kind in REPEATED:
            given.setdefault(opt.dest, []).append(value)
        else:
            given[opt.dest] = value
    values = _with_environment(command, given, environ)
    _bind_arguments(command, positional, values)
    return values


def json_requested(args: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Whether a command line asks for JSON before it is parsed (so that its usage errors are
    JSON too): the last of `--json`/`--no-json` before `--` wins, else FWSETUP_JSON."""
    words = args[: args.index("--")] if "--" in args else args
    for word in reversed(words):
        if word in ("--json", "--no-json"):
            return word == "--json"
    return environ.get("FWSETUP_JSON", "").strip().lower() in TRUE


def _with_environment(command: Command, given: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    values = dict(given)
    from_env: list[Option] = []
    for opt in command.options():
        if opt.dest in values:
            continue
        raw = environ.get(opt.envvar, "") if opt.envvar else ""
        if raw:
            source = f"env var: '{opt.envvar}'"
            if opt.kind in REPEATED:
                values[opt.dest] = [opt.convert(p, source) for p in split_list(raw, opt.kind) if p]
            else:
                values[opt.dest] = opt.convert(raw, source)
            from_env.append(opt)
        elif opt.required:
            raise ParseError(f"Missing option '{opt.label}'.", command)
        else:
            values[opt.dest] = opt.default_value()
    for opt in from_env:
        if any(values.get(dest) for dest in opt.env_yields_to):
            values[opt.dest] = opt.default_value()
    return values


def split_list(raw: str, kind: str) -> list[str]:
    """A path list from the environment; a list that holds URLs (`://`) is split on whitespace,
    since a URL's own colons are the path separator."""
    if kind == "locations" and "://" in raw:
        return raw.split()
    return raw.split(os.pathsep)


def _bind_arguments(command: Command, positional: list[str], values: dict[str, Any]) -> None:
    arguments = command.arguments()
    if len(positional) > len(arguments) and not (arguments and arguments[-1].many):
        raise ParseError(f"Got unexpected extra argument ({positional[len(arguments)]})", command)
    for i, argument in enumerate(arguments):
        if argument.many:
            values[argument.dest] = positional[i:]
            if argument.required and not values[argument.dest]:
                raise ParseError(f"Missing argument '{argument.metavar}'.", command)
        elif i < len(positional):
            if argument.choices and positional[i] not in argument.choices:
                raise not_one_of(argument.metavar, positional[i], argument.choices)
            values[argument.dest] = positional[i]
        elif argument.required:
            raise ParseError(f"Missing argument '{argument.metavar}'.", command)
        else:
            values[argument.dest] = None


# --- help ----------------------------------------------------------------------------------

WIDTH = 88


def usage(prog: str, command: Optional[Command]) -> str:
    if command is None:
        return f"Usage: {prog} [OPTIONS] COMMAND [ARGS]..."
    args = " ".join(a.metavar for a in command.arguments())
    return f"Usage: {prog} {command.name} [OPTIONS]{' ' + args if args else ''}"


def _rows(title: str, rows: list[tuple[str, str]]) -> list[str]:
    import textwrap

    if not rows:
        return []
    left = min(max(len(r[0]) for r in rows), 30)
    out = ["", f"{title}:"]
    for head, text in rows:
        body = textwrap.wrap(text, WIDTH - left - 6) or [""]
        if len(head) > left:
            out.append(f"  {head}")
            out.extend(f"  {'':<{left}}  {line}" for line in body)
        else:
            out.append(f"  {head:<{left}}  {body[0]}")
            out.extend(f"  {'':<{left}}  {line}" for line in body[1:])
    return out


def _option_help(opt: Option) -> str:
    notes = []
    if opt.envvar:
        notes.append(f"env var: {opt.envvar}")
    if opt.default not in (None, False, []):
        notes.append(f"default: {opt.default}")
    if opt.min is not None or opt.max is not None:
        notes.append(opt.range_text())
    if opt.required:
        notes.append("required")
    if opt.aliases:
        notes.append(f"also accepted: {', '.join(opt.aliases)}")
    return opt.help + (f" [{'; '.join(notes)}]" if notes else "")


def _paragraph(text: str) -> list[str]:
    import textwrap

    return textwrap.wrap(text, WIDTH, initial_indent="  ", subsequent_indent="  ")


def option_head(opt: Option) -> str:
    """`--output, -o PATH`, `--json / --no-json`: how an option is written, as help shows it."""
    return (
        ", ".join(opt.flags)
        + (f" {opt.metavar}" if opt.metavar else "")
        + (f" / {opt.negation}" if opt.negation else "")
    )


def command_help(prog: str, command: Command) -> str:
    lines = [usage(prog, command), "", *_paragraph(command.help)]
    lines += _rows("Arguments", [(a.metavar, a.help) for a in command.arguments()])
    rows = [(option_head(o), _option_help(o)) for o in command.options()]
    rows.append(("-h, --help", "Show this message and exit."))
    lines += _rows("Options", rows)
    return "\n".join(lines) + "\n"


def root_help(prog: str, summary: str, commands: Sequence[Command]) -> str:
    lines = [usage(prog, None), "", *_paragraph(summary)]
    lines += _rows("Options", [("--version", "Show the version and exit."), ("-h, --help", "Show this message and exit.")])
    lines += _rows("Commands", [(c.name, c.help) for c in commands])
    return "\n".join(lines) + "\n"
