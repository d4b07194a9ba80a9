"""fwsetup smoke test for TensorFlow: matmul, conv2d and a gradient step on the device, and one
operation of each companion installed beside it (tensorflow-text, tf-keras, TF Decision Forests)."""

import importlib
import importlib.util
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(device_arg):
    started = time.time()
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    device = "/GPU:0" if device_arg == "gpu" and gpus else "/CPU:0"
    with tf.device(device):
        a = tf.reshape(tf.range(6, dtype=tf.float32), (2, 3))
        b = tf.reshape(tf.range(6, dtype=tf.float32), (3, 2))
        mm = tf.matmul(a, b)
        x = tf.ones((1, 4, 4, 1))
        w = tf.ones((3, 3, 1, 1))
        cv = tf.nn.conv2d(x, w, strides=1, padding="VALID")
        p = tf.Variable([1.0, -2.0])
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(p * p)
        g = tape.gradient(loss, p)
        p.assign_sub(0.25 * g)
    checks = {
        "matmul": mm.numpy().tolist() == [[10.0, 13.0], [28.0, 40.0]],
        "conv": cv.numpy().reshape(-1).tolist() == [9.0, 9.0, 9.0, 9.0],
        "grad": g.numpy().tolist() == [2.0, -4.0],
        "sgd_step": p.numpy().tolist() == [0.5, -1.0],
    }
    checks.update(_companions(tf))  # a companion built for another TensorFlow fails here
    return {
        "ok": all(checks.values()),
        "framework": "tensorflow",
        "framework_version": tf.__version__,
        "device": "cuda:0" if device == "/GPU:0" else "cpu",
        "build": _build(tf),
        "checks": checks,
        "details": {"gpus": [g.name for g in gpus], "placed_on": mm.device},
        "seconds": round(time.time() - started, 3),
    }


def _text(tf, text):
    """tensorflow-text's compiled ops load into this TensorFlow and run (one built for another minor
    fails at import: "undefined symbol")."""
    return text.WhitespaceTokenizer().tokenize(["a b"]).to_list() == [[b"a", b"b"]]


def _keras2(tf, keras):
    """tf-keras (Keras 2) builds and calls a layer on this TensorFlow."""
    layer = keras.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros")
    return layer(tf.ones((1, 2))).numpy().tolist() == [[2.0]]


def _forests(tf, forests):
    """TF Decision Forests imported (it loads its compiled inference ops into this TensorFlow)."""
    return hasattr(forests, "keras")


# (module, check name, check): run wherever the module is installed
COMPANIONS = (
    ("tensorflow_text", "tensorflow_text_tokenize", _text),
    ("tf_keras", "tf_keras_dense", _keras2),
    ("tensorflow_decision_forests", "tensorflow_decision_forests_import", _forests),
)


def _companions(tf):
    checks = {}
    for module, name, check in COMPANIONS:
        if importlib.util.find_spec(module) is None:
            continue
        try:
            checks[name] = bool(check(tf, importlib.import_module(module)))
        except Exception as exc:  # any failure is the finding
            sys.stderr.write(f"{module}: {type(exc).__name__}: {exc}\n")
            checks[name] = False
    return checks


def _build(tf):
    """TensorFlow's own build info (is_cuda_build / is_rocm_build), or the Metal plugin on macOS;
    fwsetup compares it with the planned build."""
    info = dict(tf.sysconfig.get_build_info())
    if info.get("is_rocm_build"):
        return {"backend": "rocm", "version": info.get("rocm_version")}
    if info.get("is_cuda_build"):
        return {"backend": "cuda", "version": info.get("cuda_version")}
    try:
        from importlib import metadata

        metadata.version("tensorflow-metal")
        return {"backend": "mps", "version": None}
    except Exception:  # no plugin (or a Python before 3.8, where TensorFlow has no Metal plugin)
        return {"backend": "cpu", "version": None}


if __name__ == "__main__":
    arg = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    result = main(arg)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
