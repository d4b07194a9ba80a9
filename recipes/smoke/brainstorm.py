"""fwsetup smoke test for Brainstorm (Python 2.7): a dense network forward and backward pass with known answers."""
from __future__ import print_function

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
    import brainstorm as bs

    # Input(3) -> FullyConnected 'Fc' (linear) -> SquaredError -> Loss, on the NumPy handler.
    inp, out = bs.tools.get_in_out_layers("regression", (3,), 2, projection_name="Fc")
    network = bs.Network.from_layer(inp >> out)
    network.initialize(0.0)
    A = np.arange(6, dtype=np.float64).reshape(2, 3)
    B = np.arange(6, dtype=np.float64).reshape(3, 2)
    # Fc computes x . W^T + b, so W = B^T makes the forward pass A @ B.
    network.buffer.Fc.parameters.W[:] = B.T
    x = A.reshape(1, 2, 3)  # (time, batch, features)
    t = np.zeros((1, 2, 2))
    network.provide_external_data({"default": x, "targets": t})
    network.forward_pass(training_pass=True)
    network.backward_pass()
    y = network.get("Fc.outputs.default").reshape(2, 2)
    matmul = y.tolist() == [[10.0, 13.0], [28.0, 40.0]]
    # Loss = sum(0.5 * (y - t)^2) / batch = 0.5 * (100 + 169 + 784 + 1600) / 2
    loss = network.get_loss_values()["total_loss"]
    loss_ok = abs(loss - 663.25) < 1e-9
    # dL/dW = (y - t)^T A / batch, dL/db = column sums of (y - t) / batch
    gW = network.get("Fc.gradients.W")
    gb = network.get("Fc.gradients.bias")
    grad_w = np.allclose(gW, y.T.dot(A) / 2.0)
    grad_b = gb.tolist() == [19.0, 26.5]
    checks = {"matmul": matmul, "loss": loss_ok, "grad_W": grad_w, "grad_bias": grad_b}
    return {
        "ok": all(checks.values()),
        "framework": "brainstorm",
        "framework_version": getattr(bs, "__version__", "0.5"),
        "device": "cpu",
        "checks": checks,
        "details": {"loss": loss, "numpy": np.__version__, "handler": type(network.handler).__name__},
        "seconds": round(time.time() - started, 3),
    }


if __name__ == "__main__":
    arg = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    result = main(arg)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
