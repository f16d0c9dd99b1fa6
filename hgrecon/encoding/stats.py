"""Scores, permutation p-values and FDR, vectorised over rows or columns."""

import numpy as np
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


def perm_pvalue(observed, null):
    """One-sided permutation p-value, (1 + #{null >= observed}) / (1 + n_perm).

    observed : array (...,); null : array (n_perm, ...). NaN null values count as not
    exceeding; a NaN observation gives NaN.
    """
    null = np.asarray(null)
    observed = np.asarray(observed)
    exceed = (np.nan_to_num(null, nan=-np.inf) >= observed).sum(axis=0)
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
