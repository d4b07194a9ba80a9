"""Facts about the world, kept as TOML data files beside this module, each with its sources.

Each table has one reader, a module of the same name that parses it once (lazily, cached) into
frozen dataclasses and refuses unknown or missing keys (fwsetup/facts/schema.py):

    facts.pytorch.table()       pytorch.toml       PyTorch wheel matrix
    facts.tensorflow.table()    tensorflow.toml    TensorFlow releases
    facts.jax.table()           jax.toml           JAX releases and CUDA extras
    facts.cuda_drivers.table()  cuda_drivers.toml  CUDA ↔ driver (NVIDIA Tables 2 and 3)
    facts.gpus.table()          gpus.toml          GPU name → compute capability
    facts.clouds.table()        clouds.toml        cloud vendors in DMI

Code interprets, data states. Nothing is read at import time.
"""

from __future__ import annotations
