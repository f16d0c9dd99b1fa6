"""LAPACK's Cholesky routines called from compiled code, against numpy."""

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet

from hgrecon.encoding.lapack import cholesky, cholesky_inverse, cholesky_solve, routines
from hgrecon.encoding.loo_path import full_solution


@pytest.mark.parametrize("k", [1, 2, 7, 40, 130])
def test_cholesky_solve_and_inverse_equal_numpy(k):
    rng = np.random.default_rng(k)
    A = rng.normal(size=(k + 3, k))
    H = A.T @ A + 0.5 * np.eye(k)
    b = rng.normal(size=k)
    F = H.copy()
    assert cholesky(F, routines())
    x = b.copy()
    cholesky_solve(F, x, routines())
    np.testing.assert_allclose(x, np.linalg.solve(H, b), rtol=1e-9, atol=1e-12)
    cholesky_inverse(F, routines())
    np.testing.assert_array_equal(F, F.T)
    np.testing.assert_allclose(F, np.linalg.inv(H), rtol=1e-9, atol=1e-12)


def test_cholesky_refuses_a_matrix_that_is_not_positive_definite():
    assert not cholesky(np.array([[1.0, 2.0], [2.0, 1.0]]), routines())


def test_full_solution_returns_the_inverse_on_its_support():
    """w equals scikit-learn's ElasticNet on the same centred data, and M0 is
    (G_AA + l2 I)^-1 on w's support A, from the last step's factor."""
    rng = np.random.default_rng(3)
    n, p, alpha, l1_ratio = 40, 60, 0.05, 0.5
    X = rng.normal(size=(n, p)) * rng.uniform(0.2, 2.0, p)
    y = X[:, :4] @ rng.normal(size=4) + rng.normal(size=n)
    Xc, yc = X - X.mean(0), y - y.mean()
    G = Xc.T @ Xc
    l1, l2 = alpha * l1_ratio * n, alpha * (1 - l1_ratio) * n
    w, r, M0, converged = full_solution(G, Xc.T @ yc, l1, l2, routines())
    assert converged
    ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=1_000_000).fit(X, y)
    np.testing.assert_allclose(w, ref.coef_, atol=1e-9)
    A = np.flatnonzero(w)
    assert 5 < len(A) == len(M0)
    np.testing.assert_allclose(M0, np.linalg.inv(G[np.ix_(A, A)] + l2 * np.eye(len(A))),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(r, Xc.T @ yc - G @ w, atol=1e-9)
