"""An environment that keeps its build: `pip install transformers` inside it must not replace the
planned torch (+cu126, +rocm, +cpu) with whatever the default index resolves.

The env carries `fwsetup-constraints.txt` pinning the framework and its companions to the versions
installed, and its own pip config (pip reads `sys.prefix/pip.conf` in a venv, `pip.ini` on
Windows) that applies it and names the build's index, so a request that conflicts fails with pip's
own message naming the pinned package. pip puts a command's section over [global] whatever file
holds it, so the pins are named in [global] and in each resolving command's section (`write`).
The protection is recognised by what pip reads, a constraint entry naming the env's own file, not
by a comment (pip drops comments when `pip config` rewrites the file); what fwsetup added to that
file is recorded in the constraints file's first line, so lifting it takes out that and no more.
uv reads no pip.conf: `fwsetup run` and every activation script the env has set UV_CONSTRAINT
(activation.py); `fwsetup run` also folds the pins into a PIP_CONSTRAINT that would override the
file (`defeated`). pip.conf and UV_CONSTRAINT are lists split at whitespace, so a path with a
space is written as its file: URL (pipconfig.file_url), which both read.
Lifting it: `fwsetup install … --with X` (one resolution with the build), or delete the two files.
"""

from __future__ import annotations

import configparser
import io
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Optional

from fwsetup.install import activation
from fwsetup.pipconfig import file_url, option_name
from fwsetup.versions import exact_pin

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fwsetup.plan.model import Plan

CONSTRAINTS = activation.CONSTRAINTS  # fwsetup-constraints.txt, which the activation scripts name
PIP_CONF = "pip.conf"
PIP_INI = "pip.ini"  # its name in a Windows venv (pip_conf)
RESOLVING = ("install", "download", "wheel", "lock")  # the pip commands that take --constraint
_SECTIONS = ("global", *RESOLVING)
_MARK = "# fwsetup: keeps this environment's build"
_RECORD = "; what fwsetup added to it: "  # the constraints file's first line, then a JSON object


def apply(
    plan: Plan,
    env: Path,
    installed: dict[str, str],
    *,
    named: Optional[Path] = None,
    warnings: Optional[list[str]] = None,
) -> bool:
    """Protect `env` (a generation, or a venv): False when the plan pins nothing. The packages added
    only for the import (NumPy) or by --with stay free to move. `named`: the path its activation
    scripts name (a generation's stable path); an activation script left unpatched adds to `warnings`."""
    from packaging.utils import canonicalize_name

    versions = {str(canonicalize_name(k)): v for k, v in installed.items()}
    pinned = [exact_pin(n, versions[n]) for n in kept_names(plan) if n in versions]
    return _protect(env, pinned, plan, named, warnings)


def kept_names(plan: Plan) -> list[str]:
    """The names `apply` pins for `plan` (its framework packages and companions), as `fwsetup lock`
    records them in a target's `keeps`: an env made from the lock is protected the same way. A package
    of the build that --with names too (`tinyb --with six`, Keras's torch) stays pinned."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from fwsetup.facts import companions
    from fwsetup.plan.companions import PART_OF_BUILD

    loose = {
        str(a["name"] if isinstance(a, dict) else a.name)
        for a in plan.companions  # what --with or an import need added, unless it is the build's own
        if not str((a.get("why") if isinstance(a, dict) else a.why) or "").endswith(PART_OF_BUILD)
    } - {c.name for c in companions.of(plan.framework)}
    out: list[str] = []
    for requirement in plan.packages:
        try:
            name = str(canonicalize_name(Requirement(requirement).name))
        except ValueError:
            continue
        if name not in loose and name not in out:
            out.append(name)
    return out


def apply_locked(
    plan: Plan,
    env: Path,
    requirements: tuple[str, ...],
    keeps: tuple[str, ...],
    installed: dict[str, str],
    *,
    named: Optional[Path] = None,
    warnings: Optional[list[str]] = None,
) -> bool:
    """`install --lock`: pin the lock target's framework packages and companions (its `keeps`, or
    for a lock written before them its recipe's companions) to the versions of its own requirement
    lines, which lockfile.check_installable has passed (`name==version --hash=…`); a line pins only
    where that version is the one installed. The index is the target's checked sources (plan_of)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    from fwsetup.facts import companions

    wanted = set(keeps) | {str(canonicalize_name(c.name)) for c in companions.of(plan.framework)}
    versions = {canonicalize_name(k): v for k, v in installed.items()}
    pinned: list[str] = []
    for line in requirements:
        try:
            req = Requirement(line.split(" --hash=")[0].strip())
            (spec,) = tuple(req.specifier)
            version = Version(spec.version)
            have = Version(versions.get(canonicalize_name(req.name), ""))
        except (InvalidRequirement, InvalidVersion, ValueError):
            continue
        name = str(canonicalize_name(req.name))
        if spec.operator == "==" and name in wanted and have == version:
            entry = exact_pin(name, str(version))  # a canonical name, a normalized version: nothing to quote
            if entry not in pinned:
                pinned.append(entry)
    return _protect(env, pinned, plan, named, warnings)


def _protect(
    env: Path, pinned: list[str], plan: Plan, named: Optional[Path], warnings: Optional[list[str]]
) -> bool:
    """Write the protection for `pinned` with the plan's index: False when there is nothing to pin
    (or the env's pip config is a file pip could not read either, left as it is)."""
    if not pinned or not write(env, pinned, plan.index_urls, plan.find_links):
        return False
    left = activation.patch(env, named)
    if warnings is not None:
        warnings += left
    return True


def pip_conf(env: Path) -> Path:
    """The env's own pip configuration file, which pip reads as `sys.prefix/CONFIG_BASENAME`: pip.ini
    in a Windows venv (Scripts/; pip/_internal/configuration.py: `"pip.ini" if WINDOWS else "pip.conf"`)."""
    windows = (env / "Scripts").is_dir() or (sys.platform == "win32" and not (env / "bin").is_dir())
    return env / (PIP_INI if windows else PIP_CONF)


def lift(env: Path) -> None:
    """Remove the protection fwsetup wrote: its constraints file, and what it added to the env's pip
    config (the keys and list entries it recorded, and every constraint entry naming that file).
    What is not fwsetup's stays: a pip.conf of the user's, and a key the user added to fwsetup's
    (`pip config --site set …`); a file left with nothing is removed."""
    found = constraints_of(env)
    if found is not None:
        _strip(pip_conf(env), _record(found), found)
        found.unlink(missing_ok=True)


def saved(env: Path) -> dict[str, bytes]:
    """The protection files as they are, to put back when an install that lifted them fails."""
    if constraints_of(env) is None:
        return {}
    return {name.name: name.read_bytes() for name in (env / CONSTRAINTS, pip_conf(env)) if name.is_file()}


def put_back(env: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (env / name).write_bytes(data)


def state(env: Path) -> Optional[str]:
    """The env's protection as one text (its constraints file, which records what fwsetup added to
    the pip config), or None when it has none: what `install --into` keeps with each install so that
    `rollback` puts back the pins of the state it restores (`restore_state`)."""
    found = constraints_of(env)
    if found is None:
        return None
    try:
        return found.read_bytes().decode("utf-8", "replace")
    except OSError:
        return None


def follow(env: Path, installed: dict[str, str]) -> None:
    """Each pin of the env's constraints file at the version now installed (one no longer installed
    is dropped): a rollback whose record did not keep the pins from before."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    found = constraints_of(env)
    if found is None:
        return
    versions = {str(canonicalize_name(k)): v for k, v in installed.items()}
    lines = found.read_bytes().decode("utf-8", "replace").splitlines()
    out = []
    for line in lines:
        try:
            name = str(canonicalize_name(Requirement(line).name))
        except InvalidRequirement:
            out.append(line)  # the mark, a comment
            continue
        if name in versions:
            out.append(exact_pin(name, versions[name]))
    found.write_text("".join(f"{line}\n" for line in out), encoding="utf-8")


def restore_state(env: Path, text: Optional[str]) -> bool:
    """Make the env's protection the one `state` returned (None: none), keeping the user's own pip
    settings; False when the pip config cannot be read and was left as it is."""
    lift(env)
    if text is None:
        return True
    conf, ours = pip_conf(env), env / CONSTRAINTS
    lines = text.splitlines()
    record = _record_of(lines[0] if lines else "")
    if not any(_names(e, ours) for key, added in record.items() if key.endswith(".constraint") for e in added or ()):
        # from an fwsetup before the record: its pins, written anew
        return write(env, [line for line in lines if line.strip() and not line.lstrip().startswith("#")], [], [])
    parser = _parse(conf) if conf.exists() else configparser.RawConfigParser()
    if parser is None:
        return False
    before = _entries(parser)
    for key, added in record.items():
        section, option = key.split(".", 1)
        entries = before.get(key, [])
        _set(parser, section, option, [*entries, *(e for e in added or () if e not in entries)])
    _write_conf(conf, parser)
    ours.write_text(text, encoding="utf-8")
    return True


def write(env: Path, pinned: list[str], index_urls: list[str], find_links: list[str]) -> bool:
    """The constraints file, and the env's pip config naming it: the user's own pip settings are
    kept, and pip applies the pins whatever else configures it. pip takes a key of a later file over
    an earlier one's, and a `[install]` value (the command's section) over any `[global]` one: so the
    env's file, which pip reads after the user's and the global files, names the pins in `[global]`
    and in the section of each command that resolves (`[install]`, `[download]`, `[wheel]`,
    `[lock]`), each time after the constraint files that command takes from the other files (one
    value per key, a list split at whitespace: both apply), and repeats the indexes and find-links
    configured elsewhere beside the build's. What it adds is recorded in the constraints file's first
    line, so that `lift` takes out exactly that. False when the pip config is a file pip could not
    read either (left as it is)."""
    from fwsetup import pipconfig

    conf, ours = pip_conf(env), env / CONSTRAINTS
    if constraints_of(env) is not None:  # re-protecting: what fwsetup added before comes out first
        _strip(conf, _record(ours), ours)
    parser = _parse(conf) if conf.exists() else configparser.RawConfigParser()
    if parser is None:
        return False
    before = _entries(parser)
    mine = list_entry(str(ours))
    wanted: dict[str, dict[str, list[str]]] = {}
    for section in _SECTIONS:
        given = pipconfig.read(command=section, site_file=conf)  # the other files, the env's own, PIP_*
        wanted[section] = {
            "constraint": _unique([*_conf_values([c for c in given.constraints if not _names(c, ours)]), mine]),
            "extra-index-url": _unique(_conf_values([*given.extra_index_urls, *index_urls])),
            "find-links": _unique(_conf_values([*given.find_links, *find_links])),
        }
    added: dict[str, list[str]] = {}
    for section, values in wanted.items():
        for option, entries in values.items():
            if not entries or (section != "global" and option != "constraint" and entries == wanted["global"][option]):
                continue  # the [global] one applies: a command's own only where some file has one
            had = before.get(f"{section}.{option}", [])
            _set(parser, section, option, entries)
            added[f"{section}.{option}"] = [e for e in entries if e not in had]
    _write_conf(conf, parser)
    record = json.dumps({k: v for k, v in added.items() if v}, separators=(",", ":"))
    ours.write_text(
        f"{_MARK} (README: The env keeps its build); lift: delete this file and the lines naming it in {conf.name}"
        f"{_RECORD}{record}\n" + "".join(f"{line}\n" for line in pinned),
        encoding="utf-8",
    )
    return True


def _parse(conf: Path) -> Optional[configparser.RawConfigParser]:
    """The pip config as pip's RawConfigParser reads it, leniently: bytes decoded with replacement (a
    file in another encoding is the user's business, never a crash here); None when there is no
    such file or it cannot be parsed (pip stops on it too)."""
    try:
        text = conf.read_bytes().decode("utf-8", "replace")
    except OSError:
        return None
    parser = configparser.RawConfigParser(strict=False)
    try:
        parser.read_string(text, str(conf))
    except configparser.Error:
        return None
    return parser


def _options(parser: configparser.RawConfigParser, section: str) -> list[tuple[str, str]]:
    defaults = parser.defaults()
    return [(k, v) for k, v in parser.items(section, raw=True) if k not in defaults]


def _entries(parser: configparser.RawConfigParser) -> dict[str, list[str]]:
    """`section.name` (pip's key: the name lower-case, `_` as `-`, no leading `--`) -> its list."""
    out: dict[str, list[str]] = {}
    for section in parser.sections():
        for option, value in _options(parser, section):
            out[f"{section}.{option_name(option)}"] = (value or "").split()
    return out


def _set(parser: configparser.RawConfigParser, section: str, option: str, entries: list[str]) -> None:
    """Set (or with no entries remove) one key, whatever spelling of it the section had."""
    if not parser.has_section(section):
        if not entries:
            return
        parser.add_section(section)
    for name, _ in _options(parser, section):
        if option_name(name) == option:
            parser.remove_option(section, name)
    if entries:
        parser.set(section, option, " ".join(entries))
    elif not _options(parser, section):
        parser.remove_section(section)


def _strip(conf: Path, record: dict[str, Optional[list[str]]], ours: Path) -> None:
    """Take out of the pip config what fwsetup added (`record`: per key, its entries; None: the whole
    key) and every constraint entry that names `ours`; the file is rewritten only if that changed it,
    and removed when nothing is left."""
    parser = _parse(conf)
    if parser is None:
        return
    changed = False
    for key, entries in _entries(parser).items():
        section, option = key.split(".", 1)
        added = record.get(key, [])
        keep = [
            e
            for e in entries
            if added is not None and e not in added and not (option == "constraint" and _names(e, ours))
        ]
        if keep != entries:
            _set(parser, section, option, keep)
            changed = True
    if changed:
        _write_conf(conf, parser, mark=False)


def _write_conf(conf: Path, parser: configparser.RawConfigParser, mark: bool = True) -> None:
    """The pip config as pip's `pip config` writes it (comments do not survive), headed by fwsetup's
    mark while it names the pins; none left in it: no file."""
    if not parser.sections() and not parser.defaults():
        conf.unlink(missing_ok=True)
        return
    out = io.StringIO()
    parser.write(out)
    conf.write_text((_MARK + "\n" if mark else "") + out.getvalue(), encoding="utf-8")


def _record(found: Path) -> dict[str, Optional[list[str]]]:
    try:
        with found.open("rb") as fh:
            first = fh.readline().decode("utf-8", "replace")
    except OSError:
        return {}
    return _record_of(first)


def _record_of(first: str) -> dict[str, Optional[list[str]]]:
    """What fwsetup added to the pip config, from the constraints file's first line. A file from
    before the record (the line has the mark only) had the three keys of [global], fwsetup's alone;
    a file without the mark, nothing (only the constraint entries naming it are fwsetup's)."""
    if not first.startswith(_MARK):
        return {}
    _, found, record = first.partition(_RECORD)
    if not found:
        return dict.fromkeys(("global.constraint", "global.extra-index-url", "global.find-links"))
    try:
        data = json.loads(record)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(k): [str(e) for e in v] for k, v in data.items() if isinstance(v, list) and "." in str(k)
    }


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _conf_values(items: list[str]) -> list[str]:
    """Entries of a pip.conf list, which pip splits at whitespace (and reads with no interpolation):
    a local path with whitespace becomes its file: URL (pip takes those for constraints and
    find-links); a URL with whitespace or a control character cannot be written, and is left out."""
    out = []
    for item in items:
        if not item or _UNWRITABLE.search(item) or (re.search(r"\s", item) and "://" in item):
            continue
        out.append(list_entry(item))
    return out


def list_entry(path: str) -> str:
    """A local path as an entry of a whitespace-separated list (pip.conf's values, UV_CONSTRAINT):
    itself, or its file: URL when it has whitespace (pip and uv read both)."""
    return file_url(Path(path)) if re.search(r"\s", path) else path


_UNWRITABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\u2028\u2029]")


def constraints_of(env: Path) -> Optional[Path]:
    """The env's constraints file when it is protected: the file is there and the env's pip config
    names it as a constraint (a path, or a file: URL in any spelling pip takes), whatever else that
    file holds or lost (pip rewrites it without comments: `pip config --site set …`)."""
    found = env / CONSTRAINTS
    if not found.is_file():
        return None
    parser = _parse(pip_conf(env))
    if parser is None:
        return None
    names = any(
        _names(e, found)
        for key, entries in _entries(parser).items()
        if key.split(".", 1)[0] in _SECTIONS and key.endswith(".constraint")
        for e in entries
    )
    return found if names else None


def _names(entry: str, ours: Path) -> bool:
    """Whether a constraint entry of a pip config names the file `ours`: an absolute path, or a
    file: URL (file:///p, file://localhost/p, file:/p, percent-encoded), as pip opens them
    (pip/_internal/req/req_file.py get_file_content, utils/urls.py url_to_path)."""
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    if entry[:5].lower() == "file:":
        parts = urlsplit(entry)
        if parts.netloc not in ("", "localhost"):
            return False
        path = url2pathname(parts.path)
        if re.match(r"^[/\\][A-Za-z]:", path):  # file:///C:/… on Windows
            path = path[1:]
    elif urlsplit(entry).scheme in ("http", "https"):
        return False
    else:
        path = entry
    if not os.path.isabs(path):  # pip takes it from the working directory: not the env's own
        return False
    try:
        return os.path.samefile(path, ours)
    except OSError:
        return os.path.normcase(os.path.realpath(path)) == os.path.normcase(os.path.realpath(ours))


def defeated(env: Path, environ: Mapping[str, str]) -> Optional[str]:
    """Why pip run with `environ` would not apply the pins of a protected env (None: it would, or the
    env is not protected): PIP_CONSTRAINT, which pip takes over every file's constraint, or a
    PIP_CONFIG_FILE that names another constraint or hides every file (os.devnull)."""
    from fwsetup import pipconfig

    found = constraints_of(env)
    if found is None:
        return None
    for command in RESOLVING:
        given = pipconfig.read(environ, command=command, site_file=pip_conf(env))
        if any(_names(c, found) for c in given.constraints):
            continue
        if (environ.get("PIP_CONSTRAINT") or "").strip():
            return (
                f"PIP_CONSTRAINT is set, and pip takes it in place of the constraint in {env}'s "
                f"{pip_conf(env).name}: pip there does not apply the env's pins"
            )
        named = environ.get("PIP_CONFIG_FILE") or ""
        unread = [why for path, why in given.skipped if path == str(pip_conf(env))]
        if unread:
            return f"pip cannot read {pip_conf(env)} ({unread[0]}) and stops on it: pip there installs nothing"
        if named == os.devnull:
            where = f"PIP_CONFIG_FILE is {named}: pip reads no configuration file, {env}'s {pip_conf(env).name} included"
        else:
            where = (
                f"`pip {command}` takes its constraint from another file than {env}'s {pip_conf(env).name} "
                f"(pip reads {', '.join(given.files) or 'none'}{'; PIP_CONFIG_FILE is ' + named if named else ''})"
            )
        return f"{where}: pip there does not apply the env's pins"
    return None


def uv_environ(env: Path, environ: dict[str, str]) -> dict[str, str]:
    """`fwsetup run`'s environment holds the env to its pins: UV_CONSTRAINT with the env's constraints
    first, then the one given (uv takes a list split at spaces: a path with one is given as its
    file: URL); and where the environment keeps pip from the env's pip config (`defeated`),
    PIP_CONSTRAINT with the pins first, then what pip would have taken."""
    from fwsetup import pipconfig

    found = constraints_of(env)
    if found is None:
        return environ
    mine = list_entry(str(found))
    given = environ.get("UV_CONSTRAINT", "")
    out = {**environ, "UV_CONSTRAINT": " ".join(p for p in (mine, given) if p)}
    if defeated(env, environ) is not None:
        taken = pipconfig.read(environ, command="install", site_file=pip_conf(env)).constraints
        out["PIP_CONSTRAINT"] = " ".join(_unique([mine, *taken]))
    return out
