"""Ridge solvers against scikit-learn on the same folds and penalties."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import LeaveOneOut, cross_val_predict

from hgrecon.encoding.kernel import pca_reduce
from hgrecon.encoding.moments import group_design, group_moments
from hgrecon.encoding.ridge import (inner_loo_alpha, ridge_cells, ridge_groups, ridge_loo,
                                    ridge_nested_loo)


def data(n=20, p=30, q=4, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.2, 3, p) + 4
    Y = X[:, :2] @ rng.normal(size=(2, q)) + rng.normal(size=(n, q)) * 2 + 5
    return X, Y


def brute_nested(Z, Y, folds, alphas):
    """Refit without the fold; each column's penalty by leave-one-out on the rest."""
    n = len(Z)
    pred, index = np.empty_like(Y), np.empty((len(folds), Y.shape[1]), dtype=int)
    for f, test in enumerate(folds):
        train = np.setdiff1d(np.arange(n), test)
        errs = [((Y[train] - cross_val_predict(Ridge(alpha=a), Z[train], Y[train],
                                               cv=LeaveOneOut())) ** 2).sum(0) for a in alphas]
        index[f] = np.argmin(errs, 0)
        for j in range(Y.shape[1]):
            model = Ridge(alpha=alphas[index[f, j]]).fit(Z[train], Y[train, j])
            pred[test, j] = model.predict(Z[test])
    return pred, index


@pytest.mark.parametrize("fold_size", [1, 2])
def test_nested_loo_equals_refitting_with_sklearn(fold_size):
    X, Y = data()
    Z = (X - X.mean(0)) / X.std(0)
    folds = [np.arange(i, i + fold_size) for i in range(0, 20, fold_size)]
    alphas = np.logspace(-1, 3, 5)
    pred, index = ridge_nested_loo(Z, Y, folds, alphas)
    ref_pred, ref_index = brute_nested(Z, Y, folds, alphas)
    np.testing.assert_array_equal(index, ref_index)
    np.testing.assert_allclose(pred, ref_pred, rtol=1e-9, atol=1e-9)


def test_ridge_loo_with_per_fold_standardisation_equals_sklearn():
    X, Y = data(n=16, p=10)
    alphas = np.logspace(-1, 3, 5)
    folds = [np.array([i]) for i in range(16)]
    pred, index = ridge_loo(X, Y, folds, alphas)
    for f, test in enumerate(folds[:5]):
        train = np.setdiff1d(np.arange(16), test)
        mu, sd = X[train].mean(0), X[train].std(0)
        ref_pred, ref_index = brute_nested((X - mu) / sd, Y, [test], alphas)
        np.testing.assert_array_equal(index[f], ref_index[0])
        np.testing.assert_allclose(pred[test], ref_pred[test], rtol=1e-9)


def test_ridge_loo_with_per_fold_pca_equals_sklearn():
    """PCA fit on the training rows (kernel form), scores standardised, then ridge."""
    X, Y = data(n=14, p=40)
    alphas = np.logspace(-1, 3, 5)
    folds = [np.array([i]) for i in range(14)]
    pred, index = ridge_loo(X, Y, folds, alphas, pca_variance=0.8)
    for f, test in enumerate(folds[:4]):
        train = np.setdiff1d(np.arange(14), test)
        Ztr, Zte = pca_reduce(X[train], 0.8, X[test])
        Zall = np.empty((14, Ztr.shape[1]))
        Zall[train], Zall[test] = Ztr, Zte
        Zall = (Zall - Ztr.mean(0)) / Ztr.std(0)
        ref_pred, ref_index = brute_nested(Zall, Y, [test], alphas)
        np.testing.assert_array_equal(index[f], ref_index[0])
        np.testing.assert_allclose(pred[test], ref_pred[test], rtol=1e-8)


def test_nested_loo_never_uses_the_held_out_word():
    """The held-out rows' targets change neither their fold's penalties nor predictions."""
    X, Y = data()
    folds = [np.array([i]) for i in range(20)]
    alphas = np.logspace(-1, 3, 5)
    pred, index = ridge_nested_loo(X, Y, folds, alphas)
    Y2 = Y.copy()
    Y2[7] *= -1e4
    pred2, index2 = ridge_nested_loo(X, Y2, folds, alphas)
    np.testing.assert_array_equal(index[7], index2[7])
    np.testing.assert_allclose(pred[7], pred2[7], rtol=1e-8)


def test_inner_loo_alpha_uniform_eigenvalues_shortcut():
    """Equal eigenvalues (standardised PCA scores) take the three-product path."""
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.normal(size=(12, 4)) - 0)
    U -= U.mean(0)
    U, _ = np.linalg.qr(U)
    Yc = rng.normal(size=(12, 3))
    Yc -= Yc.mean(0)
    s = np.full(4, 3.0)
    alphas = np.logspace(-2, 2, 9)
    got = inner_loo_alpha(U, s, Yc, alphas)
    g = [9 / (9 + a) for a in alphas]
    errs = []
    for ga in g:
        H = np.ones((12, 12)) / 12 + ga * U @ U.T
        r = Yc - H @ Yc
        errs.append(((r / (1 - np.diag(H))[:, None]) ** 2).sum(0))
    np.testing.assert_array_equal(got, np.argmin(errs, 0))


def weighted_reference(X, Y, w, train, test, alpha):
    """sklearn Ridge with sample weights on inputs standardised by the weighted training
    mean and s.d."""
    m = np.average(X[train], axis=0, weights=w[train])
    sd = np.sqrt(np.average((X[train] - m) ** 2, axis=0, weights=w[train]))
    model = Ridge(alpha=alpha).fit((X[train] - m) / sd, Y[train], sample_weight=w[train])
    return model.predict((X[test] - m) / sd)


def test_weighted_cell_solvers_equal_sklearn_with_sample_weights():
    rng = np.random.default_rng(3)
    n, p = 18, 5
    X, Y = rng.normal(size=(n, p)) * 3, rng.normal(size=(n, 4)) + 2
    w = rng.integers(1, 30, n).astype(float)
    train, test = np.arange(12), np.arange(12, 18)
    ref = weighted_reference(X, Y, w, train, test, 2.0)
    (pred, _), = ridge_cells(X, Y, w, [(train, test, [])], [2.0])
    np.testing.assert_allclose(pred, ref, rtol=1e-9)
    group = np.arange(n)
    gm = group_moments(group_design(X, w, group, n), Y)
    (xm, sd, coef, ym, _), = ridge_groups(gm, [(train, [])], [2.0])
    np.testing.assert_allclose(ym + ((X[test] - xm) / sd) @ coef, ref, rtol=1e-9)


def test_grouped_inner_cv_picks_the_penalty_of_least_held_out_error():
    rng = np.random.default_rng(4)
    n, p = 24, 3
    X = rng.normal(size=(n, p))
    Y = X @ rng.normal(size=(p, 2)) + rng.normal(size=(n, 2))
    w = np.ones(n)
    alphas = np.logspace(-2, 4, 7)
    train, test = np.arange(18), np.arange(18, 24)
    inner = [(np.setdiff1d(train, np.arange(k, 18, 3)), np.arange(k, 18, 3)) for k in range(3)]
    errs = np.zeros((len(alphas), 2))
    m, sd = X[train].mean(0), X[train].std(0)
    for a, alpha in enumerate(alphas):
        for tr, te in inner:
            fit = Ridge(alpha=alpha).fit((X[tr] - m) / sd, Y[tr])
            errs[a] += ((Y[te] - fit.predict((X[te] - m) / sd)) ** 2).sum(0)
    (_, idx_cells), = ridge_cells(X, Y, w, [(train, test, inner)], alphas)
    gm = group_moments(group_design(X, w, np.arange(n), n), Y)
    (*_, idx_groups), = ridge_groups(gm, [(train, inner)], alphas)
    np.testing.assert_array_equal(idx_cells, np.argmin(errs, 0))
    np.testing.assert_array_equal(idx_groups, np.argmin(errs, 0))


def test_inner_form_equals_the_quadratic_forms():
    """(φ_a ∘ c_m)' M (φ_a ∘ c_m), φ_ar = 1 / (s2_r + α_a), from the partial fractions of
    the eigenvalues apart and the close pairs directly: eigenvalues equal (zeros of a
    rank-deficient Gram), nearly equal and apart, penalties over eight decades."""
    from hgrecon.encoding import ridge
    from hgrecon.encoding.backend import get_backend

    B = get_backend()
    rng = np.random.default_rng(5)
    s2 = np.array([0.0, 0.0, 1e-9, 3.0, 3.0 + 1e-9, 40.0, 45.0, 900.0, 2e4])
    r, m = len(s2), 10
    alphas = np.logspace(-2, 6, 17)
    A = rng.normal(size=(r, r))
    M, c = A @ A.T, rng.normal(size=(r, m))
    K, dM, close = ridge._inner_form(s2, M, alphas.max(), B)
    assert {(i, j) for i, j in zip(*close[:2])} == {(0, 1), (0, 2), (1, 2), (3, 4)}
    phi = 1.0 / (s2[None, :] + alphas[:, None])
    got = 2 * (phi @ (c * (K @ c))) + (phi * phi) @ (dM[:, None] * c * c) + \
        ridge._close_pairs(phi, close, c, B)
    z = phi[:, :, None] * c[None]                                       # (a, r, m)
    np.testing.assert_allclose(got, np.einsum("arm,rs,asm->am", z, M, z), rtol=1e-10)
