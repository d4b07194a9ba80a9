"""fwsetup smoke test for PyTorch: matmul, convolution and one gradient step on the device."""

import json
import sys
import time


def main(device_arg):
    started = time.time()
    import torch

    device = pick_device(torch, device_arg)
    dev = torch.device(device)
    torch.manual_seed(0)
    a = torch.arange(6, dtype=torch.float32, device=dev).reshape(2, 3)
    b = torch.arange(6, dtype=torch.float32, device=dev).reshape(3, 2)
    matmul = (a @ b).cpu().tolist() == [[10.0, 13.0], [28.0, 40.0]]
    x = torch.ones(1, 1, 4, 4, device=dev)
    w = torch.ones(1, 1, 3, 3, device=dev)
    conv = torch.nn.functional.conv2d(x, w).cpu().tolist() == [[[[9.0, 9.0], [9.0, 9.0]]]]
    p = torch.tensor([1.0, -2.0], device=dev, requires_grad=True)
    loss = (p ** 2).sum()
    loss.backward()
    grad = p.grad.cpu().tolist() == [2.0, -4.0]
    with torch.no_grad():
        p -= 0.25 * p.grad
    step = p.detach().cpu().tolist() == [0.5, -1.0]
    checks = {"matmul": matmul, "conv": conv, "grad": grad, "sgd_step": step}
    vision = _torchvision(torch, dev)
    if vision is not None:  # a companion built for another torch fails here, not in the user's code
        checks["torchvision_nms"] = vision
    extra = {"cuda": torch.version.cuda}
    if device.startswith("cuda"):
        extra["gpu_name"] = torch.cuda.get_device_name(0)
        extra["capability"] = "%d.%d" % torch.cuda.get_device_capability(0)
        extra["arch_list"] = torch.cuda.get_arch_list()
    if device.startswith("xpu"):
        extra["gpu_name"] = torch.xpu.get_device_name(0)
    return {
        "ok": all(checks.values()),
        "framework": "pytorch",
        "framework_version": torch.__version__,
        "device": device,
        "build": _build(torch),
        "checks": checks,
        "details": extra,
        "seconds": round(time.time() - started, 3),
    }


def _torchvision(torch, dev):
    """Where torchvision is installed: its compiled operators load against this torch and run on
    the device (a torchvision of another build says "operator torchvision::nms does not exist")."""
    import importlib.util

    if importlib.util.find_spec("torchvision") is None:
        return None
    try:
        import torchvision

        boxes = torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 2.1], [5.0, 5.0, 6.0, 6.0]], device=dev)
        scores = torch.tensor([0.9, 0.8, 0.7], device=dev)
        return torchvision.ops.nms(boxes, scores, 0.5).cpu().tolist() == [0, 2]
    except Exception as exc:  # any failure is the finding
        sys.stderr.write("torchvision: %s: %s\n" % (type(exc).__name__, exc))
        return False


def pick_device(torch, device_arg):
    """Where the work runs: with --device gpu the first GPU backend this torch can reach (CUDA or
    ROCm through torch.cuda, Intel's XPU, Apple's MPS), else the CPU."""
    if device_arg != "gpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda:0"
    xpu = getattr(torch, "xpu", None)
    if xpu is not None and xpu.is_available():
        return "xpu:0"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def _build(torch):
    """The build imported, whatever device ran the work: fwsetup compares it with the planned one."""
    hip = getattr(torch.version, "hip", None)
    if hip:
        return {"backend": "rocm", "version": hip}
    if torch.version.cuda:
        return {"backend": "cuda", "version": torch.version.cuda}
    xpu = getattr(torch.version, "xpu", None)
    if xpu or (hasattr(torch, "xpu") and torch.xpu._is_compiled()):
        return {"backend": "xpu", "version": xpu or None}
    mps = getattr(torch.backends, "mps", None)
    if sys.platform == "darwin" and mps is not None and mps.is_built():
        return {"backend": "mps", "version": None}
    return {"backend": "cpu", "version": None}


if __name__ == "__main__":
    arg = sys.argv[sys.argv.index("--device") + 1] if "--device" in sys.argv else "cpu"
    result = main(arg)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)
