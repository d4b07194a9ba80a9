"""fwsetup smoke test for Brainstorm (Python 2.7): a network forward and backward pass."""
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

    np.random.seed(0)
    inp = bs.tools.get_in_out_layers("classification", (4,), 3)
    network = bs.Network.from_layer(
        inp[0] >> bs.layers.FullyConnected(5, name="Hid", activation="tanh") >> inp[1]
    )
    network.initialize(bs.initializers.Gaussian(0.1))
    x = np.random.rand(1, 2, 4)
    t = np.zeros((1, 2, 1))
    network.provide_external_data({"default": x, "targets": t})
    network.forward_pass(training_pass=True)
    network.backward_pass()
    out = network.get_output("Output.outputs.predictions")
    grads = network.buffer.gradients
    forward = out.shape == (1, 2, 3) and abs(float(out.sum()) - 2.0) < 1e-6
    backward = float(np.abs(grads).sum()) > 0.0
    checks = {"forward_softmax_sums_to_one": forward, "backward_has_gradients": backward}
    return {
        "ok": all(checks.values()),
        "framework": "brainstorm",
        "framework_version": getattr(bs, "__version__", "0.5"),
        "device": "cpu",
        "checks": checks,
        "details": {},
        "seconds": round(time.time() - started, 3),
    }


if __name__ == "__main__":
    arg = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    result = main(arg)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
