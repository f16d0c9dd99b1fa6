"""End to end: the workflow on a small simulated dataset, run through Snakemake."""

import filecmp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hgrecon.summary import SUMMARY_COLUMNS

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
SMALL = """
simulation: {n_subjects: 2, n_words: 30, n_channels: 12, seed: 3}
encoding: {n_perm: 100}
"""
pytestmark = pytest.mark.slow


def small_config(workdir):
    path = Path(workdir) / "small.yaml"
    path.write_text(SMALL)
    return str(path)


def snakemake(workdir, *extra, check=True, **kwargs):
    cmd = [SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--cores", "2", "--configfile", small_config(workdir), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run")
    snakemake(workdir)
    return workdir


def test_summary_has_the_promised_columns_and_rows(run_dir):
    summary = pd.read_csv(run_dir / "results/tables/summary.csv", dtype={"subject": str})
    assert list(summary.columns[:len(SUMMARY_COLUMNS)]) == SUMMARY_COLUMNS
    assert len(summary) == 2 * 4
    assert set(summary.feature) == {"minilm", "mel", "random", "planted"}
    assert (summary.n_words == 30).all()
    # the workflow wrote only under its --directory
    assert (run_dir / "data/synthetic/participants.tsv").exists()


def test_planted_channels_found_and_noise_channels_spared(run_dir):
    truth = pd.read_csv(run_dir / "data/synthetic/derivatives/simulation/channels.tsv",
                        sep="\t", dtype={"subject": str})
    hits = misses = false_pos = noise = 0
    for subject, table in truth.groupby("subject"):
        label = subject.removeprefix("sub-")
        ch = pd.read_parquet(run_dir / f"results/encoding/sub-{label}/planted.parquet")
        ridge = ch[ch.model == "ridge"].set_index("channel")
        sig = ridge.p_fdr < 0.05
        word = table[table.kind == "word"].channel
        quiet = table[table.kind == "noise"].channel
        hits += sig[word].sum()
        misses += (~sig[word]).sum()
        false_pos += sig[quiet].sum()
        noise += len(quiet)
    assert hits >= 0.8 * (hits + misses), (hits, misses)
    assert false_pos <= 0.1 * noise + 1, (false_pos, noise)
    # the random control finds (almost) nothing
    summary = pd.read_csv(run_dir / "results/tables/summary.csv", dtype={"subject": str})
    assert summary[summary.feature == "random"].n_channels_sig.sum() <= 1


def test_intercept_score_matches_an_independent_computation(run_dir):
    trials = pd.read_parquet(run_dir / "results/trials/sub-01.parquet")
    Y = trials.drop(columns=["trial", "word", "onset_s"]).to_numpy()
    expected = np.mean([np.corrcoef(Y[i], np.delete(Y, i, 0).mean(0))[0, 1]
                        for i in range(len(Y))])
    summary = pd.read_csv(run_dir / "results/tables/summary.csv", dtype={"subject": str})
    got = summary[summary.subject == "01"].paper_pcc_intercept
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_all_zero_elasticnet_scores_exactly_the_intercept(run_dir):
    for path in (run_dir / "results/encoding").glob("sub-*/*_words.parquet"):
        words = pd.read_parquet(path)
        zero = words.n_nonzero == 0
        np.testing.assert_allclose(words.pcc[zero], words.pcc_intercept[zero], rtol=1e-9)


def test_second_run_has_nothing_to_do(run_dir):
    proc = snakemake(run_dir, "--dry-run")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def outputs(workdir):
    root = Path(workdir) / "results"
    return sorted(p.relative_to(root) for p in root.rglob("*")
                  if p.suffix in {".parquet", ".h5", ".csv"} and ".cache" not in p.parts
                  and "logs" not in p.parts)


def test_two_runs_give_identical_bytes(run_dir, tmp_path):
    snakemake(tmp_path)
    files = outputs(run_dir)
    assert files == outputs(tmp_path) and len(files) > 20
    differ = [str(f) for f in files
              if not filecmp.cmp(run_dir / "results" / f, tmp_path / "results" / f,
                                 shallow=False)]
    assert differ == []


def test_interrupted_run_resumes_to_identical_results(run_dir, tmp_path):
    cmd = [SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path),
           "--cores", "2", "--configfile", small_config(tmp_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    encoding = tmp_path / "results/encoding"
    while time.time() < deadline and proc.poll() is None:
        if encoding.exists() and any(encoding.rglob("*.parquet")):
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before encoding could be interrupted"
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=120)
    assert not (tmp_path / "results/tables/summary.csv").exists()
    leftovers = [p for p in (tmp_path / "results").rglob("*.part")]
    assert leftovers == []
    snakemake(tmp_path, "--rerun-incomplete")
    for f in outputs(run_dir):
        assert filecmp.cmp(run_dir / "results" / f, tmp_path / "results" / f, shallow=False), f
