"""Exact leave-one-row-out ElasticNet for every target column: a path in the held-out
row's residual, compiled with numba.

Holding out row i of n unit-weight rows changes the centred moments by rank one,
G_T = G - κ a a' and c_T = c - κ a e (a = x̃_i, e = ỹ_i, κ = n / (n - 1)), and the
penalties to l1 = αρ(n - 1), l2 = α(1 - ρ)(n - 1), the same in every fold. With
ψ = κ(a'w - e), the fold's optimality conditions are those of the *full-data* problem
with its cross-products moved along a, c + ψa. So the fold's solution is w(ψ*) on the
path ψ -> w(ψ) of full-data problems (piecewise linear in ψ), at the root ψ* of the
increasing function f(ψ) = ψ - κ(a'w(ψ) - e), and the held-out prediction is y_i + ψ*.
The path starts at ψ = 0 from w0, the full-data solution at the fold penalties, which
every fold of a column shares.

On a piece of the path the active set is w0's support A0 less the coordinates L that
left it, plus the coordinates E that entered from a candidate set C, and eliminating A0
with M0 = (G_A0A0 + l2 I)^-1 leaves a (|E| + |L|)-square system whose entries are read
from matrices computed once per column by BLAS products (M0, M0 X̃_A0', M0 G_A0C and
their products with X̃ and G). Per column (:func:`column_folds`): every fold's first
piece (w0's support) at once; C = the coordinates that exceed l1 at a first-piece root
and the coordinates nearest to entering (WATCH or more); the folds whose support changes by
active-set steps on those small systems (or the path, piece by piece, where the steps
cycle). A coordinate j outside C is certified by
|g_j(ψ) - g_j(0)| = |ψ x̃_ij - x̃_j'q| <= |ψ x̃_ij| + ||x̃_j|| ||q||, q = X̃ (w - w0) (one
bound for all coordinates), by |x̃_ij (ψ - q_i)| + ||x̃_j without row i|| ||q without
entry i|| (one per coordinate, vectorised), or its gradient is computed exactly;
violators join C and their folds are solved again. The solution is exact: no tolerance
but rounding.

The functions that allocate nothing are compiled without numba's reference counts
(``_nrt=False``): a compiled function counts a reference to each array argument on entry
and on exit, two atomic operations each, and a fold's steps, inlined into
:func:`column_folds`, counted dozens a fold.
"""

import numpy as np
from numba import njit

from .lapack import cholesky, cholesky_inverse, cholesky_solve, routines

#: Most pieces of one fold's path (each a change of the active set) before the fold is
#: handed back to the caller's general solver.
MAX_PIECES = 400
#: Columns solved together (memory: a few (block, p) arrays).
COLUMN_BLOCK = 1024
#: Active-set steps of a fold before its path is followed instead.
STEPS = 8
#: Largest first working set of the full-data solution's coordinate descent.
FIRST_WORKING_SET = 96
#: Smallest system of a piece solved by L D L' (smaller ones by Gaussian elimination).
QUASIDEFINITE = 6
#: Smallest L D L' factored four rows at a time.
FOUR_ROWS = 16
#: Largest matrix product (multiply-adds) taken by loops rather than BLAS.
SMALL_PRODUCT = 4096
#: Relative margin of the certificate and of the optimality checks.
MARGIN = 1e-10
#: The limit of the coordinates the optimality checks skip (finite: fastmath).
HUGE = 1e300
#: Candidates per column from the start: the coordinates nearest to entering (as many
#: as w0's support when that is larger) ...
WATCH = 16
#: ... or all coordinates off the support when there are at most this many.
ALL_CANDIDATES = 64


@njit(cache=True, nogil=True, _nrt=False)
def _solve_small(K, B, s):
    """Solve K[:s, :s] X = B[:s] (B has two columns) in place by Gaussian elimination with
    partial pivoting; returns False for a singular K."""
    for col in range(s):
        piv, big = col, abs(K[col, col])
        for r in range(col + 1, s):
            if abs(K[r, col]) > big:
                piv, big = r, abs(K[r, col])
        if big == 0.0:
            return False
        if piv != col:
            for c in range(s):
                K[col, c], K[piv, c] = K[piv, c], K[col, c]
            B[col, 0], B[piv, 0] = B[piv, 0], B[col, 0]
            B[col, 1], B[piv, 1] = B[piv, 1], B[col, 1]
        inv = 1.0 / K[col, col]
        for r in range(col + 1, s):
            f = K[r, col] * inv
            if f != 0.0:
                for c in range(col + 1, s):
                    K[r, c] -= f * K[col, c]
                B[r, 0] -= f * B[col, 0]
                B[r, 1] -= f * B[col, 1]
    for col in range(s - 1, -1, -1):
        for t in range(2):
            v = B[col, t]
            for c in range(col + 1, s):
                v -= K[col, c] * B[c, t]
            B[col, t] = v / K[col, col]
    return True


def _factor_loops(four):
    """The L D L' of :func:`_solve_quasidefinite`, left-looking, one row at a time or
    (``four``) four rows at a time: their sums against a row of L share its loads and
    run as four independent chains. A closure, so that each compiled variant has a cache
    entry of its own (numba keys its cache by the code and the closure's values, not by
    the compiler's options)."""

    def factor(K, s, npos, w):
        """D goes to w[:s]; w[s:5s]: the rows' L D. Returns False, with K as it was,
        where a pivot has the wrong sign."""
        d = w[:s]
        W = w[s:5 * s]                          # (loops, not calls: no reference counts)
        for r0 in range(0, s, 4):
            nb = min(4, s - r0)
            first = 0
            if four and nb == 4:                # the columns before the block
                first = r0
                for j in range(r0):
                    t0 = K[r0, j]
                    t1 = K[r0 + 1, j]
                    t2 = K[r0 + 2, j]
                    t3 = K[r0 + 3, j]
                    for u in range(j):
                        lju = K[j, u]
                        t0 -= W[u] * lju
                        t1 -= W[s + u] * lju
                        t2 -= W[2 * s + u] * lju
                        t3 -= W[3 * s + u] * lju
                    W[j] = t0
                    W[s + j] = t1
                    W[2 * s + j] = t2
                    W[3 * s + j] = t3
                    inv = 1.0 / d[j]
                    K[r0, j] = t0 * inv
                    K[r0 + 1, j] = t1 * inv
                    K[r0 + 2, j] = t2 * inv
                    K[r0 + 3, j] = t3 * inv
            for q in range(nb):                 # the rest of each row, one at a time
                r = r0 + q
                off = q * s
                for j in range(first, r):
                    t = K[r, j]
                    for u in range(j):
                        t -= W[off + u] * K[j, u]
                    W[off + j] = t
                    K[r, j] = t / d[j]
                t = K[r, r]
                for u in range(r):
                    t -= W[off + u] * K[r, u]
                d[r] = t
                if not (t > 0.0 if r < npos else t < 0.0):
                    for a in range(r0 + nb):    # the lower triangle back from the upper
                        for b in range(a):
                            K[a, b] = K[b, a]
                    return False
        return True

    return factor


#: :func:`_factor_loops` for small systems, and four rows at a time with reassociation
#: (the sums vectorise: 1.3-1.8 times faster from 16 rows on, slower below).
_factor_rows = njit(cache=True, nogil=True, _nrt=False)(_factor_loops(False))
_factor_four_rows = njit(cache=True, nogil=True, _nrt=False,
                         fastmath={"reassoc", "contract"})(_factor_loops(True))


@njit(cache=True, nogil=True, _nrt=False)
def _solve_quasidefinite(K, B, s, npos, w):
    """Solve K[:s, :s] X = B[:s] (two columns) in place by K = L D L' without pivoting
    for a symmetric quasi-definite K: its first ``npos`` rows a positive definite block,
    the others a negative definite one, so D's signs are known (Vanderbei 1995) and the
    factorisation takes s³/6 multiply-adds (:func:`_factor_loops`, four rows at a time from
    FOUR_ROWS rows on). L goes to K's strict lower triangle, D to w[:s]; w[s:5s]: work
    space. Returns False, with K and B as they were, where a pivot has the wrong sign
    (rounding)."""
    d = w[:s]
    if not (_factor_four_rows(K, s, npos, w) if s >= FOUR_ROWS else
            _factor_rows(K, s, npos, w)):
        return False
    for r in range(s):                      # L z = b
        for j in range(r):
            B[r, 0] -= K[r, j] * B[j, 0]
            B[r, 1] -= K[r, j] * B[j, 1]
    for r in range(s):                      # D y = z
        B[r, 0] /= d[r]
        B[r, 1] /= d[r]
    for r in range(s - 1, 0, -1):           # L' x = y
        for j in range(r):
            B[j, 0] -= K[r, j] * B[r, 0]
            B[j, 1] -= K[r, j] * B[r, 1]
    return True


@njit(cache=True, nogil=True, inline="always")
def _soft(z, threshold):
    return np.sign(z) * max(abs(z) - threshold, 0.0)


@njit(cache=True, nogil=True)
def _descent(G, c, l1, l2, w, r, max_sweeps=5, tol=1e-2):
    """Coordinate descent of ½ w'(G + l2 I)w - c'w + l1 ||w||_1 from w (updated in
    place, r = c - G w kept with it) on a working set: the coordinates with
    |r_j| > l1 or w_j != 0 (the first time at most FIRST_WORKING_SET of them, the
    largest |r_j|), at most ``max_sweeps`` sweeps or until the largest change of a
    sweep is below ``tol`` x the largest weight, then the working set again, until
    nothing outside it violates the optimality conditions. Only a start for the exact
    steps of :func:`full_solution`."""
    p = c.shape[0]
    ws = np.empty(p, dtype=np.int64)
    for outer in range(p + 1):
        m = 0
        for j in range(p):
            if w[j] != 0.0 or abs(r[j]) > l1:
                ws[m] = j
                m += 1
        if m == 0:
            return
        if outer == 0 and m > FIRST_WORKING_SET:
            top = np.argsort(-np.abs(r[ws[:m]]))[:FIRST_WORKING_SET]
            m = FIRST_WORKING_SET
            ws[:m] = np.sort(ws[top])
        Gw = np.empty((m, m))
        rw = np.empty(m)
        ww = np.empty(m)
        for a in range(m):
            row = G[ws[a]]
            for b in range(a, m):           # G's rows are far apart: half of them
                Gw[a, b] = row[ws[b]]
                Gw[b, a] = Gw[a, b]
            rw[a] = r[ws[a]]
            ww[a] = w[ws[a]]
        for _ in range(max_sweeps):
            change = 0.0
            big = 0.0
            for a in range(m):
                old = ww[a]
                new = _soft(rw[a] + Gw[a, a] * old, l1) / (Gw[a, a] + l2)
                if new != old:
                    delta = new - old
                    ww[a] = new
                    for b in range(m):
                        rw[b] -= Gw[a, b] * delta
                    change = max(change, abs(delta))
                big = max(big, abs(new))
            if change <= tol * big:
                break
        for a in range(m):
            _axpy(w[ws[a]] - ww[a], G, ws[a], r, p)
            w[ws[a]] = ww[a]
        violated = False
        for j in range(p):
            if w[j] == 0.0 and abs(r[j]) > l1:
                violated = True
                break
        if not violated:
            return


@njit(cache=True, nogil=True, _nrt=False)
def _axpy(a, M, row, y, count):
    """y[:count] += a M[row, :count] in place (nothing when a is 0). The compiled code
    takes rows by index, not as views: a view costs two atomic reference counts, which
    add up to a large share of the time of a fold."""
    if a != 0.0:
        for j in range(count):
            y[j] += a * M[row, j]


@njit(cache=True, nogil=True)
def full_solution(G, c, l1, l2, lapack, max_iter=200):
    """Exact ElasticNet of one column from its moments: minimises
    ½ w'(G + l2 I)w - c'w + l1 ||w||_1. A few sweeps of coordinate descent find the
    support, then feature-sign steps (Lee et al. 2007: an exact solve on the active set
    with its signs, cut at the first sign change; else every violator enters) end on the
    exact optimum. Each step's system is solved by Cholesky (:mod:`.lapack`), and the last
    factor gives M0 = (G_AA + l2 I)^-1 on the support A. Returns (w (p,),
    r = c - G w (p,), M0, converged)."""
    p = c.shape[0]
    w = np.zeros(p)
    r = c.copy()
    if not (np.abs(c) > l1).any():
        return w, r, np.zeros((0, 0)), True
    _descent(G, c, l1, l2, w, r)
    sign = np.sign(w)
    A = np.empty(p, dtype=np.int64)
    for _ in range(max_iter):
        k = 0
        for j in range(p):
            if sign[j] != 0.0:
                A[k] = j
                k += 1
        H = np.empty((k, k))
        new = np.empty(k)
        for a in range(k):
            for b in range(k):
                H[a, b] = G[A[a], A[b]]
            H[a, a] += l2
            new[a] = c[A[a]] - l1 * sign[A[a]]
        if k:
            if not cholesky(H, lapack):
                break
            cholesky_solve(H, new, lapack)
        t, cut = 1.0, -1
        for a in range(k):
            if new[a] * sign[A[a]] <= 0.0 and new[a] != w[A[a]]:
                ta = w[A[a]] / (w[A[a]] - new[a])
                if ta < t:
                    t, cut = ta, a
        for a in range(k):
            w[A[a]] += t * (new[a] - w[A[a]])
        if cut >= 0:
            w[A[cut]] = 0.0
            sign[A[cut]] = 0.0
            continue
        zero = False                        # exactly 0 without a cut: off the support
        for a in range(k):
            if w[A[a]] == 0.0:
                sign[A[a]] = 0.0
                zero = True
        if zero:
            continue
        r[:] = c
        for a in range(k):
            _axpy(-w[A[a]], G, A[a], r, p)
        entered = False
        for j in range(p):
            if sign[j] == 0.0 and abs(r[j]) > l1 * (1.0 + MARGIN):
                sign[j] = 1.0 if r[j] > 0.0 else -1.0
                entered = True
        if not entered:
            cholesky_inverse(H, lapack)
            return w, r, H, True
    return w, r, np.zeros((0, 0)), False


@njit(cache=True, nogil=True)
def _product(A, B):
    """A @ B for C-contiguous float64 matrices, zero-sized ones included; small ones
    (SMALL_PRODUCT multiply-adds or fewer) by loops, without BLAS's fixed cost."""
    m, k = A.shape
    n = B.shape[1]
    if m * k * n > SMALL_PRODUCT:
        return np.ascontiguousarray(A) @ np.ascontiguousarray(B)
    out = np.zeros((m, n))
    for r in range(m):
        for t in range(k):
            a = A[r, t]
            for c in range(n):
                out[r, c] += a * B[t, c]
    return out


@njit(cache=True, nogil=True, inline="always")
def _reset(k, K, s0, w0A, rC0, xw_i, L, inL, nL, E, inE, nE, sA, w0e, rCe, xwe):
    """Empty L and E (their masks cleared) and the right-hand sides of the column."""
    for b in range(nL):
        inL[L[b]] = False
    for a in range(nE):
        inE[E[a]] = False
    for a in range(k):
        sA[a] = s0[a]
        w0e[a] = w0A[a]
    for a in range(K):
        rCe[a] = rC0[a]
    xwe[0] = xw_i


@njit(cache=True, nogil=True, inline="always")
def _flip(j, k, K, l1, M0, Z, PaT, i, sA, w0e, rCe, xwe):
    """A0 coordinate j comes back with the other sign: its right-hand side changes by
    2 l1 sA_j, so w0 moves along M0 e_j, g_C(0) along Z[j] and a'w0 by PaT[i, j]."""
    step = 2.0 * l1 * sA[j]
    sA[j] = -sA[j]
    for a in range(k):
        w0e[a] += M0[a, j] * step
    for a in range(K):
        rCe[a] -= Z[j, a] * step
    xwe[0] += PaT[i, j] * step


@njit(cache=True, nogil=True, inline="always")
def _assemble(i, l1, kappa, M0, PaT, qa, Z, S, BaT, e_i, L, nL, E, nE, sE, w0e, rCe, xwe,
              Km, Bm, b1):
    """Solve the piece's system for (L, E): Bm[:s, 0] + ψ Bm[:s, 1] = (w_E, λ_L)(ψ), a
    quasi-definite one (S_EE positive definite, then -M0_LL negative definite). Returns
    (f0, f1, ok) with f(ψ) = f0 + f1 ψ; ok is False for a singular system or a slope
    that is not positive (rounding). b1 (6s,): work space."""
    s = nE + nL
    for a in range(nE):
        ea = E[a]
        Bm[a, 0] = rCe[ea] - l1 * sE[a]
        Bm[a, 1] = -BaT[i, ea]
        for b in range(nE):
            Km[a, b] = S[ea, E[b]]
        for b in range(nL):
            Km[a, nE + b] = -Z[L[b], ea]
            Km[nE + b, a] = -Z[L[b], ea]
    for a in range(nL):
        la = L[a]
        Bm[nE + a, 0] = -w0e[la]
        Bm[nE + a, 1] = -PaT[i, la]
        for b in range(nL):
            Km[nE + a, nE + b] = -M0[la, L[b]]
    b1x0 = 0.0
    b1x1 = 0.0
    if s:
        for a in range(s):
            b1[a] = Bm[a, 1]
        if not (s >= QUASIDEFINITE and _solve_quasidefinite(Km, Bm, s, nE, b1[s:])) and \
                not _solve_small(Km, Bm, s):
            return 0.0, 0.0, False
        for a in range(s):
            b1x0 += b1[a] * Bm[a, 0]
            b1x1 += b1[a] * Bm[a, 1]
    f1 = 1.0 - kappa * (qa[i] + b1x1)
    return -kappa * (xwe[0] + b1x0 - e_i), f1, f1 > 0.0


@njit(cache=True, nogil=True, inline="always")
def _active_line(j, i, M0, PaT, Z, L, nL, E, nE, w0e, Bm):
    """(α, β): w_j(ψ) = α + βψ of A0 coordinate j on the current piece."""
    alpha = w0e[j]
    beta = PaT[i, j]
    for a in range(nE):
        alpha -= Z[j, E[a]] * Bm[a, 0]
        beta -= Z[j, E[a]] * Bm[a, 1]
    for b in range(nL):
        alpha -= M0[j, L[b]] * Bm[nE + b, 0]
        beta -= M0[j, L[b]] * Bm[nE + b, 1]
    return alpha, beta


@njit(cache=True, nogil=True, inline="always")
def _candidate_line(j, i, Z, S, BaT, L, nL, E, nE, rCe, Bm):
    """(α, β): g_j(ψ) = α + βψ, the gradient of candidate j on the current piece."""
    alpha = rCe[j]
    beta = -BaT[i, j]
    for a in range(nE):
        alpha -= S[j, E[a]] * Bm[a, 0]
        beta -= S[j, E[a]] * Bm[a, 1]
    for b in range(nL):
        alpha += Z[L[b], j] * Bm[nE + b, 0]
        beta += Z[L[b], j] * Bm[nE + b, 1]
    return alpha, beta


@njit(cache=True, nogil=True, _nrt=False, fastmath={"contract"})
def _fold_active_set(i, k, K, l1, kappa, M0, PaT, qa, Z, ZT, S, BaT, e_i, L, inL, E, inE,
                     sE, sA, w0e, rCe, xwe, Km, Bm, b1, work, max_iter):
    """Primal-dual active-set steps for fold i from L = E = ∅: solve (w, ψ) exactly for
    the guessed sets, then move at once every coordinate that breaks its sign or its
    optimality condition (an A0 coordinate whose gradient l1 sA + λ leaves [-l1, l1]
    comes back, with the other sign if it left on that side). Ends on the optimum when
    nothing moves; most folds need one to three steps. The A0 weights (va) and the
    candidates' gradients (vc) at ψ take one row of ZT = Z', M0, S or Z per entered or
    left coordinate (compiled with contraction: those rows are multiply-adds). work =
    (L2, E2, sE2, flips, va (k,), vc (≥ K,)): work space.
    Returns (ψ, |L|, |E|, ok); ok is False when the steps do not settle (then
    :func:`_fold_path` takes over)."""
    L2, E2, sE2, flips, va, vc = work
    nL = 0
    nE = 0
    for _ in range(max_iter):
        f0, f1, ok = _assemble(i, l1, kappa, M0, PaT, qa, Z, S, BaT, e_i, L, nL, E, nE, sE,
                               w0e, rCe, xwe, Km, Bm, b1)
        if not ok:
            break
        psi = -f0 / f1
        for j in range(k):
            va[j] = w0e[j] + psi * PaT[i, j]
        for j in range(K):
            vc[j] = rCe[j] - psi * BaT[i, j]
        for a in range(nE):                 # index loops: no views (refcounts)
            x = Bm[a, 0] + Bm[a, 1] * psi
            ea = E[a]
            for j in range(k):
                va[j] -= x * ZT[ea, j]
            for j in range(K):
                vc[j] -= x * S[ea, j]
        for b in range(nL):
            lam = Bm[nE + b, 0] + Bm[nE + b, 1] * psi
            lb = L[b]
            for j in range(k):
                va[j] -= lam * M0[lb, j]
            for j in range(K):
                vc[j] += lam * Z[lb, j]
        nL2 = 0
        nE2 = 0
        nF = 0
        moved = False
        for j in range(k):
            if not inL[j] and va[j] * sA[j] <= 0.0:
                L2[nL2] = j
                nL2 += 1
                moved = True
        for b in range(nL):
            g = l1 * sA[L[b]] + Bm[nE + b, 0] + Bm[nE + b, 1] * psi
            if abs(g) > l1 * (1.0 + MARGIN):
                moved = True
                if g * sA[L[b]] < 0.0:
                    flips[nF] = L[b]
                    nF += 1
            else:
                L2[nL2] = L[b]
                nL2 += 1
        for a in range(nE):
            if (Bm[a, 0] + Bm[a, 1] * psi) * sE[a] > 0.0:
                E2[nE2] = E[a]
                sE2[nE2] = sE[a]
                nE2 += 1
            else:
                moved = True
        for j in range(K):
            if not inE[j] and abs(vc[j]) > l1 * (1.0 + MARGIN):
                E2[nE2] = j
                sE2[nE2] = 1.0 if vc[j] > 0.0 else -1.0
                nE2 += 1
                moved = True
        if not moved:
            return psi, nL, nE, True
        for f in range(nF):
            _flip(flips[f], k, K, l1, M0, Z, PaT, i, sA, w0e, rCe, xwe)
        for b in range(nL):
            inL[L[b]] = False
        for a in range(nE):
            inE[E[a]] = False
        nL, nE = nL2, nE2
        for b in range(nL):
            L[b] = L2[b]
            inL[L[b]] = True
        for a in range(nE):
            E[a] = E2[a]
            sE[a] = sE2[a]
            inE[E[a]] = True
    return 0.0, nL, nE, False


@njit(cache=True, nogil=True, _nrt=False)
def _fold_path(i, k, K, l1, kappa, M0, PaT, qa, Z, S, BaT, e_i, L, inL, E, inE, sE, sA,
               w0e, rCe, xwe, Km, Bm, b1, max_pieces):
    """The path of fold i from ψ = 0 (L = E = ∅, the column's right-hand sides) to the
    root of f, one piece at a time: on a piece every quantity is affine in ψ, and the
    piece ends where a coordinate leaves (its weight reaches 0), enters (its gradient
    reaches ±l1) or the root comes first. Returns (ψ*, |L|, |E|, ok); ok is False after
    ``max_pieces`` pieces or a singular system."""
    nL = 0
    nE = 0
    psi = 0.0
    for _ in range(max_pieces):
        f0, f1, ok = _assemble(i, l1, kappa, M0, PaT, qa, Z, S, BaT, e_i, L, nL, E, nE, sE,
                               w0e, rCe, xwe, Km, Bm, b1)
        if not ok:
            break
        root = -f0 / f1
        d = 1.0 if root >= psi else -1.0
        best = abs(root - psi)
        kind = 0
        which = -1
        enter_sign = 0.0
        for j in range(k):          # A0 coordinates still active keep their signs
            if inL[j]:
                continue
            alpha, beta = _active_line(j, i, M0, PaT, Z, L, nL, E, nE, w0e, Bm)
            slope = beta * d * sA[j]
            if slope < 0.0:
                t = max((alpha + beta * psi) * sA[j], 0.0) / -slope
                if t < best:
                    best, kind, which = t, 1, j
        for a in range(nE):         # so do the entered candidates
            slope = Bm[a, 1] * d * sE[a]
            if slope < 0.0:
                t = max((Bm[a, 0] + Bm[a, 1] * psi) * sE[a], 0.0) / -slope
                if t < best:
                    best, kind, which = t, 2, a
        for b in range(nL):         # left A0: the gradient l1 sA + λ stays in [-l1, l1]
            sj = sA[L[b]]
            lam = (Bm[nE + b, 0] + Bm[nE + b, 1] * psi) * sj
            slope = Bm[nE + b, 1] * d * sj
            if slope > 0.0:
                t = max(-lam, 0.0) / slope
                if t < best:
                    best, kind, which = t, 3, b
            elif slope < 0.0:
                t = max(lam + 2.0 * l1, 0.0) / -slope
                if t < best:
                    best, kind, which = t, 5, b
        for j in range(K):          # candidates: |g_j(ψ)| stays below l1
            if inE[j]:
                continue
            alpha, beta = _candidate_line(j, i, Z, S, BaT, L, nL, E, nE, rCe, Bm)
            g = alpha + beta * psi
            slope = beta * d
            if slope > 0.0:
                t = max(l1 - g, 0.0) / slope
            elif slope < 0.0:
                t = max(g + l1, 0.0) / -slope
            else:
                continue
            if t < best:
                best, kind, which, enter_sign = t, 4, j, 1.0 if slope > 0.0 else -1.0
        if kind == 0:
            return root, nL, nE, True
        psi += d * best
        if kind == 1:
            L[nL] = which
            inL[which] = True
            nL += 1
        elif kind == 2:
            inE[E[which]] = False
            nE -= 1
            E[which] = E[nE]
            sE[which] = sE[nE]
        elif kind == 4:
            E[nE] = which
            sE[nE] = enter_sign
            inE[which] = True
            nE += 1
        else:                       # back into the active set (5: with the other sign)
            j = L[which]
            inL[j] = False
            nL -= 1
            L[which] = L[nL]
            if kind == 5:
                _flip(j, k, K, l1, M0, Z, PaT, i, sA, w0e, rCe, xwe)
    return psi, nL, nE, False


@njit(cache=True, nogil=True)
def _candidate_terms(G, XcT, XA, M0, A0, C, K0, K, l2, Z0, S0, BaT0):
    """Z = M0 G_A0C (k, K), its transpose ZT, S = G_CC + l2 I - G_CA0 Z (K, K, exactly
    symmetric) and BaT = X̃_A0 Z - X̃_C (n, K) for the first K candidates C, from Z0, S0,
    BaT0, those of the first K0 (only the new candidates' terms are computed)."""
    k = A0.shape[0]
    m = K - K0
    GAN = np.empty((k, m))
    for a in range(k):
        for b in range(m):
            GAN[a, b] = G[A0[a], C[K0 + b]]
    ZN = _product(M0, GAN)
    Z = np.empty((k, K))
    Z[:, :K0] = Z0
    Z[:, K0:] = ZN
    ZT = np.ascontiguousarray(Z.T)
    SN = _product(ZT, GAN)                 # G_CA0 M0 G_A0N
    S = np.empty((K, K))
    S[:K0, :K0] = S0
    for b in range(m):
        jb = K0 + b
        row = G[C[jb]]
        for a in range(jb):
            v = SN[a, b] if a < K0 else 0.5 * (SN[a, b] + SN[jb, a - K0])
            S[a, jb] = S[jb, a] = row[C[a]] - v
        S[jb, jb] = row[C[jb]] + l2 - SN[jb, b]
    n = XA.shape[0]
    BaT = np.empty((n, K))
    BaT[:, :K0] = BaT0
    BaT[:, K0:] = _product(XA, ZN)
    for b in range(m):
        x = XcT[C[K0 + b]]
        for r in range(n):
            BaT[r, K0 + b] -= x[r]
    return Z, ZT, S, BaT


@njit(cache=True, nogil=True)
def _watch(inside, weight, nu, xi, count):
    """The ``count`` coordinates not ``inside`` nearest to entering: largest
    max(ν_j, ξ_j) / σ_j (weight = 1 / σ_j, σ_j = l1 - |g_j(0)| the slack), most dangerous
    first."""
    top = np.empty(count, dtype=np.int64)
    value = np.empty(count)
    size = 0
    if count == 0:
        return top
    for j in range(weight.shape[0]):
        if inside[j]:
            continue
        danger = max(nu[j], xi[j]) * weight[j]
        if size == count and danger <= value[size - 1]:
            continue
        pos = size if size < count else count - 1
        while pos > 0 and value[pos - 1] < danger:
            if pos < count:
                value[pos] = value[pos - 1]
                top[pos] = top[pos - 1]
            pos -= 1
        value[pos] = danger
        top[pos] = j
        size = min(size + 1, count)
    return top[:size]


@njit(cache=True, nogil=True, _nrt=False)
def _outside_bounds(inside, weight, nu, xi):
    """Over the coordinates not ``inside``: the largest ν_j / σ_j and ξ_j / σ_j (weight =
    1 / σ_j, inf where the slack σ_j is not positive), and how many there are."""
    mu_nu = 0.0
    mu_xi = 0.0
    count = 0
    for j in range(weight.shape[0]):
        if inside[j] or (nu[j] == 0.0 and xi[j] == 0.0):
            continue
        count += 1
        mu_nu = max(mu_nu, nu[j] * weight[j])
        mu_xi = max(mu_xi, xi[j] * weight[j])
    return mu_nu, mu_xi, count


@njit(cache=True, nogil=True, fastmath=True, _nrt=False)
def _dot(M, row, v, count):
    """M[row, :count]'v[:count], reassociated (vectorised); only the optimality checks and
    the first Newton step of :func:`diagonal_folds` use it."""
    total = 0.0
    for r in range(count):
        total += M[row, r] * v[r]
    return total


@njit(cache=True, nogil=True, inline="always")
def _join(j, C, K, added):
    """Coordinate j joins the candidates C[:K] unless it was ``added`` already; returns
    the new K."""
    if not added[j]:
        added[j] = True
        C[K] = j
        K += 1
    return K


@njit(cache=True, nogil=True, fastmath=True, _nrt=False)
def _screen(i, psi, Q, f, r0, Xc, XcT, nu_out, lim, l1, C, K, added, over, flagged):
    """Exact optimality check of fold i's solution (ψ, q = Q[f] = X̃ (w - w0)) off the
    support and the candidates: g_j(ψ) = g_j(0) + x̃_ij (ψ - q_i) - Σ_{r≠i} x̃_rj q_r, the
    sum bounded by ν_ij ||q_-i|| (nu_out[i, j] >= the norm of x̃_j without row i; q
    without its held-out entry, which carries much of it: tighter than ν_j ||q||), and
    g_j is computed exactly (one n-term product) only where that bound reaches lim_j
    (l1 less the margin; HUGE on the support and the candidates): the bounds' excesses
    over lim go to ``over`` (p,) and their positive parts are summed (vectorised), then
    the coordinates with an excess are gathered into ``flagged`` (p,) without branches
    (a third of them in the largest supports: mispredicted) and checked.
    Violators join C (:func:`_join`, inlined). Returns (violated, K)."""
    n, p = Xc.shape
    rest = 0.0
    for r in range(n):
        rest += Q[f, r] * Q[f, r] * (r != i)
    rest = np.sqrt(rest)
    move = psi - Q[f, i]
    excess = 0.0
    for j in range(p):
        over[j] = abs(r0[j] + move * Xc[i, j]) + nu_out[i, j] * rest - lim[j]
        excess += max(over[j], 0.0)
    if excess == 0.0:
        return False, K
    m = 0
    for j in range(p):                  # their indices, without branches (mispredicted)
        flagged[m] = j
        m += not (over[j] < 0.0)
    bad = False
    for t in range(m):
        j = flagged[t]
        g = r0[j] + psi * Xc[i, j]
        for r in range(n):
            g -= XcT[j, r] * Q[f, r]
        if abs(g) > l1 * (1.0 + MARGIN):
            bad = True
            K = _join(j, C, K, added)
    return bad, K


@njit(cache=True, nogil=True)
def _rows(M, index, count):
    """(count, M.shape[1]) the rows index[:count] of M."""
    out = np.empty((count, M.shape[1]))
    for a in range(count):
        out[a] = M[index[a]]
    return out


@njit(cache=True, nogil=True)
def column_folds(G, Xc, XcT, nu, xi, nu_out, r0, e, w0, M0, l1, l2, kappa, psi_out,
                 nnz_out, ok_out, Km, Bm, counts, steps=STEPS, max_pieces=MAX_PIECES):
    """Every leave-one-out fold of one column from its full-data solution w0 at the
    fold penalties, its gradient r0 = c - G w0 and M0 = (G_A0A0 + l2 I)^-1 on its
    support A0 (exactly symmetric: rows serve as columns): ψ* into psi_out (n,), the fold's
    non-zero count into nnz_out and whether the fold was solved into ok_out. nu (p,):
    the norms of X̃'s columns, xi: their largest entries, nu_out (n, p):
    :func:`norms_without_rows`. Km (p + 1, p + 1), Bm (p + 1, 2): work space; counts
    (5,) adds the folds ended by their first piece, the solves by active-set steps (at
    most ``steps``), by the path and the failed ones.

    1. Every fold's first piece (w0's support and signs): its root, its signs, and, where
       they hold, the coordinates off the support certified by one bound for all (most
       folds end here), else the WATCH coordinates nearest to entering checked exactly
       and the others bounded again, then screened (:func:`_screen`); violators become
       the candidates C.
    2. C grows by the max(WATCH, k) coordinates nearest to entering (all, when p - k is
       small).
    3. The open folds by :func:`_fold_active_set` (or :func:`_fold_path`), checked by the
       bound, then screened coordinate by coordinate (:func:`_screen`: exact gradients
       only where a coordinate's own bound does not hold); violators join C and their
       folds are solved again.
    """
    n, p = Xc.shape
    A0 = np.flatnonzero(w0)
    k = A0.shape[0]
    w0A = w0[A0].copy()
    s0 = np.sign(w0A)
    XA = np.empty((n, k))
    for a in range(k):
        XA[:, a] = XcT[A0[a]]
    XAT = np.ascontiguousarray(XA.T)
    PaT = _product(XA, M0)
    qa = np.zeros(n)
    xw = np.zeros(n)
    pn = np.zeros(n)
    for r in range(n):
        for a in range(k):
            qa[r] += PaT[r, a] * XA[r, a]
            xw[r] += XA[r, a] * w0A[a]
            pn[r] += PaT[r, a] * PaT[r, a]
    weight = np.empty(p)                       # 1 / the slack (divisions once a column)
    for j in range(p):
        slack = l1 - abs(r0[j])
        weight[j] = 1.0 / slack if slack > 0.0 else np.inf
    inside = np.zeros(p, dtype=np.bool_)
    inside[A0] = True
    added = np.zeros(p, dtype=np.bool_)
    C = np.empty(p, dtype=np.int64)
    over = np.empty(p)                         # the screen's work space
    flagged = np.empty(p, dtype=np.int64)
    K = 0
    # 1. first pieces
    mu_nu, mu_xi, n_out = _outside_bounds(inside, weight, nu, xi)
    todo = np.empty(n, dtype=np.int64)
    nt = 0
    near = np.empty(n, dtype=np.int64)         # folds the bound does not settle
    psi1 = np.empty(n)
    rho1 = np.empty(n)                         # their ||X̃ (w - w0)|| on the first piece
    nn = 0
    for i in range(n):
        f1 = 1.0 - kappa * qa[i]
        psi = kappa * (xw[i] - e[i]) / f1
        good = f1 > 0.0
        for a in range(k):
            if (w0A[a] + psi * PaT[i, a]) * s0[a] <= 0.0:
                good = False
        if n_out and good:
            rho = abs(psi) * np.sqrt(max(qa[i] - l2 * pn[i], 0.0))
            if abs(psi) * mu_xi + rho * mu_nu >= 1.0 - MARGIN:
                near[nn] = i
                psi1[nn] = psi
                rho1[nn] = rho
                nn += 1
                continue
        if good:
            psi_out[i] = psi
            nnz_out[i] = k
            ok_out[i] = True
        else:
            todo[nt] = i
            nt += 1
    if nn:          # the WATCH coordinates nearest to entering checked exactly, then
        top = _watch(inside, weight, nu, xi, min(WATCH, p - k))      # the bound again
        inside[top] = True
        mu_nu, mu_xi, n_out = _outside_bounds(inside, weight, nu, xi)
        inside[top] = False
        GT = np.empty((k, top.shape[0]))
        for a in range(k):
            for t in range(top.shape[0]):
                GT[a, t] = G[A0[a], top[t]]
        D = _product(_rows(PaT, near, nn), GT)     # ψ (x̃_ij - D[f, t]): g_top[t]'s move
        still = 0
        for f in range(nn):
            i = near[f]
            psi = psi1[f]
            good = True
            for t in range(top.shape[0]):
                j = top[t]
                if abs(r0[j] + psi * (Xc[i, j] - D[f, t])) > l1 * (1.0 + MARGIN):
                    good = False
                    K = _join(j, C, K, added)
            if not good:
                todo[nt] = i
                nt += 1
            elif n_out and abs(psi) * mu_xi + rho1[f] * mu_nu >= 1.0 - MARGIN:
                near[still] = i
                psi1[still] = psi
                rho1[still] = rho1[f]
                still += 1
            else:
                psi_out[i] = psi
                nnz_out[i] = k
                ok_out[i] = True
        nn = still
    if nn:          # the others screened: on the first piece q = ψ X̃_A0 M0 a
        QN = _product(_rows(PaT, near, nn), XAT)
        lim = np.where(inside, HUGE, l1 * (1.0 - MARGIN))
        for f in range(nn):
            i = near[f]
            for r in range(n):
                QN[f, r] *= psi1[f]
            bad, K = _screen(i, psi1[f], QN, f, r0, Xc, XcT, nu_out, lim, l1, C, K, added,
                             over, flagged)
            if not bad:
                psi_out[i] = psi1[f]
                nnz_out[i] = k
                ok_out[i] = True
            else:
                todo[nt] = i
                nt += 1
    counts[0] += n - nt
    if nt == 0:
        return
    # 2. the candidates: the violators so far and the coordinates nearest to entering
    inside[C[:K]] = True
    watch = _watch(inside, weight, nu, xi,
                   p - k - K if p - k - K <= ALL_CANDIDATES else max(WATCH, k))
    C[K:K + watch.shape[0]] = watch
    K += watch.shape[0]
    inside[watch] = True
    added[watch] = True
    Z, ZT, S, BaT = _candidate_terms(G, XcT, XA, M0, A0, C, 0, K, l2, np.empty((k, 0)),
                                     np.empty((0, 0)), np.empty((n, 0)))
    rC0 = r0[C[:K]].copy()
    mu_nu, mu_xi, n_out = _outside_bounds(inside, weight, nu, xi)
    # 3. the open folds
    kk = max(k, 1)
    L = np.empty(kk, dtype=np.int64)
    L2 = np.empty(kk, dtype=np.int64)
    flips = np.empty(kk, dtype=np.int64)
    inL = np.zeros(kk, dtype=np.bool_)
    sA = np.empty(kk)
    w0e = np.empty(kk)
    E = np.empty(p, dtype=np.int64)
    E2 = np.empty(p, dtype=np.int64)
    inE = np.zeros(p, dtype=np.bool_)
    sE = np.empty(p)
    sE2 = np.empty(p)
    rCe = np.empty(p)
    xwe = np.empty(1)
    b1 = np.empty(6 * p + 6)
    work = (L2, E2, sE2, flips, np.empty(k), np.empty(p))
    while nt:
        DW = np.zeros((nt, k))               # w - w0 on A0
        Q = np.zeros((nt, n))                # X̃ (w - w0): first the entered candidates'
        for f in range(nt):
            i = todo[f]
            _reset(k, K, s0, w0A, rC0, xw[i], L, inL, 0, E, inE, 0, sA, w0e, rCe, xwe)
            psi, nL, nE, ok = _fold_active_set(i, k, K, l1, kappa, M0, PaT, qa, Z, ZT, S,
                                               BaT, e[i], L, inL, E, inE, sE, sA, w0e, rCe,
                                               xwe, Km, Bm, b1, work, steps)
            counts[1] += ok
            if not ok:
                _reset(k, K, s0, w0A, rC0, xw[i], L, inL, nL, E, inE, nE, sA, w0e, rCe, xwe)
                psi, nL, nE, ok = _fold_path(i, k, K, l1, kappa, M0, PaT, qa, Z, S, BaT,
                                             e[i], L, inL, E, inE, sE, sA, w0e, rCe, xwe,
                                             Km, Bm, b1, max_pieces)
                counts[2] += ok
                counts[3] += not ok
            for b in range(nL):
                inL[L[b]] = False
            for a in range(nE):
                inE[E[a]] = False
            ok_out[i] = ok
            if not ok:
                continue
            psi_out[i] = psi
            nnz_out[i] = k - nL + nE
            for a in range(k):
                DW[f, a] = w0e[a] - w0A[a] + psi * PaT[i, a]
            for a in range(nE):
                xa = Bm[a, 0] + Bm[a, 1] * psi
                ea = C[E[a]]
                for r in range(n):
                    Q[f, r] += xa * XcT[ea, r]
                for b in range(k):
                    DW[f, b] -= xa * ZT[E[a], b]
            for b in range(nL):
                lam = Bm[nE + b, 0] + Bm[nE + b, 1] * psi
                for a in range(k):
                    DW[f, a] -= lam * M0[L[b], a]
        if not n_out:
            return
        Q += _product(DW, XAT)                                           # and A0's
        lim = np.where(inside, HUGE, l1 * (1.0 - MARGIN))
        K1 = K
        redo = 0
        for f in range(nt):
            i = todo[f]
            if not ok_out[i]:
                continue
            if abs(psi_out[i]) * mu_xi + np.sqrt(_dot(Q, f, Q[f], n)) * mu_nu < 1.0 - MARGIN:
                continue                                  # the bound settles it
            bad, K1 = _screen(i, psi_out[i], Q, f, r0, Xc, XcT, nu_out, lim, l1, C, K1,
                              added, over, flagged)
            if bad:
                todo[redo] = i
                redo += 1
                ok_out[i] = False
        nt = redo
        if nt:
            Z, ZT, S, BaT = _candidate_terms(G, XcT, XA, M0, A0, C, K, K1, l2, Z, S, BaT)
            K = K1
            inside[C[:K]] = True
            rC0 = r0[C[:K]].copy()
            mu_nu, mu_xi, n_out = _outside_bounds(inside, weight, nu, xi)


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def diagonal_folds(h, Xc, X2, c, e, l1, kappa, psi_out, nnz_out, ok_out, max_iter=200):
    """Every leave-one-out fold of one column when the full-data Gram is diagonal (PCA
    scores fit on all rows, the paper's XLS-R recipe): h (p,) its diagonal plus l2,
    X2 = X̃ * X̃.

    For fixed ψ the fold's optimality conditions separate,
    w_j(ψ) = soft(c_j + ψ a_j, l1) / h_j, so f(ψ) = ψ - κ(a'w(ψ) - e) is piecewise linear
    and increasing, and Newton steps kept inside a bracket (bisection otherwise) end on
    its exact root: the step from a point whose signs the next point shares lands on it.
    The first step, from ψ = 0 (the full-data solution w0, shared by the folds), is
    taken for every fold from X̃ w0 and X2 (1/h on w0's support). Compiled with
    reassociation and contraction only (the bracket's ends may be infinite), so the sums
    over coordinates vectorise.
    """
    n, p = Xc.shape
    start = np.zeros(p, dtype=np.int8)
    w0 = np.zeros(p)
    slope = np.zeros(p)
    k = 0
    for j in range(p):
        if abs(c[j]) > l1:
            start[j] = 1 if c[j] > 0.0 else -1
            w0[j] = (c[j] - start[j] * l1) / h[j]
            slope[j] = 1.0 / h[j]
            k += 1
    hinv = 1.0 / h
    status = np.empty(p, dtype=np.int8)
    for i in range(n):
        f = kappa * (e[i] - _dot(Xc, i, w0, p))
        if f == 0.0:
            psi_out[i] = 0.0
            nnz_out[i] = k
            ok_out[i] = True
            continue
        lo, hi = (0.0, np.inf) if f < 0.0 else (-np.inf, 0.0)
        psi = -f / (1.0 - kappa * _dot(X2, i, slope, p))
        for j in range(p):
            status[j] = start[j]
        for _ in range(max_iter):
            f = psi + kappa * e[i]
            fp = 1.0
            moved = 0
            count = 0
            for j in range(p):                  # without branches
                a = Xc[i, j]
                z = c[j] + psi * a
                st = np.int8(z > l1) - np.int8(z < -l1)
                moved += st != status[j]
                status[j] = st
                on = abs(st)
                count += on
                f -= on * kappa * a * (z - st * l1) * hinv[j]
                fp -= on * kappa * a * a * hinv[j]
            if f == 0.0 or not moved:
                psi_out[i] = psi
                nnz_out[i] = count
                ok_out[i] = True
                break
            if f < 0.0:
                lo = psi
            else:
                hi = psi
            step = psi - f / fp
            newton = (lo < step < hi) or not (np.isfinite(lo) and np.isfinite(hi))
            psi = step if newton else 0.5 * (lo + hi)
            if not newton:
                for j in range(p):              # a bisection point: signs unknown
                    status[j] = 2


@njit(cache=True, nogil=True)
def all_columns(G, Xc, nu, xi, nu_out, CT, ET, l1, l2, kappa, diagonal, steps, max_pieces,
                lapack):
    """:func:`full_solution` and :func:`column_folds` (or :func:`diagonal_folds`) for
    every column (nu, xi, nu_out: as :func:`column_folds` takes them; lapack:
    :func:`.lapack.routines`).

    CT (m, p) cross-products X̃'ỹ and ET (m, n) centred targets, one row per column.
    Returns ψ* (m, n), non-zero counts (m, n), solved flags (m, n) and the counts of
    :func:`column_folds` (the last one: folds solved in one dimension).
    """
    n, p = Xc.shape
    m = CT.shape[0]
    XcT = np.ascontiguousarray(Xc.T)
    psi = np.zeros((m, n))
    nnz = np.zeros((m, n), dtype=np.int32)
    ok = np.zeros((m, n), dtype=np.bool_)
    Km = np.empty((p + 1, p + 1))
    Bm = np.empty((p + 1, 2))
    counts = np.zeros(5, dtype=np.int64)
    h = np.diag(G) + l2
    X2 = Xc * Xc
    for col in range(m):
        if diagonal:
            diagonal_folds(h, Xc, X2, CT[col], ET[col], l1, kappa, psi[col], nnz[col],
                           ok[col])
            counts[4] += n
            continue
        w0, r0, M0, converged = full_solution(G, CT[col], l1, l2, lapack)
        if converged:
            column_folds(G, Xc, XcT, nu, xi, nu_out, r0, ET[col], w0, M0, l1, l2,
                         kappa, psi[col], nnz[col], ok[col], Km, Bm, counts, steps,
                         max_pieces)
    return psi, nnz, ok, counts


def norms_without_rows(Xc, nu):
    """(n, p): entry (i, j) at least the norm of x̃_j without row i, from ν_j² - x̃_ij²
    rounded up by 4 (n + 2) u ν_j² (more than the rounding of G's diagonal, of ν_j² and
    of the subtraction)."""
    square = nu * nu
    slack = 4.0 * (len(Xc) + 2) * 2.0 ** -53
    return np.sqrt(np.maximum(square - Xc * Xc, 0.0) + slack * square)


def loo_enet(X, Y, alpha, l1_ratio, diagonal=None, steps=STEPS, max_pieces=MAX_PIECES):
    """Leave-one-row-out ElasticNet predictions of every column of Y (unit weights).

    X : (n, p); Y : (n, m). Minimises scikit-learn's ElasticNet objective with an
    intercept on each training set; needs l1_ratio < 1 (a ridge part). ``diagonal``:
    solve by :func:`diagonal_folds` (default: when the centred Gram is diagonal);
    ``steps``: active-set steps per fold before the path takes over. Returns
    (pred (n, m), nonzero (n, m) coefficients per fold, solved (n, m), counts (5,) of
    :func:`all_columns`): folds not solved (a singular system or a path longer than
    ``max_pieces``; rare) are left for the caller.
    """
    if not (alpha > 0 and 0 < l1_ratio < 1):
        raise ValueError(f"the leave-one-out path needs alpha > 0 and 0 < l1_ratio < 1, got "
                         f"alpha={alpha!r}, l1_ratio={l1_ratio!r}")
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    n = X.shape[0]
    Xc = np.ascontiguousarray(X - X.mean(0))
    G = Xc.T @ Xc
    l1 = alpha * l1_ratio * (n - 1)
    l2 = alpha * (1.0 - l1_ratio) * (n - 1)
    if diagonal is None:
        off = np.abs(G - np.diag(G.diagonal())).max(initial=0.0)
        diagonal = off <= 1e-12 * max(np.abs(G.diagonal()).max(initial=0.0), 1e-300)
    nu, xi = np.sqrt(np.maximum(G.diagonal(), 0.0)), np.abs(Xc).max(0)
    nu_out = norms_without_rows(Xc, nu)
    mean = Y.mean(0)
    pred = np.empty_like(Y)
    nonzero = np.empty(Y.shape, dtype=np.int32)
    solved = np.empty(Y.shape, dtype=bool)
    counts = np.zeros(5, dtype=np.int64)
    for lo in range(0, Y.shape[1], COLUMN_BLOCK):            # bounded memory
        cols = slice(lo, lo + COLUMN_BLOCK)
        ET = np.ascontiguousarray(Y[:, cols].T)              # centred targets, a row each
        ET -= mean[cols, None]
        psi, nnz, ok, c = all_columns(G, Xc, nu, xi, nu_out, ET @ Xc, ET, l1, l2,
                                      n / (n - 1), bool(diagonal), steps, max_pieces,
                                      routines())
        pred[:, cols] = Y[:, cols] + psi.T
        nonzero[:, cols], solved[:, cols] = nnz.T, ok.T
        counts += c
    return pred, nonzero, solved, counts
