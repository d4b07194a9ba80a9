"""Imports go down only: cli → commands → fleet → install → plan → probe → facts → shared.

The graph is read with `ast` from every module of fwsetup/, counting imports inside functions
and under TYPE_CHECKING (a dependency is one wherever it is written), and `from . import x`
forms. A module may import its own layer or a lower one, never a higher one, and no chain of
imports may come back to where it started.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "fwsetup"

# Highest first. Top-level modules not named here (records, versions, tomlfile, errors, report,
# paths, redact, runner, …) are the shared floor.
LAYERS: tuple[str, ...] = ("main", "cli", "commands", "fleet", "install", "plan", "probe", "facts")
ENTRY = {"fwsetup.__main__": "main", "fwsetup.main": "main"}


def module_names(root: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its __init__)."""
    names: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The fwsetup modules `module` imports, wherever in the file the import is."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node.level, node.module)
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in known else base)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
    return {name for name in found if name in known and name != module}


def layer_of(module: str) -> str:
    if module in ENTRY:
        return ENTRY[module]
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else "shared"


def rank(layer: str) -> int:
    return len(LAYERS) - LAYERS.index(layer) if layer in LAYERS else 0


def graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    names = module_names(root)
    known = set(names)
    return {name: imports_of(name, path, known) for name, path in names.items()}


def upward(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted(
        (src, dst) for src, dsts in edges.items() for dst in dsts if rank(layer_of(dst)) > rank(layer_of(src))
    )


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_layers_cover_every_folder() -> None:
    """A new folder of fwsetup/ must be given its place in LAYERS before it can be checked."""
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders <= set(LAYERS), f"place these folders in LAYERS: {sorted(folders - set(LAYERS))}"


def test_imports_go_down_only() -> None:
    bad = upward(graph())
    assert not bad, "upward imports:\n" + "\n".join(
        f"  {src} ({layer_of(src)}) → {dst} ({layer_of(dst)})" for src, dst in bad
    )


def test_no_import_cycle() -> None:
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join("  " + " ↔ ".join(c) for c in found)


def _write(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "fwsetup"
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return pkg


def test_the_checker_sees_imports_inside_functions_and_relative_forms(tmp_path: Path) -> None:
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "",
            "report.py": "",
            "probe/__init__.py": "",
            "probe/diagnose.py": "def f():\n    from ..plan import select\n",
            "plan/__init__.py": "",
            "plan/select.py": "from . import model\n",
            "plan/model.py": "import fwsetup.plan.select\n",
            "install/__init__.py": "",
            "install/a.py": "from fwsetup.report import x\nif True:\n    from fwsetup.install import b\n",
            "install/b.py": "def g():\n    __import__('fwsetup.install.a')\n",
        },
    )
    edges = graph(pkg)
    assert edges["fwsetup.probe.diagnose"] == {"fwsetup.plan.select"}
    assert edges["fwsetup.plan.select"] == {"fwsetup.plan.model"}
    assert edges["fwsetup.install.a"] == {"fwsetup.report", "fwsetup.install.b"}
    assert upward(edges) == [("fwsetup.probe.diagnose", "fwsetup.plan.select")]
    assert cycles(edges) == [
        ["fwsetup.install.a", "fwsetup.install.b"],
        ["fwsetup.plan.model", "fwsetup.plan.select"],
    ]


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("fwsetup.main", "main"),
        ("fwsetup.cli.app", "cli"),
        ("fwsetup.commands", "commands"),
        ("fwsetup.plan.select.pytorch", "plan"),
        ("fwsetup.report", "shared"),
        ("fwsetup", "shared"),
    ],
)
def test_layer_of(module: str, layer: str) -> None:
    assert layer_of(module) == layer
