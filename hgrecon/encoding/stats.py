"""Scores, permutation p-values and FDR, vectorised over rows or columns."""

import numpy as np
from numba import njit
from scipy import stats


def _dot_along(a, b, axis):
    """Σ a * b along ``axis``, without the product's temporary."""
    if axis in (-1, a.ndim - 1):
        return np.einsum("...i,...i->...", a, b)
    return np.einsum("i...,i...->...", np.moveaxis(a, axis, 0), np.moveaxis(b, axis, 0))


def pearson(a, b, axis):
    """Pearson r between ``a`` and ``b`` along ``axis`` (NaN where either is constant)."""
    a = a - a.mean(axis=axis, keepdims=True)
    b = b - b.mean(axis=axis, keepdims=True)
    num = _dot_along(a, b, axis)
    den = np.sqrt(_dot_along(a, a, axis) * _dot_along(b, b, axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def r2(true, pred, axis):
    """Coefficient of determination of ``pred`` for ``true`` along ``axis``.

    Same definition as ``sklearn.metrics.r2_score`` on each 1-D slice:
    1 - sum((true - pred)^2) / sum((true - mean(true))^2).
    """
    res = true - pred
    tot = true - true.mean(axis=axis, keepdims=True)
    ss_res, ss_tot = _dot_along(res, res, axis), _dot_along(tot, tot, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.nan)


def scores_along_rows(true, pred):
    """:func:`pearson` and :func:`r2` of ``pred`` for ``true`` along axis 0 at once, for
    arrays (n, ...) of many columns: two passes over the rows (the means, then the
    centred sums), no temporaries the size of the arrays. Returns (r, R²), shape (...)."""
    true, pred = np.asarray(true, dtype=float), np.asarray(pred, dtype=float)
    if true.shape != pred.shape:
        raise ValueError(f"shapes differ: {true.shape} and {pred.shape}")
    shape = true.shape[1:]
    n = true.shape[0]
    r, r2s = _column_scores(np.ascontiguousarray(true.reshape(n, -1)),
                            np.ascontiguousarray(pred.reshape(n, -1)))
    return r.reshape(shape), r2s.reshape(shape)


@njit(cache=True, nogil=True)
def _column_scores(a, b):
    n, m = a.shape
    ma, mb = np.zeros(m), np.zeros(m)
    for i in range(n):
        for j in range(m):
            ma[j] += a[i, j]
            mb[j] += b[i, j]
    ma /= n
    mb /= n
    sab, saa, sbb, sres = np.zeros(m), np.zeros(m), np.zeros(m), np.zeros(m)
    for i in range(n):
        for j in range(m):
            da, db = a[i, j] - ma[j], b[i, j] - mb[j]
            sab[j] += da * db
            saa[j] += da * da
            sbb[j] += db * db
            sres[j] += (a[i, j] - b[i, j]) ** 2
    r, r2s = np.full(m, np.nan), np.full(m, np.nan)
    for j in range(m):
        if saa[j] * sbb[j] > 0:
            r[j] = sab[j] / np.sqrt(saa[j] * sbb[j])
        if saa[j] > 0:
            r2s[j] = 1.0 - sres[j] / saa[j]
    return r, r2s


#: Relative distance under which a null score ties with the observed one.
TIE = 1e-6


def tie_floor(value):
    """The lowest score that ties with ``value``: value - TIE · max(1, |value|)."""
    return value - TIE * np.maximum(1.0, np.abs(value))


def perm_pvalue(observed, null):
    """One-sided permutation p-value, (1 + #{null >= observed}) / (1 + n_perm).

    observed : array (...,); null : array (n_perm, ...). A null value within TIE ·
    max(1, |observed|) below the observation counts as reaching it: a model that ignores
    the targets' order (an ElasticNet with every coefficient zero) scores every draw
    alike up to rounding and its solver's tolerance, and its p-value is 1, not a toss of
    rounding. NaN null values count as not exceeding; a NaN observation gives NaN.
    """
    null = np.asarray(null)
    observed = np.asarray(observed)
    exceed = (np.nan_to_num(null, nan=-np.inf) >= tie_floor(observed)).sum(axis=0)
    p = (1.0 + exceed) / (1.0 + null.shape[0])
    return np.where(np.isnan(observed), np.nan, p)


def fdr_bh(p):
    """Benjamini-Hochberg adjusted p-values (q-values); NaNs are left out and kept."""
    p = np.asarray(p, dtype=float)
    q = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(p[ok], method="bh")
    return q
