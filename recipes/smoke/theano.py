"""fwsetup smoke test for Theano: a compiled function, a convolution and a gradient."""

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
    from theano.tensor.nnet import conv2d

    a = T.matrix("a")
    b = T.matrix("b")
    mm = theano.function([a, b], T.dot(a, b))
    A = np.arange(6, dtype=theano.config.floatX).reshape(2, 3)
    B = np.arange(6, dtype=theano.config.floatX).reshape(3, 2)
    matmul = mm(A, B).tolist() == [[10.0, 13.0], [28.0, 40.0]]
    x = T.tensor4("x")
    w = T.tensor4("w")
    cv = theano.function([x, w], conv2d(x, w))
    ones = np.ones((1, 1, 4, 4), dtype=theano.config.floatX)
    conv = cv(ones, np.ones((1, 1, 3, 3), dtype=theano.config.floatX)).reshape(-1).tolist() == [9.0] * 4
    p = T.vector("p")
    g = theano.function([p], T.grad(T.sum(p ** 2), p))
    grad = g(np.array([1.0, -2.0], dtype=theano.config.floatX)).tolist() == [2.0, -4.0]
    checks = {"matmul": matmul, "conv": conv, "grad": grad}
    return {
        "ok": all(checks.values()),
        "framework": "theano",
        "framework_version": theano.__version__,
        "device": "cpu",
        "checks": checks,
        "details": {"cxx": theano.config.cxx, "compiled": bool(theano.config.cxx)},
        "seconds": round(time.time() - started, 3),
    }


if __name__ == "__main__":
    arg = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    result = main(arg)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
