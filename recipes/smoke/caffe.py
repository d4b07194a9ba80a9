"""fwsetup smoke test for Caffe (pycaffe): forward, backward and one SGD step on a tiny net.

The net is written as a NetParameter prototxt to a temporary file:
Input 1x1x4x4 -> Convolution 3x3 (constant weights 1, no bias) -> InnerProduct 2
(constant weights 0.5, bias 1), with force_backward so the input gets a gradient.
Every expected value is worked out by hand in the comments below.
Runs on Python 3.5+ (Debian bullseye ships 3.9, Ubuntu focal 3.8).
"""

import json
import os
import subprocess
import sys
import tempfile
import time

# glog writes INFO lines for every layer; keep stdout's last line the JSON object.
os.environ.setdefault("GLOG_minloglevel", "2")

# Run as `python3 caffe.py`, this file's folder is sys.path[0] and `import caffe` would
# import this script instead of pycaffe: drop that folder while a caffe.py sits in it.
_HERE = os.path.realpath(os.path.dirname(os.path.abspath(__file__)))
if os.path.exists(os.path.join(_HERE, "caffe.py")):
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.getcwd()) != _HERE]

NET = """
name: "fwsetup_smoke"
force_backward: true
layer {
  name: "data" type: "Input" top: "data"
  input_param { shape { dim: 1 dim: 1 dim: 4 dim: 4 } }
}
layer {
  name: "conv" type: "Convolution" bottom: "data" top: "conv"
  convolution_param {
    num_output: 1 kernel_size: 3 bias_term: false
    weight_filler { type: "constant" value: 1 }
  }
}
layer {
  name: "ip" type: "InnerProduct" bottom: "conv" top: "ip"
  inner_product_param {
    num_output: 2
    weight_filler { type: "constant" value: 0.5 }
    bias_filler { type: "constant" value: 1 }
  }
}
"""

GPU_PROBE = "import caffe; caffe.set_device(0); caffe.set_mode_gpu(); print('gpu-ok')"


def gpu_usable():
    """A CPU-only Caffe aborts the process (LOG(FATAL)) on set_device, so probe in a child."""
    try:
        # An empty working folder, so that `-c`'s sys.path[0] holds no other caffe.py.
        with tempfile.TemporaryDirectory(prefix="fwsetup-caffe-probe-") as cwd:
            out = subprocess.run([sys.executable, "-c", GPU_PROBE], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, timeout=120, cwd=cwd)
    except Exception:
        return False
    return out.returncode == 0 and b"gpu-ok" in out.stdout


def close(values, expected, tol=1e-4):
    values = [float(v) for v in values]
    return len(values) == len(expected) and all(abs(a - b) <= tol for a, b in zip(values, expected))


def run(device_arg):
    import numpy as np
    import caffe

    details = {"requested_device": device_arg}
    device = "cpu"
    if device_arg == "gpu" and gpu_usable():
        caffe.set_device(0)
        caffe.set_mode_gpu()
        device = "cuda:0"
    else:
        caffe.set_mode_cpu()
        if device_arg == "gpu":
            details["gpu_fallback"] = "this Caffe build has no usable GPU (caffe-cpu); ran on cpu"

    fd, path = tempfile.mkstemp(suffix=".prototxt", prefix="fwsetup-caffe-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(NET)
        net = caffe.Net(path, caffe.TEST)
    finally:
        os.unlink(path)

    checks = {}
    checks["shapes"] = (net.blobs["conv"].data.shape == (1, 1, 2, 2)
                        and net.blobs["ip"].data.shape == (1, 2))

    # 1) Real convolution on 0..15: windows sum to 45, 54 (=45+9), 81 (=45+36), 90.
    net.blobs["data"].data[...] = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    net.forward()
    conv_arange = net.blobs["conv"].data.reshape(-1).tolist()
    checks["conv_arange"] = close(conv_arange, [45.0, 54.0, 81.0, 90.0])

    # 2) Ones input: every 3x3 window sums to 9; ip = 4 * 9 * 0.5 + 1 = 19 for both outputs.
    net.blobs["data"].data[...] = 1.0
    net.forward()
    conv_ones = net.blobs["conv"].data.reshape(-1).tolist()
    ip_ones = net.blobs["ip"].data.reshape(-1).tolist()
    checks["conv_ones"] = close(conv_ones, [9.0] * 4)
    checks["inner_product"] = close(ip_ones, [19.0, 19.0])

    # 3) Backward with d(ip) = 1: d(conv) = 2 * 0.5 = 1 everywhere, so d(data) counts how
    #    many 3x3 windows cover each pixel; d(conv weight) = 4 windows * input 1 = 4;
    #    d(ip weight) = conv output 9; d(ip bias) = 1.
    for blobs in net.params.values():
        for blob in blobs:
            blob.diff[...] = 0.0
    net.backward(ip=np.ones((1, 2), dtype=np.float32))
    data_grad = net.blobs["data"].diff.reshape(-1).tolist()
    expected_grad = [1, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1]
    checks["input_grad"] = close(data_grad, [float(v) for v in expected_grad])
    checks["conv_weight_grad"] = close(net.params["conv"][0].diff.reshape(-1).tolist(), [4.0] * 9)
    checks["ip_weight_grad"] = close(net.params["ip"][0].diff.reshape(-1).tolist(), [9.0] * 8)
    checks["ip_bias_grad"] = close(net.params["ip"][1].diff.reshape(-1).tolist(), [1.0, 1.0])

    # 4) One SGD step on the conv weights (lr 0.125): 1 - 0.125 * 4 = 0.5, so the ones input
    #    now gives conv 4.5 and ip = 4 * 4.5 * 0.5 + 1 = 10.
    w = net.params["conv"][0]
    w.data[...] -= 0.125 * w.diff
    net.forward()
    checks["sgd_step"] = (close(net.blobs["conv"].data.reshape(-1).tolist(), [4.5] * 4)
                          and close(net.blobs["ip"].data.reshape(-1).tolist(), [10.0, 10.0]))

    details.update({
        "conv_arange": conv_arange,
        "ip_ones": ip_ones,
        "input_grad": data_grad,
        "caffe_module": getattr(caffe, "__file__", None),
        "numpy": np.__version__,
        "python": sys.version.split()[0],
    })
    return {
        "ok": all(checks.values()),
        "framework": "caffe",
        "framework_version": str(getattr(caffe, "__version__", "unknown")),
        "device": device,
        "checks": checks,
        "details": details,
    }


def main(device_arg):
    started = time.time()
    try:
        result = run(device_arg)
    except Exception as exc:  # report import/runtime failures as a failed smoke, still as JSON
        result = {
            "ok": False,
            "framework": "caffe",
            "framework_version": "unknown",
            "device": "cpu",
            "checks": {"ran": False},
            "details": {},
            "error": "%s: %s" % (type(exc).__name__, exc),
        }
    result["seconds"] = round(time.time() - started, 3)
    return result


if __name__ == "__main__":
    arg = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    result = main(arg)
    sys.stdout.flush()
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
