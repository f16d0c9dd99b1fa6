"""Per-fold eigensystems of the training design, in the sample (dual) space.

For every split (train rows, test rows) the design is standardised with the training
rows' mean and s.d. (or reduced by a PCA fit on the training rows, then standardised),
and the training kernel K = Z Z' (n_train × n_train) is decomposed once,
K = U diag(s2) U'. Ridge predictions for any penalty are then τ' diag(1 / (s2 + α)) U'y
with τ = U' Z z_test, so a split costs one (n_train × r) product with the targets
whatever the number of penalties; with n_train < p this is cheaper than the primal.

The PCA (``pca_variance``) is the paper's XLS-R recipe: centre, keep the leading
components that explain ``pca_variance`` of the variance. :func:`pca_reduce` fits it on
the rows given (all trials: the paper's leak); :func:`fold_systems` fits it on each
split's training rows. Both use :func:`pca_components`, from the kernel, so a
100 × 100 000 flattened XLS-R matrix never meets an SVD of its 100 000 columns.
"""

from dataclasses import dataclass

import numpy as np

from .backend import get_backend

#: Eigenvalues below this fraction of the largest are treated as zero.
RANK_RTOL = 1e-12


@dataclass
class FoldSystem:
    """One split's standardised training eigensystem.

    train : (n_t,) and test : (t,) row indices; U : (n_t, r) orthonormal, orthogonal to
    the constant; s2 : (r,) eigenvalues of the standardised training kernel;
    tau : (r, t) = U' Z_train z_test. With a PCA, scale : (r,) the singular values of
    the centred training features (the unstandardised component scores are U·scale on
    the training rows and tau_raw = tau · scale / n_t on the test rows); else None.
    """

    train: object
    test: object
    U: object
    s2: object
    tau: object
    scale: object = None


def pca_components(K, variance, backend):
    """Leading eigenpairs of a centred kernel K (n × n) that keep ``variance``.

    Returns (U (n, k), s (k,)): left singular vectors and singular values of the centred
    features, largest first; k is the smallest count with cumulative variance ratio
    >= ``variance`` (at least 1).
    """
    if not 0 < variance <= 1:
        raise ValueError(f"pca_variance must be in (0, 1], got {variance!r}")
    lam, vec = backend.eigh(K)
    lam, vec = backend.maximum(backend.reverse(lam, 0), 0.0), backend.reverse(vec, 1)
    ratio = backend.to_numpy(lam.cumsum(0) / max(float(lam.sum()), 1e-300))
    k = int(np.searchsorted(ratio, variance - 1e-12) + 1)
    k = min(k, int((backend.to_numpy(lam) > RANK_RTOL * float(lam[0])).sum()) or 1)
    return vec[:, :k], backend.sqrt(lam[:k])


def pca_reduce(X_fit, variance, *others):
    """Project onto the principal components of ``X_fit`` that keep ``variance``.

    X_fit : (n, p); others : arrays (t, p). Returns the component scores of ``X_fit``
    (n, k) and of each array in ``others`` (numpy, float64).
    """
    B = get_backend("numpy")
    Xc = np.array(X_fit, dtype=float)           # the one copy (wide features: ~80 MB)
    mean = Xc.mean(0)
    Xc -= mean
    U, s = pca_components(Xc @ Xc.T, variance, B)
    basis = Xc.T @ (U / s)                       # (p, k) unit principal axes
    return [Xc @ basis, *((np.asarray(a, dtype=float) - mean) @ basis for a in others)]


def fold_systems(X, splits, backend, pca_variance=None):
    """:class:`FoldSystem` of every split (train, test) of the rows of X (n, p).

    Without a PCA each split's design is standardised by its training mean and s.d.
    (constant columns left at zero, as :func:`hgrecon.encoding.ridge.standardise`).
    With ``pca_variance`` the PCA is fit on the training rows and its scores are
    standardised (each component then has variance one, so s2 = n_train for all).
    """
    B = get_backend(backend)
    X = B.asarray(X)
    gram = X @ X.T if pca_variance else None     # raw kernel, shared by the PCA folds
    return [_pca_system(gram, tr, te, pca_variance, B) if pca_variance
            else _standard_system(X, tr, te, B) for tr, te in splits]


def _standard_system(X, train, test, B):
    Xt = B.take(X, train, 0)
    mean = Xt.mean(0)
    sd = B.sqrt(((Xt - mean) ** 2).mean(0))
    sd = B.where(sd > 0, sd, 1.0)
    Zt = (Xt - mean) / sd
    Zs = (B.take(X, test, 0) - mean) / sd
    U, s2 = _eig(Zt @ Zt.T, B)
    return FoldSystem(train=train, test=test, U=U, s2=s2, tau=U.T @ (Zt @ Zs.T))


def _pca_system(gram, train, test, variance, B):
    """Standardised PCA scores of one split, from the raw kernel ``gram`` (n, n)."""
    Ktt = B.take(B.take(gram, train, 0), train, 1)
    Kst = B.take(B.take(gram, test, 0), train, 1)
    row = Ktt.mean(0)
    total = row.mean()
    Kc = Ktt - row[:, None] - row[None, :] + total
    cross = Kst - Kst.mean(1)[:, None] - row[None, :] + total      # (t, n_t) centred
    U, s = pca_components(Kc, variance, B)
    n_t = len(train)
    return FoldSystem(train=train, test=test, U=U, s2=B.full(s.shape, float(n_t)),
                      tau=n_t * (U.T @ cross.T) / (s * s)[:, None], scale=s)


def _eig(K, B):
    """Eigenpairs of a PSD kernel above the rank tolerance: U (n, r), s2 (r,)."""
    lam, vec = B.eigh(K)
    keep = lam > RANK_RTOL * max(float(lam[-1]), 1e-300)
    return vec[:, keep], lam[keep]
