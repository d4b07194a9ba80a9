"""Make a generation usable the way people use environments: directly, and through the stable path.

* A startup hook (`_fwsetup_env.pth` + `_fwsetup_env.py` in site-packages) applies the recipe's
  environment variables when ENV/bin/python starts, activated or not (cron, systemd, IDEs, CI).
  The dynamic loader reads LD_LIBRARY_PATH once, at process start, and matches a library by the
  name it was linked with (CNTK wants libmpi_cxx.so.1; the recipe links that name to today's
  libmpi_cxx.so.40), so preloading cannot stand in for it: when the recipe's library directories
  are missing, the interpreter re-executes itself once, same argv (/proc/self/cmdline) and pid,
  with them set. Where that is impossible (no /proc, an embedding program) it preloads them.
* The activation scripts and the scripts' shebangs name the stable path, not `gen-N`: a shell
  activated before an install or rollback uses the new generation, and the prompt shows the
  environment's own name.
"""

from __future__ import annotations

import contextlib
import re
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path

from fwsetup.install import envs

HOOK_MODULE = "_fwsetup_env"

# How a path is spelled inside a script: as is, inside POSIX single quotes (shlex.quote: uv's and
# newer CPythons' activate, activate.fish/.csh/.nu, the `'\'\'\'exec'` shebang), inside
# PowerShell single quotes.
_SPELLINGS: tuple[Callable[[str], str], ...] = (
    lambda s: s,
    lambda s: s.replace("'", "'\"'\"'"),
    lambda s: s.replace("'", "''"),
)
# A name that reads the same unquoted, in single and in double quotes of every shell.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.+-]+")
_WORD = re.compile(r"\w")

# Runs inside the environment's interpreter, which may be Python 2.7: no f-strings, no typing.
_HOOK = r'''"""fwsetup: the recipe's environment settings, applied at interpreter start (see fwsetup README)."""
import os

SETTINGS = %(settings)r
LIBRARY_DIRS = %(library_dirs)r


GUARD = "_FWSETUP_ENV_REEXEC"


def _reexec():
    """Start this same command again with the library path in place (the loader reads it once)."""
    import sys

    if os.environ.get(GUARD) or not sys.executable:
        return
    try:
        if os.path.realpath(sys.executable) != os.path.realpath("/proc/self/exe"):
            return  # an embedding program, not the interpreter: never restart someone else's process
        with open("/proc/self/cmdline", "rb") as fh:
            argv = fh.read().split(b"\0")[:-1]  # bytes: exactly what was typed, any encoding
    except (OSError, ValueError):
        return
    if not argv:
        return
    env = dict(os.environ)
    env[GUARD] = "1"
    exe = getattr(os, "fsencode", lambda x: x)(sys.executable)  # Python 2: already bytes
    os.execve(sys.executable, [exe] + argv[1:], env)


def _apply():
    if os.environ.get(GUARD) and _dirs_in_place():
        del os.environ[GUARD]  # this is the restarted process: its children start clean
    for key, value in SETTINGS.items():
        if key not in os.environ:
            os.environ[key] = value
    if not LIBRARY_DIRS or _dirs_in_place():
        return
    current = [p for p in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p]
    os.environ["LD_LIBRARY_PATH"] = os.pathsep.join(
        [d for d in LIBRARY_DIRS if d not in current] + current
    )
    _reexec()
    _preload()


def _dirs_in_place():
    current = os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep)
    return all(d in current for d in LIBRARY_DIRS)


def _preload():
    try:
        import ctypes
    except ImportError:
        return
    pending = []
    for d in LIBRARY_DIRS:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        pending += [os.path.join(d, n) for n in names if ".so" in n]
    # Dependencies first: retry what failed until a round loads nothing new.
    while pending:
        failed = []
        for lib in pending:
            try:
                ctypes.CDLL(lib, mode=getattr(ctypes, "RTLD_GLOBAL", 0))
            except OSError:
                failed.append(lib)
        if len(failed) == len(pending):
            break
        pending = failed


try:
    _apply()
except Exception:  # never break the interpreter over a convenience
    pass
'''


def install(gen: Path, stable: Path, fixes: dict[str, str]) -> None:
    write_startup_hook(gen, fixes)
    point_scripts_at(gen, stable)


def write_startup_hook(gen: Path, fixes: dict[str, str]) -> None:
    if not fixes:
        return
    settings = {k: v for k, v in fixes.items() if k != "LD_LIBRARY_PATH"}
    library_dirs = [p for p in fixes.get("LD_LIBRARY_PATH", "").split(":") if p]
    for site in envs.site_packages(gen):
        Path(site, HOOK_MODULE + ".py").write_text(
            _HOOK % {"settings": settings, "library_dirs": library_dirs}, encoding="utf-8"
        )
        Path(site, HOOK_MODULE + ".pth").write_text(f"import {HOOK_MODULE}\n", encoding="utf-8")


def point_scripts_at(gen: Path, stable: Path) -> None:
    """Activation scripts, pyvenv.cfg's prompt and script shebangs: the stable path and name.

    A creator writes the path quoted for each script's language (uv and newer CPythons quote
    `it's` as `'it'"'"'s'`; PowerShell doubles the quote), so each spelling of the generation's
    path becomes the same spelling of the stable one. The prompt (`gen-N`) is replaced in the
    POSIX `activate` quoted for where it stands, elsewhere only by a name that needs no quotes;
    never inside a path. One pass each: nothing replaced is looked at again.
    """
    old, new = str(gen), str(stable)
    spelled = {spell(old): spell(new) for spell in _SPELLINGS}
    paths = "|".join(re.escape(s) for s in sorted(spelled, key=len, reverse=True))
    plain = _PLAIN_NAME.fullmatch(stable.name) is not None
    named = re.compile(paths + r"|\b" + re.escape(gen.name) + r"\b" if plain else paths)
    for bindir in (gen / "bin", gen / "Scripts"):
        if not bindir.is_dir():
            continue
        for script in bindir.iterdir():
            if script.is_symlink() or not script.is_file() or script.stat().st_size > 256_000:
                continue
            activation = script.name.lower().startswith("activate")
            with contextlib.suppress(OSError, UnicodeDecodeError):
                text = script.read_text(encoding="utf-8")
                if script.name == "activate":  # POSIX sh: quoted for where each one stands
                    fixed = sh_replace(text, {old: new, gen.name: stable.name})
                else:
                    pattern = named if activation else re.compile(paths)
                    fixed = pattern.sub(lambda m: spelled.get(m.group(), stable.name), text)
                if fixed != text:
                    script.write_text(fixed, encoding="utf-8")
    cfg = gen / "pyvenv.cfg"
    with contextlib.suppress(OSError):
        text = cfg.read_text(encoding="utf-8")
        fixed = re.sub(r"(?m)^(prompt\s*=\s*).*$", lambda m: m.group(1) + stable.name, text)
        if fixed != text:
            cfg.write_text(fixed, encoding="utf-8")


def sh_replace(text: str, words: Mapping[str, str]) -> str:
    """POSIX shell `text` with each whole occurrence of a key replaced by its value, each read
    and written as it is spelled where it stands: unquoted, in '…' (where `'` is `'"'"'`) or in
    "…"; comments and escaped characters are kept. Whole: no letter, digit or `_` touches it
    (gen-1 is not in gen-10)."""
    out: list[str] = []
    quote = ""  # the quote we are inside: "", "'" or '"'
    # Inside '…' a key is spelled with `'"'"'`, or raw where its creator did not quote it (virtualenv
    # before 20.26.6, the last for Python 2.7): either way it is read whole and written quoted.
    inside = [(_sh_quoted(k, "'"), v) for k, v in words.items()]
    spellings = {"": list(words.items()), '"': list(words.items()), "'": [*inside, *words.items()]}
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and quote != "'":
            out.append(text[i : i + 2])
            i += 2
            continue
        if quote == "" and c == "#" and (i == 0 or text[i - 1] in " \t\n;"):
            end = text.find("\n", i)
            end = n if end == -1 else end
            out.append(text[i:end])
            i = end
            continue
        for word, value in spellings[quote]:
            after = i + len(word)
            if (
                text.startswith(word, i)
                and not (i and _WORD.match(text[i - 1]))
                and not _WORD.match(text[after : after + 1])
            ):
                out.append(_sh_quoted(value, quote))
                i = after
                break
        else:
            if c in "'\"" and quote in ("", c):
                quote = "" if quote else c
            out.append(c)
            i += 1
    return "".join(out)


def _sh_quoted(value: str, quote: str) -> str:
    """`value` as it is written unquoted (shlex.quote), inside '…' or inside "…"."""
    if quote == "'":
        return value.replace("'", "'\"'\"'")
    if quote == '"':
        return re.sub(r'([\\$`"])', r"\\\1", value)
    return shlex.quote(value)
