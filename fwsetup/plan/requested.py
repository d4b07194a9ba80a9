"""What the user asks for on the command line, checked before any planning: `--version` is a
version, a prefix (2.7) or a PEP 440 specifier that some version can satisfy; `--python` is X.Y.

Garbage is a usage error (exit 2) with the fix, never silently "the newest release"; a
well-formed version fwsetup does not know stays select's refusal (exit 3, listing the known ones).
"""

from __future__ import annotations

import re
from typing import Optional

from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from fwsetup.errors import UsageError, shorten

_OPERATOR = re.compile(r"\s*(~=|==|!=|<=|>=|<|>|===)")
_PYTHON = re.compile(r"([23])\.(\d{1,2})\Z")
VERSION_FIX = "pass a version (2.7.1), a prefix (2.7) or a specifier (>=2.5,<2.8); `fwsetup list` shows the known ones"


def is_specifier(text: str) -> bool:
    return bool(_OPERATOR.match(text))


def check_version(text: Optional[str]) -> Optional[str]:
    """`--version`, stripped; UsageError when it is not a version or a satisfiable specifier."""
    if text is None:
        return None
    wanted = text.strip()
    if not wanted:
        raise UsageError("--version is empty", VERSION_FIX)
    if is_specifier(wanted):
        try:
            spec = SpecifierSet(wanted)
        except InvalidSpecifier:
            raise UsageError(f"--version {shorten(text, quote=True)} is not a PEP 440 specifier", VERSION_FIX) from None
        if not satisfiable(spec):
            raise UsageError(f"--version {shorten(text, quote=True)} excludes every version", VERSION_FIX)
        return wanted
    try:
        Version(wanted)
    except InvalidVersion:
        raise UsageError(f"--version {shorten(text, quote=True)} is not a version", VERSION_FIX) from None
    if not wanted[0].isdigit():  # 'v2.7' parses; say it plainly
        raise UsageError(f"--version {shorten(text, quote=True)} is not a version", VERSION_FIX)
    return wanted


def satisfiable(spec: SpecifierSet) -> bool:
    """Whether some version meets every clause: the bounds of the clauses as one interval."""
    low: Optional[tuple[Version, bool]] = None  # (bound, inclusive)
    high: Optional[tuple[Version, bool]] = None
    for clause in spec:
        for bound, is_low, inclusive in _bounds(clause):
            if is_low and (low is None or bound > low[0] or (bound == low[0] and not inclusive)):
                low = (bound, inclusive)
            if not is_low and (high is None or bound < high[0] or (bound == high[0] and not inclusive)):
                high = (bound, inclusive)
    if low is None or high is None:
        return True
    return low[0] < high[0] or (low[0] == high[0] and low[1] and high[1])


def _bounds(clause: Specifier) -> list[tuple[Version, bool, bool]]:
    op, text = clause.operator, clause.version
    if op == "!=" or op == "===":
        return []
    if text.endswith(".*"):  # ==2.7.*: from 2.7 up to (not including) 2.8
        base = Version(text[:-2])
        upper = Version(".".join(map(str, (*base.release[:-1], base.release[-1] + 1))))
        return [(base, True, True), (upper, False, False)] if op == "==" else []
    v = Version(text)
    if op == "==":
        return [(v, True, True), (v, False, True)]
    if op == "~=":
        release = v.release[:-1] or v.release
        upper = Version(".".join(map(str, (*release[:-1], release[-1] + 1))))
        return [(v, True, True), (upper, False, False)]
    return [(v, op.startswith(">"), op.endswith("="))]


def check_python(text: Optional[str]) -> Optional[str]:
    """`--python X.Y` (a CPython minor version), else UsageError."""
    if text is None:
        return None
    wanted = text.strip()
    if not _PYTHON.match(wanted):
        raise UsageError(
            f"--python {shorten(text, quote=True)} is not a Python version X.Y",
            "pass e.g. --python 3.11 (`fwsetup doctor` lists the interpreters found here)",
        )
    return wanted


WITH_FIX = (
    "e.g. --with torchvision, --with transformers, --with 'transformers>=4.40,accelerate', or --with none"
)


def check_with(text: Optional[str]) -> tuple[str, ...]:
    """`--with NAME[,NAME…]`: requirements (a name, extras and a version specifier; no URL, no
    marker), or `none` alone (no default companions). A comma that starts a specifier continues
    the previous requirement (`transformers>=4,<5`). A package named twice alike is one entry;
    named twice differently, a usage error."""
    if text is None:
        return ()
    items: list[str] = []
    for piece in (p.strip() for p in text.split(",")):
        if items and is_specifier(piece):
            items[-1] += "," + piece
        elif piece:
            items.append(piece)
    if not items:
        raise UsageError("--with is empty", WITH_FIX)
    if "none" in (i.lower() for i in items):
        if len(items) > 1:
            raise UsageError(
                "--with none cannot be combined with packages", "pass --with none, or a list of packages"
            )
        return ("none",)
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    seen: dict[str, tuple[str, Requirement]] = {}
    out: list[str] = []
    for item in items:
        try:
            req = Requirement(item)
        except InvalidRequirement:
            raise UsageError(f"--with {shorten(item, quote=True)} is not a package requirement", WITH_FIX) from None
        if req.url or req.marker is not None or "@" in item or ";" in item:
            raise UsageError(
                f"--with {shorten(item, quote=True)}: only a name, extras and a version are allowed", WITH_FIX
            )
        name = canonicalize_name(req.name)
        if name in seen:
            first, before = seen[name]
            if (before.extras, before.specifier) != (req.extras, req.specifier):
                raise UsageError(
                    f"--with names {shorten(name)} twice, differently: {shorten(first, quote=True)} "
                    f"and {shorten(item, quote=True)}",
                    f"name each package once, with every clause: e.g. --with '{shorten(name)}>=4,<5'",
                )
            continue
        seen[name] = (item, req)
        out.append(item)
    return tuple(out)


def check_without(text: Optional[str]) -> tuple[str, ...]:
    """`--without NAME[,NAME…]`: names of default companions not to install."""
    if text is None:
        return ()
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    if not names or not all(re.fullmatch(r"[a-z0-9][a-z0-9._-]*", n) for n in names):
        raise UsageError(
            f"--without {shorten(text, quote=True)} is not a list of package names", "e.g. --without torchvision"
        )
    return names


def check_with_and_without(with_packages: tuple[str, ...], without: tuple[str, ...]) -> None:
    """A package both added (--with) and left out (--without) is a usage error naming it."""
    if not with_packages or not without or with_packages == ("none",):
        return
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    left_out = {canonicalize_name(n) for n in without}
    for item in with_packages:
        name = canonicalize_name(Requirement(item).name)
        if name in left_out:
            raise UsageError(
                f"--with {shorten(item, quote=True)} and --without {shorten(name)} contradict each other",
                f"pass --with {shorten(name)} to install it, or --without {shorten(name)} to leave it out",
            )
