"""Bad input through the whole workflow: a non-zero exit and one line naming file and problem."""

import subprocess
import sys
from pathlib import Path

import pytest

from hgrecon.simulate import simulate_dataset

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("bids")
    simulate_dataset(root, {"n_subjects": 1, "n_words": 10, "n_channels": 6})
    return root


def copy_dataset(src, dst):
    subprocess.run(["cp", "-r", str(src), str(dst)], check=True)
    return dst


RANDOM = "features:\n  random: {kind: random, dim: 8}"


def run(workdir, bids, *config, features=RANDOM):
    """Run the workflow with its config replaced by ``bids_root``, features and extras."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "cfg.yaml"
    cfg.write_text("\n".join([f"bids_root: {bids}", features, *config]) + "\n")
    return subprocess.run([SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory",
                           str(workdir), "--cores", "1", "--configfile", str(cfg),
                           "--replace-workflow-config", "results/tables/summary.csv"],
                          capture_output=True, text=True)


def test_truncated_nwb_stops_with_the_file_named(dataset, tmp_path):
    bids = copy_dataset(dataset, tmp_path / "bids")
    nwb = bids / "sub-01/ieeg/sub-01_task-wordProduction_ieeg.nwb"
    nwb.write_bytes(nwb.read_bytes()[:4096])
    proc = run(tmp_path / "run", bids)
    assert proc.returncode != 0
    line = next(l for l in proc.stderr.splitlines() if l.startswith("hgrecon: "))
    assert "sub-01_task-wordProduction_ieeg.nwb" in line
    assert not (tmp_path / "run/results/ingest/sub-01.h5").exists()


def test_channel_table_mismatch_stops_with_both_counts(dataset, tmp_path):
    bids = copy_dataset(dataset, tmp_path / "bids")
    channels = bids / "sub-01/ieeg/sub-01_task-wordProduction_channels.tsv"
    lines = channels.read_text().splitlines()
    channels.write_text("\n".join(lines[:-1]) + "\n")
    proc = run(tmp_path / "run", bids)
    assert proc.returncode != 0
    line = next(l for l in proc.stderr.splitlines() if l.startswith("hgrecon: "))
    assert "channels.tsv" in line and "6" in line and "5" in line


def test_unknown_model_stops_with_the_key_and_the_path(dataset, tmp_path):
    proc = run(tmp_path / "run", dataset,
               features="features:\n  lm: {kind: text, model: /nonexistent/model-dir}")
    assert proc.returncode != 0
    assert "features.lm.model" in proc.stderr + proc.stdout
    assert "/nonexistent/model-dir" in proc.stderr + proc.stdout


def test_the_dataset_is_never_written(dataset, tmp_path):
    before = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in dataset.rglob("*")}
    proc = run(tmp_path / "run", dataset, "encoding: {n_perm: 5}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    after = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in dataset.rglob("*")}
    assert before == after
