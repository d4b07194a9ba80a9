"""Make a generation usable the way people use environments: directly, and through the stable path.

* A startup hook (`_fwsetup_env.pth` + `_fwsetup_env.py` in site-packages) applies the recipe's
  environment variables when ENV/bin/python starts, activated or not (cron, systemd, IDEs, CI),
  and preloads the libraries of its LD_LIBRARY_PATH entries, which the dynamic loader of an
  already running process no longer reads: `import cntk` finds its MPI libraries.
* The activation scripts and the scripts' shebangs name the stable path, not `gen-N`: a shell
  activated before an install or rollback uses the new generation, and the prompt shows the
  environment's own name.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from fwsetup.install import envs

HOOK_MODULE = "_fwsetup_env"

# Runs inside the environment's interpreter, which may be Python 2.7: no f-strings, no typing.
_HOOK = '''"""fwsetup: the recipe's environment settings, applied at interpreter start (see fwsetup README)."""
import os

SETTINGS = %(settings)r
LIBRARY_DIRS = %(library_dirs)r


def _apply():
    for key, value in SETTINGS.items():
        if key not in os.environ:
            os.environ[key] = value
    if not LIBRARY_DIRS:
        return
    current = [p for p in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p]
    os.environ["LD_LIBRARY_PATH"] = os.pathsep.join(
        [d for d in LIBRARY_DIRS if d not in current] + current
    )
    try:
        import ctypes
    except ImportError:
        return
    pending = []
    for d in LIBRARY_DIRS:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        pending += [os.path.join(d, n) for n in names if ".so" in n]
    # Dependencies first: retry what failed until a round loads nothing new.
    while pending:
        failed = []
        for lib in pending:
            try:
                ctypes.CDLL(lib, mode=getattr(ctypes, "RTLD_GLOBAL", 0))
            except OSError:
                failed.append(lib)
        if len(failed) == len(pending):
            break
        pending = failed


try:
    _apply()
except Exception:  # never break the interpreter over a convenience
    pass
'''


def install(gen: Path, stable: Path, fixes: dict[str, str]) -> None:
    write_startup_hook(gen, fixes)
    point_scripts_at(gen, stable)


def write_startup_hook(gen: Path, fixes: dict[str, str]) -> None:
    if not fixes:
        return
    settings = {k: v for k, v in fixes.items() if k != "LD_LIBRARY_PATH"}
    library_dirs = [p for p in fixes.get("LD_LIBRARY_PATH", "").split(":") if p]
    for site in envs.site_packages(gen):
        Path(site, HOOK_MODULE + ".py").write_text(
            _HOOK % {"settings": settings, "library_dirs": library_dirs}, encoding="utf-8"
        )
        Path(site, HOOK_MODULE + ".pth").write_text(f"import {HOOK_MODULE}\n", encoding="utf-8")


def point_scripts_at(gen: Path, stable: Path) -> None:
    """Activation scripts, pyvenv.cfg's prompt and script shebangs: the stable path and name."""
    old, new = str(gen), str(stable)
    prompt = re.compile(r"\b" + re.escape(gen.name) + r"\b")
    for bindir in (gen / "bin", gen / "Scripts"):
        if not bindir.is_dir():
            continue
        for script in bindir.iterdir():
            if script.is_symlink() or not script.is_file() or script.stat().st_size > 256_000:
                continue
            with contextlib.suppress(OSError, UnicodeDecodeError):
                text = script.read_text(encoding="utf-8")
                if old not in text and not script.name.lower().startswith("activate"):
                    continue
                fixed = text.replace(old, new)
                if script.name.lower().startswith("activate"):
                    fixed = prompt.sub(stable.name, fixed)
                if fixed != text:
                    script.write_text(fixed, encoding="utf-8")
    cfg = gen / "pyvenv.cfg"
    with contextlib.suppress(OSError):
        text = cfg.read_text(encoding="utf-8")
        fixed = re.sub(r"(?m)^(prompt\s*=\s*).*$", lambda m: m.group(1) + stable.name, text)
        if fixed != text:
            cfg.write_text(fixed, encoding="utf-8")
