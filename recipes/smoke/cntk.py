"""fwsetup smoke test for CNTK: times, convolution and a gradient."""

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
    import cntk as C

    device = "cpu"
    if device_arg == "gpu":
        try:
            gpu = C.device.gpu(0)
            C.device.try_set_default_device(gpu)
            device = "cuda:0"
        except Exception:
            C.device.try_set_default_device(C.device.cpu())
    else:
        C.device.try_set_default_device(C.device.cpu())

    A = np.arange(6, dtype=np.float32).reshape(2, 3)
    B = np.arange(6, dtype=np.float32).reshape(3, 2)
    matmul = C.times(C.constant(A), C.constant(B)).eval().tolist() == [[10.0, 13.0], [28.0, 40.0]]

    x = C.input_variable((1, 4, 4))
    w = C.constant(np.ones((1, 1, 3, 3), dtype=np.float32))
    cv = C.convolution(w, x, auto_padding=[False])
    out = cv.eval({x: np.ones((1, 1, 4, 4), dtype=np.float32)})
    conv = np.asarray(out).reshape(-1).tolist() == [9.0] * 4

    p = C.input_variable(2, needs_gradient=True)
    f = C.reduce_sum(C.square(p))
    g = f.grad({p: np.array([[1.0, -2.0]], dtype=np.float32)})
    grad = np.asarray(g).reshape(-1).tolist() == [2.0, -4.0]
    checks = {"matmul": matmul, "conv": conv, "grad": grad}
    return {
        "ok": all(checks.values()),
        "framework": "cntk",
        "framework_version": C.__version__,
        "device": device,
        "checks": checks,
        "details": {"default_device": str(C.device.use_default_device())},
        "seconds": round(time.time() - started, 3),
    }


if __name__ == "__main__":
    arg = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    result = main(arg)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
