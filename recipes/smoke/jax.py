"""fwsetup smoke test for JAX: jit matmul, convolution and a grad step on the default device."""

import json
import sys
import time


def main(device_arg):
    started = time.time()
    import jax
    import jax.numpy as jnp

    devices = jax.devices()
    dev = jax.devices("cpu")[0] if device_arg == "cpu" else devices[0]
    a = jax.device_put(jnp.arange(6.0).reshape(2, 3), dev)
    b = jax.device_put(jnp.arange(6.0).reshape(3, 2), dev)
    matmul = jax.jit(jnp.matmul)(a, b).tolist() == [[10.0, 13.0], [28.0, 40.0]]
    x = jax.device_put(jnp.ones((1, 1, 4, 4)), dev)
    w = jax.device_put(jnp.ones((1, 1, 3, 3)), dev)
    out = jax.lax.conv(x, w, (1, 1), "VALID")
    conv = out.tolist() == [[[[9.0, 9.0], [9.0, 9.0]]]]
    loss = lambda p: jnp.sum(p ** 2)  # noqa: E731
    p = jax.device_put(jnp.array([1.0, -2.0]), dev)
    g = jax.grad(loss)(p)
    grad = g.tolist() == [2.0, -4.0]
    step = (p - 0.25 * g).tolist() == [0.5, -1.0]
    checks = {"matmul": matmul, "conv": conv, "grad": grad, "sgd_step": step}
    return {
        "ok": all(checks.values()),
        "framework": "jax",
        "framework_version": jax.__version__,
        "device": _name(next(iter(out.devices()))),
        "build": _build(jax),
        "checks": checks,
        "details": {"devices": [str(d) for d in devices], "default_backend": jax.default_backend()},
        "seconds": round(time.time() - started, 3),
    }


def _name(dev):
    """'cpu' or 'cuda:N' / 'rocm:N', the names every fwsetup smoke test uses."""
    if dev.platform == "cpu":
        return "cpu"
    return "%s:%d" % ("cuda" if dev.platform == "gpu" else dev.platform, dev.id)


def _build(jax):
    """The jaxlib build installed: its GPU plugin (jax-cuda12-plugin, jax-rocm7-plugin, jax-metal) or
    a jaxlib built with CUDA ("+cuda12..."); fwsetup compares it with the planned one."""
    import re
    from importlib import metadata

    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        m = re.match(r"jax-(cuda|rocm)(\d+)-plugin$", name)
        if m:
            return {"backend": m.group(1), "version": m.group(2) if m.group(1) == "cuda" else None}
        if name == "jax-metal":
            return {"backend": "mps", "version": None}
    try:
        local = metadata.version("jaxlib")
    except metadata.PackageNotFoundError:
        local = ""
    m = re.search(r"\+cuda(\d+)", local)
    if m:
        return {"backend": "cuda", "version": m.group(1)}
    return {"backend": "cpu", "version": None}


if __name__ == "__main__":
    arg = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    result = main(arg)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
