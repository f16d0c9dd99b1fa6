"""The paper's protocol and the baselines that say what its numbers mean.

For one subject and one feature set: leave-one-word-out predictions of the trial-averaged
high-gamma of every channel from the word's embedding, by

* ``elasticnet`` — the paper's model: ElasticNet(alpha=1, l1_ratio=0.5), unscaled
  inputs and targets, one multi-output model;
* ``intercept`` — each channel's training mean (what the paper's score rewards);
* ``ridge`` — standardised inputs (``Settings.ridge_scale``), penalty chosen per
  channel (and per permutation) by inner leave-one-out on each fold's training words.

Scores: the paper's (Pearson r and R² across channels for each held-out word, averaged
over words) and the per-channel ones (r and R² across held-out words). The null comes
from the same folds with the word-to-embedding assignment shuffled: every permutation is
another block of target columns, solved together with the real ones.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..constants import PAPER_ENET_ALPHA, PAPER_ENET_L1_RATIO
from .backend import get_backend
from .elasticnet import check_penalty, enet_loo
from .folds import leave_one_group_out, permutations
from .kernel import pca_reduce
from .ridge import check_alphas, ridge_nested_loo, ridge_splits
from .stats import fdr_bh, pearson, perm_pvalue, r2, scores_along_rows

MODELS = ("elasticnet", "ridge")
SCALES = ("train", "all")
PCA_FITS = ("train", "all")


@dataclass
class Settings:
    """Encoding settings (the ``encoding`` block of the config).

    ridge_scale : ``train`` standardises the features on each fold's training trials
    (:func:`.ridge.ridge_loo`: one decomposition per fold and one product with the
    targets per fold and penalty); ``all`` on all trials — label-free (the targets are
    never used) and the same in every fold and permutation, so one decomposition serves
    every fold exactly (:func:`.ridge.ridge_nested_loo`), about ten times faster with
    many permutations. With a PCA fit on the training trials the PCA scores are
    standardised on them whatever this says.
    backend : ``numpy``, ``torch`` or ``torch_cuda`` (:mod:`.backend`).
    """

    n_perm: int = 200
    seed: int = 0
    enet_alpha: float = PAPER_ENET_ALPHA
    enet_l1_ratio: float = PAPER_ENET_L1_RATIO
    ridge_alphas: tuple = tuple(np.logspace(-2, 6, 17))
    pca_variance: float | None = None
    pca_fit: str = "train"
    tol: float = 1e-4
    ridge_scale: str = "train"
    models: tuple = MODELS
    backend: str = "numpy"

    def __post_init__(self):
        for name, value, options in (("pca_fit", self.pca_fit, PCA_FITS),
                                     ("ridge_scale", self.ridge_scale, SCALES)):
            if value not in options:
                raise ValueError(f"{name} must be one of {options}, got {value!r}")
        if not self.models or set(self.models) - set(MODELS):
            raise ValueError(f"models must be a non-empty subset of {MODELS}, got {self.models!r}")
        if not (isinstance(self.n_perm, (int, np.integer)) and self.n_perm >= 0):
            raise ValueError(f"n_perm must be a non-negative integer, got {self.n_perm!r}")
        check_penalty(self.enet_alpha, self.enet_l1_ratio)
        check_alphas(self.ridge_alphas)
        get_backend(self.backend)


@dataclass
class Result:
    """channels: per model × channel; words: per held-out word; null: per permutation."""

    channels: pd.DataFrame
    words: pd.DataFrame
    null: pd.DataFrame


def _models(X, Yall, folds, settings):
    """Leave-one-word-out predictions of the selected models for every column of Yall.

    Returns {model: (pred (n, m), per-fold extra (n_folds, m))}: the extra is the
    non-zero coefficient count (elasticnet) or the chosen penalty (ridge).
    """
    if settings.pca_variance and settings.pca_fit == "train":
        return _per_fold_pca(X, Yall, folds, settings)
    alphas = np.asarray(settings.ridge_alphas, dtype=float)
    out = {}
    if "elasticnet" in settings.models:
        out["elasticnet"] = enet_loo(X, Yall, folds, settings.enet_alpha,
                                     settings.enet_l1_ratio, tol=settings.tol,
                                     backend=settings.backend)
    if "ridge" in settings.models:
        if settings.ridge_scale == "all":
            pred, idx = ridge_nested_loo(_standardised(X), Yall, folds, alphas,
                                         backend=settings.backend)
        else:
            pred, idx = _assemble(ridge_splits(X, Yall, _splits(folds, len(X)), alphas,
                                               backend=settings.backend), folds, Yall.shape)
        out["ridge"] = (pred, alphas[idx])
    return out


def _per_fold_pca(X, Yall, folds, settings):
    """Both models with the PCA refit on each fold's training rows.

    The training PCA scores are orthogonal, so the fold's ElasticNet is separable:
    w_j = soft(s_j c_j, l1) / (s_j² + l2), with c = U'y the products the ridge
    computes anyway (``visit``).
    """
    B = get_backend(settings.backend)
    n, m = Yall.shape
    splits = _splits(folds, n)
    enet, nonzero = np.empty((n, m)), np.empty((len(folds), m), dtype=np.int64)

    def visit(f, cols, sys, c, ybar):
        n_t = len(sys.train)
        l1 = settings.enet_alpha * settings.enet_l1_ratio * n_t
        l2 = settings.enet_alpha * (1 - settings.enet_l1_ratio) * n_t
        sc = sys.scale[:, None]
        w = B.sign(c) * B.maximum(abs(sc * c) - l1, 0.0) / (sc * sc + l2)
        enet[np.ix_(np.asarray(sys.test), np.arange(m)[cols])] = B.to_numpy(
            ybar + (sys.tau * sc / n_t).T @ w)
        nonzero[f, cols] = B.to_numpy((w != 0).sum(0))

    alphas = np.asarray(settings.ridge_alphas, dtype=float)
    ridge = _assemble(ridge_splits(X, Yall, splits, alphas, backend=B,
                                   pca_variance=settings.pca_variance, visit=visit),
                      folds, Yall.shape)
    out = {"elasticnet": (enet, nonzero), "ridge": (ridge[0], alphas[ridge[1]])}
    return {k: v for k, v in out.items() if k in settings.models}


def _splits(folds, n):
    return [(np.setdiff1d(np.arange(n), t), np.asarray(t)) for t in folds]


def _assemble(result, folds, shape):
    """(pred (n, m), per-fold index (n_folds, m)) from ridge_splits' per-split lists."""
    preds, index = result
    pred = np.empty(shape)
    for t, p in zip(folds, preds):
        pred[t] = p
    return pred, np.asarray(index)


def _standardised(X):
    """X scaled by the mean and s.d. of all its rows (constant columns left at zero)."""
    sd = X.std(0)
    return (X - X.mean(0)) / np.where(sd > 0, sd, 1.0)


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
    Yall = Y[order.T].reshape(n, -1)                         # (n, (P + 1) q), perm-major
    preds = _models(X, Yall, folds, settings)
    shape = (n, len(order), q)
    Ys = Yall.reshape(shape)
    intercept = np.empty((n, q))
    for test in folds:
        intercept[test] = np.delete(Y, test, axis=0).mean(0)
    fold_of = np.empty(n, dtype=np.int64)
    for f, test in enumerate(folds):
        fold_of[test] = f
    word_table = words[["trial", "word"]].copy()
    null = pd.DataFrame({"perm": np.arange(1, len(order))})
    if "elasticnet" in preds:
        enet, nonzero = preds["elasticnet"]
        word_scores = _word_scores(folds, Ys, enet.reshape(shape), intercept)
        real_nonzero = nonzero[:, :q].sum(1)
        word_table = word_table.assign(
            pcc=word_scores["pcc"][fold_of, 0], r2=word_scores["r2"][fold_of, 0],
            pcc_intercept=word_scores["pcc_intercept"][fold_of],
            r2_intercept=word_scores["r2_intercept"][fold_of],
            pcc_null_mean=word_scores["pcc"][fold_of, 1:].mean(1),
            r2_null_mean=word_scores["r2"][fold_of, 1:].mean(1),
            n_nonzero=real_nonzero[fold_of])
        null = null.assign(pcc=word_scores["pcc"][:, 1:].mean(0),
                           r2=word_scores["r2"][:, 1:].mean(0))
    tables = []
    if "elasticnet" in preds:
        tables.append(_channel_table("elasticnet", channels, Ys, preds["elasticnet"][0].reshape(shape),
                                     alpha=np.full(q, settings.enet_alpha),
                                     n_nonzero=preds["elasticnet"][1][:, :q].mean(0)))
    if "ridge" in preds:
        tables.append(_channel_table("ridge", channels, Ys, preds["ridge"][0].reshape(shape),
                                     alpha=np.median(preds["ridge"][1][:, :q], axis=0),
                                     n_nonzero=np.full(q, np.nan)))
    return Result(channels=pd.concat(tables, ignore_index=True), words=word_table, null=null)


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
    pcc, r2s = scores_along_rows(Ys, Ps)     # (P + 1, q)
    p = perm_pvalue(pcc[0], pcc[1:]) if pcc.shape[0] > 1 else np.full(pcc.shape[1], np.nan)
    return pd.DataFrame({
        "model": model, "channel": list(channels), "pcc": pcc[0], "r2": r2s[0],
        "p_value": p, "p_fdr": fdr_bh(p),
        "pcc_null_mean": pcc[1:].mean(0) if pcc.shape[0] > 1 else np.nan,
        **extra,
    })
