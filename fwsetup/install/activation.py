"""The env's activation scripts hold uv to its pins as well: uv reads no pip.conf, so each script
sets UV_CONSTRAINT to the env's constraints file (protect.py), ahead of a UV_CONSTRAINT you set,
and its deactivate puts back exactly what was there (set, empty or unset).

Every script a venv creator writes is patched: `activate` (sh, bash, zsh), `activate.fish`,
`activate.csh`, `activate.nu`, `activate.xsh`, `activate.bat` with `deactivate.bat`, and
`Activate.ps1` (uv writes them all in bin/; Windows venvs have Scripts/). The file is named from
`$VIRTUAL_ENV` as the script itself set it, when the shell starts: the stable path fwsetup pointed
the scripts at (hooks.py), or the script's own folder in a relocatable venv, so a shell activated
before an install or rollback follows the new generation, as its PATH does. uv splits UV_CONSTRAINT
at spaces, so a path with a space ("Application Support", "C:\\Users\\First Last") is given as its
file: URL, encoded in the shell: sh, csh, Nushell and PowerShell encode %, space, #, ? and \\ (what
uv's URL parser would misread), fish and xonsh all that Python's Path.as_uri does. cmd.exe cannot put
a % into a substitution, so activate.bat takes that URL as written here, at install time, and uses
it only while VIRTUAL_ENV is still the path it was written for.

What is added sits between the comment lines `fwsetup-uv-constraint: begin` and `…: end` (no < or >:
cmd's REM), inline in csh's one-line deactivate alias, so patching again replaces it. A script whose
text lacks the place it goes (another creator's template, a newer one) is left as it is and a
warning says so; so is a signed Activate.ps1 (python.org's Windows builds sign it), which a change
would break under an AllSigned execution policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Optional

from fwsetup.pipconfig import file_url

CONSTRAINTS = "fwsetup-constraints.txt"  # the env's pins (protect.py names it from here)

BEGIN = "fwsetup-uv-constraint: begin"
END = "fwsetup-uv-constraint: end"
_WHY = "uv reads no pip.conf: UV_CONSTRAINT names the pins of this env (fwsetup README: The env keeps its build)"
_BLOCK = re.compile(r"[^\n]*" + re.escape(BEGIN) + r".*?" + re.escape(END) + r"[^\n]*(?:\n|$)", re.DOTALL)


def _lines(text: str, indent: str = "") -> str:
    return "".join(indent + line + "\n" if line else "\n" for line in text.split("\n"))


# ---- POSIX sh (bash, dash, zsh, ksh): `activate` -----------------------------------------------

_SH_RESTORE = _lines(
    f"""# {BEGIN} put back the UV_CONSTRAINT from before activation
if [ -n "${{_FWSETUP_UV_CONSTRAINT+_}}" ]; then
    if [ -n "${{_FWSETUP_OLD_UV_CONSTRAINT+_}}" ]; then
        UV_CONSTRAINT="$_FWSETUP_OLD_UV_CONSTRAINT"
        export UV_CONSTRAINT
    else
        unset UV_CONSTRAINT
    fi
    unset _FWSETUP_UV_CONSTRAINT _FWSETUP_OLD_UV_CONSTRAINT
fi
# {END}""",
    "    ",
)

_SH_SET = _lines(
    f"""# {BEGIN} {_WHY}
if [ -f "$VIRTUAL_ENV/{CONSTRAINTS}" ]; then
    _FWSETUP_UV_CONSTRAINT="$VIRTUAL_ENV/{CONSTRAINTS}"
    case $_FWSETUP_UV_CONSTRAINT in
        *" "*)  # uv splits UV_CONSTRAINT at spaces: the file: URL of the file
            _fwsetup_rest=$_FWSETUP_UV_CONSTRAINT
            _FWSETUP_UV_CONSTRAINT=file://
            while [ -n "$_fwsetup_rest" ]; do
                _fwsetup_tail=${{_fwsetup_rest#?}}
                if [ "$_fwsetup_tail" = "$_fwsetup_rest" ]; then  # a byte the locale cannot read
                    _FWSETUP_UV_CONSTRAINT=$_FWSETUP_UV_CONSTRAINT$_fwsetup_rest
                    break
                fi
                _fwsetup_c=${{_fwsetup_rest%"$_fwsetup_tail"}}
                case $_fwsetup_c in
                    %) _fwsetup_c=%25 ;;
                    " ") _fwsetup_c=%20 ;;
                    "#") _fwsetup_c=%23 ;;
                    "?") _fwsetup_c=%3F ;;
                    \\\\) _fwsetup_c=%5C ;;
                esac
                _FWSETUP_UV_CONSTRAINT=$_FWSETUP_UV_CONSTRAINT$_fwsetup_c
                _fwsetup_rest=$_fwsetup_tail
            done
            unset _fwsetup_rest _fwsetup_tail _fwsetup_c
            ;;
    esac
    if [ -n "${{UV_CONSTRAINT+_}}" ]; then
        _FWSETUP_OLD_UV_CONSTRAINT="$UV_CONSTRAINT"
    fi
    UV_CONSTRAINT="$_FWSETUP_UV_CONSTRAINT${{UV_CONSTRAINT:+ $UV_CONSTRAINT}}"
    export UV_CONSTRAINT
fi
# {END}"""
)

# What fwsetup 0.x before this module wrote into `activate` (no markers): taken out when patching again.
_SH_BEFORE = (
    '    if [ -n "${UV_CONSTRAINT:-}" ]; then\n'
    f'        UV_CONSTRAINT="${{UV_CONSTRAINT#"$VIRTUAL_ENV/{CONSTRAINTS}"}}"\n'
    '        UV_CONSTRAINT="${UV_CONSTRAINT# }"\n'
    '        [ -n "$UV_CONSTRAINT" ] || unset UV_CONSTRAINT\n'
    "    fi\n",
    "\n# fwsetup: keeps this environment's build for uv as well (pip reads the env's pip.conf)\n"
    f'if [ -f "$VIRTUAL_ENV/{CONSTRAINTS}" ]; then\n'
    f'    UV_CONSTRAINT="$VIRTUAL_ENV/{CONSTRAINTS}${{UV_CONSTRAINT:+ $UV_CONSTRAINT}}"\n'
    "    export UV_CONSTRAINT\n"
    "fi\n",
)

# ---- fish ------------------------------------------------------------------------------------

_FISH_RESTORE = _lines(
    f"""# {BEGIN} put back the UV_CONSTRAINT from before activation
if set -q _FWSETUP_UV_CONSTRAINT
    if set -q _FWSETUP_OLD_UV_CONSTRAINT
        set -gx UV_CONSTRAINT "$_FWSETUP_OLD_UV_CONSTRAINT"
    else
        set -e UV_CONSTRAINT
    end
    set -e _FWSETUP_UV_CONSTRAINT
    set -e _FWSETUP_OLD_UV_CONSTRAINT
end
# {END}""",
    "    ",
)

_FISH_SET = _lines(
    f"""# {BEGIN} {_WHY}
if test -f "$VIRTUAL_ENV/{CONSTRAINTS}"
    set -g _FWSETUP_UV_CONSTRAINT "$VIRTUAL_ENV/{CONSTRAINTS}"
    if string match -q -- '* *' "$_FWSETUP_UV_CONSTRAINT"  # uv splits it at spaces: the file: URL
        set -g _FWSETUP_UV_CONSTRAINT "file://"(string escape --style=url -- "$_FWSETUP_UV_CONSTRAINT")
    end
    if set -q UV_CONSTRAINT
        set -g _FWSETUP_OLD_UV_CONSTRAINT "$UV_CONSTRAINT"
    end
    set -gx UV_CONSTRAINT "$_FWSETUP_UV_CONSTRAINT"
    if test -n "$_FWSETUP_OLD_UV_CONSTRAINT"  # last, so that source returns 0: set keeps the status before it
        set -gx UV_CONSTRAINT "$_FWSETUP_UV_CONSTRAINT $_FWSETUP_OLD_UV_CONSTRAINT"
    end
end
# {END}"""
)

# ---- csh, tcsh: deactivate is a one-line alias, so its part is inline (no ' and no !) -----------

_CSH_RESTORE = (
    "test $?_FWSETUP_UV_CONSTRAINT != 0 && unsetenv UV_CONSTRAINT && unsetenv _FWSETUP_UV_CONSTRAINT"
    ' && test $?_FWSETUP_OLD_UV_CONSTRAINT != 0 && setenv UV_CONSTRAINT "$_FWSETUP_OLD_UV_CONSTRAINT:q"'
    " && unsetenv _FWSETUP_OLD_UV_CONSTRAINT; "
)

_CSH_SET = _lines(
    f"""# {BEGIN} {_WHY}
if ( -f "$VIRTUAL_ENV:q/{CONSTRAINTS}" ) then
    setenv _FWSETUP_UV_CONSTRAINT "$VIRTUAL_ENV:q/{CONSTRAINTS}"
    if ( "$_FWSETUP_UV_CONSTRAINT:q" =~ *" "* ) then
        # uv splits UV_CONSTRAINT at spaces: the file: URL of the file (printenv: no quotes in backquotes)
        setenv _FWSETUP_UV_CONSTRAINT "file://`printenv _FWSETUP_UV_CONSTRAINT | sed -e 's/%/%25/g' -e 's/ /%20/g' -e 's/#/%23/g' -e 's/?/%3F/g' -e 's/\\\\/%5C/g'`"
    endif
    if ( $?UV_CONSTRAINT ) then
        setenv _FWSETUP_OLD_UV_CONSTRAINT "$UV_CONSTRAINT:q"
        if ( "$UV_CONSTRAINT:q" != "" ) then
            setenv UV_CONSTRAINT "$_FWSETUP_UV_CONSTRAINT:q $UV_CONSTRAINT:q"
        else
            setenv UV_CONSTRAINT "$_FWSETUP_UV_CONSTRAINT:q"
        endif
    else
        setenv UV_CONSTRAINT "$_FWSETUP_UV_CONSTRAINT:q"
    endif
endif
# {END}"""
)

# ---- Nushell: `deactivate` hides the overlay, which takes back every variable its export-env set --

_NU_SET = _lines(
    f"""# {BEGIN} {_WHY}
let fwsetup_constraints = ([$virtual_env '{CONSTRAINTS}'] | path join)
let new_env = if ($fwsetup_constraints | path exists) {{
    let ours = if ($fwsetup_constraints | str contains ' ') {{
        let url = ($fwsetup_constraints | str replace --all '%' '%25' | str replace --all ' ' '%20' | str replace --all '#' '%23' | str replace --all '?' '%3F')
        if ($url | str starts-with '/') {{
            'file://' + ($url | str replace --all '\\' '%5C')
        }} else {{
            'file:///' + ($url | str replace --all '\\' '/')
        }}
    }} else {{
        $fwsetup_constraints
    }}
    let given = if ('UV_CONSTRAINT' in $env) {{ $env.UV_CONSTRAINT }} else {{ '' }}
    $new_env | merge {{ UV_CONSTRAINT: (if ($given | is-empty) {{ $ours }} else {{ $ours + ' ' + $given }}) }}
}} else {{
    $new_env
}}
# {END}"""
)

# ---- xonsh (uv's activate.xsh: a class whose activate/deactivate methods we add to) -------------

_XSH_RESTORE = _lines(
    f"""# {BEGIN} put back the UV_CONSTRAINT from before activation
if "_FWSETUP_UV_CONSTRAINT" in __xonsh__.env:
    if "_FWSETUP_OLD_UV_CONSTRAINT" in __xonsh__.env:
        __xonsh__.env["UV_CONSTRAINT"] = __xonsh__.env.pop("_FWSETUP_OLD_UV_CONSTRAINT")
    else:
        __xonsh__.env.pop("UV_CONSTRAINT", None)
    __xonsh__.env.pop("_FWSETUP_UV_CONSTRAINT", None)
# {END}"""
)

_XSH_SET = _lines(
    f"""# {BEGIN} {_WHY}
_fwsetup_uvc = __import__("os").path.join(__xonsh__.env["VIRTUAL_ENV"], "{CONSTRAINTS}")
if __import__("os").path.isfile(_fwsetup_uvc):
    if " " in _fwsetup_uvc:  # uv splits UV_CONSTRAINT at spaces: the file: URL of the file
        _fwsetup_uvc = __import__("pathlib").Path(_fwsetup_uvc).as_uri()
    if "UV_CONSTRAINT" in __xonsh__.env:
        __xonsh__.env["_FWSETUP_OLD_UV_CONSTRAINT"] = __xonsh__.env["UV_CONSTRAINT"]
    _fwsetup_given = __xonsh__.env.get("UV_CONSTRAINT", "")
    __xonsh__.env["UV_CONSTRAINT"] = _fwsetup_uvc + (" " + _fwsetup_given if _fwsetup_given else "")
    __xonsh__.env["_FWSETUP_UV_CONSTRAINT"] = _fwsetup_uvc
# {END}"""
)

# ---- PowerShell (uv's activate.ps1, CPython's Activate.ps1) -----------------------------------

_PS_RESTORE = _lines(
    f"""# {BEGIN} put back the UV_CONSTRAINT from before activation
if (Test-Path -Path Env:_FWSETUP_UV_CONSTRAINT) {{
    if (Test-Path -Path Env:_FWSETUP_OLD_UV_CONSTRAINT) {{
        $env:UV_CONSTRAINT = $env:_FWSETUP_OLD_UV_CONSTRAINT
        Remove-Item -Path Env:_FWSETUP_OLD_UV_CONSTRAINT
    }}
    else {{
        Remove-Item -Path Env:UV_CONSTRAINT -ErrorAction SilentlyContinue
    }}
    Remove-Item -Path Env:_FWSETUP_UV_CONSTRAINT
}}
# {END}""",
    "    ",
)

_PS_SET = _lines(
    f"""# {BEGIN} {_WHY}
$_fwsetup_uvc = Join-Path -Path $env:VIRTUAL_ENV -ChildPath '{CONSTRAINTS}'
if (Test-Path -LiteralPath $_fwsetup_uvc -PathType Leaf) {{
    if ($_fwsetup_uvc.Contains(' ')) {{
        # uv splits UV_CONSTRAINT at spaces: the file: URL of the file
        $_fwsetup_url = $_fwsetup_uvc.Replace('%', '%25').Replace(' ', '%20').Replace('#', '%23').Replace('?', '%3F')
        if ($_fwsetup_url.StartsWith('/')) {{
            $_fwsetup_uvc = 'file://' + $_fwsetup_url.Replace('\\', '%5C')
        }}
        elseif ($_fwsetup_url.StartsWith('\\\\')) {{
            $_fwsetup_uvc = 'file:' + $_fwsetup_url.Replace('\\', '/')
        }}
        else {{
            $_fwsetup_uvc = 'file:///' + $_fwsetup_url.Replace('\\', '/')
        }}
    }}
    if (Test-Path -Path Env:UV_CONSTRAINT) {{
        $env:_FWSETUP_OLD_UV_CONSTRAINT = $env:UV_CONSTRAINT
        $env:UV_CONSTRAINT = $_fwsetup_uvc + ' ' + $env:UV_CONSTRAINT
    }}
    else {{
        $env:UV_CONSTRAINT = $_fwsetup_uvc
    }}
    $env:_FWSETUP_UV_CONSTRAINT = $_fwsetup_uvc
}}
Remove-Variable -Name _fwsetup_uvc, _fwsetup_url -ErrorAction SilentlyContinue
# {END}"""
)

# ---- cmd.exe: activate.bat and deactivate.bat ---------------------------------------------------
# Every line starts with @ (CPython's activate.bat turns echo off, uv's does not); labels and goto
# instead of ( ) blocks, which a `)` in an expanded path would end (virtualenv's templates do the same).

_BAT_RESTORE = _lines(
    f"""@REM {BEGIN} put back the UV_CONSTRAINT from before activation
@if not defined _FWSETUP_UV_CONSTRAINT @goto FWSETUP_UVC_DONE
@set "UV_CONSTRAINT=%_FWSETUP_OLD_UV_CONSTRAINT%"
@set _FWSETUP_OLD_UV_CONSTRAINT=
@set _FWSETUP_UV_CONSTRAINT=
:FWSETUP_UVC_DONE
@REM {END}"""
)


def _bat_set(named: Optional[PurePath]) -> str:
    """activate.bat's part; `named` (the path the script was written for) gives the URL a path
    with a space needs, which cmd.exe cannot build (a substitution cannot insert a %)."""
    url_line = ""
    if named is not None:
        literal = str(named)
        if " " in literal and '"' not in literal and not _CONTROL.search(literal):
            url = file_url(named / CONSTRAINTS)
            url_line = (
                f'@if /i "%VIRTUAL_ENV%"=="{_bat(literal)}" @set "_FWSETUP_UV_CONSTRAINT={_bat(url)}"\n'
            )
    return (
        f"@REM {BEGIN} {_WHY}\n"
        "@REM activated again without deactivate: first the value from before the first activation\n"
        "@if not defined _FWSETUP_UV_CONSTRAINT @goto FWSETUP_UVC_FIRST\n"
        '@set "UV_CONSTRAINT=%_FWSETUP_OLD_UV_CONSTRAINT%"\n'
        "@set _FWSETUP_OLD_UV_CONSTRAINT=\n"
        "@set _FWSETUP_UV_CONSTRAINT=\n"
        ":FWSETUP_UVC_FIRST\n"
        f'@if not exist "%VIRTUAL_ENV%\\{CONSTRAINTS}" @goto FWSETUP_UVC_END\n'
        "@REM uv splits UV_CONSTRAINT at spaces: a path with one is given as its file: URL\n"
        f'@if "%VIRTUAL_ENV: =%"=="%VIRTUAL_ENV%" @set "_FWSETUP_UV_CONSTRAINT=%VIRTUAL_ENV%\\{CONSTRAINTS}"\n'
        + url_line
        + "@if not defined _FWSETUP_UV_CONSTRAINT @goto FWSETUP_UVC_END\n"
        '@set "_FWSETUP_OLD_UV_CONSTRAINT=%UV_CONSTRAINT%"\n'
        '@if defined UV_CONSTRAINT @set "UV_CONSTRAINT=%_FWSETUP_UV_CONSTRAINT% %UV_CONSTRAINT%"\n'
        '@if not defined UV_CONSTRAINT @set "UV_CONSTRAINT=%_FWSETUP_UV_CONSTRAINT%"\n'
        ":FWSETUP_UVC_END\n"
        f"@REM {END}\n"
    )


def _bat(text: str) -> str:
    """`text` as a batch file spells it: % doubled (a single one would expand a variable)."""
    return text.replace("%", "%%")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# ---- the patch -------------------------------------------------------------------------------

# A script's patch: its new text from the text without fwsetup's part, or None and why not.
Patch = Callable[[str, Optional[Path]], tuple[Optional[str], str]]


def _insert_after(text: str, anchor: str, block: str, flags: int = re.MULTILINE) -> Optional[str]:
    """`block` after the first line matching `anchor`; None when none does."""
    found = re.search(anchor, text, flags)
    if found is None:
        return None
    end = text.find("\n", found.end() - 1)
    end = len(text) if end == -1 else end + 1
    return text[:end] + block + text[end:]


def _append(text: str, block: str) -> str:
    return text + ("" if text.endswith("\n") or not text else "\n") + block


def _needs_virtual_env(text: str) -> bool:
    return "VIRTUAL_ENV" in text


def _sh(text: str, _named: Optional[Path]) -> tuple[Optional[str], str]:
    for before in _SH_BEFORE:
        text = text.replace(before, "")
    done = _insert_after(text, r"^deactivate\s*\(\)\s*\{[ \t]*$", _SH_RESTORE)
    return (_append(done, _SH_SET), "") if done else (None, "its text has no `deactivate () {` line")


def _fish(text: str, _named: Optional[Path]) -> tuple[Optional[str], str]:
    done = _insert_after(text, r"^function deactivate\b[^\n]*$", _FISH_RESTORE)
    return (_append(done, _FISH_SET), "") if done else (None, "its text has no `function deactivate` line")


def _csh(text: str, _named: Optional[Path]) -> tuple[Optional[str], str]:
    text = text.replace(_CSH_RESTORE, "")
    found = re.search(r"^alias deactivate '", text, re.MULTILINE)
    if found is None:
        return None, "its text has no `alias deactivate '…'` line"
    return _append(text[: found.end()] + _CSH_RESTORE + text[found.end() :], _CSH_SET), ""


def _nu(text: str, _named: Optional[Path]) -> tuple[Optional[str], str]:
    loads = list(re.finditer(r"^([ \t]*)load-env \$new_env[ \t]*$", text, re.MULTILINE))
    found = loads[-1] if loads else None
    if found is None or "$virtual_env" not in text[: found.start()]:
        return None, "its text has no `load-env $new_env` after `$virtual_env`"
    return text[: found.start()] + _indent(_NU_SET, found.group(1)) + text[found.start() :], ""


def _xsh(text: str, _named: Optional[Path]) -> tuple[Optional[str], str]:
    setting = re.search(r"^([ \t]+)\$VIRTUAL_ENV = [^\n]*\n", text, re.MULTILINE)
    leaving = re.search(r"^([ \t]*)def deactivate\(self\b[^\n]*:[ \t]*\n", text, re.MULTILINE)
    if setting is None or leaving is None:
        return None, "its text has no `$VIRTUAL_ENV = …` in a method and `def deactivate(self…):`"
    parts = [(setting.end(), _indent(_XSH_SET, setting.group(1)))]
    parts.append((leaving.end(), _indent(_XSH_RESTORE, leaving.group(1) + "    ")))
    for at, block in sorted(parts, reverse=True):
        text = text[:at] + block + text[at:]
    return text, ""


def _ps1(text: str, _named: Optional[Path]) -> tuple[Optional[str], str]:
    if "# SIG # Begin signature block" in text:
        return None, "it is signed (a change would break its signature)"
    if "$env:VIRTUAL_ENV" not in text.replace("$Env:", "$env:"):
        return None, "its text has no `$env:VIRTUAL_ENV`"
    done = _insert_after(text, r"^function global:deactivate\b[^\n]*\{[ \t]*$", _PS_RESTORE, re.M | re.I)
    return (_append(done, _PS_SET), "") if done else (None, "its text has no `function global:deactivate … {` line")


def _bat_activate(text: str, named: Optional[Path]) -> tuple[Optional[str], str]:
    done = _insert_after(text, r'^[ \t]*@?set "PATH=%VIRTUAL_ENV%[^\n]*$', _bat_set(named), re.M | re.I)
    return (done, "") if done else (None, 'its text has no `set "PATH=%VIRTUAL_ENV%…` line')


def _bat_deactivate(text: str, _named: Optional[Path]) -> tuple[Optional[str], str]:
    if not re.search(r"^[ \t]*@?set VIRTUAL_ENV=", text, re.M | re.I):
        return None, "its text has no `set VIRTUAL_ENV=` line"
    return _BAT_RESTORE + text, ""


def _indent(block: str, indent: str) -> str:
    return "".join(indent + line if line.strip() else line for line in block.splitlines(keepends=True))


PATCHES: dict[str, Patch] = {
    "activate": _sh,
    "activate.fish": _fish,
    "activate.csh": _csh,
    "activate.nu": _nu,
    "activate.xsh": _xsh,
    "activate.ps1": _ps1,  # uv's name; CPython's is Activate.ps1 (names are matched lowercased)
    "activate.bat": _bat_activate,
    "deactivate.bat": _bat_deactivate,
}


def scripts(env: Path) -> list[Path]:
    """The activation scripts `patch` knows, in bin/ (POSIX, and uv everywhere) and Scripts/ (Windows)."""
    found = []
    for bindir in (env / "bin", env / "Scripts"):
        try:
            entries = sorted(bindir.iterdir())
        except OSError:
            continue
        found += [p for p in entries if p.name.lower() in PATCHES and p.is_file() and not p.is_symlink()]
    return found


def patch(env: Path, named: Optional[Path] = None) -> list[str]:
    """Make each activation script of `env` set UV_CONSTRAINT and its deactivate put it back; again
    is the same as once. `named`: the path the scripts name (the stable path of a generation).
    Returns a warning for each script left as it was."""
    warnings = []
    for script in scripts(env):
        try:
            text = _read(script)
        except (OSError, UnicodeDecodeError) as exc:
            warnings.append(_left(script, f"it could not be read ({exc})"))
            continue
        bare, eol = _without(text)
        if not _needs_virtual_env(bare):
            warnings.append(_left(script, "it does not set VIRTUAL_ENV"))
            continue
        fixed, missing = PATCHES[script.name.lower()](bare, named)
        if fixed is None:
            warnings.append(_left(script, missing))
            continue
        fixed = fixed.replace("\n", eol)
        if fixed != text:
            try:
                _write(script, fixed)
            except OSError as exc:
                warnings.append(_left(script, f"it could not be written ({exc.strerror or exc})"))
    return warnings


def unpatch(env: Path) -> None:
    """Take fwsetup's part out of every activation script (rollback of a venv to before fwsetup)."""
    for script in scripts(env):
        try:
            text = _read(script)
            bare, eol = _without(text)
            for before in _SH_BEFORE:
                bare = bare.replace(before, "")
            bare = bare.replace("\n", eol)
            if bare != text:
                _write(script, bare)
        except (OSError, UnicodeDecodeError):
            continue


def _without(text: str) -> tuple[str, str]:
    """The script's text with "\n" line ends and without fwsetup's part, and its own line end."""
    eol = "\r\n" if "\r\n" in text else "\n"
    bare = text.replace("\r\n", "\n")
    bare = _BLOCK.sub("", bare).replace(_CSH_RESTORE, "")
    return bare, eol


def _read(script: Path) -> str:
    with script.open(encoding="utf-8", newline="") as fh:
        return fh.read()


def _write(script: Path, text: str) -> None:
    with script.open("w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def _left(script: Path, why: str) -> str:
    return (
        f"{script} was left as it is: {why}; in the shell it activates, uv is not held to the "
        "env's pins (pip is, through the env's pip.conf; `fwsetup run` sets UV_CONSTRAINT for uv)"
    )
