"""Throughput of the embedding kinds through the stage functions (no cache).

Text: words/s for the real all-MiniLM-L6-v2 (offline copy), a tiny GPT-2 (2 layers x 32)
and a GPT-2-small-sized random model (12 layers x 768; the vocabulary is the small test
tokenizer's, which does not change the cost of the layers). Audio: seconds of audio per
second for a wav2vec2-base-sized random model (``Wav2Vec2Config()`` defaults), on 2 s
trials and on a continuous recording (frame path, 20 s chunks), and for the log-mel.
Model loading is timed separately (a one-item call) and left out of the rates.

    .venv/bin/python benchmarks/embeddings.py [--threads 2] [--device cpu|cuda|all]
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from hgrecon.embeddings import frame_features, run_trials, run_words, tiny
from hgrecon.words_nl import WORDS

SR = 16000


def _words(n):
    suffixes = ["", "en", "je", "tje", "s", "ig", "heid", "er"]
    words = [w + s for s in suffixes for w in WORDS]
    return sorted(set(words))[:n]


def _words_file(folder, words):
    return tiny.words_file(Path(folder) / f"w{len(words)}.parquet", words)


def _audio_files(folder, n_trials):
    words = _words(n_trials)
    audio = np.random.default_rng(0).standard_normal((n_trials, 2 * SR)) * 0.1
    return (tiny.trial_audio_file(Path(folder) / f"a{n_trials}.h5", audio, words, SR),
            _words_file(folder, words))


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_text(folder, name, spec, n_words, device, threads):
    small, big = _words_file(folder, _words(1)), _words_file(folder, _words(n_words))
    out = Path(folder) / "out.h5"
    load = _timed(lambda: run_words(name, spec, [small], out, device=device, threads=threads))
    total = _timed(lambda: run_words(name, spec, [big], out, device=device, threads=threads))
    return load, n_words / max(total - load, 1e-9), "words/s"


def bench_audio_trials(folder, name, spec, n_trials, device, threads):
    small, big = _audio_files(folder, 1), _audio_files(folder, n_trials)
    out = Path(folder) / "out.h5"
    load = _timed(lambda: run_trials(name, spec, *small, out, device=device, threads=threads))
    total = _timed(lambda: run_trials(name, spec, *big, out, device=device, threads=threads))
    return load, 2.0 * n_trials / max(total - load, 1e-9), "audio s/s"


def bench_frames(spec, seconds, device, threads):
    audio = (np.random.default_rng(1).standard_normal(int(seconds * SR)) * 0.1).astype(
        np.float32)
    times = np.arange(int((seconds - 0.05) / 0.01)) * 0.01
    load = _timed(lambda: frame_features(spec, audio[:SR], SR, times[:50], device=device,
                                         threads=threads))
    total = _timed(lambda: frame_features(spec, audio, SR, times, device=device,
                                          threads=threads))
    return load, seconds / max(total - load, 1e-9), "audio s/s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    parser.add_argument("--words", type=int, default=400)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch

    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    devices = [d for d in devices if d == "cpu" or torch.cuda.is_available()]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        gpt2_tiny = tiny.gpt2(Path(folder) / "gpt2-tiny")
        gpt2_small = tiny.gpt2(Path(folder) / "gpt2-small", n_layer=12, n_embd=768, n_head=12)
        w2v_base = tiny.wav2vec2(Path(folder) / "w2v-base", config={})
        for device in devices:
            cases = [
                ("minilm (real)", lambda: bench_text(folder, "minilm", {"kind": "text"},
                                                     args.words, device, args.threads)),
                ("gpt2 tiny 2x32", lambda: bench_text(
                    folder, "g", {"kind": "text", "model": str(gpt2_tiny)}, args.words,
                    device, args.threads)),
                ("gpt2-small size 12x768", lambda: bench_text(
                    folder, "g", {"kind": "text", "model": str(gpt2_small)}, args.words,
                    device, args.threads)),
                ("wav2vec2-base size, trials", lambda: bench_audio_trials(
                    folder, "w", {"kind": "audio", "model": str(w2v_base)}, args.trials,
                    device, args.threads)),
                ("wav2vec2-base size, frames", lambda: bench_frames(
                    {"kind": "audio", "model": str(w2v_base)}, args.seconds, device,
                    args.threads)),
                ("mel, trials", lambda: bench_audio_trials(
                    folder, "m", {"kind": "mel"}, args.trials * 5, device, args.threads)),
                ("mel, frames", lambda: bench_frames({"kind": "mel"}, args.seconds * 5,
                                                     device, args.threads)),
            ]
            if device == "cuda":
                cases.append(("gpt2-small size fp16", lambda: bench_text(
                    folder, "g", {"kind": "text", "model": str(gpt2_small), "dtype": "float16"},
                    args.words, device, args.threads)))
            for label, case in cases:
                load, rate, unit = case()
                rows.append({"device": device, "case": label, "load_s": round(load, 2),
                             "rate": round(rate, 1), "unit": unit})
                print(rows[-1], flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
