"""Keras 3: the backend's own selection (TensorFlow, JAX or PyTorch), then the newest Keras
release whose Requires-Python that backend's interpreter meets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

from fwsetup.errors import Refusal
from fwsetup.plan.model import Request
from fwsetup.plan.pythons import PythonNeed
from fwsetup.plan.recipes import Recipe, load_all
from fwsetup.plan.select.common import Hook, Outcome, Recipes, pinned_version, version_matches
from fwsetup.records import replace
from fwsetup.report import SystemReport

# the recipe that provides each --backend (Keras says "torch", fwsetup's recipe is "pytorch")
BACKEND_RECIPES = {"torch": "pytorch"}


class KerasHook:
    """Keras 3 runs on a backend framework: its build is that framework's, chosen by its hook."""

    def __init__(self, backends: Mapping[str, Hook]) -> None:
        self.backends = backends  # selector -> hook of the frameworks Keras can run on

    def keras3_floor(self) -> Optional[str]:
        return None

    def variant_names(self, recipe: Recipe) -> list[str]:
        return [f"backend:{b}" for b in recipe.backends]

    def select(
        self, recipe: Recipe, report: SystemReport, request: Request, recipes: Recipes = None
    ) -> Outcome:
        recipes = recipes if recipes is not None else load_all()
        backend = (request.backend or recipe.default_backend or "tensorflow").lower()
        if recipe.backends and backend not in recipe.backends:
            return Refusal(
                f"Keras backend {backend!r} is not one of {', '.join(recipe.backends)}",
                "pass --backend tensorflow, --backend jax or --backend torch",
                code="bad-backend",
            )
        backend_recipe = recipes[BACKEND_RECIPES.get(backend, backend)]
        # the backend's own data knows the oldest release Keras 3 runs on (TensorFlow < 2.16 pins keras < 3)
        backend_hook = self.backends[backend_recipe.selector]
        floor = backend_hook.keras3_floor()
        try:
            outcome = backend_hook.select(
                backend_recipe,
                report,
                replace(request, version=None, framework=backend_recipe.name, min_version=floor),
                recipes,
            )
        except Refusal as refusal:
            outcome = refusal
        if isinstance(outcome, Refusal):
            outcome.message = f"Keras needs the {backend} backend, and: {outcome.message}"
            others = [b for b in recipe.backends if b != backend]
            if others:
                outcome.fix = f"{outcome.fix}; or try another backend: " + ", ".join(
                    f"--backend {b}" for b in others
                )
            return outcome
        fitting = [
            v
            for v in recipe.variants
            if version_matches(v.version or "", request.version)
            and PythonNeed.of(v.python, v.requires_python).allows(outcome.python)
        ]
        if not fitting:
            return Refusal(
                f"no Keras {request.version or ''} release fits Python {outcome.python}".replace("  ", " "),
                "pick another --version or --python",
                code="no-compatible-build",
            )
        kv = fitting[0]
        version = pinned_version(kv.version or "", request.version)
        return replace(
            outcome,
            framework=recipe.name,
            version=version,
            packages=[f"keras=={version}", *outcome.packages, *kv.packages],
            env={**outcome.env, "KERAS_BACKEND": backend},
            smoke=str(recipe.smoke or ""),
            reasons=[
                f"Keras {version} with the {backend} backend (KERAS_BACKEND={backend}); "
                "--backend jax|torch|tensorflow picks another",
                *outcome.reasons,
            ],
        )
