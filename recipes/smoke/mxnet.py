"""fwsetup smoke test for MXNet: NDArray matmul, convolution and an autograd step."""

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
    import mxnet as mx
    from mxnet import autograd, nd

    ctx = mx.gpu(0) if device_arg == "gpu" and mx.context.num_gpus() > 0 else mx.cpu()
    a = nd.arange(6, ctx=ctx).reshape((2, 3))
    b = nd.arange(6, ctx=ctx).reshape((3, 2))
    matmul = nd.dot(a, b).asnumpy().tolist() == [[10.0, 13.0], [28.0, 40.0]]
    x = nd.ones((1, 1, 4, 4), ctx=ctx)
    w = nd.ones((1, 1, 3, 3), ctx=ctx)
    cv = nd.Convolution(data=x, weight=w, kernel=(3, 3), num_filter=1, no_bias=True)
    conv = cv.asnumpy().reshape(-1).tolist() == [9.0] * 4
    p = nd.array([1.0, -2.0], ctx=ctx)
    p.attach_grad()
    with autograd.record():
        loss = (p * p).sum()
    loss.backward()
    grad = p.grad.asnumpy().tolist() == [2.0, -4.0]
    checks = {"matmul": matmul, "conv": conv, "grad": grad}
    return {
        "ok": all(checks.values()),
        "framework": "mxnet",
        "framework_version": mx.__version__,
        "device": "cuda:0" if ctx.device_type == "gpu" else "cpu",
        "checks": checks,
        "details": {},
        "seconds": round(time.time() - started, 3),
    }


if __name__ == "__main__":
    arg = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    result = main(arg)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
