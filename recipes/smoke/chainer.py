"""fwsetup smoke test for Chainer: matmul, convolution, a Link forward/backward and an SGD step."""

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
    import chainer
    import chainer.functions as F
    import chainer.links as L

    device = "cpu"
    xp = np
    if device_arg == "gpu":
        try:
            import cupy
            if chainer.backends.cuda.available and cupy.cuda.runtime.getDeviceCount() > 0:
                xp = cupy
                device = "cuda:0"
        except Exception:
            pass

    def host(v):
        return chainer.backends.cuda.to_cpu(v.array if hasattr(v, "array") else v)

    A = xp.arange(6, dtype=xp.float32).reshape(2, 3)
    B = xp.arange(6, dtype=xp.float32).reshape(3, 2)
    matmul = host(F.matmul(A, B)).tolist() == [[10.0, 13.0], [28.0, 40.0]]
    x = xp.ones((1, 1, 4, 4), dtype=xp.float32)
    w = xp.ones((1, 1, 3, 3), dtype=xp.float32)
    conv = host(F.convolution_2d(x, w)).reshape(-1).tolist() == [9.0] * 4

    p = chainer.Variable(xp.array([1.0, -2.0], dtype=xp.float32))
    loss = F.sum(p ** 2)
    loss.backward()
    grad = host(p.grad).tolist() == [2.0, -4.0]

    # A Link with weight [1, -2] on the identity: loss sum(y^2), one SGD step at 0.25.
    lin = L.Linear(2, 1, nobias=True, initialW=np.array([[1.0, -2.0]], dtype=np.float32))
    if device != "cpu":
        lin.to_gpu(0)
    opt = chainer.optimizers.SGD(lr=0.25)
    opt.setup(lin)
    y = lin(xp.eye(2, dtype=xp.float32))
    l2 = F.sum(y ** 2)
    lin.cleargrads()
    l2.backward()
    link_grad = host(lin.W.grad).reshape(-1).tolist() == [2.0, -4.0]
    opt.update()
    step = host(lin.W.array).reshape(-1).tolist() == [0.5, -1.0]
    checks = {"matmul": matmul, "conv": conv, "grad": grad, "link_grad": link_grad, "sgd_step": step}
    return {
        "ok": all(checks.values()),
        "framework": "chainer",
        "framework_version": chainer.__version__,
        "device": device,
        "checks": checks,
        "details": {"numpy": np.__version__, "cuda_available": bool(chainer.backends.cuda.available)},
        "seconds": round(time.time() - started, 3),
    }


if __name__ == "__main__":
    arg = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    result = main(arg)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
