"""The pipeline through the SLURM profile on a real (single-node) SLURM cluster.

Runs only with HGRECON_SLURM_TEST=1, on a cluster that tests/slurm/start_cluster.sh
started (partitions `cpu` and `gpu`, one declared GPU, squeue keeps finished jobs):

    sudo tests/slurm/start_cluster.sh
    HGRECON_SLURM_TEST=1 .venv/bin/pytest -m slurm
    sudo tests/slurm/stop_cluster.sh

It runs the small synthetic dataset twice, with the workstation profile (`--cores 2`)
and with workflow/profiles/slurm, and checks that every job of the DAG was submitted
with `sbatch` (a PATH shim records each call) and completed under SLURM, that the
embedding job of the model feature asked for a GPU in the GPU partition and the others
did not, and that the results are identical.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
SMALL = {
    "simulation": {"n_subjects": 2, "n_words": 16, "n_channels": 8},
    "encoding": {"n_perm": 20},
}
MODEL_KINDS = {"text", "audio"}   # the kinds that run a torch model (hgrecon.embeddings)

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("HGRECON_SLURM_TEST") != "1",
                       reason="SLURM test: set HGRECON_SLURM_TEST=1 after "
                              "tests/slurm/start_cluster.sh"),
]

SHIM = """#!{python}
# sbatch as the SLURM plugin calls it, recorded: argv, exit status and output.
import json, os, subprocess, sys, uuid
data = sys.stdin.read() if not sys.stdin.isatty() else ""
p = subprocess.run([{real!r}, *sys.argv[1:]], input=data or None, text=True,
                   capture_output=True, stdin=None if data else subprocess.DEVNULL)
record = {{"argv": sys.argv[1:], "rc": p.returncode, "out": p.stdout, "err": p.stderr}}
with open(os.path.join({log!r}, uuid.uuid4().hex + ".json"), "w") as f:
    json.dump(record, f)
sys.stdout.write(p.stdout)
sys.stderr.write(p.stderr)
sys.exit(p.returncode)
"""


def _cluster_or_fail():
    if shutil.which("sbatch") is None or shutil.which("squeue") is None:
        pytest.fail("HGRECON_SLURM_TEST=1 but sbatch/squeue are not installed: "
                    "run tests/slurm/start_cluster.sh")
    out = subprocess.run(["sinfo", "-h", "-o", "%R %t"], capture_output=True, text=True)
    states = dict(line.split() for line in out.stdout.splitlines() if line.strip())
    if out.returncode != 0 or not {"cpu", "gpu"} <= set(states):
        pytest.fail("no SLURM cluster with partitions cpu and gpu answers "
                    f"(sinfo: {out.stdout.strip() or out.stderr.strip()}); "
                    "run tests/slurm/start_cluster.sh")


def _start(workdir, *args, env=None):
    """Start Snakemake on the small config in ``workdir``; output to snakemake.out."""
    cmd = [str(SNAKEMAKE), "--snakefile", str(ROOT / "Snakefile"),
           "--configfile", "small.yaml", *args]
    out = open(workdir / "snakemake.out", "w")
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc, cmd, out, time.monotonic()


def _wait(run, timeout=1500):
    """Wait for a run from _start; its log and wall-clock seconds."""
    proc, cmd, out, t0 = run
    try:
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.terminate()     # Snakemake cancels its SLURM jobs on SIGTERM
            proc.wait(60)
        out.close()
    seconds = time.monotonic() - t0
    log = Path(out.name).read_text()
    assert proc.returncode == 0, f"{shlex.join(cmd)} failed:\n{log[-6000:]}"
    return log, seconds


def _job_stats(log):
    """Rule -> job count from the 'Job stats' table Snakemake prints before running."""
    table = log.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    counts = {}
    for line in table.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] not in ("total",):
            counts[parts[0]] = int(parts[1])
    return counts


def _local_jobs(log):
    """(rule, has outputs) of each job Snakemake ran itself ('localrule ...')."""
    jobs = []
    for block in re.split(r"\n(?=\[|\S)", log):
        m = re.match(r"localrule (\w+):", block)
        if m:
            jobs.append((m.group(1), bool(re.search(r"^    output:", block, re.M))))
    return jobs


def _declared_localrules():
    """Rules the workflow declares `localrules:` (they run in the Snakemake process)."""
    names = set()
    for path in [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]:
        for block in re.findall(r"^localrules:((?:\s*\w+,?)+)", path.read_text(), re.M):
            names.update(re.findall(r"\w+", block))
    return names


def _target_jobs(argv):
    """(rule, wildcards) of the jobs one sbatch call runs, from its --wrap command."""
    wrap = next(a.split("=", 1)[1] for a in argv if a.startswith("--wrap="))
    words = shlex.split(wrap)
    i = words.index("--target-jobs") + 1
    jobs = []
    while i < len(words) and not words[i].startswith("--"):
        rule, _, wildcards = words[i].partition(":")
        jobs.append((rule, wildcards))
        i += 1
    return jobs


def _option(argv, short, long):
    """Value of an sbatch option given as `-p X`, `--partition X` or `--partition=X`."""
    for i, a in enumerate(argv):
        if a in (short, long) and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(long + "="):
            return a.split("=", 1)[1]
    return None


def _results(workdir):
    res = workdir / "results"
    return {"summary": pd.read_csv(res / "tables" / "summary.csv"),
            **{str(p.relative_to(res)): pd.read_parquet(p)
               for p in sorted((res / "encoding").rglob("*.parquet"))}}


def test_pipeline_through_slurm_profile_matches_local_run(tmp_path):
    _cluster_or_fail()
    local, slurm, calls, shim = (tmp_path / d for d in ("local", "slurm", "calls", "bin"))
    for d in (local, slurm, calls, shim):
        d.mkdir()
    for d in (local, slurm):
        (d / "small.yaml").write_text(yaml.safe_dump(SMALL))

    # the SLURM profile, with sbatch recorded, and meanwhile (the SLURM run mostly waits)
    # the reference: the workstation profile
    (shim / "sbatch").write_text(SHIM.format(python=sys.executable,
                                             real=shutil.which("sbatch"), log=str(calls)))
    (shim / "sbatch").chmod(0o755)
    env = {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}"}
    slurm_run = _start(
        slurm, "--workflow-profile", str(ROOT / "workflow/profiles/slurm"),
        "--slurm-no-account", "--slurm-status-command", "squeue",
        "--slurm-init-seconds-before-status-checks", "5", "--slurm-keep-successful-logs",
        env=env)
    local_run = _start(
        local, "--workflow-profile", str(ROOT / "workflow/profiles/default"), "--cores", "2")
    try:
        local_log, local_s = _wait(local_run)
    except BaseException:
        slurm_run[0].terminate()   # Snakemake cancels its SLURM jobs on SIGTERM
        slurm_run[0].wait(120)
        raise
    slurm_log, slurm_s = _wait(slurm_run)
    print(f"\nlocal run {local_s:.0f} s, SLURM run {slurm_s:.0f} s (at the same time)")

    # 1. every job of the DAG went through sbatch, except target rules without outputs
    #    (`all`) and rules that the workflow declares `localrules:`
    expected = Counter(_job_stats(slurm_log))
    assert expected == Counter(_job_stats(local_log))
    local_jobs = _local_jobs(slurm_log)
    declared = _declared_localrules()
    assert ("all", False) in local_jobs
    assert not [rule for rule, out in local_jobs if out and rule not in declared], \
        f"jobs that write files ran outside SLURM: {local_jobs}"
    expected.subtract(Counter(rule for rule, _ in local_jobs))
    records = [json.loads(p.read_text()) for p in sorted(calls.glob("*.json"))]
    assert records and all(r["rc"] == 0 for r in records), [r["err"] for r in records]
    submitted = [(job, r) for r in records for job in _target_jobs(r["argv"])]
    assert Counter(rule for (rule, _), _ in submitted) == +expected
    assert len({job for job, _ in submitted}) == len(submitted), "a job was submitted twice"
    # the profile's grouping: a subject's ingest, high_gamma and trials share one job
    preprocess = [r for r in records if {rule for rule, _ in _target_jobs(r["argv"])}
                  == {"ingest", "high_gamma", "trials"}]
    assert len(preprocess) == SMALL["simulation"]["n_subjects"]

    # 2. the model feature's embedding job asked for one GPU in the GPU partition, the
    #    others for none, in the CPU partition
    features = yaml.safe_load((ROOT / "config/config.yaml").read_text())["features"]
    model_features = {name for name, spec in features.items() if spec["kind"] in MODEL_KINDS}
    assert model_features, "the default config has no model feature to put on a GPU"
    gpu_jobs = 0
    for r in records:
        jobs = _target_jobs(r["argv"])
        wants_gpu = any(rule.startswith("embed_")
                        and re.search(r"feature=([^,]+)", wc).group(1) in model_features
                        for rule, wc in jobs)
        gpus = _option(r["argv"], "-G", "--gpus")
        partition = _option(r["argv"], "-p", "--partition")
        if wants_gpu:
            gpu_jobs += 1
            assert (gpus, partition) == ("1", "gpu"), (jobs, r["argv"][:-1])
        else:
            assert gpus is None and not any(a.startswith("--gres") for a in r["argv"]), jobs
            assert partition == "cpu", (jobs, partition)
    assert gpu_jobs > 0, "no embedding job of a model feature was submitted"

    # 3. SLURM ran every job to completion, and granted the GPU
    job_ids = {r["out"].strip().split(";")[0]: r for r in records}
    out = subprocess.run(["squeue", "-h", "-t", "all", "-j", ",".join(job_ids),
                          "-O", "JobID:20,State:20,Partition:20,tres-per-job:40"],
                         capture_output=True, text=True, check=True).stdout
    seen = {}
    for line in out.splitlines():
        jid, state, partition, tres = (line.split() + [""] * 4)[:4]
        seen[jid] = (state, partition, tres)
    assert set(seen) == set(job_ids), "squeue lost jobs (MinJobAge too low?)"
    for jid, (state, partition, tres) in seen.items():
        assert state == "COMPLETED", (jid, state, _target_jobs(job_ids[jid]["argv"]))
        assert ("gpu" in tres) == (_option(job_ids[jid]["argv"], "-G", "--gpus") == "1")
    slurm_logs = {p.stem for p in (slurm / ".snakemake" / "slurm_logs").rglob("*.log")}
    assert set(job_ids) <= slurm_logs

    # 4. same results as the local run
    want, got = _results(local), _results(slurm)
    assert list(got) == list(want) and len(want) > 1
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], check_exact=True, obj=name)
