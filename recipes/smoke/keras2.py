"""fwsetup smoke test for Keras 2 (keras 2.3.1 on Theano/TF1, or tf-keras on TF2): layers forward and one SGD step."""

import json
import os
import sys
import time

# Run as "python <name>.py": the script's own folder is sys.path[0], so theano.py would import
# itself as "theano". Drop that folder before importing the framework.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


def _import_keras():
    # tf-keras (Keras 2 for TF 2.16+) imports as "tf_keras"; plain "keras" is Keras 2.3.1 here.
    try:
        import tf_keras as keras
        return keras, "tf-keras"
    except ImportError:
        import keras
        return keras, "keras"


def _sgd(keras, rate):
    try:
        return keras.optimizers.SGD(learning_rate=rate)
    except TypeError:
        return keras.optimizers.SGD(lr=rate)


def main(device_arg):
    started = time.time()
    import numpy as np
    keras, dist = _import_keras()
    K = keras.backend
    layers = keras.layers

    # Forward: a bias-free Dense layer with kernel B computes A @ B.
    A = np.arange(6, dtype="float32").reshape(2, 3)
    B = np.arange(6, dtype="float32").reshape(3, 2)
    inp = layers.Input(shape=(3,))
    dense = layers.Dense(2, use_bias=False)
    m1 = keras.models.Model(inp, dense(inp))
    dense.set_weights([B])
    matmul = m1.predict(A, verbose=0).tolist() == [[10.0, 13.0], [28.0, 40.0]]

    # Convolution: 3x3 ones over 4x4 ones (channels_last) gives 9s.
    cin = layers.Input(shape=(4, 4, 1))
    conv_layer = layers.Conv2D(1, (3, 3), use_bias=False)
    m2 = keras.models.Model(cin, conv_layer(cin))
    conv_layer.set_weights([np.ones((3, 3, 1, 1), dtype="float32")])
    conv = m2.predict(np.ones((1, 4, 4, 1), dtype="float32"), verbose=0).reshape(-1).tolist() == [9.0] * 4

    # Backward: Dense(1) kernel w = [1, -2] on the 2x2 identity predicts w; MSE against 0 is
    # mean(w^2) = 2.5 with gradient w = [1, -2]; one SGD step at rate 0.5 gives [0.5, -1].
    vin = layers.Input(shape=(2,))
    lin = layers.Dense(1, use_bias=False)
    m3 = keras.models.Model(vin, lin(vin))
    lin.set_weights([np.array([[1.0], [-2.0]], dtype="float32")])
    m3.compile(optimizer=_sgd(keras, 0.5), loss="mse")
    loss = m3.train_on_batch(np.eye(2, dtype="float32"), np.zeros((2, 1), dtype="float32"))
    loss = float(np.asarray(loss).reshape(-1)[0])
    grad_loss = abs(loss - 2.5) < 1e-6
    step = lin.get_weights()[0].reshape(-1).tolist() == [0.5, -1.0]

    checks = {"dense_matmul": matmul, "conv": conv, "loss": grad_loss, "sgd_step": step}
    details = {"distribution": dist, "backend": K.backend(), "loss": loss}
    device = "cpu"
    if K.backend() == "tensorflow":
        import tensorflow as tf
        details["tensorflow"] = tf.__version__
        try:
            gpus = tf.config.list_physical_devices("GPU")
        except AttributeError:
            from tensorflow.python.client import device_lib
            gpus = [d for d in device_lib.list_local_devices() if d.device_type == "GPU"]
        if device_arg == "gpu" and gpus:
            device = "cuda:0"
    elif K.backend() == "theano":
        import theano
        details["theano"] = theano.__version__
        if device_arg == "gpu" and str(theano.config.device).startswith("cuda"):
            device = "cuda:0"
    return {
        "ok": all(checks.values()),
        "framework": "keras2",
        "framework_version": keras.__version__,
        "device": device,
        "checks": checks,
        "details": details,
        "seconds": round(time.time() - started, 3),
    }


if __name__ == "__main__":
    arg = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    result = main(arg)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
