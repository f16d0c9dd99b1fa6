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
largest |X'y|; :func:`enet_gram` where a candidate set missed a coordinate) is polished
to the exact optimum of its support (a k × k solve per column). Removing a fold's rows D
changes the moments by a rank-|D| term (and the penalty weights by N_T / N), so on the
same support and signs the fold's exact optimum is a Woodbury update,
w_T = u + Z M^{-1} a'u with u = (B_A - εI)^{-1} r_T, Z = (B_A - εI)^{-1} a,
M = Λ^{-1} - a'Z. It is accepted when its signs agree, the WATCH off-support coordinates
nearest to entering have |g_j| < l1 exactly (k operations each), and for all the others
|g_j| <= |g*_j| + ν_j sqrt(δ'B δ) + ξ_j ||Λ ρ_T||_1 + Δl1 < l1, which costs O(1) per
column through three per-column constants (ν_j = ||x_j||, ξ_j = max_i |x_ij|). A column
whose support changes in a fold is solved exactly on its support and watch list by
batched feature-sign search, then certified likewise or by an exact KKT check (one
product with the design, violators added); the few left go through :func:`enet_gram` on
the fold's downdated moments, warm-started from the full-data solution.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .backend import get_backend
from .moments import fold_moments, weighted_moments

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


def enet_loo(X, Y, folds, alpha, l1_ratio, tol=1e-4, warm=True, backend="numpy"):
    """Cross-validated ElasticNet predictions for every column of Y.

    X : (n, p); Y : (n, m); folds : list of test-index arrays covering the rows once.
    Returns (pred (n, m), nonzero (n_folds, m) count of non-zero coefficients), numpy.
    With ``warm`` (the default) folds are updated exactly from the full-data solution
    (:func:`enet_cv`); without, each fold is solved by :func:`enet_gram` from zero.
    """
    n = len(X)
    splits = [(np.setdiff1d(np.arange(n), t), np.asarray(t)) for t in folds]
    if warm:
        preds, nonzero = enet_cv(X, Y, splits, alpha, l1_ratio, tol=tol, backend=backend)
    else:
        preds, nonzero = _enet_refit(X, Y, splits, alpha, l1_ratio, tol, backend)
    pred = np.empty(np.shape(Y))
    for (_, test), p in zip(splits, preds):
        pred[test] = p
    return pred, np.asarray(nonzero)


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
        cols = slice(lo, min(lo + COLUMN_BLOCK, Y.shape[1]))
        wb = None if within is None else B.asarray(within)[:, cols]
        solver = _Folds(X, Y[:, cols], w, wb, alpha, l1_ratio, tol, B)
        for f, (train, test) in enumerate(splits):
            pred, nz = solver.fold(np.asarray(train), np.asarray(test))
            preds[f][:, cols] = B.to_numpy(pred)
            nonzero[f][cols] = B.to_numpy(nz)
    return preds, nonzero


class _Folds:
    """One column block: the full-data solution, polished, and its exact fold updates.

    Arrays on supports are padded to k (the largest support) with the dummy coordinate
    p, whose Gram row is the unit vector and whose design column is zero. Per column,
    B_A = G_AA + l2 I = Q diag(μ) Q' (Q = I for a diagonal Gram). In a fold the penalty
    weights scale with the training frames, so B_T = (B_A - ε I) - a Λ a' with
    ε = l2 (1 - N_T / N): (B_A - ε I)^{-1} comes from the same eigenpairs and the
    rank-|D| term from Woodbury.
    """

    def __init__(self, X, Y, w, within, alpha, l1_ratio, tol, B):
        self.B, self.alpha, self.l1_ratio, self.tol = B, alpha, l1_ratio, tol
        self.w, self.within = w, within
        self.mom = mom = weighted_moments(X, Y, w, within, B)
        self.N = N = float(mom.n_train)
        self.l1, self.l2 = alpha * l1_ratio * N, alpha * (1 - l1_ratio) * N
        p, m = mom.cross.shape
        self.Xc = B.cat([X - mom.x_mean, B.zeros((X.shape[0], 1))], 1)   # (n, p + 1)
        self.Yc = Y - mom.y_mean
        W = _candidate_cd(mom.gram, mom.cross, self.l1, self.l2, tol * 1e-2, B)
        self._setup(W)
        redo = B.flatnonzero(~self.exact)
        if len(redo):           # a candidate set missed a coordinate: full coordinate descent
            W[:, redo] = enet_gram(mom.gram, B.take(mom.cross, redo, 1), B.take(mom.yy, redo, 0),
                                   N, alpha, l1_ratio, w0=B.take(W, redo, 1), tol=tol * 1e-2,
                                   max_iter=10000, backend=B)
            self._setup(W)

    def _setup(self, W):
        """Supports, eigenpairs of B_A, the exact solutions on the supports, and the
        certificate constants, from a converged solution W (p, m)."""
        B, mom = self.B, self.mom
        p, m = mom.cross.shape
        self.support = _supports(W, B)                                    # (m, k)
        self.pad = self.support == p
        cols = B.arange(m)
        Gp = B.eye(p + 1)
        Gp[:p, :p] = mom.gram
        if is_diagonal(mom.gram, B) or not self.support.shape[1]:
            self.Q, self.mu = None, Gp.diagonal()[self.support] + self.l2
        else:
            self.mu, self.Q = B.eigh(Gp[self.support[:, :, None], self.support[:, None, :]]
                                     + self.l2 * B.eye(self.support.shape[1]))
        self.sign = B.sign(B.cat([W, B.zeros((1, m))])[self.support.T, cols].T)
        self.CA = B.cat([mom.cross, B.zeros((1, m))])[self.support.T, cols].T   # (m, k)
        self.wa = self._solve(self.CA - self.l1 * self.sign, 0.0)          # exact on A
        self.W = _scatter(self.wa, self.support, p, B)                    # (p, m)
        self.exact, self.bounds = self._certificate_constants()
        self.W = B.where(self.exact[None, :], self.W, W)                  # warm starts
        self.exact = self.exact & (self.support.shape[1] <= MAX_SUPPORT)

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
        """Which columns are exact (signs kept, strict KKT off the support); per column
        the WATCH off-support coordinates of least slack σ_j = l1 - |g*_j| relative to
        their scale (checked exactly in every fold), and over the other off-support
        coordinates the maxima of ν_j / σ_j, ξ_j / σ_j and 1 / σ_j."""
        B, mom, W = self.B, self.mom, self.W
        p, m = W.shape
        self.g = g = mom.cross - self._gram_times(W)                      # (p, m)
        off = W == 0
        slack = B.where(off, self.l1 - abs(g), np.inf)
        exact = ((self.wa * self.sign > 0) | self.pad).all(1)
        exact = exact & (B.amin(self.mu, 1) > 1e-9 * B.amax(self.mu, 1) if self.mu.shape[1]
                         else exact)
        exact = exact & (B.amin(slack, 0) > CERT_MARGIN * self.l1)
        slack = B.maximum(slack, CERT_MARGIN * self.l1)
        nu = B.sqrt(B.maximum(mom.gram.diagonal(), 0.0))[:, None]
        xi = B.amax(abs(self.Xc[:, :-1]), 0)[:, None]
        danger = B.where(off, B.maximum(nu, xi) / slack, -1.0)
        watch = B.topk(danger, min(WATCH, p), 0)                          # (K, m)
        self.watch = B.where_int(B.gather_rows(danger, watch) >= 0, watch, p).T  # (m, K)
        rest = B.copy(off)
        rest[watch, B.arange(m)[None, :]] = False
        Gp = B.cat([B.cat([mom.gram, B.zeros((1, p))]), B.zeros((p + 1, 1))], 1)
        self.G_watch = Gp[self.watch[:, :, None], self.support[:, None, :]]   # (m, K, k)
        self.g_watch = B.cat([g, B.zeros((1, m))])[self.watch.T, B.arange(m)].T
        return exact, [B.amax(B.where(rest, v / slack, 0.0), 0) for v in (nu, xi, 1.0)]

    # one fold ---------------------------------------------------------------------------
    def fold(self, train, test):
        """(pred (t, m), nonzero (m,)) of the split (train, test) of the rows."""
        B, mom = self.B, self.mom
        drop = np.setdiff1d(np.arange(self.Xc.shape[0]), train)
        wd = B.take(self.w, drop, 0)
        n_t = self.N - float(wd.sum())
        eps, dl1 = self.l2 * (1 - n_t / self.N), self.l1 * (1 - n_t / self.N)
        lam = B.diag(wd) + wd[:, None] * wd[None, :] / n_t               # (R, R)
        XD, e = B.take(self.Xc, drop, 0), B.take(self.Yc, drop, 0).T      # (R, p+1), (m, R)
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
        good = good & (abs(g_watch) < (self.l1 - dl1) * (1 - CERT_MARGIN)).all(1)
        ybar = mom.y_mean - (wd @ B.take(self.Yc, drop, 0)) / n_t
        xt = B.take(self.Xc, test, 0) + (wd @ XD) / n_t                   # x - x̄_train
        pred = ybar + B.einsum("mkt,mk->tm", xt.T[self.support], wt)
        nonzero = (~self.pad).sum(1)
        bad = B.flatnonzero(~good)
        if len(bad):
            ctx = {"drop": drop, "wd": wd, "n_t": n_t, "lam": lam, "XD": XD,
                   "e": B.take(e, bad, 0), "dl1": dl1}
            W = self._refit(bad, ctx)
            pred[:, bad] = B.take(ybar, bad, 0) + xt[:, :-1] @ W
            nonzero[bad] = (W != 0).sum(0)
        return pred, nonzero

    def _gram_times(self, W):
        """G @ W for a sparse W (p, c): through the non-zero rows, or through the rows of
        the design when that is cheaper (p > n)."""
        B = self.B
        used = B.flatnonzero(B.any(W != 0, 1))
        Xc = self.Xc[:, :-1]
        if self.mom.gram.shape[0] * len(used) <= Xc.shape[0] * (Xc.shape[1] + len(used)):
            return B.take(self.mom.gram, used, 1) @ B.take(W, used, 0)
        return Xc.T @ (self.w[:, None] * (B.take(Xc, used, 1) @ B.take(W, used, 0)))

    def _refit(self, cols, ctx):
        """Fold solutions (p, c) of the columns ``cols`` whose support changes.

        On S = support ∪ watch list the fold's problem is solved exactly by
        :func:`_feature_sign` on the downdated moments; the other coordinates are
        certified as above, or checked exactly (one product with the design), and the
        columns still failing go through :func:`enet_gram` on all coordinates.
        ctx : the fold's dropped rows (``drop``, weights ``wd``, centred ``XD`` (R, p + 1)
        and targets ``e`` (c, R) of these columns), ``lam``, ``n_t`` and ``dl1``.
        """
        B, mom = self.B, self.mom
        p = mom.gram.shape[0]
        S = _unique_rows(B.cat([B.take(self.support, cols, 0), B.take(self.watch, cols, 0)], 1),
                         p, B)                                            # (c, s)
        count = B.to_numpy((S < p).sum(1))
        order = np.argsort(count, kind="stable")
        W = B.zeros((p, len(cols)))
        for part in _buckets(count[order]):
            sub = B.asarray(order[part], dtype="int")
            width = max(1, int(count[order[part]].max()))
            W[:, sub] = self._refit_block(B.take(cols, sub, 0), ctx, B.take(S, sub, 0)[:, :width],
                                          B.take(ctx["e"], sub, 0))
        return W

    def _refit_block(self, cols, ctx, S, e, rounds=2):
        """:meth:`_refit` for columns whose candidate sets S (c, s) have similar sizes;
        columns with KKT violators off S get them added, up to ``rounds`` times."""
        B, mom = self.B, self.mom
        XD, lam, n_t, dl1 = ctx["XD"], ctx["lam"], ctx["n_t"], ctx["dl1"]
        p = mom.gram.shape[0]
        c = len(cols)
        idx = B.arange(c)
        Gp = B.eye(p + 1)
        Gp[:p, :p] = mom.gram
        G_full = Gp[S[:, :, None], S[:, None, :]]                          # (c, s, s)
        xs = XD.T[S]                                                       # (c, s, R)
        G_S = G_full - B.einsum("msr,rt,mut->msu", xs, lam, xs)
        C_S = (B.cat([B.take(mom.cross, cols, 1), B.zeros((1, c))])[S.T, idx].T
               - B.einsum("msr,mr->ms", xs, e @ lam))
        Wc = B.take(self.W, cols, 1)
        w0 = B.cat([Wc, B.zeros((1, c))])[S.T, idx].T                      # (c, s)
        l1, l2 = self.l1 - dl1, self.l2 * n_t / self.N
        w, ok = _feature_sign(G_S, C_S, l1, l2, w0, B)
        delta = w - w0
        beta = B.sqrt(B.maximum(B.einsum("ms,msu,mu->m", delta, G_full, delta)
                                + self.l2 * (delta * delta).sum(1), 0.0))
        lam_rho = (e - B.einsum("msr,ms->mr", xs, w)) @ lam
        mu_nu, mu_xi, mu_one = (B.take(b, cols, 0) for b in self.bounds)
        ok = ok & (beta * mu_nu + abs(lam_rho).sum(1) * mu_xi + dl1 * mu_one
                   < 1 - CERT_MARGIN)
        W = _scatter(w, S, p, B)
        check = B.flatnonzero(~ok)
        if not len(check):
            return W
        Wk, Dk = B.take(W, check, 1), B.take(W, check, 1) - B.take(Wc, check, 1)
        g = (B.take(B.take(self.g, cols, 1), check, 1) - self._gram_times(Dk)
             - XD[:, :-1].T @ B.take(lam_rho, check, 0).T)                 # (p, k) exact
        excess = B.where(Wk == 0, abs(g) - l1 * (1 - CERT_MARGIN), -np.inf)
        ok[check] = B.amax(excess, 0) < 0
        open_ = B.flatnonzero(~ok)
        if not len(open_):
            return W
        sub = B.flatnonzero(B.amax(excess, 0) >= 0)                        # into check
        if rounds:              # add the largest violators to S and solve again
            enter = B.topk(B.take(excess, sub, 1), min(WATCH, p), 0).T
            S2 = _unique_rows(B.cat([B.take(S, B.take(check, sub, 0), 0), enter], 1), p, B)
            W[:, open_] = self._refit_block(B.take(cols, open_, 0), ctx, S2,
                                            B.take(e, open_, 0), rounds - 1)
        else:
            W[:, open_] = self._fold_cd(B.take(cols, open_, 0), ctx, B.take(e, open_, 0),
                                        B.take(W, open_, 1))
        return W

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
                         yy, n_t, self.alpha, self.l1_ratio, w0=w0, tol=self.tol, backend=B)


def _feature_sign(G, C, l1, l2, w0, B, max_iter=None):
    """Exact ElasticNet of many small problems by feature-sign search (Lee et al. 2007).

    G : (c, s, s) Gram and C : (c, s) cross-products of c problems on s coordinates
    (padding coordinates: unit Gram row, zero C); w0 : (c, s) starting point, whose
    non-zeros are the starting active set and signs. Each step solves exactly on the
    active set with its signs; a coefficient that would change sign stops the step at
    the first crossing and leaves the set; else the largest KKT violator enters.
    Problems leave the loop when converged. Returns (w (c, s), converged (c,)).
    """
    c, s = C.shape
    eye = B.eye(s)
    w = B.copy(w0)
    A, sign = w0 != 0, B.sign(w0)
    converged = B.zeros((c,), dtype="bool")
    live = B.arange(c)
    for _ in range(max_iter or 2 * s + 5):
        if not len(live):
            break
        Gl, Cl, Al, sl, wl = G[live], C[live], A[live], sign[live], w[live]
        rows = B.arange(len(live))
        M = B.where(Al[:, :, None] & Al[:, None, :], Gl + l2 * eye, eye)
        new = B.solve(M, B.where(Al, Cl - l1 * sl, 0.0)[..., None])[..., 0]
        bad = Al & (new * sl <= 0)
        step = B.where(bad & (wl != new), wl - new, 1.0)
        crossing = B.where(bad, B.where(wl != new, wl / step, 0.0), np.inf)
        first = B.argmin(crossing, 1)
        has_bad = B.any(bad, 1)
        t = B.minimum(crossing[rows, first], 1.0)[:, None]
        wl = B.where(has_bad[:, None], wl + t * (new - wl), new)
        wl[rows[has_bad], first[has_bad]] = 0.0
        Al[rows[has_bad], first[has_bad]] = False
        g = Cl - B.einsum("msu,mu->ms", Gl, wl) - l2 * wl
        excess = B.where(Al, 0.0, abs(g) - l1 * (1 + 1e-12))
        enter = B.argmax(excess, 1)
        add = ~has_bad & (excess[rows, enter] > 0)
        Al[rows[add], enter[add]] = True
        sl[rows[add], enter[add]] = B.sign(g[rows[add], enter[add]])
        w[live], A[live], sign[live] = wl, Al, sl
        done = ~has_bad & ~add
        converged[live[done]] = True
        live = live[~done]
    return w, converged


def _candidate_cd(gram, cross, l1, l2, tol, B, max_sweeps=10000):
    """ElasticNet by coordinate descent, each column on its own candidate coordinates.

    A column with |X'y| <= l1 everywhere has the zero solution. The others get the
    CANDIDATES coordinates of largest |X'y|, or fewer when fewer exceed l1 / 2 in every
    column; each sweep visits the t-th candidate of every column at once, through the
    gathered (m, s, s) Gram, and stops when every column's largest change is below
    ``tol`` × its largest weight. The caller checks the KKT conditions over all
    coordinates. Returns W (p, m).
    """
    p, m = cross.shape
    out = B.zeros((p, m))
    live = B.flatnonzero(B.amax(abs(cross), 0) > l1) if m else B.arange(0)
    if not len(live):
        return out
    cross = B.take(cross, live, 1)
    s = min(int(B.amax((abs(cross) > l1 / 2).sum(0), 0)), CANDIDATES, p)
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
    return out


def _unique_rows(S, p, B):
    """S (m, s) sorted along rows, repeated entries replaced by the padding index p
    (which sorts last)."""
    S = B.sort(S, 1)
    dup = B.cat([B.zeros((S.shape[0], 1), dtype="bool"), S[:, 1:] == S[:, :-1]], 1)
    return B.sort(B.where_int(dup, p, S), 1)


def _buckets(sizes):
    """Consecutive index ranges of the ascending ``sizes`` whose largest is at most twice
    the smallest (so padding to the largest wastes little)."""
    out, start = [], 0
    for i in range(1, len(sizes) + 1):
        if i == len(sizes) or sizes[i] > 2 * max(sizes[start], 4):
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
