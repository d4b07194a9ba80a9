"""The driver-level failures the NVIDIA probe reports, worded once for both ways of learning
them: NVML's return code (exact) and nvidia-smi's text (when NVML cannot be loaded)."""

from __future__ import annotations

from typing import Optional

from fwsetup.report import Problem

SOURCE = "nvidia"

# Problem codes this probe reports besides base.run_problem's tool-missing/-timeout/-failed.
DRIVER_UNREACHABLE = "nvidia-driver-unreachable"
DRIVER_LIBRARY_MISMATCH = "nvidia-driver-library-mismatch"
NO_PERMISSION = "nvidia-no-permission"
NVML_FAILED = "nvidia-nvml-failed"
NO_DEVICES = "nvidia-no-devices"
UNPARSEABLE = "nvidia-output-unparseable"


def driver_problem(
    code: str, via: str, nvml_version: Optional[str] = None, kmod: Optional[str] = None
) -> Problem:
    """One problem line for a driver-level failure `via` ("NVML", "nvidia-smi") reported."""
    if code == DRIVER_LIBRARY_MISMATCH:
        message = (
            "NVIDIA driver/library version mismatch: the user-space NVML library is "
            f"{nvml_version or 'a different version'} but the loaded kernel module is "
            f"{kmod or 'another version'} (the driver was updated without reloading the module)"
        )
    elif code == DRIVER_UNREACHABLE:
        message = (
            f"{via} could not talk to the NVIDIA driver: the kernel module is not loaded "
            "(not installed, not built for this kernel, or blocked by Secure Boot; WSL1 has no GPU)"
        )
    elif code == NO_PERMISSION:
        message = (
            f"{via} has no permission to talk to the NVIDIA driver: this user cannot open the "
            "/dev/nvidia* device files (or a container was started without the GPU passed in)"
        )
    elif code == NO_DEVICES:
        message = f"the NVIDIA driver is loaded but found no GPU ({via}: No devices were found)"
    else:
        raise ValueError(f"not a driver-level problem code: {code}")
    return Problem(code, message, SOURCE)
