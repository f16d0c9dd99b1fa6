"""The paper's protocol and the baselines that say what its numbers mean.

For one subject and one feature set: leave-one-word-out predictions of the trial-averaged
high-gamma of every channel from the word's embedding, by

* ``elasticnet`` — the paper's model: ElasticNet(alpha=1, l1_ratio=0.5), unscaled
  inputs and targets, one multi-output model;
* ``intercept`` — each channel's training mean (what the paper's score rewards);
* ``ridge`` — standardised inputs, penalty chosen per channel by inner LOO.

Scores: the paper's (Pearson r and R² across channels for each held-out word, averaged
over words) and the per-channel ones (r and R² across held-out words). The null comes
from the same folds with the word-to-embedding assignment shuffled: every permutation is
another block of target columns, solved together with the real ones.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..constants import PAPER_ENET_ALPHA, PAPER_ENET_L1_RATIO
from .elasticnet import enet_loo
from .folds import leave_one_group_out, permutations
from .ridge import ridge_loo
from .stats import fdr_bh, pearson, perm_pvalue, r2


@dataclass
class Settings:
    """Encoding settings (the ``encoding`` block of the config)."""

    n_perm: int = 200
    seed: int = 0
    enet_alpha: float = PAPER_ENET_ALPHA
    enet_l1_ratio: float = PAPER_ENET_L1_RATIO
    ridge_alphas: tuple = tuple(np.logspace(-2, 6, 17))
    pca_variance: float | None = None
    pca_fit: str = "train"
    tol: float = 1e-4
    max_columns: int = 20000
    extra: dict = field(default_factory=dict)


@dataclass
class Result:
    """channels: per model × channel; words: per held-out word; null: per permutation."""

    channels: pd.DataFrame
    words: pd.DataFrame
    null: pd.DataFrame


def pca_reduce(X_fit, variance, *others):
    """Project onto the principal components of ``X_fit`` that keep ``variance``.

    Returns the projections of ``X_fit`` and of each array in ``others``.
    """
    mean = X_fit.mean(0)
    _, s, Vt = np.linalg.svd(X_fit - mean, full_matrices=False)
    ratio = np.cumsum(s**2) / max((s**2).sum(), 1e-300)
    k = int(np.searchsorted(ratio, variance - 1e-12) + 1)
    basis = Vt[:k].T
    return [(a - mean) @ basis for a in (X_fit, *others)]


def _loo(X, Yall, folds, settings):
    """LOO predictions of the three models for every column of ``Yall``."""
    if settings.pca_variance and settings.pca_fit == "train":
        return _loo_per_fold_pca(X, Yall, folds, settings)
    alphas = np.asarray(settings.ridge_alphas, dtype=float)
    enet, nonzero = _blocks(lambda Yb: enet_loo(X, Yb, folds, settings.enet_alpha,
                                                settings.enet_l1_ratio, tol=settings.tol),
                            Yall, settings.max_columns)
    ridge, chosen = _blocks(lambda Yb: ridge_loo(X, Yb, folds, alphas), Yall,
                            settings.max_columns)
    return enet, nonzero, ridge, alphas[chosen]


def _loo_per_fold_pca(X, Yall, folds, settings):
    """As :func:`_loo`, with the PCA refit on each fold's training rows."""
    n = X.shape[0]
    alphas = np.asarray(settings.ridge_alphas, dtype=float)
    enet = np.empty(Yall.shape)
    ridge = np.empty(Yall.shape)
    nonzero = np.empty((len(folds), Yall.shape[1]), dtype=np.int64)
    chosen = np.empty((len(folds), Yall.shape[1]))
    for f, test in enumerate(folds):
        train = np.setdiff1d(np.arange(n), test)
        Xtr, Xte = pca_reduce(X[train], settings.pca_variance, X[test])
        Xf = np.empty((n, Xtr.shape[1]))
        Xf[train], Xf[test] = Xtr, Xte
        p_e, nz = enet_loo(Xf, Yall, [test], settings.enet_alpha, settings.enet_l1_ratio,
                           tol=settings.tol, warm=False)
        p_r, idx = ridge_loo(Xf, Yall, [test], alphas)
        enet[test], ridge[test], nonzero[f], chosen[f] = p_e[test], p_r[test], nz[0], alphas[idx[0]]
    return enet, nonzero, ridge, chosen


def _blocks(solve, Yall, max_columns):
    """Apply ``solve`` to column blocks of ``Yall``; concatenate its two outputs."""
    outs = [solve(Yall[:, i:i + max_columns]) for i in range(0, Yall.shape[1], max_columns)]
    return np.concatenate([o[0] for o in outs], 1), np.concatenate([o[1] for o in outs], 1)


def evaluate(X, Y, groups, channels, words, settings=None):
    """Run every model and score; see the module docstring.

    X : (n, p) features; Y : (n, q) trial-mean high-gamma; groups : (n,) fold labels
    (the word); channels : (q,) names; words : DataFrame with ``trial``, ``word`` (n rows).
    """
    settings = settings or Settings()
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    n, q = Y.shape
    if X.shape[0] != n:
        raise ValueError(f"X has {X.shape[0]} rows but Y has {n}")
    if settings.pca_variance and settings.pca_fit == "all":
        (X,) = pca_reduce(X, settings.pca_variance)
    folds = leave_one_group_out(groups)
    perms = permutations(n, settings.n_perm, settings.seed)
    order = np.vstack([np.arange(n)[None], perms])          # (P + 1, n)
    Yall = np.concatenate([Y[o] for o in order], axis=1)    # (n, (P + 1) q)
    enet, nonzero, ridge, alpha = _loo(X, Yall, folds, settings)
    intercept = np.empty((n, q))
    for test in folds:
        intercept[test] = np.delete(Y, test, axis=0).mean(0)
    shape = (n, len(order), q)
    word_scores = _word_scores(folds, Yall.reshape(shape), enet.reshape(shape),
                               intercept)
    word_table = words[["trial", "word"]].copy()
    fold_of = np.empty(n, dtype=np.int64)
    for f, test in enumerate(folds):
        fold_of[test] = f
    real_nonzero = nonzero[:, :q].sum(1)
    word_table = word_table.assign(
        pcc=word_scores["pcc"][fold_of, 0], r2=word_scores["r2"][fold_of, 0],
        pcc_intercept=word_scores["pcc_intercept"][fold_of],
        r2_intercept=word_scores["r2_intercept"][fold_of],
        pcc_null_mean=word_scores["pcc"][fold_of, 1:].mean(1),
        r2_null_mean=word_scores["r2"][fold_of, 1:].mean(1),
        n_nonzero=real_nonzero[fold_of])
    null = pd.DataFrame({"perm": np.arange(1, len(order)),
                         "pcc": word_scores["pcc"][:, 1:].mean(0),
                         "r2": word_scores["r2"][:, 1:].mean(0)})
    chans = pd.concat([
        _channel_table("elasticnet", channels, Yall.reshape(shape), enet.reshape(shape),
                       alpha=np.full(q, settings.enet_alpha),
                       n_nonzero=nonzero[:, :q].mean(0)),
        _channel_table("ridge", channels, Yall.reshape(shape), ridge.reshape(shape),
                       alpha=np.median(alpha[:, :q], axis=0),
                       n_nonzero=np.full(q, np.nan)),
    ], ignore_index=True)
    return Result(channels=chans, words=word_table, null=null)


def _word_scores(folds, Ys, Ps, intercept):
    """Across-channel r and R² per fold (the held-out word's rows flattened).

    Ys, Ps : (n, P + 1, q) measured and predicted; intercept : (n, q).
    Returns dict of (n_folds, P + 1) arrays ``pcc``, ``r2`` and (n_folds,) intercept ones.
    """
    out = {k: [] for k in ("pcc", "r2", "pcc_intercept", "r2_intercept")}
    for test in folds:
        y = Ys[test].transpose(1, 0, 2).reshape(Ys.shape[1], -1)   # (P + 1, t q)
        p = Ps[test].transpose(1, 0, 2).reshape(Ps.shape[1], -1)
        out["pcc"].append(pearson(y, p, axis=1))
        out["r2"].append(r2(y, p, axis=1))
        b = intercept[test].reshape(-1)
        out["pcc_intercept"].append(pearson(y[0], b, axis=0))
        out["r2_intercept"].append(r2(y[0], b, axis=0))
    return {k: np.asarray(v) for k, v in out.items()}


def _channel_table(model, channels, Ys, Ps, **extra):
    """Per-channel r and R² across held-out words, with permutation p and BH FDR."""
    pcc = pearson(Ys, Ps, axis=0)            # (P + 1, q)
    r2s = r2(Ys, Ps, axis=0)
    p = perm_pvalue(pcc[0], pcc[1:]) if pcc.shape[0] > 1 else np.full(pcc.shape[1], np.nan)
    return pd.DataFrame({
        "model": model, "channel": list(channels), "pcc": pcc[0], "r2": r2s[0],
        "p_value": p, "p_fdr": fdr_bh(p),
        "pcc_null_mean": pcc[1:].mean(0) if pcc.shape[0] > 1 else np.nan,
        **extra,
    })
