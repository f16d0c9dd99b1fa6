"""The torch backend (CPU here; CUDA is the same code) equals the numpy backend."""

import numpy as np
import pandas as pd
import pytest

from hgrecon.encoding import FrameSettings, Settings, evaluate, evaluate_frames
from hgrecon.encoding import elasticnet as enet_mod
from hgrecon.encoding.backend import get_backend
from hgrecon.encoding.elasticnet import enet_loo
from hgrecon.encoding.kernel import pca_reduce
from hgrecon.encoding.ridge import ridge_loo, ridge_nested_loo

pytest.importorskip("torch")


def data(n=20, p=30, q=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.2, 3, p) + 3
    Y = X[:, :3] @ rng.normal(size=(3, q)) * 0.4 + rng.normal(size=(n, q)) + 5
    return X, Y


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match="backend must be one of"):
        get_backend("jax")


@pytest.mark.parametrize("solver", ["nested", "loo", "loo_pca", "enet", "enet_large",
                                    "enet_pca_scores"])
def test_solvers_equal_across_backends(solver, monkeypatch):
    X, Y = data()
    if solver == "enet_large":               # large supports: exact checks, expansion rounds
        X, Y = data(p=60)
        monkeypatch.setattr(enet_mod, "CANDIDATES", 4)
    if solver == "enet_pca_scores":          # diagonal Gram: the one-dimensional solve
        (X,) = pca_reduce(X, 0.9)
    folds = [np.array([i]) for i in range(20)]
    alphas = np.logspace(-1, 3, 5)
    run = {"nested": lambda b: ridge_nested_loo(X, Y, folds, alphas, backend=b),
           "loo": lambda b: ridge_loo(X, Y, folds, alphas, backend=b),
           "loo_pca": lambda b: ridge_loo(X, Y, folds, alphas, backend=b, pca_variance=0.8),
           "enet": lambda b: enet_loo(X, Y, folds, 0.3, 0.5, tol=1e-10, backend=b),
           "enet_large": lambda b: enet_loo(X, Y, folds, 0.001, 0.5, tol=1e-10, backend=b),
           "enet_pca_scores": lambda b: enet_loo(X, Y, folds, 0.05, 0.5, tol=1e-10, backend=b),
           }[solver]
    (p_np, i_np), (p_t, i_t) = run("numpy"), run("torch")
    # enet_large: numpy takes the exact leave-one-out path, torch coordinate descent to
    # tol 1e-10; on this near-singular design (p = 3n, l2 = 0.01) rounding amplified by
    # the conditioning parts them by up to 4e-9, each within 4e-9 of scikit-learn at 1e-14
    tol = 1e-8 if solver == "enet_large" else 1e-9
    np.testing.assert_allclose(p_t, p_np, rtol=tol, atol=tol)
    np.testing.assert_array_equal(i_t, i_np)


def test_protocols_equal_across_backends():
    X, Y = data(n=16)
    words = pd.DataFrame({"trial": np.arange(16), "word": [f"w{i}" for i in range(16)]})
    res = [evaluate(X, Y, words.word.values, list("abcde"), words,
                    Settings(n_perm=5, backend=b, tol=1e-10)) for b in ("numpy", "torch")]
    pd.testing.assert_frame_equal(res[0].channels, res[1].channels, rtol=1e-8)
    pd.testing.assert_frame_equal(res[0].words, res[1].words, rtol=1e-8)
    rng = np.random.default_rng(0)
    n_frames = 1500
    onsets = 1.0 + 2.6 * np.arange(5)
    words = pd.DataFrame({"trial": np.arange(5), "word": list("abcde"), "onset_s": onsets})
    hg = rng.normal(size=(n_frames, 3))
    feats = rng.normal(size=(n_frames, 2))
    res = [evaluate_frames(hg, np.arange(n_frames) * 0.01, words, list("xyz"),
                           np.zeros(n_frames, bool),
                           FrameSettings(lags_ms=(0, 50), n_perm=3, n_shift=3, inner_folds=2,
                                         models=("ridge", "elasticnet"), enet_alpha=0.02,
                                         backend=b),
                           features=feats) for b in ("numpy", "torch")]
    pd.testing.assert_frame_equal(res[0].table, res[1].table, rtol=1e-7)
