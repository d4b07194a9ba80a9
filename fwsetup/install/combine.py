"""What installing a plan into an existing environment means: new, update, up to date, or a
choice the user must make (--replace / --add) because the env holds something else.

Never a silent replacement: an env holding another framework, or built on another Python, is
only rebuilt when the user said how (`--replace`, `--add`, or an answer in a terminal, which the
command line asks before the install starts: nothing here prompts).
"""

from __future__ import annotations

import json
from typing import Any, Optional

from fwsetup import records
from fwsetup.errors import UsageError
from fwsetup.install import sources
from fwsetup.install.generation import GenerationMeta, HeldFramework
from fwsetup.plan.model import Plan
from fwsetup.records import dataclass, field


@dataclass(frozen=True)
class Decision:
    kind: str  # new | update | up-to-date
    plan: Plan  # what to install: the plan, merged with the kept frameworks' plans after --add
    kept: list[HeldFramework] = field(default_factory=list)  # frameworks entries kept from the env
    why: Optional[str] = None  # an update: why the env is rebuilt ("the plan differs in packages", "--force")


def _describe(meta: GenerationMeta) -> str:
    names = ", ".join(f"{f.framework} {f.version} ({f.variant})" for f in meta.held())
    return f"{names} on Python {meta.python}"


# Plan fields that say why, or estimate, and not what the env holds: the "why" lines, the
# interpreter found this time (uv fetched one for the first install: the next plan finds it), and
# the download estimates, which change once the first install filled uv's cache.
_VOLATILE = ("reasons", "warnings", "interpreter", "interpreter_hint", "download_bytes", "cached_bytes")


def _pin(requirement: Any) -> Any:
    """One spelling of a pin: a plan recorded before fwsetup.versions.exact_pin said `name==V`
    where it now says `name===V` (V with no local label); sources.exact_line writes both alike."""
    return sources.exact_line(requirement) if isinstance(requirement, str) else requirement


def _content(d: dict[str, Any]) -> dict[str, Any]:
    """What of a plan (a Plan's dict, or one recorded by an older fwsetup) decides the env's
    content: its volatile fields left out, its pins written one way, a companion's "why" left out."""
    out: dict[str, Any] = json.loads(json.dumps({k: v for k, v in d.items() if k not in _VOLATILE}))
    for key in ("packages", "build_constraints"):
        if isinstance(out.get(key), list):
            out[key] = [_pin(r) for r in out[key]]
    if isinstance(out.get("companions"), list):
        out["companions"] = [
            {k: (_pin(v) if k == "requirement" else v) for k, v in c.items() if k != "why"}
            if isinstance(c, dict)
            else c
            for c in out["companions"]
        ]
    return out


NO_PLAN = "no plan recorded"


def plan_difference(a: Optional[dict[str, Any]], b: dict[str, Any]) -> Optional[str]:
    """None for the same build from the same sources into the same place (the "why" lines and the
    download estimates may differ); else which fields differ ("packages", "python", …)."""
    if a is None:
        return NO_PLAN
    old, new = _content(a), _content(b)
    # a field a plan recorded by an older fwsetup lacks is its default (None, [], {}) in a new one
    fields = [
        k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k) and (old.get(k) or new.get(k))
    ]
    return ", ".join(fields) if fields else None


def _same_plan(a: Optional[dict[str, Any]], b: dict[str, Any]) -> bool:
    return plan_difference(a, b) is None


def _why_rebuilt(differ: Optional[str], same_sources: bool) -> str:
    """Why an env that holds this framework on this Python is built again."""
    if differ == NO_PLAN:
        return "the env records no plan"
    if differ:
        return f"the plan differs in {differ}"
    return "other sources (index, wheelhouse, lock)" if not same_sources else "--force"


@dataclass(frozen=True)
class Conflict:
    """The env holds another framework (or another Python): someone must say --replace or --add."""

    what: str  # "ENV holds jax 0.7.0 (cpu) on Python 3.11", and why that is in the way
    can_add: bool  # the same Python: --add is possible


def conflict(plan: Plan, meta: Optional[GenerationMeta], env: str) -> Optional[Conflict]:
    """The question to settle before installing `plan` into an env holding `meta`, if any: asked in
    a terminal by the command line, refused (`decide`) otherwise."""
    if meta is None:
        return None
    same_python = str(meta.python) == plan.python
    if plan.framework in [str(f.framework) for f in meta.held()] and same_python:
        return None
    what = f"{env} holds {_describe(meta)}" + (
        "" if same_python else f"; {plan.framework} {plan.version} needs Python {plan.python}"
    )
    return Conflict(what, same_python)


def decide(
    plan: Plan,
    meta: Optional[GenerationMeta],
    env: str,
    *,
    mode: str,
    force: bool,
    sources: Optional[dict[str, Any]] = None,
) -> Decision:
    """`mode`: "", replace or add (the option, or the answer the command line got in a terminal).
    `sources`: the install options that change what gets installed (index, wheelhouses, a
    lock's list); the same plan from other sources is a rebuild, not "up to date"."""
    if meta is None:
        return Decision("new", plan)
    held = meta.held()
    names = [str(f.framework) for f in held]
    same_python = str(meta.python) == plan.python
    others = [f for f in held if f.framework != plan.framework]
    if plan.framework in names and same_python and mode != "replace":
        mine = next(f for f in held if f.framework == plan.framework)
        same_sources = json.loads(json.dumps(sources or {})) == mine.sources
        differ = plan_difference(mine.plan or meta.plan, plan.to_dict())
        if differ is None and same_sources and not force:
            return Decision("up-to-date", plan)
        return Decision("update", merge(plan, others), others, _why_rebuilt(differ, same_sources))
    if mode == "replace":
        return Decision("update", plan, why="--replace")
    if mode == "add":
        if not same_python:
            raise UsageError(
                f"{env} holds {_describe(meta)}; {plan.framework} {plan.version} was planned for Python {plan.python}",
                f"add it on the env's Python with `--add --python {meta.python}`, or use --replace",
            )
        return Decision("update", merge(plan, others), others, why="--add")
    found = conflict(plan, meta, env)
    raise UsageError(
        (found.what if found else env) + ": installing would replace it",
        "pass --replace (a fresh generation with only "
        + plan.framework
        + "; the old one stays for `fwsetup rollback`)"
        + (f", or --add (keep {', '.join(names)} and add {plan.framework})" if same_python else "")
        + ", or choose another --env path",
        code="env-holds-another",
    )


def merge(plan: Plan, kept: list[HeldFramework]) -> Plan:
    """One plan installing the new framework together with the kept ones, in one installer run."""
    packages: list[str] = []
    index_urls: list[str] = []
    find_links: list[str] = []
    build_constraints: list[str] = []
    post_install: list[dict[str, Any]] = []
    env: dict[str, str] = {}
    for entry in kept:
        old = entry.plan or {}
        packages += old.get("packages") or []
        index_urls += old.get("index_urls") or []
        find_links += old.get("find_links") or []
        build_constraints += old.get("build_constraints") or []
        post_install += old.get("post_install") or []
        env.update(old.get("env") or {})
    env.update(plan.env)

    def unique(items: list[Any]) -> list[Any]:
        out: list[Any] = []
        for i in items:
            if i not in out:
                out.append(i)
        return out

    return records.replace(
        plan,
        packages=unique([*packages, *plan.packages]),
        index_urls=unique([*index_urls, *plan.index_urls]),
        find_links=unique([*find_links, *plan.find_links]),
        build_constraints=unique([*build_constraints, *plan.build_constraints]),
        post_install=unique([*post_install, *plan.post_install]),
        env=env,
    )
