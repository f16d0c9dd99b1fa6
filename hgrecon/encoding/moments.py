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
from typing import NamedTuple

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
class GroupDesign:
    """The target-free half of :class:`GroupMoments`, made once for many targets.

    n : (G,) weight; sx : (G, p) Σ ω x̃; gram : (G, p, p) Σ ω x̃x̃'; x_mean : (p,) the
    all-row mean; rows : each group's row indices, ws (n_g, 1) their weights and xs
    (n_g, p) their centred rows; w : (n,) all rows' weights; totals : the sums of n, sx,
    gram over all groups.
    """

    n: object
    sx: object
    gram: object
    x_mean: object
    rows: list
    ws: list
    xs: list
    w: object
    totals: tuple


@dataclass
class GroupMoments:
    """Weighted moments of groups of rows (cells), centred on the all-row means: the
    design's (:class:`GroupDesign`) and the targets': sy : (G, m) Σ ω ỹ; cross :
    (G, p, m) Σ ω x̃ỹ'; yy : (G, m) Σ over frames of ỹ²; y_mean : (m,); totals : their
    sums over all groups. A split keeps or drops whole groups.
    """

    design: GroupDesign
    sy: object
    cross: object
    yy: object
    y_mean: object
    totals: tuple


def group_design(X, w, group, n_groups, backend="numpy"):
    """:class:`GroupDesign` of rows X (n, p) with weights w (n,) in groups ``group``
    (n,) int."""
    B = get_backend(backend)
    X, w = B.asarray(X), B.asarray(w)
    x0 = (w @ X) / float(w.sum())
    Xc = X - x0
    rows = [B.asarray(np.flatnonzero(np.asarray(group) == g), dtype="int")
            for g in range(n_groups)]
    ws = [B.take(w, i, 0)[:, None] for i in rows]
    xs = [B.take(Xc, i, 0) for i in rows]
    n = B.stack([wi.sum() for wi in ws])
    sx = B.stack([(wi * x).sum(0) for wi, x in zip(ws, xs)])
    gram = B.stack([x.T @ (wi * x) for wi, x in zip(ws, xs)])
    return GroupDesign(n=n, sx=sx, gram=gram, x_mean=x0, rows=rows, ws=ws, xs=xs, w=w,
                       totals=(n.sum(0), sx.sum(0), gram.sum(0)))


def group_moments(design, Y, within=None, backend="numpy"):
    """:class:`GroupMoments` of the mean targets Y (n, m) of the rows of ``design``
    (:func:`group_design`); within : (n, m) within-row sums of squares or None."""
    B = get_backend(backend)
    Y, w = B.asarray(Y), design.w
    within = None if within is None else B.asarray(within)
    y0 = (w @ Y) / float(design.totals[0])
    Yc = Y - y0
    sy, cross, yy = [], [], []
    for i, wi, x in zip(design.rows, design.ws, design.xs):
        y = B.take(Yc, i, 0)
        wy = wi * y
        sy.append(wy.sum(0))
        cross.append(x.T @ wy)
        yy.append((wy * y).sum(0) + (0.0 if within is None else B.take(within, i, 0).sum(0)))
    sy, cross, yy = B.stack(sy), B.stack(cross), B.stack(yy)
    return GroupMoments(design=design, sy=sy, cross=cross, yy=yy, y_mean=y0,
                        totals=(sy.sum(0), cross.sum(0), yy.sum(0)))


def concat_moments(blocks, backend="numpy"):
    """One :class:`GroupMoments` of several blocks of target columns of the same design,
    their columns side by side."""
    if len(blocks) == 1:
        return blocks[0]
    B = get_backend(backend)

    def cat(arrays):
        return B.cat(list(arrays), -1)
    return GroupMoments(design=blocks[0].design, sy=cat(b.sy for b in blocks),
                        cross=cat(b.cross for b in blocks), yy=cat(b.yy for b in blocks),
                        y_mean=cat(b.y_mean for b in blocks),
                        totals=tuple(cat(t) for t in zip(*(b.totals for b in blocks))))


class SplitDesign(NamedTuple):
    """Target-free moments of the groups a split keeps, centred on their own weighted
    mean: weight N, Σ ω x̃ (p,), gram (p, p), x_mean (p,); drop: the other groups."""

    N: float
    sx: object
    gram: object
    x_mean: object
    drop: np.ndarray


class TestDesign(NamedTuple):
    """Target-free moments of a split's test groups centred on its training mean x_mean:
    weight N, Σ ω x̃ (p,), dx = x_mean - the all-row mean, Sxx (p, p) = Σ ω (x - x_mean)(·)';
    groups: the test groups."""

    N: float
    sx: object
    dx: object
    Sxx: object
    groups: np.ndarray


def split_design(gd, keep):
    """:class:`SplitDesign` of the groups ``keep`` (int indices) of :class:`GroupDesign`
    ``gd``; summed as all groups minus the others (few in a fold)."""
    drop = np.setdiff1d(np.arange(len(gd.n)), np.asarray(keep))
    n, sx, gram = (t - a[drop].sum(0) for t, a in zip(gd.totals, (gd.n, gd.sx, gd.gram)))
    N = float(n)
    return SplitDesign(N, sx, gram - sx[:, None] * sx[None, :] / N, gd.x_mean + sx / N, drop)


def group_sums(gm, groups):
    """(sy, cross, yy) of :class:`GroupMoments` ``gm`` summed over ``groups``."""
    return tuple(a[groups].sum(0) for a in (gm.sy, gm.cross, gm.yy))


def many_group_sums(gm, group_lists, backend="numpy"):
    """:func:`group_sums` of each of ``group_lists`` at once, stacked (lists first): one
    product with a 0/1 (lists, G) matrix each, which reads every group's moments once."""
    B = get_backend(backend)
    G, p, m = gm.cross.shape
    ind = np.zeros((len(group_lists), G))
    for i, groups in enumerate(group_lists):
        ind[i, np.asarray(groups, dtype=int)] = 1.0
    ind = B.asarray(ind)
    return ind @ gm.sy, (ind @ gm.cross.reshape(G, p * m)).reshape(-1, p, m), ind @ gm.yy


def split_moments(gm, part, dropped=None):
    """:class:`FoldMoments` of the groups a split keeps, centred on their own weighted
    means; ``part`` : their :func:`split_design` (made once for many targets);
    ``dropped`` : :func:`group_sums` of ``part.drop`` where the caller has them."""
    N, sx, gram, x_mean, drop = part
    if dropped is None:
        dropped = group_sums(gm, drop)
    sy, cross, yy = (t - a for t, a in zip(gm.totals, dropped))
    return FoldMoments(gram=gram, cross=cross - sx[:, None] * sy[None, :] / N,
                       yy=yy - sy * sy / N, x_mean=x_mean, y_mean=gm.y_mean + sy / N,
                       n_train=N, test=None)


def test_design(gd, groups, x_mean):
    """:class:`TestDesign` of the groups ``groups`` centred on ``x_mean``."""
    groups = np.asarray(groups)
    dx = x_mean - gd.x_mean
    N = float(gd.n[groups].sum())
    sx = gd.sx[groups].sum(0)
    Sxx = gd.gram[groups].sum(0) - sx[:, None] * dx[None, :] - dx[:, None] * sx[None, :] \
        + N * dx[:, None] * dx[None, :]
    return TestDesign(N, sx, dx, Sxx, groups)


def test_moments(gm, y_mean, design_part, sums=None):
    """The targets' moments of a split's test groups centred on the training means:
    (Sxy (p, m), Syy (m,)) — Σ ω (x - x_mean)(y - y_mean)' and Σ (y - y_mean)² over
    their frames; design_part : their :func:`test_design`; ``sums`` : their
    :func:`group_sums` where the caller has them."""
    N, sx, dx, _, groups = design_part
    dy = y_mean - gm.y_mean
    sy, cross, yy = group_sums(gm, groups) if sums is None else sums
    Sxy = cross - sx[:, None] * dy[None, :] - dx[:, None] * sy[None, :] \
        + N * dx[:, None] * dy[None, :]
    return Sxy, yy - 2 * dy * sy + N * dy * dy
