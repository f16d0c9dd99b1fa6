"""Ridge regression with the penalty chosen per target column by inner leave-one-out.

Within each outer fold the training design is standardised (training mean and s.d.)
and decomposed once (thin SVD); every penalty in the grid and every target column
(channels × permutations) then costs one matrix product. The inner leave-one-out
errors come in closed form from the hat matrix of ridge with an unpenalised
intercept, H = 11'/n + U diag(s² / (s² + alpha)) U', so the outer test rows are never
seen when a column's penalty is chosen.
"""

import numpy as np


def standardise(X_train, X_test):
    """Scale both by the training mean and s.d. (constant columns are left at zero)."""
    mean = X_train.mean(0)
    sd = X_train.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    return (X_train - mean) / sd, (X_test - mean) / sd


def inner_loo_alpha(U, s, Yc, alphas):
    """Index of the penalty with the smallest leave-one-out squared error, per column.

    U : (n, r), s : (r,) thin SVD of the centred training design; Yc : (n, m) centred
    targets; alphas : (a,). Returns (m,) int indices into ``alphas``.
    """
    n = U.shape[0]
    uty = U.T @ Yc
    best = np.full(Yc.shape[1], np.inf)
    index = np.zeros(Yc.shape[1], dtype=np.int64)
    s2 = s * s
    for a, alpha in enumerate(alphas):
        shrink = s2 / (s2 + alpha)
        resid = Yc - U @ (shrink[:, None] * uty)
        leverage = 1.0 / n + (U * U) @ shrink
        err = ((resid / (1.0 - leverage)[:, None]) ** 2).sum(0)
        better = err < best
        best[better] = err[better]
        index[better] = a
    return index


def ridge_fold(X_train, Y_train, X_test, alphas):
    """Fit on one training set with a penalty per column; predict the test rows.

    X_train : (n, p); Y_train : (n, m); X_test : (t, p); alphas : (a,) penalty grid.
    Returns (pred (t, m), alpha index (m,)).
    """
    Z, Z_test = standardise(X_train, X_test)
    y_mean = Y_train.mean(0)
    Yc = Y_train - y_mean
    U, s, Vt = np.linalg.svd(Z, full_matrices=False)
    keep = s > s[0] * max(Z.shape) * np.finfo(float).eps if s.size else s > 0
    U, s, Vt = U[:, keep], s[keep], Vt[keep]
    index = inner_loo_alpha(U, s, Yc, alphas)
    uty = U.T @ Yc                                    # (r, m)
    factor = s / (s * s + np.asarray(alphas)[:, None])  # (a, r)
    proj = Z_test @ Vt.T                              # (t, r)
    coef = factor[index].T * uty                      # (r, m): per-column shrinkage
    return y_mean + proj @ coef, index


def ridge_loo(X, Y, folds, alphas):
    """Outer cross-validated ridge predictions with a nested per-column penalty.

    X : (n, p); Y : (n, m); folds : list of test-index arrays; alphas : (a,).
    Returns (pred (n, m), alpha index (n_folds, m)).
    """
    n = X.shape[0]
    pred = np.empty(Y.shape)
    chosen = np.empty((len(folds), Y.shape[1]), dtype=np.int64)
    for f, test in enumerate(folds):
        train = np.setdiff1d(np.arange(n), test)
        pred[test], chosen[f] = ridge_fold(X[train], Y[train], X[test], alphas)
    return pred, chosen
