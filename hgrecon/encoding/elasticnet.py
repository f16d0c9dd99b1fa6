"""Exact ElasticNet by coordinate descent on the Gram (covariance) form.

Minimises, independently for every target column (as scikit-learn's ``ElasticNet``
does for a 2-D ``y``)::

    1 / (2 n) ||y - X w - b||^2 + alpha * l1_ratio * ||w||_1
        + alpha * (1 - l1_ratio) / 2 * ||w||^2

with an unpenalised intercept ``b``. The solver only sees X'X and X'y, so its cost does
not grow with the number of samples, and all columns (channels × permutations) are
updated together: each coordinate step is one vector operation over the columns.
Coordinates are visited in a working set (non-zero or KKT-violating ones) and the full
KKT conditions are checked before returning, so the answer is exact to ``tol``.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .moments import fold_moments


def enet_gram(gram, cross, yy, n_samples, alpha, l1_ratio, w0=None, tol=1e-4,
              max_iter=1000):
    """Solve ElasticNet for every column of ``cross`` given centred moments.

    gram : (p, p) Xc'Xc; cross : (p, m) Xc'Yc; yy : (m,) Yc'Yc; n_samples : rows.
    w0 : (p, m) warm start. Returns W (p, m).
    Stops a column when its duality gap is below ``tol * yy`` (scikit-learn's
    criterion, so ``tol`` means the same as there); gap-safe screening drops the
    coordinates that are provably zero in every column.
    """
    if alpha <= 0 or not 0 < l1_ratio <= 1:
        raise ValueError(f"alpha must be > 0 and 0 < l1_ratio <= 1, got {alpha}, {l1_ratio}")
    m = cross.shape[1]
    l1 = alpha * l1_ratio * n_samples
    l2 = alpha * (1.0 - l1_ratio) * n_samples
    W = np.zeros(cross.shape) if w0 is None else np.array(w0, dtype=float, copy=True)
    diag = np.diag(gram).copy()
    inv = np.where(diag + l2 > 0, 1.0 / np.maximum(diag + l2, 1e-300), 0.0)
    norm = np.sqrt(np.maximum(diag + l2, 1e-300))[:, None]
    cols = np.arange(m)
    sweeps = 0
    while sweeps < max_iter:
        Wc = W[:, cols]
        gap, xta, dual = _gap(gram, cross[:, cols], yy[cols], Wc, l1, l2)
        open_ = gap > tol * yy[cols]
        if not open_.any():
            return W
        cols, Wc, gap, xta, dual = cols[open_], Wc[:, open_], gap[open_], xta[:, open_], dual[open_]
        # Gap safe screening (Ndiaye et al. 2017), as scikit-learn does per column.
        radius = np.sqrt(2.0 * np.abs(gap)) / l1
        keep = ((1.0 - np.abs(xta) / np.maximum(l1, dual)) / norm <= radius).any(1)
        Wc[~keep] = 0.0
        work = np.flatnonzero(keep)
        resid = cross[np.ix_(work, cols)] - gram[work] @ Wc
        Wc[work], done = _sweeps(gram[np.ix_(work, work)], resid, Wc[work], diag[work],
                                 inv[work], l1, tol, max_iter - sweeps)
        sweeps += done
        W[:, cols] = Wc
    warnings.warn(f"ElasticNet did not converge in {max_iter} sweeps", ConvergenceWarning)
    return W


def _gap(gram, cross, yy, W, l1, l2):
    """Duality gap per column, with X'(y - Xw) - l2 w and its max-norm."""
    gw = gram @ W
    xta = cross - gw - l2 * W
    dual = np.abs(xta).max(0)
    qw = (W * cross).sum(0)
    r_norm2 = yy + (W * gw).sum(0) - 2.0 * qw
    w2 = (W * W).sum(0)
    scale = np.where(dual > l1, l1 / np.maximum(dual, 1e-300), 1.0)
    primal = 0.5 * (r_norm2 + l2 * w2) + l1 * np.abs(W).sum(0)
    dual_obj = -0.5 * scale**2 * (r_norm2 + l2 * w2) + scale * (yy - qw)
    return primal - dual_obj, xta, dual


def _sweeps(gram, resid, W, diag, inv, l1, tol, max_sweeps):
    """Cyclic coordinate descent on a working set, all columns at once.

    gram : (k, k) working-set Gram; resid : (k, m) X'(y - Xw) on the working set;
    W : (k, m). Stops when the largest change is below ``tol`` × the largest weight
    (then the caller checks the duality gap). Returns (W, sweeps done).
    """
    for sweep in range(1, max_sweeps + 1):
        d_max = w_max = 0.0
        for j in range(W.shape[0]):
            old = W[j]
            tmp = resid[j] + diag[j] * old
            new = np.sign(tmp) * np.maximum(np.abs(tmp) - l1, 0.0) * inv[j]
            d = new - old
            if d.any():
                resid -= np.outer(gram[:, j], d)
                W[j] = new
                d_max = max(d_max, np.abs(d).max())
            w_max = max(w_max, np.abs(new).max())
        if d_max <= tol * w_max or w_max == 0.0:
            break
    return W, sweep


def enet_loo(X, Y, folds, alpha, l1_ratio, tol=1e-4, warm=True):
    """Cross-validated ElasticNet predictions for every column of Y.

    X : (n, p); Y : (n, m); folds : list of test-index arrays covering the rows once.
    Returns (pred (n, m), nonzero (n_folds, m) count of non-zero coefficients).
    With ``warm``, each fold warm-starts from the full-data solution.
    """
    w_full = None
    if warm:
        full = next(fold_moments(X, Y, [np.array([], dtype=int)]))
        w_full = enet_gram(full.gram, full.cross, full.yy, X.shape[0], alpha, l1_ratio,
                           tol=tol)
    pred = np.empty(Y.shape)
    nonzero = np.empty((len(folds), Y.shape[1]), dtype=np.int64)
    for f, mom in enumerate(fold_moments(X, Y, folds)):
        W = enet_gram(mom.gram, mom.cross, mom.yy, mom.n_train, alpha, l1_ratio, w0=w_full,
                      tol=tol)
        pred[mom.test] = mom.y_mean + (X[mom.test] - mom.x_mean) @ W
        nonzero[f] = (W != 0).sum(0)
    return pred, nonzero
