"""Small synthetic encode outputs, to try the figures and the table without the pipeline.

:func:`write_demo` runs :func:`hgrecon.encoding.evaluate` on random data (some channels
driven by the features, the others noise, every channel with its own mean level) and
writes the three encode outputs per subject × feature, plus a BIDS ``_electrodes.tsv``
and ``_coordsystem.json`` per subject, in the layout the figure rules read.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..encoding import Settings, evaluate
from ..io import atomic_path, write_parquet
from ..summary import encoding_paths


def demo_subject(seed, n_words=16, n_channels=8, n_features=5, n_driven=3, n_perm=40,
                 gain=1.5):
    """The encode Result and contact positions of one synthetic subject."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_words, n_features))
    weights = np.zeros((n_features, n_channels))
    weights[:, :n_driven] = rng.normal(size=(n_features, n_driven)) * gain
    Y = X @ weights + rng.normal(size=(n_words, n_channels)) + rng.uniform(5, 50, n_channels)
    names = [f"{'LR'[i % 2]}A{i // 2 + 1}" for i in range(n_channels)]
    words = pd.DataFrame({"trial": np.arange(n_words),
                          "word": [f"woord{i:02d}" for i in range(n_words)]})
    result = evaluate(X, Y, words["word"].to_numpy(), names, words,
                      Settings(n_perm=n_perm, seed=seed))
    xyz = rng.uniform(-60, 60, size=(n_channels, 3)).round(2)
    electrodes = pd.DataFrame({"name": names, "x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2],
                               "size": 5.0})
    return result, electrodes


def write_demo(root, bids_root, subjects=("01", "02"), features=("alpha", "beta"), **kwargs):
    """Write encode outputs under ``root`` and electrodes under ``bids_root``.

    Returns {(subject, feature): Result}. Keyword arguments go to :func:`demo_subject`.
    """
    results = {}
    for i, subject in enumerate(subjects):
        for j, feature in enumerate(features):
            res, electrodes = demo_subject(seed=100 * i + j, **kwargs)
            out_ch, out_words, out_null = encoding_paths(root, subject, feature)
            write_parquet(res.channels.assign(n_features=kwargs.get("n_features", 5),
                                              pca_variance=None, pca_fit="none"), out_ch)
            write_parquet(res.words, out_words)
            write_parquet(res.null, out_null)
            results[(subject, feature)] = res
        # named as in the real dataset (and the simulator): with the space entity
        ieeg = Path(bids_root) / f"sub-{subject}" / "ieeg"
        stem = f"sub-{subject}_task-wordProduction_space-ACPC"
        tsv, coords = ieeg / f"{stem}_electrodes.tsv", ieeg / f"{stem}_coordsystem.json"
        # positions depend on the subject only: take those of its first feature's draw
        _, electrodes = demo_subject(seed=100 * i, **kwargs)
        with atomic_path(tsv) as tmp:
            electrodes.to_csv(tmp, sep="\t", index=False)
        with atomic_path(coords) as tmp:
            tmp.write_text(json.dumps({"iEEGCoordinateSystem": "ACPC",
                                       "iEEGCoordinateUnits": "mm"}))
    return results


def demo_paths(root, subject, features):
    """The ``_words.parquet`` files of one subject, in feature order."""
    return [encoding_paths(root, subject, f)[1] for f in features]


__all__ = ["demo_paths", "demo_subject", "write_demo"]
