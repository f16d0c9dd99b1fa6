"""Cross-validated encoding models: the solvers and the protocols built on them.

``run`` is what the ``encode`` rule calls: one subject × one feature set.
"""

import numpy as np

from ..io import read_parquet, write_parquet
from .protocol import Result, Settings, evaluate

__all__ = ["Result", "Settings", "evaluate", "run", "META_COLUMNS"]

#: Columns of the trials table that are not channels.
META_COLUMNS = ("trial", "word", "onset_s")


def settings_from_config(encoding, feature_spec):
    """Build :class:`Settings` from the config's ``encoding`` block and a feature spec."""
    grid = encoding["ridge_alpha_grid"]
    return Settings(
        n_perm=encoding["n_perm"], seed=encoding["seed"],
        enet_alpha=encoding["enet_alpha"], enet_l1_ratio=encoding["enet_l1_ratio"],
        ridge_alphas=tuple(np.logspace(np.log10(grid["low"]), np.log10(grid["high"]),
                                       grid["n"])),
        pca_variance=feature_spec.get("pca_variance"), pca_fit=encoding["pca_fit"],
        tol=encoding["enet_tol"])


def run(trials_parquet, features_h5, out_channels, out_words, out_null, settings):
    """Encode one subject's trial-mean high-gamma from one feature file.

    Writes the per-channel table (``out_channels``), the per-word paper scores
    (``out_words``) and the permutation null of the paper score (``out_null``).
    """
    from ..embeddings import load_features

    trials = read_parquet(trials_parquet)
    channels = [c for c in trials.columns if c not in META_COLUMNS]
    X = load_features(features_h5, trials)
    res = evaluate(X, trials[channels].to_numpy(float), trials["word"].to_numpy(),
                   channels, trials, settings)
    meta = {"n_features": X.shape[1], "pca_variance": settings.pca_variance,
            "pca_fit": settings.pca_fit if settings.pca_variance else "none"}
    write_parquet(res.channels.assign(**meta), out_channels)
    write_parquet(res.words, out_words)
    write_parquet(res.null, out_null)
