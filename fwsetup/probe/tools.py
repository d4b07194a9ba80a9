"""Which package managers and build tools exist: recipes for non-pip routes need them."""

from __future__ import annotations

from fwsetup.probe.base import Probed, ProbeEnv

TOOLS = (
    "apt-get",
    "dnf",
    "yum",
    "conda",
    "mamba",
    "brew",
    "git",
    "gcc",
    "g++",
    "cmake",
    "make",
    "java",
    "javac",
    "mvn",
    "cargo",
    "rustc",
    "lua",
    "luarocks",
    "uv",
    "pyenv",
    "nvcc",
    "debootstrap",
)


def probe(env: ProbeEnv) -> Probed:
    out = Probed()
    out.fields["tools"] = {name: env.which(name) for name in TOOLS}
    return out
