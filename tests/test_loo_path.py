"""The compiled leave-one-row-out ElasticNet path against scikit-learn."""

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet
from sklearn.model_selection import LeaveOneOut, cross_val_predict

from hgrecon.encoding import elasticnet as enet_mod
from hgrecon.encoding.elasticnet import enet_loo
from hgrecon.encoding.kernel import pca_reduce
from hgrecon.encoding.loo_path import (norms_without_rows, _screen, _solve_quasidefinite,
                                     loo_enet)


def data(n=30, p=20, q=6, seed=0, scale=2.0, offset=5.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.2, scale, p) + offset
    Y = X[:, :3] @ rng.normal(size=(3, q)) * 0.5 + rng.normal(size=(n, q)) + rng.uniform(5, 50, q)
    return X, Y


def sklearn_loo(X, Y, alpha, l1_ratio):
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-13, max_iter=500_000)
    return cross_val_predict(model, X, Y, cv=LeaveOneOut())


def sklearn_nonzero(X, Y, alpha, l1_ratio):
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-13, max_iter=500_000)
    return np.array([(model.fit(np.delete(X, i, 0), np.delete(Y, i, 0)).coef_ != 0).sum(1)
                     for i in range(len(X))])


@pytest.mark.parametrize("steps", [8, 0])         # active-set steps, or the path alone
@pytest.mark.parametrize("alpha,l1_ratio,p,seed", [
    (1.0, 0.5, 25, 0),          # the paper's penalty: mostly the intercept model
    (0.05, 0.5, 12, 0), (0.3, 0.2, 40, 0), (0.2, 0.9, 15, 1),
    (0.01, 0.5, 80, 3),         # supports larger than the training rows, changing every fold
    (0.001, 0.5, 60, 1),        # coordinates that leave and come back with the other sign
])
def test_folds_equal_sklearn(alpha, l1_ratio, p, seed, steps):
    X, Y = data(p=p, seed=seed)
    pred, nonzero, solved, counts = loo_enet(X, Y, alpha, l1_ratio, steps=steps)
    assert solved.all() and counts[3] == 0
    np.testing.assert_allclose(pred, sklearn_loo(X, Y, alpha, l1_ratio), rtol=1e-7, atol=1e-7)
    np.testing.assert_array_equal(nonzero, sklearn_nonzero(X, Y, alpha, l1_ratio))
    if steps == 0:
        assert counts[1] == 0 and counts[2] > 0


def test_large_supports_equal_sklearn():
    """Supports larger than the training rows (most coordinates of an open fold need
    their exact gradient in the screen)."""
    X, Y = data(p=150, seed=2)
    pred, nonzero, solved, counts = loo_enet(X, Y, 0.01, 0.5)
    assert solved.all() and (nonzero >= len(X)).mean() > 0.3 and counts[1] > 0
    np.testing.assert_allclose(pred, sklearn_loo(X, Y, 0.01, 0.5), rtol=1e-7, atol=1e-7)
    np.testing.assert_array_equal(nonzero, sklearn_nonzero(X, Y, 0.01, 0.5))


def test_zero_solutions_are_the_training_mean():
    """alpha = 1 on small unscaled features zeroes every coefficient in every fold: the
    prediction is the training mean, and only the first pieces are needed."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 30)) * 0.01
    Y = rng.normal(size=(40, 5)) + 10
    pred, nonzero, solved, counts = loo_enet(X, Y, 1.0, 0.5)
    expected = (Y.sum(0) - Y) / 39
    np.testing.assert_allclose(pred, expected, rtol=1e-12)
    assert solved.all() and (nonzero == 0).all() and counts[0] == 40 * 5


@pytest.mark.parametrize("alpha", [1.0, 0.05])
def test_pca_scores_in_one_dimension_equal_the_general_path(alpha):
    """PCA scores fit on all rows (the paper's XLS-R recipe): the diagonal Gram is
    detected and solved in one dimension; the general path and sklearn agree."""
    rng = np.random.default_rng(4)
    raw = rng.normal(size=(40, 8)) @ rng.normal(size=(8, 200)) * np.linspace(3, 0.1, 200)
    (X,) = pca_reduce(raw + rng.normal(size=(40, 200)), 0.95)
    Y = X[:, :4] @ rng.normal(size=(4, 6)) * 0.3 + rng.normal(size=(40, 6)) * 2 + 20
    one_d = loo_enet(X, Y, alpha, 0.5)
    general = loo_enet(X, Y, alpha, 0.5, diagonal=False)
    assert one_d[3][4] == 40 * 6 and general[3][4] == 0
    np.testing.assert_allclose(one_d[0], sklearn_loo(X, Y, alpha, 0.5), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(general[0], one_d[0], rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(general[1], one_d[1])
    assert one_d[1].mean() > 1


def test_enet_loo_updates_the_folds_the_path_leaves(monkeypatch):
    """Folds the compiled path does not solve are solved by the batched engine."""
    X, Y = data(p=40, seed=2)

    def partly(*args, **kwargs):
        pred, nonzero, solved, counts = loo_enet(*args, **kwargs)
        solved[::3, ::2] = False
        pred[~solved] = np.nan
        nonzero[~solved] = -1
        return pred, nonzero, solved, counts

    monkeypatch.setattr(enet_mod, "loo_enet", partly)
    pred, nonzero = enet_loo(X, Y, [np.array([i]) for i in range(30)], 0.05, 0.5, tol=1e-12)
    np.testing.assert_allclose(pred, sklearn_loo(X, Y, 0.05, 0.5), rtol=1e-7, atol=1e-7)
    np.testing.assert_array_equal(nonzero, sklearn_nonzero(X, Y, 0.05, 0.5))


def test_only_a_ridge_part_is_accepted():
    X, Y = data()
    with pytest.raises(ValueError, match="0 < l1_ratio < 1"):
        loo_enet(X, Y, 1.0, 1.0)


@pytest.mark.parametrize("s, npos", [(1, 1), (7, 3), (12, 12), (20, 0), (25, 9), (63, 30)])
def test_quasidefinite_solve_equals_numpy(s, npos):
    rng = np.random.default_rng(s)
    A = rng.normal(size=(s, s + 2))
    K = A @ A.T
    K[npos:, npos:] = -K[npos:, npos:] - np.eye(s - npos)     # quasi-definite
    K[:npos, :npos] += np.eye(npos)
    B = rng.normal(size=(s, 2))
    Kw, Bw = np.zeros((s + 3, s + 3)), np.zeros((s + 3, 2))
    Kw[:s, :s], Bw[:s] = K, B
    assert _solve_quasidefinite(Kw, Bw, s, npos, np.empty(5 * s))
    np.testing.assert_allclose(Bw[:s], np.linalg.solve(K, B), rtol=1e-9, atol=1e-12)


def test_quasidefinite_solve_refuses_other_signs_and_restores_the_matrix():
    K = np.array([[2.0, 1.0, 0.5], [1.0, -3.0, 0.2], [0.5, 0.2, 1.0]])   # second pivot < 0
    Kw, B = K.copy(), np.ones((3, 2))
    assert not _solve_quasidefinite(Kw, B, 3, 3, np.empty(15))
    np.testing.assert_array_equal(Kw, K)
    np.testing.assert_array_equal(B, np.ones((3, 2)))


def test_quasidefinite_solve_restores_the_rows_after_the_failing_pivot():
    """Pivot 17 of 20 is negative where all should be positive: the rows of its block of
    four (16-19, factored four at a time), partly done before row 17 fails, are restored
    too."""
    A = np.random.default_rng(0).normal(size=(20, 22))
    K = A @ A.T + np.eye(20)
    K[17, 17] = -1000.0
    Kw, B = K.copy(), np.ones((20, 2))
    assert not _solve_quasidefinite(Kw, B, 20, 20, np.empty(100))
    np.testing.assert_array_equal(Kw, K)
    np.testing.assert_array_equal(B, np.ones((20, 2)))


def test_screen_flags_exactly_the_violators():
    """A fold's solution is screened coordinate by coordinate: every coordinate whose
    exact gradient g_j = g_j(0) + ψ x̃_ij - x̃_j'q exceeds l1 (here some by a relative
    1e-9, far below what the bound resolves) is flagged, no other one, and the support
    and candidates (HUGE limits) are skipped; a fold within the bound
    |x̃_ij (ψ - q_i)| + ||x̃_j without row i|| ||q without entry i|| is certified without
    an exact gradient, and that bound is never below the true sum."""
    rng = np.random.default_rng(5)
    n, p, l1, psi, i = 60, 200, 3.0, 0.8, 7
    Xc = rng.normal(size=(n, p)) * np.logspace(-3, 3, p)
    Xc -= Xc.mean(0)
    Xc[i, 5] = 1e4                                        # a column almost all in row i
    XcT, nu = np.ascontiguousarray(Xc.T), np.sqrt((Xc ** 2).sum(0))
    nu_out = norms_without_rows(Xc, nu)
    exact_out = np.sqrt([((np.delete(Xc, r, 0)) ** 2).sum(0) for r in range(n)])
    assert (nu_out >= exact_out).all()
    assert (nu_out - exact_out <= 1e-6 * nu).all()               # and barely above it
    q = rng.normal(size=n) * 0.05
    q[i] = 3.0                                             # the held-out entry carries most
    move = psi * Xc[i] - Xc.T @ q
    target = l1 * np.where(rng.random(p) < 0.5, 1 - 1e-9, 1 + 1e-9)
    r0 = np.sign(rng.normal(size=p)) * target - move              # |g_j| = target_j
    r0[::5] = 0.1 * l1 - move[::5]                                  # well inside
    lim = np.full(p, l1 * (1 - 1e-10))
    lim[np.arange(0, 40, 2)] = lim[[41, 77]] = 1e300
    C, added = np.zeros(p, dtype=np.int64), np.zeros(p, dtype=bool)
    bad, K = _screen(i, psi, q[None], 0, r0, Xc, XcT, nu_out, lim, l1, C, 0, added,
                     np.empty(p), np.empty(p, dtype=np.int64))
    g = r0 + move
    over = np.flatnonzero((np.abs(g) > l1 * (1 + 1e-10)) & (lim < 1e300))
    assert bad and len(over) > 20
    np.testing.assert_array_equal(np.sort(C[:K]), over)

    r0 = np.zeros(p)
    rest = np.sqrt(q @ q - q[i] ** 2)
    lim = np.abs((psi - q[i]) * Xc[i]) + nu_out[i] * rest * (1 + 1e-9)
    bad, K = _screen(i, psi, q[None], 0, r0, Xc, XcT, nu_out, lim, 0.0, C, 0,
                     np.zeros(p, dtype=bool), np.empty(p), np.empty(p, dtype=np.int64))
    assert not bad and K == 0
