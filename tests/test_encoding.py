"""The encoding engine against scikit-learn on the same folds, and the protocol's scores."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import ElasticNet, Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import LeaveOneGroupOut, LeaveOneOut, cross_val_predict
from sklearn.preprocessing import StandardScaler

from hgrecon.encoding import Settings, evaluate
from hgrecon.encoding.elasticnet import enet_gram, enet_loo
from hgrecon.encoding.folds import leave_one_group_out
from hgrecon.encoding.moments import fold_moments
from hgrecon.encoding.ridge import inner_loo_alpha, ridge_fold, ridge_loo
from hgrecon.encoding.stats import fdr_bh, pearson, perm_pvalue, scores_along_rows


def make_data(n=30, p=40, q=5, seed=0, offset=5.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * 2 + offset
    Y = X[:, :3] @ rng.normal(size=(3, q)) + rng.normal(size=(n, q)) + rng.uniform(5, 50, q)
    return X, Y


def words_table(n):
    return pd.DataFrame({"trial": np.arange(n), "word": [f"w{i:03d}" for i in range(n)]})


@pytest.mark.parametrize("alpha", [0.05, 1.0, 10.0])
def test_enet_gram_equals_sklearn_coefficients(alpha):
    X, Y = make_data()
    mom = next(fold_moments(X, Y, [np.array([], dtype=int)]))
    W = enet_gram(mom.gram, mom.cross, mom.yy, len(X), alpha, 0.5, tol=1e-12, max_iter=100_000)
    sk = ElasticNet(alpha=alpha, l1_ratio=0.5, tol=1e-12, max_iter=100_000).fit(X, Y)
    np.testing.assert_allclose(W.T, sk.coef_, atol=1e-7 * np.abs(sk.coef_).max() + 1e-10)
    np.testing.assert_allclose(mom.y_mean - mom.x_mean @ W, sk.intercept_, rtol=1e-8)


def test_enet_loo_equals_sklearn_leave_one_group_out():
    X, Y = make_data(n=24, p=30)
    groups = np.array([f"w{i}" for i in range(24)])
    folds = leave_one_group_out(groups)
    pred, nonzero = enet_loo(X, Y, folds, 0.3, 0.5, tol=1e-12)
    ref = cross_val_predict(ElasticNet(alpha=0.3, l1_ratio=0.5, tol=1e-12, max_iter=100_000),
                            X, Y, groups=groups, cv=LeaveOneGroupOut())
    np.testing.assert_allclose(pred, ref, rtol=1e-6, atol=1e-6)
    assert nonzero.shape == (24, Y.shape[1]) and nonzero.max() > 0


def test_ridge_fold_equals_sklearn_on_standardised_inputs():
    X, Y = make_data()
    pred, index = ridge_fold(X[:25], Y[:25], X[25:], np.array([3.0]))
    scaler = StandardScaler().fit(X[:25])
    ref = Ridge(alpha=3.0).fit(scaler.transform(X[:25]), Y[:25]).predict(scaler.transform(X[25:]))
    np.testing.assert_allclose(pred, ref, rtol=1e-10, atol=1e-10)
    assert (index == 0).all()


def test_inner_loo_alpha_matches_brute_force():
    X, Y = make_data(n=25, p=35, q=6)
    Z = StandardScaler().fit_transform(X)
    alphas = np.logspace(-2, 5, 15)
    U, s, _ = np.linalg.svd(Z - Z.mean(0), full_matrices=False)
    keep = s > 1e-9 * s[0]
    got = inner_loo_alpha(U[:, keep], s[keep], Y - Y.mean(0), alphas)
    errs = [((Y - cross_val_predict(Ridge(alpha=a), Z, Y, cv=LeaveOneOut())) ** 2).sum(0)
            for a in alphas]
    np.testing.assert_array_equal(got, np.argmin(errs, axis=0))


def test_ridge_loo_inner_cv_never_sees_the_outer_test_word(monkeypatch):
    """Instrument the fold systems: each fold's training rows exclude its test word; and
    the held-out word's target (however large) changes neither the fold's penalties nor
    its prediction."""
    from hgrecon.encoding import ridge as ridge_mod

    X, Y = make_data(n=12, p=8)
    seen = []
    real = ridge_mod.fold_systems

    def spy(X_, splits, *args, **kwargs):
        seen.extend((set(tr.tolist()), set(te.tolist())) for tr, te in splits)
        return real(X_, splits, *args, **kwargs)

    monkeypatch.setattr(ridge_mod, "fold_systems", spy)
    folds = [np.array([i]) for i in range(12)]
    alphas = np.logspace(-1, 4, 6)
    pred, index = ridge_loo(X, Y, folds, alphas)
    assert len(seen) == 12
    for (train, test), fold in zip(seen, folds):
        assert test == set(fold) and not (train & test) and len(train) == 11
    Y2 = Y.copy()
    Y2[3] += 1e6
    pred2, index2 = ridge_loo(X, Y2, folds, alphas)
    np.testing.assert_array_equal(index[3], index2[3])
    np.testing.assert_allclose(pred[3], pred2[3], rtol=1e-9)


def test_stats_against_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 50, 3))
    from scipy import stats
    np.testing.assert_allclose(pearson(a, b, 0), [stats.pearsonr(a[:, k], b[:, k])[0]
                                                  for k in range(3)])
    assert perm_pvalue(1.0, np.array([0.5, 1.0, 2.0])) == pytest.approx(3 / 4)
    # draws equal to the observation up to rounding tie with it; a real gap does not
    assert perm_pvalue(-0.5, -0.5 - np.array([1e-9, -1e-9, 2e-8])) == 1.0
    assert perm_pvalue(0.3, np.array([0.3 - 1e-4, 0.1, 0.2])) == pytest.approx(1 / 4)
    p = np.array([0.01, 0.04, 0.03, 0.5])
    np.testing.assert_allclose(fdr_bh(p), stats.false_discovery_control(p))


def test_scores_along_rows_equal_scipy_and_sklearn():
    """The one-pass-per-statistic column scores of the per-channel tables: r as
    scipy.stats.pearsonr, R² as sklearn's r2_score, NaN where a column is constant."""
    from scipy import stats
    from sklearn.metrics import r2_score
    rng = np.random.default_rng(1)
    true = rng.normal(size=(40, 3, 5)) * 3 + 20
    pred = true + rng.normal(size=true.shape)
    true[:, 2, 4] = 7.0                                   # a constant channel
    r, r2s = scores_along_rows(true, pred)
    assert r.shape == r2s.shape == (3, 5) and np.isnan(r[2, 4]) and np.isnan(r2s[2, 4])
    t, q = true.reshape(40, -1)[:, :-1], pred.reshape(40, -1)[:, :-1]
    np.testing.assert_allclose(r.reshape(-1)[:-1],
                               [stats.pearsonr(t[:, k], q[:, k])[0] for k in range(14)])
    np.testing.assert_allclose(r2s.reshape(-1)[:-1],
                               r2_score(t, q, multioutput="raw_values"))


def test_protocol_intercept_matches_independent_computation():
    X, Y = make_data(n=20, p=10, q=6)
    words = words_table(20)
    res = evaluate(X, Y, words.word.values, list("abcdef"), words, Settings(n_perm=5))
    for i in range(20):
        mean = np.delete(Y, i, axis=0).mean(0)
        assert res.words.pcc_intercept[i] == pytest.approx(np.corrcoef(Y[i], mean)[0, 1])
        assert res.words.r2_intercept[i] == pytest.approx(r2_score(Y[i], mean))


def test_protocol_all_zero_enet_equals_intercept():
    """Unscaled tiny features: alpha=1 zeroes every coefficient, so the paper score is the
    intercept-only score exactly (the paper's pitfall)."""
    X, Y = make_data(n=20, p=10, q=6)
    words = words_table(20)
    res = evaluate(X * 1e-4, Y, words.word.values, list("abcdef"), words, Settings(n_perm=5))
    assert (res.words.n_nonzero == 0).all()
    np.testing.assert_allclose(res.words.pcc, res.words.pcc_intercept, rtol=1e-12)
    np.testing.assert_allclose(res.words.r2, res.words.r2_intercept, rtol=1e-12)


def test_protocol_paper_score_equals_sklearn_per_word():
    X, Y = make_data(n=20, p=10, q=6)
    words = words_table(20)
    res = evaluate(X, Y, words.word.values, list("abcdef"), words,
                   Settings(n_perm=3, tol=1e-12))
    ref = cross_val_predict(ElasticNet(alpha=1.0, l1_ratio=0.5, tol=1e-12, max_iter=100_000),
                            X, Y, groups=words.word.values, cv=LeaveOneGroupOut())
    exp = [np.corrcoef(Y[i], ref[i])[0, 1] for i in range(20)]
    np.testing.assert_allclose(res.words.pcc, exp, rtol=1e-6)
    enet = res.channels[res.channels.model == "elasticnet"]
    np.testing.assert_allclose(enet.pcc, pearson(Y, ref, 0), rtol=1e-6)


def test_protocol_finds_planted_channels_and_spares_noise():
    rng = np.random.default_rng(7)
    n, q = 40, 16
    Z = rng.normal(size=(n, 6))
    X = np.hstack([Z, rng.normal(size=(n, 20))])
    Y = rng.lognormal(2, 0.7, q) + rng.normal(size=(n, q)) * 0.3
    Y[:, :5] += Z @ rng.normal(size=(6, 5))
    words = words_table(n)
    res = evaluate(X, Y, words.word.values, [f"c{i}" for i in range(q)], words,
                   Settings(n_perm=200))
    ridge = res.channels[res.channels.model == "ridge"].reset_index(drop=True)
    assert (ridge.p_fdr[:5] < 0.05).all()
    assert (ridge.p_fdr[5:] < 0.05).sum() <= 1


def test_pure_noise_p_values_uniform_and_nothing_survives_fdr():
    rng = np.random.default_rng(11)
    n, q = 30, 40
    X = rng.normal(size=(n, 12))
    Y = rng.lognormal(2, 0.5, q) + rng.normal(size=(n, q))
    words = words_table(n)
    res = evaluate(X, Y, words.word.values, [f"c{i}" for i in range(q)], words,
                   Settings(n_perm=100))
    ridge = res.channels[res.channels.model == "ridge"]
    from scipy import stats
    assert stats.kstest(ridge.p_value, "uniform").pvalue > 0.01
    assert (ridge.p_fdr < 0.05).sum() == 0
    # the paper score of pure noise is no better than its own null
    assert res.null.pcc.mean() == pytest.approx(res.words.pcc.mean(), abs=0.02)


@pytest.mark.parametrize("repeats", [1, 2])
def test_protocol_chunks_keep_every_permutation_in_place(monkeypatch, repeats):
    """Solved two permutations at a time (the last chunk one), the tables equal those of
    one chunk, and each permutation's null score is the score of the data shuffled by it.
    ``repeats``: trials per word (one-row folds are scored at once, others fold by fold)."""
    from hgrecon.encoding import protocol
    from hgrecon.encoding.folds import permutations

    n = 24
    X, Y = make_data(n=n, p=12, q=5)
    words = pd.DataFrame({"trial": np.arange(n),
                          "word": [f"w{i // repeats:03d}" for i in range(n)]})
    run = lambda Y, n_perm: evaluate(X, Y, words.word.values, list("abcde"), words,  # noqa: E731
                                     Settings(n_perm=n_perm))
    whole = run(Y, 8)
    monkeypatch.setattr(protocol, "CHUNK_COLUMNS", 10)
    chunked = run(Y, 8)
    for a, b in zip((whole.channels, whole.words, whole.null),
                    (chunked.channels, chunked.words, chunked.null)):
        pd.testing.assert_frame_equal(a, b, rtol=1e-12)
    for k, order in enumerate(permutations(n, 8, 0)):
        alone = run(Y[order], 0)
        assert chunked.null.pcc[k] == pytest.approx(alone.words.pcc.mean(), rel=1e-10)
        assert chunked.null.r2[k] == pytest.approx(alone.words.r2.mean(), rel=1e-10)


def test_pca_fit_all_versus_train():
    X, Y = make_data(n=20, p=30, q=4)
    words = words_table(20)
    a = evaluate(X, Y, words.word.values, list("abcd"), words,
                 Settings(n_perm=2, pca_variance=0.9, pca_fit="all"))
    t = evaluate(X, Y, words.word.values, list("abcd"), words,
                 Settings(n_perm=2, pca_variance=0.9, pca_fit="train"))
    assert not np.allclose(a.words.pcc, t.words.pcc)
    assert np.isfinite(t.channels.pcc).all()
