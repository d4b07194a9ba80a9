"""Display controllers on the PCI bus (Linux sysfs): finds a GPU even with no driver loaded."""

from __future__ import annotations

import os

from fwsetup.probe.base import Probed, ProbeEnv
from fwsetup.report import PciDevice

# PCI-SIG vendor ids (https://pcisig.com/membership/member-companies; pci.ids).
VENDORS = {"0x10de": "nvidia", "0x1002": "amd", "0x8086": "intel"}
DISPLAY_CLASS_PREFIX = "0x03"  # PCI base class 03h: display controller


def probe(env: ProbeEnv) -> Probed:
    out = Probed()
    base = env.path("/sys/bus/pci/devices")
    try:
        entries = sorted(os.listdir(base))
    except OSError:
        return out  # not Linux, or sysfs hidden (containers, WSL2): nothing to say
    devices = []
    for bus_id in entries:
        cls = (env.read_text(f"/sys/bus/pci/devices/{bus_id}/class", 64) or "").strip()
        if not cls.startswith(DISPLAY_CLASS_PREFIX):
            continue
        vendor_id = (env.read_text(f"/sys/bus/pci/devices/{bus_id}/vendor", 64) or "").strip()
        device_id = (env.read_text(f"/sys/bus/pci/devices/{bus_id}/device", 64) or "").strip()
        devices.append(
            PciDevice(
                vendor=VENDORS.get(vendor_id.lower(), vendor_id),
                vendor_id=vendor_id,
                device_id=device_id,
                bus_id=bus_id,
            )
        )
    out.fields["pci_display_devices"] = devices
    return out
