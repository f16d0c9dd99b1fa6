"""Centred (weighted) moments of a design and its targets, and their per-fold downdates.

Holding out a fold's rows D changes X'ΩX and X'ΩY by a term of rank |D|, so the
training moments of every fold come from the full sums minus the held-out rows'
contribution, never from a refit over the training rows: with x̃ = x - x̄ (full-data
weighted mean), N_T = N - Σ_D ω and Λ = Ω_D + ω_D ω_D' / N_T,

    Σ_T ω (x - x̄_T)(x - x̄_T)' = X̃'ΩX̃ - X̃_D' Λ X̃_D

and likewise for the cross-products. Data are centred on their global means first,
which keeps the downdate well conditioned for unscaled embeddings.
"""

from dataclasses import dataclass

import numpy as np

from .backend import get_backend


@dataclass
class FoldMoments:
    """Centred training moments of one fold.

    gram : (p, p) Xc'ΩXc; cross : (p, m) Xc'ΩYc; yy : (m,) Σ (y - ȳ)² over the frames;
    x_mean : (p,); y_mean : (m,) training means (in the original units);
    n_train : N, the training weight (frames); test : (t,) test row indices.
    """

    gram: object
    cross: object
    yy: object
    x_mean: object
    y_mean: object
    n_train: float
    test: object


def weighted_moments(X, Y, w, within=None, backend="numpy"):
    """:class:`FoldMoments` of all rows of X (n, p), Y (n, m) with row weights w (n,).

    within : (n, m) sum of squares of each row's frames around the row's mean (added to
    ``yy``; None: rows are single frames).
    """
    B = get_backend(backend)
    N = float(w.sum())
    x0, y0 = (w @ X) / N, (w @ Y) / N
    Xc, Yc = X - x0, Y - y0
    wX = w[:, None] * Xc
    yy = (w[:, None] * Yc * Yc).sum(0)
    if within is not None:
        yy = yy + within.sum(0)
    return FoldMoments(gram=Xc.T @ wX, cross=wX.T @ Yc, yy=yy, x_mean=x0, y_mean=y0,
                       n_train=N, test=B.zeros((0,), dtype="int"))


def column_moments(mom, columns, backend="numpy"):
    """:class:`FoldMoments` of the target columns ``columns`` only (the design's
    moments shared, not recomputed)."""
    B = get_backend(backend)
    return FoldMoments(gram=mom.gram, cross=B.take(mom.cross, columns, 1),
                       yy=B.take(mom.yy, columns, 0), x_mean=mom.x_mean,
                       y_mean=B.take(mom.y_mean, columns, 0), n_train=mom.n_train,
                       test=mom.test)


def fold_moments(X, Y, folds, backend="numpy"):
    """Yield :class:`FoldMoments` for each fold (test indices) of a fixed design.

    X : (n, p) design; Y : (n, m) targets (one frame per row); folds : list of
    test-index arrays.
    """
    B = get_backend(backend)
    X, Y = B.asarray(X), B.asarray(Y)
    full = weighted_moments(X, Y, B.asarray(np.ones(X.shape[0])), backend=B)
    Xc, Yc = X - full.x_mean, Y - full.y_mean
    n = X.shape[0]
    for test in folds:
        xt, yt = B.take(Xc, test, 0), B.take(Yc, test, 0)
        n_tr = n - len(test)
        mx, my = -xt.sum(0) / n_tr, -yt.sum(0) / n_tr
        yield FoldMoments(
            gram=full.gram - xt.T @ xt - n_tr * mx[:, None] * mx[None, :],
            cross=full.cross - xt.T @ yt - n_tr * mx[:, None] * my[None, :],
            yy=full.yy - (yt * yt).sum(0) - n_tr * my * my,
            x_mean=mx + full.x_mean,
            y_mean=my + full.y_mean,
            n_train=n_tr,
            test=test,
        )


@dataclass
class GroupMoments:
    """Weighted moments of groups of rows (cells), centred on the all-row means.

    n : (G,) weight; sx : (G, p) Σ ω x̃; sy : (G, m) Σ ω ỹ; gram : (G, p, p) Σ ω x̃x̃';
    cross : (G, p, m) Σ ω x̃ỹ'; yy : (G, m) Σ over frames of ỹ²; x_mean : (p,),
    y_mean : (m,) the all-row means; totals : the sums over all groups. A split keeps or
    drops whole groups.
    """

    n: object
    sx: object
    sy: object
    gram: object
    cross: object
    yy: object
    x_mean: object
    y_mean: object
    totals: tuple = None


def group_moments(X, Y, w, within, group, n_groups, backend="numpy"):
    """:class:`GroupMoments` of rows X (n, p), mean targets Y (n, m), weights w (n,),
    within-row sums of squares ``within`` (n, m) or None, in groups ``group`` (n,) int."""
    B = get_backend(backend)
    N = float(w.sum())
    x0, y0 = (w @ X) / N, (w @ Y) / N
    Xc, Yc = X - x0, Y - y0
    parts = [B.asarray(np.flatnonzero(np.asarray(group) == g), dtype="int")
             for g in range(n_groups)]
    rows = [(B.take(w, i, 0)[:, None], B.take(Xc, i, 0), B.take(Yc, i, 0)) for i in parts]
    yy = B.stack([(wi * y * y).sum(0) for wi, _, y in rows])
    if within is not None:
        yy = yy + B.stack([B.take(within, i, 0).sum(0) for i in parts])
    gm = GroupMoments(n=B.stack([wi.sum() for wi, _, _ in rows]),
                        sx=B.stack([(wi * x).sum(0) for wi, x, _ in rows]),
                        sy=B.stack([(wi * y).sum(0) for wi, _, y in rows]),
                        gram=B.stack([x.T @ (wi * x) for wi, x, _ in rows]),
                        cross=B.stack([x.T @ (wi * y) for wi, x, y in rows]),
                        yy=yy, x_mean=x0, y_mean=y0)
    gm.totals = _sums(gm, np.arange(n_groups))
    return gm


def split_moments(gm, keep):
    """:class:`FoldMoments` of the groups ``keep`` (int indices), centred on their own
    weighted means; summed as all groups minus the others (few in a fold)."""
    drop = np.setdiff1d(np.arange(len(gm.n)), np.asarray(keep))
    total = _sums(gm, np.arange(len(gm.n))) if gm.totals is None else gm.totals
    n, sx, sy, gram, cross, yy = (t - d for t, d in zip(total, _sums(gm, drop)))
    N = float(n)
    return FoldMoments(gram=gram - sx[:, None] * sx[None, :] / N,
                       cross=cross - sx[:, None] * sy[None, :] / N,
                       yy=yy - sy * sy / N, x_mean=gm.x_mean + sx / N,
                       y_mean=gm.y_mean + sy / N, n_train=N, test=None)


def _sums(gm, groups):
    """Sums over ``groups`` of n, sx, sy, gram, cross, yy."""
    return tuple(a[groups].sum(0) for a in (gm.n, gm.sx, gm.sy, gm.gram, gm.cross, gm.yy))


def test_moments(gm, groups, x_mean, y_mean):
    """Moments of the groups ``groups`` centred on given (training) means:
    (Sxx (p, p), Sxy (p, m), Syy (m,)) — Σ ω (x - x_mean)(·)' over their frames."""
    dx, dy = x_mean - gm.x_mean, y_mean - gm.y_mean
    N = float(gm.n[groups].sum())
    sx, sy = gm.sx[groups].sum(0), gm.sy[groups].sum(0)
    Sxx = gm.gram[groups].sum(0) - sx[:, None] * dx[None, :] - dx[:, None] * sx[None, :] \
        + N * dx[:, None] * dx[None, :]
    Sxy = gm.cross[groups].sum(0) - sx[:, None] * dy[None, :] - dx[:, None] * sy[None, :] \
        + N * dx[:, None] * dy[None, :]
    return Sxx, Sxy, gm.yy[groups].sum(0) - 2 * dy * sy + N * dy * dy
