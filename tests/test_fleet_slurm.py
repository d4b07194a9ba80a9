"""The Slurm export on a real Slurm: Debian's slurm-wlm and munge (`.ci/run` installs them where
it runs as root with apt-get) give one controller and one compute node on this machine. The
exported script is submitted with `sbatch` as the README says, inside `unshare -n` with the bundle
as a path: the job installs fwsetup and the test recipe from the bundle alone, runs the smoke test
as a job step, and Slurm records fwsetup's exit code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import fwsetup, json_out, tiny_env

HERE = Path(__file__).parent
SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "scontrol", "sinfo", "scancel")


def _missing() -> str:
    """Why this machine cannot run a Slurm of its own ('' when it can)."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip", path=SBIN):
        return "needs root, unshare -n and ip"
    absent = [d for d in DAEMONS if not shutil.which(d, path=SBIN)]
    if absent:
        return f"no {', '.join(absent)}: apt-get install slurm-wlm munge (.ci/run does, as root with apt-get)"
    return ""


def _documents(text: str) -> list[dict[str, object]]:
    decoder, docs, i = json.JSONDecoder(), [], 0
    while i < len(text):
        if text[i] != "{":
            i += 1
            continue
        try:
            doc, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            i += 1
            continue
        docs.append(doc)
    return docs


@pytest.mark.e2e
@pytest.mark.skipif(bool(_missing()), reason=_missing() or "-")
def test_slurm_job_installs_from_the_bundle_and_smoke_tests_on_the_node(tmp_path: Path) -> None:
    started = time.monotonic()
    env = tiny_env(tmp_path / "home")
    lock = tmp_path / "fwsetup.lock"
    assert fwsetup("lock", "tiny", "--cpu", "-o", str(lock), "--json", env=env).returncode == 0
    wh = tmp_path / "wheelhouse"
    bundled = fwsetup("bundle", "--lock", str(lock), "-o", str(wh), "--json", env=env)
    assert bundled.returncode == 0, bundled.stderr
    jobs = tmp_path / "jobs"
    exported = fwsetup(
        "export", "--lock", str(lock), "--format", "slurm", "--wheelhouse", str(wh), "-o", str(jobs), "--json"
    )
    assert exported.returncode == 0, exported.stderr
    (script,) = [Path(p) for p in json_out(exported)["output"] if p.endswith(".sbatch")]
    prepared = time.monotonic()

    home = tmp_path / "user"
    job_env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{SBIN}",
        HOME=str(home),
        PIP_CONFIG_FILE=os.devnull,  # the bundle alone: no index, no find-links of this machine
        UV_CACHE_DIR=str(tmp_path / "empty-uv-cache"),
        **env,
    )
    runs = {
        "good": {},
        # a bundle that is not there: Slurm records fwsetup's install-failed code, not pip's 1
        "bad": {"FWSETUP_WHEELHOUSE": str(tmp_path / "nothing"), "FWSETUP_PREFIX": str(tmp_path / "bad")},
    }
    slurm_dir = tmp_path / "slurm"
    slurm_dir.mkdir()
    run = subprocess.run(
        ["unshare", "-n", "--kill-child", sys.executable, str(HERE / "slurm_offline_run.py"), str(slurm_dir),
         str(jobs), script.name, json.dumps(runs)],
        capture_output=True, text=True, timeout=1500, env=job_env, check=False,
    )  # fmt: skip
    logs = {p.name: p.read_text(errors="replace")[-3000:] for p in slurm_dir.glob("*.log")}
    assert run.returncode == 0, run.stderr[-3000:] + json.dumps(logs, indent=1)
    results = json.loads((slurm_dir / "results.json").read_text())
    good, bad = results["good"], results["bad"]
    outputs = {p.name: p.read_text(errors="replace") for p in jobs.glob("*.out")}

    assert good["sbatch_rc"] == 0, good
    assert (good["state"], good["exit_code"]) == ("COMPLETED", "0:0"), (good, outputs, logs)
    out = outputs[f"{script.stem}-{good['job_id']}.out"]  # the script's --output, named by its job
    smoke = _documents(out)[-1]
    assert smoke["ok"] is True and smoke["framework"] == "tiny", out[-3000:]
    assert f"StepId={good['job_id']}.0" in logs["slurmd.log"]  # the smoke test ran as a job step (srun)
    # The environment the job made, at the script's default prefix under the job's $HOME.
    env_dir = home / ".fwsetup" / script.stem / "env"
    smoked = fwsetup("smoke", "tiny", "--env", str(env_dir), "--json", env=tiny_env(tmp_path / "check"))
    assert smoked.returncode == 0 and json_out(smoked)["ok"], smoked.stdout + smoked.stderr

    assert (bad["state"], bad["exit_code"]) == ("FAILED", "4:0"), (bad, outputs)
    assert "fix:" in outputs[f"{script.stem}-{bad['job_id']}.out"]
    print(
        f"\nslurm: daemons up in {results['daemons_seconds']}s, job {good['seconds']}s, failing job "
        f"{bad['seconds']}s; lock+bundle+export {prepared - started:.1f}s; whole test {time.monotonic() - started:.1f}s"
    )
