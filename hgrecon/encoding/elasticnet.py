"""Exact ElasticNet: Gram-form coordinate descent and exact cross-validation updates.

Minimises, independently for every target column (as scikit-learn's ``ElasticNet``
does for a 2-D ``y``)::

    1 / (2 N) Σ_frames (y - x'w - b)² + alpha * l1_ratio * ||w||_1
        + alpha * (1 - l1_ratio) / 2 * ||w||²

with an unpenalised intercept ``b``. Rows may be distinct design rows carrying
``weights`` (the number of frames that share them; N = Σ weights): the solver sees only
the weighted moments X'ΩX, X'ΩY and the total sum of squares, so its cost does not
grow with the number of frames.

:func:`enet_gram` — coordinate descent for all columns at once (each coordinate step is
one vector operation over the columns that move), working set of non-zero or
KKT-violating coordinates, gap-safe screening, scikit-learn's duality-gap stopping rule
(so ``tol`` means the same); a diagonal Gram is solved in closed form.

:func:`enet_cv` — cross-validated predictions without refitting each fold. The
full-data solution (coordinate descent on each column's candidate coordinates, the
largest |X'y|; where a candidate set missed a coordinate, the KKT violators are added and
the column is solved again exactly, :func:`enet_gram` being the last resort) is polished
to the exact optimum of its support (a k × k solve per column). Removing a fold's rows D
changes the moments by a rank-|D| term (and the penalty weights by N_T / N), so on the
same support and signs the fold's exact optimum is a Woodbury update,
w_T = u + Z M^{-1} a'u with u = (B_A - εI)^{-1} r_T, Z = (B_A - εI)^{-1} a,
M = Λ^{-1} - a'Z. It is accepted when its signs agree, the WATCH off-support coordinates
nearest to entering have |g_j| < l1 exactly (k operations each), and for all the others
|g_j| <= |g*_j| + ν_j sqrt(δ'B δ) + ξ_j ||Λ ρ_T||_1 + Δl1 < l1, which costs O(1) per
column through three per-column constants (ν_j = ||x_j||, ξ_j = max_i |x_ij|). A column
whose support changes in a fold is solved exactly on its support and the coordinates that
violate the KKT conditions at the Woodbury update (from the watch list, or for supports
of EXACT_ENTRY or more from an exact check) by batched active-set Newton steps started
from the active set the update implies (feature-sign search for those that do not
settle), then certified likewise or by an exact KKT check (one product with the design,
violators added); the few left go through :func:`enet_gram` on
the fold's downdated moments, warm-started from the full-data solution. The re-solves
of all folds are batched together by the size of their candidate sets. When the
full-data Gram is diagonal (PCA scores fit on all rows, the paper's XLS-R recipe) and
one row is held out, every column's fold problem is solved exactly and in full by a
scalar root instead of the Woodbury update (:func:`_diagonal_minus_rank_one`).
"""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .backend import get_backend
from .loo_path import loo_enet
from .moments import column_moments, fold_moments, weighted_moments

#: Column block of :func:`enet_cv` (memory: a few (block, k_max, k_max) arrays).
COLUMN_BLOCK = 4096
#: Safety margin of the KKT certificate and of the polish's KKT check.
CERT_MARGIN = 1e-9
#: Candidate coordinates per column of the full-data coordinate descent.
CANDIDATES = 64
#: Off-support coordinates per column whose fold gradients are checked exactly.
WATCH = 16
#: Columns with larger supports are solved fold by fold (memory of the (k, k) systems).
MAX_SUPPORT = 128
#: Supports from which a fold's entering coordinates come from an exact KKT check at the
#: Woodbury update rather than from the watch list (large supports change the most).
EXACT_ENTRY = 24


def enet_gram(gram, cross, yy, n_samples, alpha, l1_ratio, w0=None, tol=1e-4,
              max_iter=1000, backend="numpy"):
    """Solve ElasticNet for every column of ``cross`` given centred moments.

    gram : (p, p) Xc'ΩXc; cross : (p, m) Xc'ΩYc; yy : (m,) Σ (y - ȳ)² over frames;
    n_samples : N, the number of frames. w0 : (p, m) warm start. Returns W (p, m).
    Stops a column when its duality gap is below ``tol * yy`` (scikit-learn's
    criterion); gap-safe screening drops the coordinates that are provably zero in
    every open column.
    """
    check_penalty(alpha, l1_ratio)
    B = get_backend(backend)
    gram, cross, yy = B.asarray(gram), B.asarray(cross), B.asarray(yy)
    l1 = alpha * l1_ratio * n_samples
    l2 = alpha * (1.0 - l1_ratio) * n_samples
    diag = B.copy(gram.diagonal())
    if is_diagonal(gram, B):
        return _soft(cross, l1, B) / (diag + l2)[:, None]
    W = B.zeros(cross.shape) if w0 is None else B.copy(B.asarray(w0))
    inv = 1.0 / B.maximum(diag + l2, 1e-300)
    norm = B.sqrt(B.maximum(diag + l2, 1e-300))[:, None]
    cols = B.arange(cross.shape[1])
    sweeps = 0
    while sweeps < max_iter:
        Wc = B.take(W, cols, 1)
        yyc = B.take(yy, cols, 0)
        gap, xta, dual = duality_gap(gram, B.take(cross, cols, 1), yyc, Wc, l1, l2, B)
        open_ = gap > tol * yyc
        if not B.any(open_):
            return W
        keep_cols = B.flatnonzero(open_)
        cols = B.take(cols, keep_cols, 0)
        Wc, gap, xta, dual = (B.take(Wc, keep_cols, 1), B.take(gap, keep_cols, 0),
                              B.take(xta, keep_cols, 1), B.take(dual, keep_cols, 0))
        # Gap safe screening (Ndiaye et al. 2017), as scikit-learn does per column.
        radius = B.sqrt(2.0 * abs(gap)) / l1
        keep = B.any((1.0 - abs(xta) / B.maximum(dual, l1)) / norm <= radius, 1)
        if not sweeps:      # first pass: the coordinates violating the KKT conditions
            keep = keep & (B.any(W != 0, 1) | B.any(abs(xta) > l1, 1))
        Wc[~keep] = 0.0
        work = B.flatnonzero(keep)
        sub = B.take(cross, cols, 1)
        resid = B.take(sub, work, 0) - B.take(gram, work, 0) @ Wc
        Wc[work], done = _sweeps(B.take(B.take(gram, work, 0), work, 1), resid,
                                 B.take(Wc, work, 0), B.take(diag, work, 0),
                                 B.take(inv, work, 0), l1, tol, max_iter - sweeps, B)
        sweeps += done
        W[:, cols] = Wc
    warnings.warn(f"ElasticNet did not converge in {max_iter} sweeps", ConvergenceWarning)
    return W


def duality_gap(gram, cross, yy, W, l1, l2, B, gw=None):
    """Duality gap per column, with X'(y - Xw) - l2 w (p, m) and its max-norm (m,).
    gw : gram @ W when already known."""
    gw = gram @ W if gw is None else gw
    xta = cross - gw - l2 * W
    dual = B.amax(abs(xta), 0)
    qw = (W * cross).sum(0)
    r_norm2 = yy + (W * gw).sum(0) - 2.0 * qw
    w2 = (W * W).sum(0)
    scale = B.where(dual > l1, l1 / B.maximum(dual, 1e-300), 1.0)
    primal = 0.5 * (r_norm2 + l2 * w2) + l1 * abs(W).sum(0)
    dual_obj = -0.5 * scale ** 2 * (r_norm2 + l2 * w2) + scale * (yy - qw)
    return primal - dual_obj, xta, dual


def _sweeps(gram, resid, W, diag, inv, l1, tol, max_sweeps, B):
    """Cyclic coordinate descent on a working set, all columns at once.

    gram : (k, k) working-set Gram; resid : (k, m) X'(y - Xw) on the working set;
    W : (k, m). A coordinate step updates only the columns whose weight moves. Stops
    when the largest change is below ``tol`` × the largest weight (then the caller
    checks the duality gap). Returns (W, sweeps done).
    """
    m = W.shape[1]
    for sweep in range(1, max_sweeps + 1):
        d_max = w_max = 0.0
        for j in range(W.shape[0]):
            old = W[j]
            new = _soft(resid[j] + diag[j] * old, l1, B) * inv[j]
            moved = B.flatnonzero(new != old)
            if len(moved) > m // 4:
                d = new - old
                resid -= gram[:, j][:, None] * d[None, :]
                W[j] = new
                d_max = max(d_max, float(B.amax(abs(d), 0)))
            elif len(moved):
                d = B.take(new, moved, 0) - B.take(old, moved, 0)
                resid[:, moved] -= gram[:, j][:, None] * d[None, :]
                W[j, moved] = B.take(new, moved, 0)
                d_max = max(d_max, float(B.amax(abs(d), 0)))
            w_max = max(w_max, float(B.amax(abs(new), 0)))
        if d_max <= tol * w_max or w_max == 0.0:
            break
    return W, sweep


def enet_loo(X, Y, folds, alpha, l1_ratio, tol=1e-4, warm=True, backend="numpy",
             path=True):
    """Cross-validated ElasticNet predictions for every column of Y.

    X : (n, p); Y : (n, m); folds : list of test-index arrays covering the rows once.
    Returns (pred (n, m), nonzero (n_folds, m) count of non-zero coefficients), numpy.
    With ``warm`` (the default) folds are updated exactly from the full-data solution
    (:func:`enet_cv`); without, each fold is solved by :func:`enet_gram` from zero.
    With ``path`` (the default), the numpy backend, folds of one row each and
    l1_ratio < 1, the compiled exact path of :mod:`.loo_path` solves the folds instead
    (``tol`` does not apply: the folds are solved exactly).
    """
    n = len(X)
    if (warm and path and get_backend(backend).name == "numpy" and l1_ratio < 1
            and all(len(t) == 1 for t in folds)):
        return _enet_loo_path(X, Y, folds, alpha, l1_ratio, tol)
    splits = [(np.setdiff1d(np.arange(n), t), np.asarray(t)) for t in folds]
    if warm:
        preds, nonzero = enet_cv(X, Y, splits, alpha, l1_ratio, tol=tol, backend=backend)
    else:
        preds, nonzero = _enet_refit(X, Y, splits, alpha, l1_ratio, tol, backend)
    pred = np.empty(np.shape(Y))
    for (_, test), p in zip(splits, preds):
        pred[test] = p
    return pred, np.asarray(nonzero)


def _enet_loo_path(X, Y, folds, alpha, l1_ratio, tol):
    """:func:`enet_loo` by :func:`.loo_path.loo_enet`; the folds it leaves unsolved (rare)
    are updated by :func:`enet_cv`."""
    check_penalty(alpha, l1_ratio)
    Y = np.asarray(Y, dtype=float)
    pred, nnz, solved, _ = loo_enet(X, Y, alpha, l1_ratio)
    cols = np.flatnonzero(~solved.all(0))
    if len(cols):
        bad = np.flatnonzero(~solved[:, cols].all(1))
        splits = [(np.setdiff1d(np.arange(len(Y)), [r]), np.array([r])) for r in bad]
        preds, counts = enet_cv(X, Y[:, cols], splits, alpha, l1_ratio, tol=tol)
        for r, p, c in zip(bad, preds, counts):
            redo = cols[~solved[r, cols]]
            pred[r, redo] = p[0][~solved[r, cols]]
            nnz[r, redo] = c[~solved[r, cols]]
    rows = [t[0] for t in folds]
    return pred, nnz if rows == list(range(len(Y))) else nnz[rows]


def _enet_refit(X, Y, splits, alpha, l1_ratio, tol, backend):
    """Each split solved from zero on its own training moments (no warm start)."""
    B = get_backend(backend)
    X, Y = B.asarray(X), B.asarray(Y)
    preds, nonzero = [], []
    for train, test in splits:
        mom = next(fold_moments(B.take(X, train, 0), B.take(Y, train, 0),
                                [np.array([], dtype=int)], backend=B))
        W = enet_gram(mom.gram, mom.cross, mom.yy, mom.n_train, alpha, l1_ratio, tol=tol,
                      backend=B)
        preds.append(B.to_numpy(mom.y_mean + (B.take(X, test, 0) - mom.x_mean) @ W))
        nonzero.append(B.to_numpy((W != 0).sum(0)))
    return preds, nonzero


def enet_cv(X, Y, splits, alpha, l1_ratio, tol=1e-4, weights=None, within=None,
            backend="numpy"):
    """ElasticNet predictions of every split's test rows from its training rows.

    X : (n, p) distinct design rows; Y : (n, m) their mean targets; splits : list of
    (train, test) index arrays (rows in neither are excluded from that split: guard
    bands); weights : (n,) frames per row (default 1); within : (n, m) sum of squares
    of the frames around their row's mean (default 0). Returns (list of pred (t, m),
    list of nonzero (m,) coefficient counts), numpy. See the module docstring.
    """
    check_penalty(alpha, l1_ratio)
    B = get_backend(backend)
    X, Y = B.asarray(X), B.asarray(Y)
    w = B.asarray(np.ones(X.shape[0]) if weights is None else weights)
    preds = [np.empty((len(te), Y.shape[1])) for _, te in splits]
    nonzero = [np.empty(Y.shape[1], dtype=np.int64) for _ in splits]
    for lo in range(0, Y.shape[1], COLUMN_BLOCK):
        block = np.arange(lo, min(lo + COLUMN_BLOCK, Y.shape[1]))
        within_b = None if within is None else B.take(B.asarray(within), B.asarray(block, "int"), 1)
        mom = weighted_moments(X, B.take(Y, B.asarray(block, "int"), 1), w, within_b, B)
        N = float(mom.n_train)
        W = _candidate_cd(mom.gram, mom.cross, alpha * l1_ratio * N,
                          alpha * (1 - l1_ratio) * N, _support_tol(tol), B)
        count = B.to_numpy((W != 0).sum(0))
        order = np.argsort(count, kind="stable")
        for part in _buckets(count[order]):      # similar supports: little padding
            cols = block[order[part]]
            sub = B.asarray(order[part], "int")
            solver = _Folds(X, B.take(Y, B.asarray(cols, "int"), 1), w,
                            None if within_b is None else B.take(within_b, sub, 1),
                            column_moments(mom, sub, B), B.take(W, sub, 1),
                            alpha, l1_ratio, tol, B)
            for f, (pred, nz) in enumerate(solver.folds(splits)):
                preds[f][:, cols] = B.to_numpy(pred)
                nonzero[f][cols] = B.to_numpy(nz)
    return preds, nonzero


@dataclass
class _Job:
    """The columns of one fold whose support changes (:meth:`_Folds._refit`).

    ctx : the fold (dropped rows ``drop``, their weights ``wd`` and centred design
    ``XD`` (R, p + 1), ``lam``, ``n_t``, ``dl1``, training means ``ybar`` (m,) and
    centred test rows ``xt`` (t, p + 1)); cols : (c,) columns; e : (c, R) their dropped
    centred targets; S : (c, s) candidate coordinates (padded with p); sign0 : (c, s) the
    first active set and signs on S (what the Woodbury update or the last solve implies);
    pred (t, m) and nonzero (m,) : the fold's outputs, written in place.
    """

    ctx: dict
    cols: object
    e: object
    S: object
    sign0: object
    pred: object
    nonzero: object


class _Folds:
    """Columns with supports of similar size: the full-data solution W (coordinate
    descent on candidates), polished, and its exact fold updates.

    Arrays on supports are padded to k (the largest support) with the dummy coordinate
    p, whose Gram row is the unit vector and whose design column is zero. Per column,
    B_A = G_AA + l2 I = Q diag(μ) Q' (Q = I for a diagonal Gram). In a fold the penalty
    weights scale with the training frames, so B_T = (B_A - ε I) - a Λ a' with
    ε = l2 (1 - N_T / N): (B_A - ε I)^{-1} comes from the same eigenpairs and the
    rank-|D| term from Woodbury.
    """

    def __init__(self, X, Y, w, within, mom, W, alpha, l1_ratio, tol, B):
        self.B, self.alpha, self.l1_ratio, self.tol = B, alpha, l1_ratio, tol
        self.w, self.within = w, within
        self.mom = mom
        self.N = N = float(mom.n_train)
        self.l1, self.l2 = alpha * l1_ratio * N, alpha * (1 - l1_ratio) * N
        p, m = mom.cross.shape
        self.Xc = B.cat([X - mom.x_mean, B.zeros((X.shape[0], 1))], 1)   # (n, p + 1)
        self.Yc = Y - mom.y_mean
        self._setup(W)
        redo = B.flatnonzero(~self.exact)
        if len(redo):           # a candidate set missed a coordinate: add the violators
            W[:, redo] = self._expand(redo, B.take(W, redo, 1))
            self._setup(W)
            redo = B.flatnonzero(~self.exact)
        if len(redo):           # still not exact: full coordinate descent
            W[:, redo] = enet_gram(mom.gram, B.take(mom.cross, redo, 1), B.take(mom.yy, redo, 0),
                                   N, alpha, l1_ratio, w0=B.take(W, redo, 1), tol=_support_tol(tol),
                                   max_iter=10000, backend=B)
            self._setup(W)

    def _expand(self, cols, W, rounds=20):
        """Full-data solutions (p, c) of the columns ``cols`` from the near ones W: solved
        exactly (:func:`_small_enet`) on their supports plus the WATCH largest KKT
        violators, until none is left or after ``rounds`` solves (supports larger than the
        rows couple every coordinate, so a round may reveal new violators)."""
        B, mom = self.B, self.mom
        p, c = W.shape
        cross = B.take(mom.cross, cols, 1)
        cross1, idx = B.cat([cross, B.zeros((1, c))]), B.arange(c)
        for _ in range(rounds):
            g = cross - self._gram_times(W)
            excess = B.where(W == 0, abs(g) - self.l1 * (1 + 1e-12), -np.inf)
            if not bool(B.any(excess > 0)):
                break
            enter, sign_enter = _top_violators(excess, g, B)
            A, W1 = _supports(W, B), B.cat([W, B.zeros((1, c))])
            S, sign0 = _unique_rows(B.cat([A, enter], 1), p, B,
                                    B.cat([B.sign(B.gather_rows(W1, A.T)).T, sign_enter], 1))
            H = self.Gp[S[:, :, None], S[:, None, :]] + self.l2 * B.eye(S.shape[1])
            w, _ = _small_enet(H, cross1[S.T, idx].T, B.full((c,), self.l1), W1[S.T, idx].T,
                               sign0, B)
            W = _scatter(w, S, p, B)
        return W

    def _setup(self, W):
        """Supports, eigenpairs of B_A, the exact solutions on the supports, and the
        certificate constants, from a converged solution W (p, m)."""
        B, mom = self.B, self.mom
        p, m = mom.cross.shape
        self.support = _supports(W, B)                                    # (m, k)
        self.pad = self.support == p
        cols = B.arange(m)
        self.Gp = Gp = B.eye(p + 1)               # the padding coordinate p: unit row
        Gp[:p, :p] = mom.gram
        self.diagonal = is_diagonal(mom.gram, B)
        if self.diagonal or not self.support.shape[1]:
            self.Q, self.mu = None, Gp.diagonal()[self.support] + self.l2
        else:
            self.mu, self.Q = B.eigh(Gp[self.support[:, :, None], self.support[:, None, :]]
                                     + self.l2 * B.eye(self.support.shape[1]))
        self.sign = B.sign(B.cat([W, B.zeros((1, m))])[self.support.T, cols].T)
        self.cross1 = B.cat([mom.cross, B.zeros((1, m))])                 # (p + 1, m)
        self.CA = self.cross1[self.support.T, cols].T                     # (m, k)
        self.wa = self._solve(self.CA - self.l1 * self.sign, 0.0)          # exact on A
        Wp = _scatter(self.wa, self.support, p, B)                        # (p, m)
        g = mom.cross - self._gram_times(Wp)
        exact = ((self.wa * self.sign > 0) | self.pad).all(1)
        if self.mu.shape[1]:
            exact = exact & (B.amin(self.mu, 1) > 1e-9 * B.amax(self.mu, 1))
        exact = exact & (B.amin(B.where(Wp == 0, self.l1 - abs(g), np.inf), 0)
                         > CERT_MARGIN * self.l1)
        self.W = B.where(exact[None, :], Wp, W)                           # reference points
        self.W1 = B.cat([self.W, B.zeros((1, m))])
        if not bool(B.all(exact)):
            g = B.where(exact[None, :], g, mom.cross - self._gram_times(self.W))
        self.g = g
        self.exact = exact & (self.support.shape[1] <= MAX_SUPPORT)
        self.bounds = self._certificate_constants()

    def _solve(self, x, eps):
        """(B_A - eps I)^{-1} x for x (m, k) or (m, k, r), per column."""
        B = self.B
        mu = self.mu - eps
        scale = 1.0 / B.where(mu > 0, mu, np.inf)
        if self.Q is None:
            return x * (scale if x.ndim == 2 else scale[..., None])
        if x.ndim == 2:
            return B.einsum("mij,mj->mi", self.Q, scale * B.einsum("mji,mj->mi", self.Q, x))
        return B.einsum("mij,mjr->mir", self.Q,
                        scale[..., None] * B.einsum("mji,mjr->mir", self.Q, x))

    def _energy(self, x):
        """x' B_A x per column, x (m, k)."""
        if self.Q is None:
            return (self.mu * x * x).sum(1)
        return (self.mu * self.B.einsum("mji,mj->mi", self.Q, x) ** 2).sum(1)

    def _certificate_constants(self):
        """Per column, from the reference point W and its gradient g: the WATCH
        off-support coordinates of least slack σ_j = l1 - |g_j| relative to their scale
        (checked exactly in every fold), and over the other off-support coordinates the
        maxima of ν_j / σ_j, ξ_j / σ_j and 1 / σ_j."""
        B, mom, W, g = self.B, self.mom, self.W, self.g
        p, m = W.shape
        off = W == 0
        slack = B.maximum(B.where(off, self.l1 - abs(g), np.inf), CERT_MARGIN * self.l1)
        nu = B.sqrt(B.maximum(mom.gram.diagonal(), 0.0))[:, None]
        xi = B.amax(abs(self.Xc[:, :-1]), 0)[:, None]
        danger = B.where(off, B.maximum(nu, xi) / slack, -1.0)
        watch = B.topk(danger, min(WATCH, p), 0)                          # (K, m)
        self.watch = B.where_int(B.gather_rows(danger, watch) >= 0, watch, p).T  # (m, K)
        rest = B.copy(off)
        rest[watch, B.arange(m)[None, :]] = False
        self.G_watch = self.Gp[self.watch[:, :, None], self.support[:, None, :]]  # (m, K, k)
        self.g_watch = B.cat([g, B.zeros((1, m))])[self.watch.T, B.arange(m)].T
        return [B.amax(B.where(rest, v / slack, 0.0), 0) for v in (nu, xi, 1.0)]

    # folds ------------------------------------------------------------------------------
    def folds(self, splits):
        """[(pred (t, m), nonzero (m,))] of every split (train, test) of the rows: the
        Woodbury updates fold by fold, then the re-solves of all folds together."""
        out, jobs = [], []
        for train, test in splits:
            pred, nonzero, job = self.fold(np.asarray(train), np.asarray(test))
            out.append((pred, nonzero))
            jobs += [job] if job is not None else []
        self._refit(jobs)
        return out

    def fold(self, train, test):
        """(pred (t, m), nonzero (m,), job) of the split (train, test) of the rows; job
        (or None) holds the columns whose support changes, their predictions are written
        into pred and nonzero by :meth:`_refit`."""
        B, mom = self.B, self.mom
        p = mom.gram.shape[0]
        drop = np.setdiff1d(np.arange(self.Xc.shape[0]), train)
        wd = B.take(self.w, drop, 0)
        n_t = self.N - float(wd.sum())
        eps, dl1 = self.l2 * (1 - n_t / self.N), self.l1 * (1 - n_t / self.N)
        lam = B.diag(wd) + wd[:, None] * wd[None, :] / n_t               # (R, R)
        XD, e = B.take(self.Xc, drop, 0), B.take(self.Yc, drop, 0).T      # (R, p+1), (m, R)
        ybar = mom.y_mean - (wd @ B.take(self.Yc, drop, 0)) / n_t
        xt = B.take(self.Xc, test, 0) + (wd @ XD) / n_t                   # x - x̄_train
        if self.diagonal and len(drop) == 1 and self.l2 > 0:     # one row out: exact in 1-D
            root, x = float(lam[0, 0]) ** 0.5, XD[0, :-1]
            W = _diagonal_minus_rank_one(
                mom.gram.diagonal() + self.l2 * n_t / self.N, root * x,
                mom.cross - x[:, None] * (root ** 2 * e[:, 0]), self.l1 - dl1,
                root * (x @ self.W), B)
            return ybar + xt[:, :-1] @ W, (W != 0).sum(0), None
        a = XD.T[self.support]                                            # (m, k, R)
        u = self._solve(self.CA - B.einsum("mkr,mr->mk", a, e @ lam) - (self.l1 - dl1)
                        * self.sign, eps)
        Z = self._solve(a, eps)
        v = B.solve(B.inv(lam)[None] - B.einsum("mkr,mks->mrs", a, Z),
                    B.einsum("mkr,mk->mr", a, u)[..., None])[..., 0]    # (m, R)
        wt = u + B.einsum("mkr,mr->mk", Z, v)
        beta = B.sqrt(B.maximum(self._energy(wt - self.wa), 0.0))
        signs = self.exact & ((wt * self.sign > 0) | self.pad).all(1)
        mu_nu, mu_xi, mu_one = self.bounds
        lam_rho = (e - B.einsum("mkr,mk->mr", a, wt)) @ lam                # (m, R)
        gamma = abs(lam_rho).sum(1)
        good = signs & (beta * mu_nu + gamma * mu_xi + dl1 * mu_one < 1 - CERT_MARGIN)
        g_watch = (self.g_watch - B.einsum("mwk,mk->mw", self.G_watch, wt - self.wa)
                   - B.einsum("mwr,mr->mw", XD.T[self.watch], lam_rho))
        calm = abs(g_watch) < (self.l1 - dl1) * (1 - CERT_MARGIN)           # (m, K)
        good = good & calm.all(1)
        pred = ybar + B.einsum("mkt,mk->tm", xt.T[self.support], wt)
        nonzero = (~self.pad).sum(1)
        bad = B.flatnonzero(~good)
        if not len(bad):
            return pred, nonzero, None
        ctx = {"drop": drop, "wd": wd, "n_t": n_t, "lam": lam, "XD": XD, "dl1": dl1,
               "ybar": ybar, "xt": xt}
        wt_b = B.take(wt, bad, 0)
        kept = B.take(B.where((wt * self.sign > 0) & ~self.pad, self.sign, 0.0), bad, 0)
        if self.support.shape[1] >= EXACT_ENTRY:
            _, g, excess = self._fold_excess(B.take(self.support, bad, 0), wt_b, bad,
                                             B.take(lam_rho, bad, 0), XD, self.l1 - dl1)
            enter, sign_enter = _top_violators(excess, g, B)
        else:
            calm_b = B.take(calm, bad, 0)
            enter = B.where_int(calm_b, p, B.take(self.watch, bad, 0))
            sign_enter = B.where(calm_b, 0.0, B.sign(B.take(g_watch, bad, 0)))
        S, sign0 = _unique_rows(B.cat([B.take(self.support, bad, 0), enter], 1), p, B,
                                B.cat([kept, sign_enter], 1))
        return pred, nonzero, _Job(ctx, bad, B.take(e, bad, 0), S, sign0, pred, nonzero)

    def _fold_excess(self, S, w, cols, lam_rho, XD, l1):
        """Exact KKT check of the fold solutions w (c, s) on S of the columns ``cols``
        (one product with the design): (W (p, c) the solutions, g (p, c) their fold
        gradients, excess (p, c) = |g| - l1 off the support, -inf on it)."""
        B = self.B
        W = _scatter(w, S, self.mom.gram.shape[0], B)
        g = (B.take(self.g, cols, 1) - self._gram_times(W - B.take(self.W, cols, 1))
             - XD[:, :-1].T @ lam_rho.T)
        return W, g, B.where(W == 0, abs(g) - l1 * (1 - CERT_MARGIN), -np.inf)

    def _gram_times(self, W):
        """G @ W for a sparse W (p, c): through the non-zero rows, or through the rows of
        the design when that is cheaper (p > n)."""
        B = self.B
        used = B.flatnonzero(B.any(W != 0, 1))
        Xc = self.Xc[:, :-1]
        if self.mom.gram.shape[0] * len(used) <= Xc.shape[0] * (Xc.shape[1] + len(used)):
            return B.take(self.mom.gram, used, 1) @ B.take(W, used, 0)
        return Xc.T @ (self.w[:, None] * (B.take(Xc, used, 1) @ B.take(W, used, 0)))

    def _refit(self, jobs, rounds=4):
        """Solve the columns of every job (fold) whose support changes; see :class:`_Job`.

        On each column's candidates S (its support and the watched coordinates that
        violate the KKT conditions at the Woodbury update) the fold's problem is solved
        exactly by :func:`_feature_sign` on the downdated moments, the problems of all
        folds batched by the size of S; :meth:`_certify` then checks the other
        coordinates, and columns with violators are solved again with them added to S,
        up to ``rounds`` times, then by :func:`enet_gram` on all coordinates.
        """
        B = self.B
        p = self.mom.gram.shape[0]
        for attempt in range(rounds + 1):
            if not jobs:
                return
            count = np.concatenate([B.to_numpy((job.S < p).sum(1)) for job in jobs])
            owner = np.repeat(np.arange(len(jobs)), [len(job.cols) for job in jobs])
            pos = np.concatenate([np.arange(len(job.cols)) for job in jobs])
            order = np.argsort(count, kind="stable")
            retry = []
            for part in _buckets(count[order], 1.25):
                sel = order[part]
                width = max(1, int(count[sel].max()))
                pieces = [self._piece(jobs[j], B.asarray(pos[sel][owner[sel] == j], "int"),
                                      width) for j in np.unique(owner[sel])]
                w, ok = _small_enet(*(B.cat([pc[k] for pc in pieces])
                                      for k in ("H_S", "C_S", "l1", "w0", "sign0")), B)
                start = 0
                for pc in pieces:
                    stop = start + len(pc["cols"])
                    job = self._certify(pc, w[start:stop], ok[start:stop], attempt == rounds)
                    retry += [job] if job is not None else []
                    start = stop
            jobs = retry

    def _piece(self, job, rows, width):
        """The fold's problems of the job's columns ``rows`` on their candidates S
        (padded to ``width``): Gram and cross-products downdated, starting point, penalties."""
        B, mom, ctx = self.B, self.mom, job.ctx
        cols, S, e = B.take(job.cols, rows, 0), B.take(job.S, rows, 0), B.take(job.e, rows, 0)
        c, p = len(cols), mom.gram.shape[0]
        pad = max(width - S.shape[1], 0)
        S = B.cat([S, B.where_int(B.zeros((c, pad), "bool"), 0, p)], 1)[:, :width]
        sign0 = B.cat([B.take(job.sign0, rows, 0), B.zeros((c, pad))], 1)[:, :width]
        G_full = self.Gp[S[:, :, None], S[:, None, :]]                      # (c, s, s)
        xs = ctx["XD"].T[S]                                                # (c, s, R)
        l1 = self.l1 - ctx["dl1"]
        return {"job": job, "cols": cols, "S": S, "e": e, "xs": xs, "G_full": G_full,
                "H_S": (G_full - B.einsum("msr,rt,mut->msu", xs, ctx["lam"], xs)
                        + (self.l2 * ctx["n_t"] / self.N) * B.eye(width)),
                "C_S": (self.cross1[S.T, cols[None, :]].T
                        - B.einsum("msr,mr->ms", xs, e @ ctx["lam"])),
                "w0": self.W1[S.T, cols[None, :]].T, "sign0": sign0,
                "l1": B.full((c,), l1)}

    def _certify(self, pc, w, ok, last):
        """Check the solutions w (c, s) of a piece (:meth:`_piece`; ok: feature-sign
        converged) off S: the watched coordinates exactly, the others by the bound of
        :meth:`fold`, else exactly (one product with the design). Writes the
        predictions of the certified columns; returns the job of the others with their
        largest violators added to S, or (``last``) solves them by :meth:`_fold_cd`."""
        B, mom, job = self.B, self.mom, pc["job"]
        ctx, S, cols, e, xs = job.ctx, pc["S"], pc["cols"], pc["e"], pc["xs"]
        XD, lam, dl1 = ctx["XD"], ctx["lam"], ctx["dl1"]
        p = mom.gram.shape[0]
        l1 = self.l1 - dl1
        delta = w - pc["w0"]
        beta = B.sqrt(B.maximum(B.einsum("ms,msu,mu->m", delta, pc["G_full"], delta)
                                + self.l2 * (delta * delta).sum(1), 0.0))
        lam_rho = (e - B.einsum("msr,ms->mr", xs, w)) @ lam
        mu_nu, mu_xi, mu_one = (B.take(b, cols, 0) for b in self.bounds)
        converged = ok
        ok = ok & (beta * mu_nu + abs(lam_rho).sum(1) * mu_xi + dl1 * mu_one
                   < 1 - CERT_MARGIN)
        watch = B.take(self.watch, cols, 0)                                # (c, K)
        g_watch = (B.take(self.g_watch, cols, 0)
                   - B.einsum("mks,ms->mk", self.Gp[watch[:, :, None], S[:, None, :]], delta)
                   - B.einsum("mkr,mr->mk", XD.T[watch], lam_rho))
        in_S = B.any(watch[:, :, None] == S[:, None, :], 2)
        ok = ok & (in_S | (abs(g_watch) < l1 * (1 - CERT_MARGIN))).all(1)
        check = B.flatnonzero(~ok)
        if len(check):
            Wk, g, excess = self._fold_excess(B.take(S, check, 0), B.take(w, check, 0),
                                              B.take(cols, check, 0),
                                              B.take(lam_rho, check, 0), XD, l1)
            ok[check] = (B.amax(excess, 0) < 0) & B.take(converged, check, 0)
        done = B.flatnonzero(ok)
        ybar, xt = B.take(ctx["ybar"], cols, 0), ctx["xt"]
        job.pred[:, B.take(cols, done, 0)] = B.take(ybar, done, 0) + B.einsum(
            "mst,ms->tm", xt.T[B.take(S, done, 0)], B.take(w, done, 0))
        job.nonzero[B.take(cols, done, 0)] = (B.take(w, done, 0) != 0).sum(1)
        sub = B.flatnonzero(~B.take(ok, check, 0))                         # into check
        if not len(sub):
            return None
        open_ = B.take(check, sub, 0)
        if last:
            W = self._fold_cd(B.take(cols, open_, 0), ctx, B.take(e, open_, 0), B.take(Wk, sub, 1))
            job.pred[:, B.take(cols, open_, 0)] = B.take(ybar, open_, 0) + xt[:, :-1] @ W
            job.nonzero[B.take(cols, open_, 0)] = (W != 0).sum(0)
            return None
        enter, sign_enter = _top_violators(B.take(excess, sub, 1), B.take(g, sub, 1), B)
        S2, sign0 = _unique_rows(B.cat([B.take(S, open_, 0), enter], 1), p, B,
                                 B.cat([B.sign(B.take(w, open_, 0)), sign_enter], 1))
        return _Job(ctx, B.take(cols, open_, 0), B.take(e, open_, 0), S2, sign0, job.pred,
                    job.nonzero)

    def _fold_cd(self, cols, ctx, e, w0):
        """:func:`enet_gram` on the fold's downdated moments for the columns ``cols``
        (their dropped targets e (c, R)), warm-started from w0 (p, c)."""
        B, mom = self.B, self.mom
        XD, lam, wd, n_t = ctx["XD"][:, :-1], ctx["lam"], ctx["wd"], ctx["n_t"]
        E = e.T                                                            # (R, c)
        d = (wd @ E) / n_t
        yy = B.take(mom.yy, cols, 0) - (wd[:, None] * E * E).sum(0) - n_t * d * d
        if self.within is not None:
            yy = yy - B.take(B.take(self.within, ctx["drop"], 0), cols, 1).sum(0)
        return enet_gram(mom.gram - XD.T @ lam @ XD, B.take(mom.cross, cols, 1) - XD.T @ (lam @ E),
                         yy, n_t, self.alpha, self.l1_ratio, w0=w0, tol=self.tol, max_iter=10000,
                         backend=B)


def _small_enet(H, C, l1, w0, sign0, B, newton_steps=6):
    """Exact ElasticNet of many small problems (arguments as :func:`_feature_sign`;
    sign0 (c, s): the first active set and its signs).

    First a few primal-dual active-set (semismooth Newton) steps: solve on the active
    set with its signs, then keep the coordinates whose sign holds and add those whose
    gradient exceeds l1; a problem whose active set and signs repeat is solved exactly.
    The few that do not settle go through :func:`_feature_sign` from w0, which always
    converges. Returns (w (c, s), converged (c,)).
    """
    c = C.shape[0]
    A, sign = sign0 != 0, B.copy(sign0)
    w = B.copy(w0)
    settled = B.zeros((c,), dtype="bool")
    live = B.arange(c)
    for _ in range(newton_steps):
        Hl, Al, sl = (H, A, sign) if len(live) == c else (H[live], A[live], sign[live])
        on = B.where(Al, 1.0, 0.0)
        Ha = Hl * on[:, :, None]                   # the active block, unit rows elsewhere
        Ha *= on[:, None, :]
        B.add_diagonal(Ha, 1.0 - on)
        wl = B.solve(Ha, B.where(Al, C[live] - l1[live][:, None] * sl, 0.0)[..., None])[..., 0]
        g = C[live] - B.einsum("msu,mu->ms", Hl, wl)
        keep = Al & (wl * sl > 0)
        enter = ~Al & (abs(g) > l1[live][:, None] * (1 + 1e-12))
        new_sign = B.where(keep, sl, B.where(enter, B.sign(g), 0.0))
        done = (new_sign == B.where(Al, sl, 0.0)).all(1)
        w[live] = wl
        A[live], sign[live] = keep | enter, new_sign
        settled[live[done]] = True
        live = B.take(live, B.flatnonzero(~done), 0)
        if not len(live):
            return w, settled
    w[live], settled[live] = _feature_sign(H[live], C[live], l1[live], w0[live], B)
    return w, settled


def _feature_sign(H, C, l1, w0, B, max_iter=None):
    """Exact ElasticNet of many small problems by feature-sign search (Lee et al. 2007).

    H : (c, s, s) Gram plus the ridge penalty and C : (c, s) cross-products of c problems
    on s coordinates (padding coordinates: a diagonal row, zero C); l1 : (c,) penalties;
    w0 : (c, s) starting point, whose non-zeros are the starting active set and signs.
    Each step solves exactly on the active set with its signs; a coefficient that would
    change sign stops the step at the first crossing and leaves the set; else the largest
    KKT violator enters. The inverse of the active block (unit rows elsewhere) is kept
    up to date by rank-one changes, so a step costs O(s²), and one step of iterative
    refinement polishes the result. Problems leave the loop when converged.
    Returns (w (c, s), converged (c,)).
    """
    c, s = C.shape
    eye = B.eye(s)
    l1 = l1[:, None]
    w = B.copy(w0)
    A, sign = w0 != 0, B.sign(w0)
    M = B.inv(B.where(A[:, :, None] & A[:, None, :], H, eye))
    converged = B.zeros((c,), dtype="bool")
    # The loop works on the rows ``work`` of the problems; finished rows are left as they
    # are (masked) until fewer than half are live, then written back and dropped.
    work = B.arange(c)
    Hw, Cw, Aw, sw, ww, Mw, l1w = H, C, A, sign, w, M, l1
    live = ~B.zeros((c,), dtype="bool")
    for _ in range(max_iter or 2 * s + 5):
        n_live = int(live.sum())
        if not n_live:
            break
        if n_live < len(work) // 2:
            _write_rows((w, A, sign, M), work, (ww, Aw, sw, Mw))
            work = B.take(work, B.flatnonzero(live), 0)
            Hw, Cw, Aw, sw, ww, Mw, l1w = (x[work] for x in (H, C, A, sign, w, M, l1))
            live = ~B.zeros((len(work),), dtype="bool")
        rows = B.arange(len(work))
        new = B.einsum("msu,mu->ms", Mw, B.where(Aw, Cw - l1w * sw, 0.0))
        bad = Aw & (new * sw <= 0) & live[:, None]
        step = B.where(bad & (ww != new), ww - new, 1.0)
        crossing = B.where(bad, B.where(ww != new, ww / step, 0.0), np.inf)
        first = B.argmin(crossing, 1)
        has_bad = B.any(bad, 1)
        t = B.minimum(crossing[rows, first], 1.0)[:, None]
        ww = B.where(live[:, None], B.where(has_bad[:, None], ww + t * (new - ww), new), ww)
        out, j = rows[has_bad], first[has_bad]
        ww[out, j] = 0.0
        Aw[out, j] = False
        if len(out):                    # j leaves: the inverse of the smaller block
            mj = Mw[out, :, j]
            Mw[out] -= mj[:, :, None] * mj[:, None, :] / Mw[out, j, j][:, None, None]
            Mw[out, j, j] = 1.0
        g = Cw - B.einsum("msu,mu->ms", Hw, ww)
        excess = B.where(Aw, 0.0, abs(g) - l1w * (1 + 1e-12))
        enter = B.argmax(excess, 1)
        add = live & ~has_bad & (excess[rows, enter] > 0)
        into, j = rows[add], enter[add]
        if len(into):                   # j enters: the bordered inverse
            b = B.where(Aw[into], Hw[into, :, j], 0.0)
            v = B.einsum("msu,mu->ms", Mw[into], b)
            schur = Hw[into, j, j] - (b * v).sum(1)
            v[B.arange(len(into)), j] -= 1.0
            Mw[into] += v[:, :, None] * v[:, None, :] / schur[:, None, None]
            Mw[into, j, j] -= 1.0
            Aw[into, j] = True
            sw[into, j] = B.sign(g[into, j])
        done = live & ~has_bad & ~add
        converged[work[done]] = True
        live = live & ~done
    _write_rows((w, A, sign, M), work, (ww, Aw, sw, Mw))
    rhs = B.where(A, C - l1 * sign, 0.0)
    resid = rhs - B.einsum("msu,mu->ms", B.where(A[:, :, None] & A[:, None, :], H, eye), w)
    return B.where(A, w + B.einsum("msu,mu->ms", M, resid), 0.0), converged


def _diagonal_minus_rank_one(d, x, C, l1, tau, B, max_iter=200):
    """Exact ElasticNet of every column of C (p, c) for the Hessian diag(d) - x x'
    (d > 0 includes the ridge penalty): a full-data Gram that is diagonal (PCA scores fit
    on all rows) with one row held out.

    With τ = x'w the optimality conditions separate: w_j = soft(C_j + x_j τ, l1) / d_j,
    and τ solves the scalar equation f(τ) = τ - x'w(τ) = 0, where f is piecewise linear
    and increasing (f' = 1 - Σ_active x_j² / d_j > 0 because the Hessian is positive
    definite). Newton steps on f, kept inside a bracket by bisection, end on the exact
    root when two successive iterates share their signs (each x_j τ + C_j is linear, so
    no coordinate changes between them). tau : (c,) starting points (from a nearby
    solution). Returns W (p, c).
    """
    h = 1.0 / d[:, None]
    xh = x / d
    x2h = x * xh
    c = C.shape[1]
    lo, hi = B.full((c,), -np.inf), B.full((c,), np.inf)
    prev = B.zeros(C.shape)
    newton = B.zeros((c,), dtype="bool")
    live = B.arange(c)
    for _ in range(max_iter):
        z = (C if len(live) == c else B.take(C, live, 1)) + x[:, None] * tau[live]
        soft = _soft(z, l1, B)
        signs = B.sign(soft)
        f = tau[live] - xh @ soft
        fp = 1.0 - x2h @ (signs * signs)
        done = (f == 0) | (newton[live] & (signs == prev[:, live]).all(0))
        lo[live] = B.where(f < 0, tau[live], lo[live])
        hi[live] = B.where(f > 0, tau[live], hi[live])
        step = tau[live] - f / fp
        inside = (step > lo[live]) & (step < hi[live])
        bounded = B.isfinite(lo[live]) & B.isfinite(hi[live])
        mid = 0.5 * (B.where(bounded, lo[live], 0.0) + B.where(bounded, hi[live], 0.0))
        newton[live] = inside | ~bounded
        prev[:, live] = signs
        tau[live] = B.where(done, tau[live], B.where(newton[live], step, mid))
        live = B.take(live, B.flatnonzero(~done), 0)
        if not len(live):
            break
    else:
        warnings.warn("ElasticNet 1-D solve did not converge", ConvergenceWarning)
    return _soft(C + x[:, None] * tau, l1, B) * h


def _support_tol(tol):
    """Tolerance of the full-data coordinate descent: it only has to find the support
    (the solution is then polished exactly), so tighter than ``tol`` but not below what
    float64 duality gaps can show."""
    return max(tol * 1e-2, 1e-13)


def _write_rows(targets, rows, values):
    """target[rows] = value for each pair that is not the same array."""
    for target, value in zip(targets, values):
        if value is not target:
            target[rows] = value


def _candidate_cd(gram, cross, l1, l2, tol, B, max_sweeps=10000):
    """ElasticNet by coordinate descent, each column on its own candidate coordinates.

    A column with |X'y| <= l1 everywhere has the zero solution. The others get the
    CANDIDATES coordinates of largest |X'y|, or fewer when fewer exceed l1 / 2 (columns
    grouped by that count); each sweep visits the t-th candidate of every column of a
    group at once, through the gathered (m, s, s) Gram, and stops when every column's
    largest change is below
    ``tol`` × its largest weight. The caller checks the KKT conditions over all
    coordinates. Returns W (p, m).
    """
    p, m = cross.shape
    out = B.zeros((p, m))
    live = B.flatnonzero(B.amax(abs(cross), 0) > l1) if m else B.arange(0)
    if not len(live):
        return out
    count = np.minimum(B.to_numpy((abs(B.take(cross, live, 1)) > l1 / 2).sum(0)), CANDIDATES)
    order = np.argsort(count, kind="stable")
    for part in _buckets(count[order]):          # similar candidate counts: little padding
        cols = B.take(live, B.asarray(order[part], "int"), 0)
        _candidate_sweeps(gram, B.take(cross, cols, 1), l1, l2, tol, B, max_sweeps,
                          min(int(count[order[part]].max()), p), out, cols)
    return out


def _candidate_sweeps(gram, cross, l1, l2, tol, B, max_sweeps, s, out, live):
    """:func:`_candidate_cd` of the columns ``live`` (their cross (p, c)) on their s
    candidates, written into out."""
    S = B.topk(abs(cross), s, 0).T                                        # (c, s)
    cols = B.arange(len(live))
    G = gram[S[:, :, None], S[:, None, :]]                                # (c, s, s)
    r = B.copy(cross[S.T, cols].T)                                        # (c, s) X'(y - Xw)
    diag = B.einsum("mii->mi", G)
    inv = 1.0 / (diag + l2)
    w = B.zeros((len(live), s))
    for _ in range(max_sweeps):
        d_max, w_max = B.zeros((len(live),)), B.zeros((len(live),))
        for t in range(s):
            new = _soft(r[:, t] + diag[:, t] * w[:, t], l1, B) * inv[:, t]
            d = new - w[:, t]
            r -= G[:, :, t] * d[:, None]
            w[:, t] = new
            d_max, w_max = B.maximum(d_max, abs(d)), B.maximum(w_max, abs(new))
        if not B.any(d_max > tol * w_max):
            break
    out[S.T, live[None, :]] = w.T


def _top_violators(excess, g, B):
    """Per column of the KKT excess (p, c), the WATCH coordinates of largest positive
    excess (index p where fewer violate) and the signs of their gradients g (p, c), as
    (c, K) each."""
    p = excess.shape[0]
    top = B.topk(excess, min(WATCH, p), 0)                                 # (K, c)
    violates = B.gather_rows(excess, top) > 0
    return (B.where_int(violates, top, p).T,
            B.where(violates, B.sign(B.gather_rows(g, top)), 0.0).T)


def _unique_rows(S, p, B, values):
    """(S, values) with S (m, s) sorted along rows and repeated entries replaced by the
    padding index p (which sorts last); values (m, s) follow their entries, a repeat
    keeps the first one's and padding gets 0."""
    def along(x, order):
        return B.gather_rows(x.T, order.T).T

    order = B.argsort(S, 1)
    S, values = along(S, order), along(values, order)
    dup = B.cat([B.zeros((S.shape[0], 1), dtype="bool"), S[:, 1:] == S[:, :-1]], 1)
    S = B.where_int(dup, p, S)
    order = B.argsort(S, 1)
    S, values = along(S, order), along(values, order)
    return S, B.where(S == p, 0.0, values)


def _buckets(sizes, ratio=2.0):
    """Consecutive index ranges of the ascending ``sizes`` whose largest is at most
    ``ratio`` times the smallest (so padding to the largest wastes little)."""
    out, start = [], 0
    for i in range(1, len(sizes) + 1):
        if i == len(sizes) or sizes[i] > ratio * max(sizes[start], 4):
            out.append(np.arange(start, i))
            start = i
    return out


def _supports(W, B):
    """(m, k) int: the non-zero coordinates of each column of W (p, m), padded with p to
    the largest count k."""
    nz = W != 0
    count = nz.sum(0)
    k = int(B.amax(count, 0)) if W.shape[1] else 0
    top = B.topk(B.where(nz, 1.0, 0.0), k, 0).T                           # (m, k)
    return B.where_int(B.gather_rows(nz, top.T).T, top, W.shape[0])


def _scatter(values, support, p, B):
    """(p, m) matrix with values (m, k) at rows support (m, k) of each column."""
    m = values.shape[0]
    out = B.zeros((p + 1, m))
    out[support.T, B.arange(m)[None, :]] = values.T
    return out[:p]


def _soft(x, threshold, B):
    """Soft thresholding sign(x) max(|x| - threshold, 0)."""
    return B.sign(x) * B.maximum(abs(x) - threshold, 0.0)


def is_diagonal(gram, B):
    """Whether the Gram matrix is diagonal up to rounding."""
    off = gram - B.diag(gram.diagonal())
    return float(B.amax(abs(off).reshape(-1), 0)) <= 1e-12 * max(
        float(B.amax(abs(gram.diagonal()), 0)), 1e-300) if gram.shape[0] else True


def check_penalty(alpha, l1_ratio):
    if not alpha > 0 or not 0 < l1_ratio <= 1:
        raise ValueError(f"alpha must be > 0 and 0 < l1_ratio <= 1, got alpha={alpha!r}, "
                         f"l1_ratio={l1_ratio!r}")
