"""ElasticNet engine against scikit-learn: exact updates, frame weights, guard bands.

``enet_loo`` solves one-row folds on the numpy backend by the compiled path of
:mod:`hgrecon.encoding.loo_path` (its own tests: test_loo_path.py); ``path=False`` runs
the batched engine that every other backend and split uses."""

import inspect

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet
from sklearn.model_selection import LeaveOneGroupOut, LeaveOneOut, cross_val_predict

from hgrecon.encoding import elasticnet as enet_mod
from hgrecon.encoding.elasticnet import enet_cv, enet_gram, enet_loo
from hgrecon.encoding.moments import weighted_moments
from hgrecon.encoding.stats import pearson


def sk(alpha, l1_ratio, tol=1e-12):
    return ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=tol, max_iter=200_000)


def data(n=30, p=20, q=6, seed=0, scale=2.0, offset=5.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.2, scale, p) + offset
    Y = X[:, :3] @ rng.normal(size=(3, q)) * 0.5 + rng.normal(size=(n, q)) + rng.uniform(5, 50, q)
    return X, Y


@pytest.mark.parametrize("path", [True, False])
@pytest.mark.parametrize("alpha,l1_ratio,p,seed", [
    (0.05, 0.5, 12, 0), (0.3, 0.2, 40, 0), (1.0, 0.5, 25, 0), (0.2, 1.0, 15, 0),
    (0.01, 0.5, 80, 3),        # supports larger than the training rows, changing every fold
])
def test_leave_one_out_equals_sklearn(alpha, l1_ratio, p, seed, path):
    X, Y = data(p=p, seed=seed)
    pred, nonzero = enet_loo(X, Y, [np.array([i]) for i in range(30)], alpha, l1_ratio,
                             tol=1e-12, path=path)
    ref = cross_val_predict(sk(alpha, l1_ratio), X, Y, cv=LeaveOneOut())
    np.testing.assert_allclose(pred, ref, rtol=1e-7, atol=1e-7)


def test_large_supports_take_violators_from_exact_checks(monkeypatch):
    """Supports of EXACT_ENTRY or more get their entering coordinates from an exact KKT
    check, and full-data candidate sets that miss coordinates are completed by adding
    violators (no coordinate descent fallback); predictions equal sklearn."""
    X, Y = data(p=80, seed=3)
    monkeypatch.setattr(enet_mod, "CANDIDATES", 16)
    seen = {"fold_excess": 0, "expand": 0}
    for name in seen:
        real = getattr(enet_mod._Folds, "_" + name)

        def spy(self, first, *args, _real=real, _name=name):
            if _name == "expand" or inspect.stack()[1].function == "fold":  # at the update
                seen[_name] += len(first)
            return _real(self, first, *args)
        monkeypatch.setattr(enet_mod._Folds, "_" + name, spy)
    monkeypatch.setattr(enet_mod, "enet_gram", lambda *a, **k: pytest.fail("fallback used"))
    pred, nonzero = enet_loo(X, Y, [np.array([i]) for i in range(30)], 0.01, 0.5, tol=1e-12,
                             path=False)
    ref = cross_val_predict(sk(0.01, 0.5), X, Y, cv=LeaveOneOut())
    np.testing.assert_allclose(pred, ref, rtol=1e-7, atol=1e-7)
    assert nonzero.max() >= enet_mod.EXACT_ENTRY
    assert seen["fold_excess"] > 0 and seen["expand"] > 0


def test_exact_updates_serve_most_folds_in_a_sparse_regime(monkeypatch):
    """Few supports change when a word is held out: most folds need no refit."""
    X, Y = data(n=40, p=60, scale=0.5)
    calls = []
    real = enet_mod._Folds._refit
    monkeypatch.setattr(enet_mod._Folds, "_refit", lambda self, jobs: calls.append(
        sum(len(job.cols) for job in jobs)) or real(self, jobs))
    pred, _ = enet_loo(X, Y, [np.array([i]) for i in range(40)], 1.0, 0.5, tol=1e-12,
                       path=False)
    ref = cross_val_predict(sk(1.0, 0.5), X, Y, cv=LeaveOneOut())
    np.testing.assert_allclose(pred, ref, rtol=1e-7, atol=1e-7)
    assert sum(calls) < 0.5 * 40 * Y.shape[1]


def test_paper_setting_unscaled_default_tolerance():
    """alpha=1, l1_ratio=0.5, unscaled embeddings, sklearn's default tol: r within 1e-3."""
    X, Y = data(n=50, p=80, scale=4.0, offset=20.0, seed=5)
    folds = [np.array([i]) for i in range(50)]
    pred, _ = enet_loo(X, Y, folds, 1.0, 0.5)
    ref = cross_val_predict(ElasticNet(alpha=1.0, l1_ratio=0.5), X, Y, cv=LeaveOneOut())
    np.testing.assert_array_less(np.abs(pearson(pred, Y, 0) - pearson(ref, Y, 0)), 1e-3)


def test_coefficients_equal_sklearn_on_weighted_moments():
    X, Y = data()
    w = np.random.default_rng(1).integers(1, 5, 30).astype(float)
    mom = weighted_moments(X, Y, w)
    W = enet_gram(mom.gram, mom.cross, mom.yy, mom.n_train, 0.5, 0.5, tol=1e-12,
                  max_iter=100_000)
    Xr, Yr = np.repeat(X, w.astype(int), 0), np.repeat(Y, w.astype(int), 0)
    ref = sk(0.5, 0.5).fit(Xr, Yr)
    np.testing.assert_allclose(W.T, ref.coef_, atol=1e-8 * np.abs(ref.coef_).max())


def frames_from_cells(X, Y, w, rng):
    """Frame-level rows: each cell repeated by its weight, with targets varying around the
    cell's mean (so the within-cell sum of squares is not zero)."""
    rows = np.repeat(np.arange(len(X)), w.astype(int))
    noise = rng.normal(size=(len(rows), Y.shape[1]))
    noise -= np.array([noise[rows == c].mean(0) for c in range(len(X))])[rows]
    return X[rows], Y[rows] + noise, rows


def test_frame_weighted_cells_equal_sklearn_on_the_frames():
    """A painted design: distinct rows weighted by frame counts equal sklearn on all
    frames, leave-one-word-out, including the within-cell variation."""
    rng = np.random.default_rng(2)
    X, Y = data(n=20, p=15, q=4, seed=2)
    w = rng.integers(3, 12, 20).astype(float)
    Xf, Yf, rows = frames_from_cells(X, Y, w, rng)
    within = np.array([((Yf[rows == c] - Y[c]) ** 2).sum(0) for c in range(20)])
    splits = [(np.setdiff1d(np.arange(20), [c]), np.array([c])) for c in range(20)]
    preds, _ = enet_cv(X, Y, splits, 0.3, 0.5, tol=1e-12, weights=w, within=within)
    ref = cross_val_predict(sk(0.3, 0.5), Xf, Yf, groups=rows, cv=LeaveOneGroupOut())
    for c, p in enumerate(preds):
        np.testing.assert_allclose(p[0], ref[rows == c][0], rtol=1e-7, atol=1e-7)


def test_guard_rows_are_left_out_of_training():
    """Rows in neither train nor test of a split are dropped from its fit."""
    X, Y = data(n=24, p=10)
    train, test = np.arange(4, 24), np.array([0])
    (pred,), _ = enet_cv(X, Y, [(train, test)], 0.2, 0.5, tol=1e-12)
    ref = sk(0.2, 0.5).fit(X[train], Y[train]).predict(X[test])
    np.testing.assert_allclose(pred, ref, rtol=1e-8)


def test_diagonal_gram_closed_form():
    """Orthogonal centred columns (PCA scores): the closed form equals sklearn."""
    rng = np.random.default_rng(0)
    A = rng.normal(size=(30, 6))
    Q, _ = np.linalg.qr(A - A.mean(0))
    X = Q * np.arange(1, 7) * 10
    Y = rng.normal(size=(30, 3)) * 5
    mom = weighted_moments(X, Y, np.ones(30))
    W = enet_gram(mom.gram, mom.cross, mom.yy, 30, 0.5, 0.5)
    np.testing.assert_allclose(W.T, sk(0.5, 0.5).fit(X, Y).coef_, atol=1e-8)


@pytest.mark.parametrize("alpha", [1.0, 0.05])
def test_pca_scores_leave_one_out_is_solved_in_one_dimension(monkeypatch, alpha):
    """PCA scores fit on all rows (the paper's XLS-R recipe): a held-out row makes the
    Gram diagonal minus rank one, solved exactly by a scalar root; equals sklearn."""
    from hgrecon.encoding.kernel import pca_reduce

    rng = np.random.default_rng(4)
    raw = rng.normal(size=(40, 8)) @ rng.normal(size=(8, 200)) * np.linspace(3, 0.1, 200)
    (X,) = pca_reduce(raw + rng.normal(size=(40, 200)), 0.95)
    Y = X[:, :4] @ rng.normal(size=(4, 6)) * 0.3 + rng.normal(size=(40, 6)) * 2 + 20
    calls = []
    real = enet_mod._diagonal_minus_rank_one
    monkeypatch.setattr(enet_mod, "_diagonal_minus_rank_one",
                        lambda *a: calls.append(a[2].shape[1]) or real(*a))
    pred, nonzero = enet_loo(X, Y, [np.array([i]) for i in range(40)], alpha, 0.5, tol=1e-12,
                             path=False)
    ref = cross_val_predict(sk(alpha, 0.5), X, Y, cv=LeaveOneOut())
    np.testing.assert_allclose(pred, ref, rtol=1e-8, atol=1e-8)
    assert sum(calls) > 0 and nonzero.mean() > 1
