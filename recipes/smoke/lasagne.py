"""fwsetup smoke test for Lasagne (on Theano): a dense + conv network, forward and one SGD step."""

import json
import os
import sys
import time

# Run as "python <name>.py": the script's own folder is sys.path[0], so theano.py would import
# itself as "theano". Drop that folder before importing the framework.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]


def main(device_arg):
    started = time.time()
    import numpy as np
    import theano
    import theano.tensor as T
    import lasagne

    floatX = theano.config.floatX
    # Forward: a bias-free dense layer with weights B computes A @ B.
    A = np.arange(6, dtype=floatX).reshape(2, 3)
    B = np.arange(6, dtype=floatX).reshape(3, 2)
    x = T.matrix("x")
    l_in = lasagne.layers.InputLayer((None, 3), input_var=x)
    dense = lasagne.layers.DenseLayer(l_in, num_units=2, W=B, b=None, nonlinearity=None)
    fwd = theano.function([x], lasagne.layers.get_output(dense))
    matmul = fwd(A).tolist() == [[10.0, 13.0], [28.0, 40.0]]

    # Convolution: 3x3 ones over 4x4 ones gives 9s.
    xi = T.tensor4("xi")
    c_in = lasagne.layers.InputLayer((None, 1, 4, 4), input_var=xi)
    conv_layer = lasagne.layers.Conv2DLayer(
        c_in, num_filters=1, filter_size=(3, 3), W=np.ones((1, 1, 3, 3), dtype=floatX),
        b=None, nonlinearity=None)
    cv = theano.function([xi], lasagne.layers.get_output(conv_layer))
    conv = cv(np.ones((1, 1, 4, 4), dtype=floatX)).reshape(-1).tolist() == [9.0] * 4

    # Backward: loss = sum(p^2) for the dense weights p = [1, -2] (identity input);
    # gradient [2, -4], one SGD step at rate 0.25 gives [0.5, -1].
    xv = T.matrix("xv")
    v_in = lasagne.layers.InputLayer((None, 2), input_var=xv)
    lin = lasagne.layers.DenseLayer(v_in, num_units=1, W=np.array([[1.0], [-2.0]], dtype=floatX),
                                    b=None, nonlinearity=None)
    loss = T.sum(lasagne.layers.get_output(lin) ** 2)
    params = lasagne.layers.get_all_params(lin, trainable=True)
    grads = T.grad(loss, params)
    updates = lasagne.updates.sgd(loss, params, learning_rate=0.25)
    train = theano.function([xv], [loss] + grads, updates=updates)
    out = train(np.eye(2, dtype=floatX))
    grad = out[1].reshape(-1).tolist() == [2.0, -4.0]
    step = lin.W.get_value().reshape(-1).tolist() == [0.5, -1.0]
    checks = {"dense_matmul": matmul, "conv": conv, "grad": grad, "sgd_step": step}
    return {
        "ok": all(checks.values()),
        "framework": "lasagne",
        "framework_version": lasagne.__version__,
        "device": "cpu",
        "checks": checks,
        "details": {"theano": theano.__version__, "cxx": theano.config.cxx, "loss": float(out[0])},
        "seconds": round(time.time() - started, 3),
    }


if __name__ == "__main__":
    arg = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    result = main(arg)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
