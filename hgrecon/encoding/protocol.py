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
another block of target columns, solved and scored with the real ones a chunk of columns
at a time (memory a few (n, CHUNK_COLUMNS) arrays, whatever the number of permutations).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..constants import PAPER_ENET_ALPHA, PAPER_ENET_L1_RATIO
from .backend import get_backend
from .elasticnet import check_penalty, enet_loo
from .folds import leave_one_group_out, permutations
from .kernel import fold_systems, pca_reduce
from .ridge import check_alphas, ridge_nested_loo, ridge_splits
from .stats import fdr_bh, pearson, perm_pvalue, r2, scores_along_rows

MODELS = ("elasticnet", "ridge")
SCALES = ("train", "all")
PCA_FITS = ("train", "all")
#: Target columns (permutation x channel) solved and scored together.
CHUNK_COLUMNS = 8192


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


def _models(X, Yall, folds, settings, kept):
    """Leave-one-word-out predictions of the selected models for every column of Yall.

    kept : a dict for what does not depend on the targets, kept across calls with the
    same X, folds and settings (:func:`_ridge_systems`). Returns {model: (pred (n, m),
    per-fold extra (n_folds, m))}: the extra is the non-zero coefficient count
    (elasticnet) or the chosen penalty (ridge).
    """
    if settings.pca_variance and settings.pca_fit == "train":
        return _per_fold_pca(X, Yall, folds, settings, kept)
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
            splits, systems = _ridge_systems(X, folds, settings, kept)
            pred, idx = _assemble(ridge_splits(X, Yall, splits, alphas,
                                               backend=settings.backend, systems=systems),
                                  folds, Yall.shape)
        out["ridge"] = (pred, alphas[idx])
    return out


def _per_fold_pca(X, Yall, folds, settings, kept):
    """Both models with the PCA refit on each fold's training rows.

    The training PCA scores are orthogonal, so the fold's ElasticNet is separable:
    w_j = soft(s_j c_j, l1) / (s_j² + l2), with c = U'y the products the ridge
    computes anyway (``visit``).
    """
    B = get_backend(settings.backend)
    n, m = Yall.shape
    splits, systems = _ridge_systems(X, folds, settings, kept)
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
    ridge = _assemble(ridge_splits(X, Yall, splits, alphas, backend=B, visit=visit,
                                   systems=systems),
                      folds, Yall.shape)
    out = {"elasticnet": (enet, nonzero), "ridge": (ridge[0], alphas[ridge[1]])}
    return {k: v for k, v in out.items() if k in settings.models}


def _ridge_systems(X, folds, settings, kept):
    """(splits, their :func:`.kernel.fold_systems`) for :func:`.ridge.ridge_splits`: made
    on the first call and kept in ``kept`` (they do not depend on the targets)."""
    if "systems" not in kept:
        splits = _splits(folds, len(X))
        pca = settings.pca_variance if settings.pca_fit == "train" else None
        kept["systems"] = splits, fold_systems(X, splits, get_backend(settings.backend), pca)
    return kept["systems"]


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
    The real assignment and the permutations are solved and scored CHUNK_COLUMNS target
    columns at a time, so memory does not grow with the number of permutations.
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
    order = np.vstack([np.arange(n)[None],
                       permutations(n, settings.n_perm, settings.seed)])   # (P + 1, n)
    scores, kept = {}, {}
    step = max(1, CHUNK_COLUMNS // q)
    for lo in range(0, len(order), step):
        Ys = Y[order[lo:lo + step].T]                        # (n, perms, q), perm-major
        for model, (pred, extra) in _models(X, Ys.reshape(n, -1), folds, settings,
                                            kept).items():
            _add_scores(scores.setdefault(model, {}), folds, Ys, pred.reshape(Ys.shape),
                        extra[:, :q] if lo == 0 else None, words=model == "elasticnet")
    scores = {model: _gathered(acc) for model, acc in scores.items()}
    fold_of = np.empty(n, dtype=np.int64)
    for f, test in enumerate(folds):
        fold_of[test] = f
    word_table = words[["trial", "word"]].copy()
    null = pd.DataFrame({"perm": np.arange(1, len(order))})
    if "elasticnet" in scores:
        enet = scores["elasticnet"]
        intercept = np.empty((n, q))
        for test in folds:
            intercept[test] = np.delete(Y, test, axis=0).mean(0)
        base_pcc, base_r2 = _word_scores(folds, Y[:, None], intercept[:, None])
        word_table = word_table.assign(
            pcc=enet["word_pcc"][0, fold_of], r2=enet["word_r2"][0, fold_of],
            pcc_intercept=base_pcc[fold_of, 0], r2_intercept=base_r2[fold_of, 0],
            pcc_null_mean=_null_mean(enet["word_pcc"][1:, fold_of]),
            r2_null_mean=_null_mean(enet["word_r2"][1:, fold_of]),
            n_nonzero=enet["real"].sum(1)[fold_of])
        null = null.assign(pcc=enet["word_pcc"][1:].mean(1), r2=enet["word_r2"][1:].mean(1))
    tables = []
    if "elasticnet" in scores:
        tables.append(_channel_table("elasticnet", channels, scores["elasticnet"],
                                     alpha=np.full(q, settings.enet_alpha),
                                     n_nonzero=scores["elasticnet"]["real"].mean(0)))
    if "ridge" in scores:
        tables.append(_channel_table("ridge", channels, scores["ridge"],
                                     alpha=np.median(scores["ridge"]["real"], axis=0),
                                     n_nonzero=np.full(q, np.nan)))
    return Result(channels=pd.concat(tables, ignore_index=True), words=word_table, null=null)


def _add_scores(acc, folds, Ys, Ps, real, words):
    """Append one chunk's scores to ``acc``: per column ``pcc``, ``r2`` (perms, q); with
    ``words`` the paper's per fold ``word_pcc``, ``word_r2`` (perms, n_folds); ``real``:
    the real assignment's per-fold extra (n_folds, q), from the first chunk."""
    pcc, r2s = scores_along_rows(Ys, Ps)
    acc.setdefault("pcc", []).append(pcc)
    acc.setdefault("r2", []).append(r2s)
    if words:
        word_pcc, word_r2 = _word_scores(folds, Ys, Ps)
        acc.setdefault("word_pcc", []).append(word_pcc.T)
        acc.setdefault("word_r2", []).append(word_r2.T)
    if real is not None:
        acc["real"] = real


def _gathered(acc):
    """:func:`_add_scores`' chunks joined along the permutations (axis 0)."""
    return {k: v if k == "real" else np.concatenate(v) for k, v in acc.items()}


def _null_mean(a):
    """Mean over the permutations, axis 0 (NaN, without a warning, when there are none)."""
    return a.mean(0) if len(a) else np.full(a.shape[1], np.nan)


def _word_scores(folds, Ys, Ps):
    """Across-channel r and R² per fold (the held-out word's rows flattened).

    Ys, Ps : (n, perms, q) measured and predicted. Returns (pcc, r2), (n_folds, perms).
    """
    if all(len(test) == 1 for test in folds):              # one row a fold: at once
        rows = np.concatenate(folds)
        return pearson(Ys[rows], Ps[rows], axis=2), r2(Ys[rows], Ps[rows], axis=2)
    pcc, r2s = [], []
    for test in folds:
        y = Ys[test].transpose(1, 0, 2).reshape(Ys.shape[1], -1)   # (perms, t q)
        p = Ps[test].transpose(1, 0, 2).reshape(Ps.shape[1], -1)
        pcc.append(pearson(y, p, axis=1))
        r2s.append(r2(y, p, axis=1))
    return np.asarray(pcc), np.asarray(r2s)


def _channel_table(model, channels, scores, **extra):
    """Per-channel r and R² across held-out words, with permutation p and BH FDR;
    ``scores`` as :func:`_add_scores` gathers them (row 0 the real assignment)."""
    pcc, r2s = scores["pcc"], scores["r2"]     # (P + 1, q)
    p = perm_pvalue(pcc[0], pcc[1:]) if pcc.shape[0] > 1 else np.full(pcc.shape[1], np.nan)
    return pd.DataFrame({
        "model": model, "channel": list(channels), "pcc": pcc[0], "r2": r2s[0],
        "p_value": p, "p_fdr": fdr_bh(p),
        "pcc_null_mean": _null_mean(pcc[1:]),
        **extra,
    })
