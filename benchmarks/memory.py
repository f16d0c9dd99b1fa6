"""Peak memory of every stage on one paper-sized participant (100 words x 120 channels).

Each stage runs in its own process under ``/usr/bin/time -v`` (the peak resident set
size it reports is what a SLURM job's memory limit sees). Usage::

    .venv/bin/python benchmarks/memory.py [--workdir DIR] [--n-perm 200] [--lags 7]

The frame-level encode runs the config's defaults (100 shuffles, 100 shifts, ridge) on
the first ``--lags`` lags of -200, -100, ..., 400 ms.
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAPER = {"n_subjects": 1, "n_words": 100, "n_channels": 120, "seed": 0}

STAGES = {
    "simulate": "from hgrecon.simulate import simulate_dataset; "
                "simulate_dataset('{w}/bids', {paper})",
    "ingest": "from hgrecon.ingest import run; "
              "run('{w}/bids', '01', '{w}/ingest.h5', '{w}/words.parquet')",
    "high_gamma": "from hgrecon.highgamma import run; run('{w}/ingest.h5', '{w}/hg.h5')",
    "trials": "from hgrecon.trials import run; run('{w}/hg.h5', '{w}/ingest.h5', "
              "'{w}/words.parquet', '{w}/trials.parquet', '{w}/audio.h5')",
    "embed (minilm)": "from hgrecon.embeddings import run_words; run_words('minilm', "
                      "{{'kind': 'text', 'model': 'minilm'}}, ['{w}/words.parquet'], "
                      "'{w}/minilm.h5', threads=2)",
    "encode (minilm)": "from hgrecon.encoding import run, Settings; run('{w}/trials.parquet', "
                       "'{w}/minilm.h5', '{w}/c.parquet', '{w}/w.parquet', '{w}/n.parquet', "
                       "Settings(n_perm={n_perm}))",
    "embed_frames (mel)": "from hgrecon.align import embed_frames; embed_frames("
                          "'{w}/ingest.h5', '{w}/hg.h5', '{w}/mel.h5', {{'kind': 'mel'}}, "
                          "name='mel')",
    "encode_frames (mel)": "from hgrecon.encoding import FrameSettings, run_frames; "
                           "run_frames('{w}/hg.h5', '{w}/ingest.h5', '{w}/words.parquet', "
                           "'{w}/mel.h5', '{w}/f.parquet', '{w}/f.h5', FrameSettings("
                           "lags_ms={lags}), frame_features=True)",
}


def peak_mib(code):
    """Run ``code`` in a fresh interpreter; return (seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-c", code],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)[1])
    return time.perf_counter() - start, kib / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--n-perm", type=int, default=200)
    parser.add_argument("--lags", type=int, default=7)
    args = parser.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="hgrecon-mem-"))
    print(f"{'stage':<18}{'seconds':>9}{'peak MiB':>10}")
    for stage, template in STAGES.items():
        code = template.format(w=workdir, paper=PAPER, n_perm=args.n_perm,
                               lags=tuple(range(-200, 401, 100))[:args.lags])
        seconds, mib = peak_mib(code)
        print(f"{stage:<18}{seconds:>9.1f}{mib:>10.0f}", flush=True)


if __name__ == "__main__":
    main()
