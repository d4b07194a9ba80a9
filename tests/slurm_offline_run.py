"""Run inside `unshare -n` by test_fleet_slurm: a real Slurm on this machine with no network but
loopback — munged, slurmctld and slurmd (one node, `localhost`, with the CPUs and memory `slurmd -C`
finds) from a minimal slurm.conf in OUTDIR — then each submission of SCRIPT from JOBDIR with
`sbatch`, as the README submits it, waited for (bounded) and read back with `scontrol`. The
daemons are stopped at the end, and die with this process if it is killed.

argv: OUTDIR JOBDIR SCRIPT RUNS_JSON  ({"run name": {extra environment}, …}, submitted in order)
Writes OUTDIR/results.json: {"run name": {"sbatch_rc", "job_id", "state", "exit_code",
"seconds"}, "daemons_seconds": …}, and the daemons' logs beside it."""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

JOB_SECONDS = 600  # one job: fwsetup and the test recipe from the bundle, and the smoke test
DONE = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE"}

CONF = """\
ClusterName=fwsetup-test
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket={dir}/munge.socket
CredType=cred/munge
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
{node}
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


def _die_with_parent() -> None:
    """A daemon started here ends when this process ends (PR_SET_PDEATHSIG), killed or not."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def _node_line() -> str:
    """This machine as `slurmd -C` sees it, named localhost (slurmd runs with -N localhost)."""
    found = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, timeout=60, check=True).stdout
    line = next(ln for ln in found.splitlines() if ln.startswith("NodeName="))
    return re.sub(r"^NodeName=\S+", "NodeName=localhost", line)


def _wait(what: str, ready: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready in {seconds:.0f}s")
        time.sleep(0.2)


def _job(job_id: str, env: dict[str, str]) -> dict[str, str]:
    shown = subprocess.run(
        ["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True, timeout=60, env=env, check=False
    ).stdout
    return dict(re.findall(r"(\w+)=(\S*)", shown))


def main() -> int:
    outdir, jobdir, script, runs = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
    started = time.monotonic()
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=30)
    # Slurm binds with getaddrinfo(AI_ADDRCONFIG), which finds nothing where loopback is the only
    # address: one more address, on lo itself, that leads nowhere else.
    subprocess.run(["ip", "addr", "add", "10.254.254.254/32", "dev", "lo"], check=True, timeout=30)
    for sub in ("state", "spool"):
        (outdir / sub).mkdir(exist_ok=True)
    key = outdir / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    conf = outdir / "slurm.conf"
    conf.write_text(CONF.format(dir=outdir, node=_node_line()))
    env = dict(os.environ, SLURM_CONF=str(conf))
    daemons = []
    try:
        for argv, log in (
            (["munged", "-F", "-f", f"--key-file={key}", f"--socket={outdir}/munge.socket",
              f"--pid-file={outdir}/munged.pid", f"--seed-file={outdir}/munged.seed",
              f"--log-file={outdir}/munged.log"], "munged.out"),
            (["slurmctld", "-D", "-f", str(conf)], "slurmctld.log"),
            (["slurmd", "-D", "-N", "localhost", "-f", str(conf)], "slurmd.log"),
        ):  # fmt: skip
            with open(outdir / log, "wb") as out:
                daemons.append(
                    subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent)
                )
            if argv[0] == "munged":
                _wait("munged", (outdir / "munge.socket").exists, 30)

        def idle() -> bool:
            ended = [d.args[0] for d in daemons if d.poll() is not None]
            if ended:
                raise RuntimeError(f"{', '.join(ended)} ended: see the logs in {outdir}")
            state = subprocess.run(
                ["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True, timeout=30, env=env, check=False
            )
            return state.stdout.strip() == "idle"

        _wait("the node", idle, 60)
        results: dict[str, Any] = {"daemons_seconds": round(time.monotonic() - started, 1)}
        for name, extra in runs.items():
            began = time.monotonic()
            submitted = subprocess.run(
                ["sbatch", script], cwd=jobdir, capture_output=True, text=True, timeout=60, env=dict(env, **extra),
                check=False,
            )  # fmt: skip
            found = re.search(r"Submitted batch job (\d+)", submitted.stdout)
            result: dict[str, Any] = {"sbatch_rc": submitted.returncode, "sbatch_stderr": submitted.stderr}
            if found:
                job_id = found.group(1)
                deadline = time.monotonic() + JOB_SECONDS
                while _job(job_id, env).get("JobState") not in DONE and time.monotonic() < deadline:
                    time.sleep(0.5)
                shown = _job(job_id, env)
                if shown.get("JobState") not in DONE:  # past the bound: nothing is left running
                    subprocess.run(["scancel", job_id], timeout=60, env=env, check=False)
                result.update(job_id=job_id, state=shown.get("JobState"), exit_code=shown.get("ExitCode"))
            result["seconds"] = round(time.monotonic() - began, 1)
            results[name] = result
        (outdir / "results.json").write_text(json.dumps(results, indent=1))
    finally:
        for daemon in reversed(daemons):
            daemon.terminate()
        for daemon in reversed(daemons):
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
