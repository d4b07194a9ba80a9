"""fwsetup smoke test for Keras 3: a Dense+Conv model, one training step, a known forward pass."""

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(device_arg):
    started = time.time()
    import numpy as np
    import keras
    from keras import layers, ops

    backend = keras.backend.backend()
    a = ops.reshape(ops.arange(6, dtype="float32"), (2, 3))
    b = ops.reshape(ops.arange(6, dtype="float32"), (3, 2))
    matmul = np.asarray(ops.convert_to_numpy(ops.matmul(a, b))).tolist() == [[10.0, 13.0], [28.0, 40.0]]
    conv_layer = layers.Conv2D(1, 3, use_bias=False, kernel_initializer="ones")
    out = conv_layer(np.ones((1, 4, 4, 1), dtype="float32"))
    conv = np.asarray(ops.convert_to_numpy(out)).reshape(-1).tolist() == [9.0, 9.0, 9.0, 9.0]
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1, use_bias=False, kernel_initializer="ones")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    x = np.array([[1.0, 1.0]], dtype="float32")
    y = np.array([[0.0]], dtype="float32")
    before = float(model.evaluate(x, y, verbose=0))
    model.fit(x, y, epochs=1, verbose=0)
    after = float(model.evaluate(x, y, verbose=0))
    # loss (w1+w2)^2 = 4 with w=1; one SGD step with lr 0.1 gives w=0.6 → loss 1.44
    train = abs(before - 4.0) < 1e-5 and abs(after - 1.44) < 1e-4
    checks = {"matmul": matmul, "conv": conv, "train_step": train}
    device = "cpu"
    if device_arg == "gpu":
        if backend == "tensorflow":
            import tensorflow as tf

            device = "cuda:0" if tf.config.list_physical_devices("GPU") else "cpu"
        elif backend == "jax":
            import jax

            device = "cuda:0" if jax.devices()[0].platform == "gpu" else "cpu"
        elif backend == "torch":
            import torch

            device = "cuda:0" if torch.cuda.is_available() else "cpu"
    return {
        "ok": all(checks.values()),
        "framework": "keras",
        "framework_version": keras.__version__,
        "device": device,
        "checks": checks,
        "details": {"backend": backend, "loss_before": before, "loss_after": after},
        "seconds": round(time.time() - started, 3),
    }


if __name__ == "__main__":
    arg = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    result = main(arg)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
