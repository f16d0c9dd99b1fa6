"""Ridge regression with the penalty chosen per target column by inner leave-one-out.

Two exact algorithms, for all penalties and all target columns (channels ×
permutations) at once:

* :func:`ridge_loo` / :func:`ridge_splits` — the design is standardised (or reduced by
  a PCA) on each outer fold's training rows, and the fold's kernel decomposed once
  (:mod:`.kernel`). The inner leave-one-out errors come in closed form from the hat
  matrix of ridge with an unpenalised intercept, H = 11'/n + U diag(s2 / (s2 + α)) U':
  e_i = r_i / (1 - h_ii). The outer test rows have zero weight in every product.
* :func:`ridge_nested_loo` — the design's scaling is the same in every fold (fit on
  all rows' features, never on targets), so one decomposition serves all folds: the
  outer fold's test set S and an inner row i are removed together by the leave-set-out
  identity e_T = (I - H_TT)^{-1} r_T (T = S ∪ {i}) on the full-data residuals
  r = (I - H) y, which gives every inner error of every fold from three products of
  (n × n) matrices with the targets per penalty — no per-fold refit.
"""

import numpy as np

from .backend import get_backend
from .kernel import fold_systems

#: Columns processed together (memory: a few (n_folds · k, COLUMN_BLOCK) float64 arrays).
COLUMN_BLOCK = 512
#: Eigenvalue pairs of an inner split closer than this × (s2_r + s2_s + the largest
#: penalty) have their term of the inner test error taken directly (:func:`_inner_form`).
CLOSE = 1e-6
#: Bytes of the inner splits' summed (p, columns) test-group cross-products held together
#: in :func:`ridge_groups`.
SUMS_BYTES = 16 << 20


def standardise(X_train, X_test):
    """Scale both by the training mean and s.d. (constant columns are left at zero)."""
    mean = X_train.mean(0)
    sd = X_train.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    return (X_train - mean) / sd, (X_test - mean) / sd


def inner_loo_alpha(U, s, Yc, alphas, backend="numpy"):
    """Index of the penalty with the smallest leave-one-out squared error, per column.

    U : (n, r), s : (r,) thin SVD of the centred training design; Yc : (n, m) centred
    targets; alphas : (a,). Returns (m,) int indices into ``alphas`` (the first of equal
    minima).
    """
    B = get_backend(backend)
    U, s, Yc = B.asarray(U), B.asarray(s), B.asarray(Yc)
    return B.argmin(_loo_errors(U, s * s, U.T @ Yc, Yc, alphas, B), 0)


def ridge_fold(X_train, Y_train, X_test, alphas, backend="numpy"):
    """Fit on one training set with a penalty per column; predict the test rows.

    X_train : (n, p); Y_train : (n, m); X_test : (t, p); alphas : (a,) penalty grid.
    Inputs are standardised on the training rows. Returns (pred (t, m), alpha index
    (m,)) as numpy arrays.
    """
    n, t = len(X_train), len(X_test)
    X = np.vstack([X_train, X_test])
    Y = np.vstack([Y_train, np.zeros((t, np.shape(Y_train)[1]))])
    pred, index = ridge_splits(X, Y, [(np.arange(n), np.arange(n, n + t))], alphas,
                               backend=backend)
    return pred[0], index[0]


def ridge_loo(X, Y, folds, alphas, backend="numpy", pca_variance=None):
    """Outer cross-validated ridge predictions with a nested per-column penalty, inputs
    standardised (or PCA-reduced, ``pca_variance``) on each fold's training rows.

    X : (n, p); Y : (n, m); folds : list of test-index arrays covering the rows once;
    alphas : (a,). Returns (pred (n, m), alpha index (n_folds, m)) as numpy arrays.
    """
    n = len(X)
    splits = [(np.setdiff1d(np.arange(n), test), np.asarray(test)) for test in folds]
    preds, index = ridge_splits(X, Y, splits, alphas, backend=backend,
                                pca_variance=pca_variance)
    pred = np.empty(np.shape(Y))
    for (_, test), p in zip(splits, preds):
        pred[test] = p
    return pred, np.asarray(index)


def ridge_splits(X, Y, splits, alphas, backend="numpy", pca_variance=None, visit=None,
                 systems=None):
    """Per split (train, test): penalty per column by inner LOO on train, test predictions.

    X : (n, p); Y : (n, m); splits : list of (train, test) index arrays; alphas : (a,).
    visit(f, cols, system, c, ybar), when given, is called for every split f and column
    block ``cols`` with the split's :class:`.kernel.FoldSystem`, c = U'y (r, mb) and the
    training means (mb,): other models reuse the products. ``systems``: the splits'
    :func:`.kernel.fold_systems` (they do not depend on Y), when the caller keeps them
    for several Y. Returns (list of pred (t, m), list of alpha index (m,)), numpy.
    """
    B = get_backend(backend)
    alphas = check_alphas(alphas)
    Y = B.asarray(Y)
    if systems is None:
        systems = fold_systems(X, splits, B, pca_variance)
    bases = _stack([s.U.T for s in systems], systems, Y.shape[0], B)   # (F · r_max, n)
    preds = [np.empty((len(s.test), Y.shape[1])) for s in systems]
    index = [np.empty(Y.shape[1], dtype=np.int64) for _ in systems]
    for cols in _blocks(Y.shape[1]):
        Yb = Y[:, cols]
        cb = (bases @ Yb).reshape(len(systems), -1, Yb.shape[1])
        for f, sys in enumerate(systems):
            Yt = B.take(Yb, sys.train, 0)
            ybar = Yt.mean(0)
            c = cb[f, :sys.U.shape[1]]
            if visit is not None:
                visit(f, cols, sys, c, ybar)
            idx = B.argmin(_loo_errors(sys.U, sys.s2, c, Yt - ybar, alphas, B), 0)
            phi = 1.0 / (sys.s2 + B.asarray(alphas)[:, None])       # (a, r)
            pred = B.stack([B.gather_rows((phi * sys.tau[:, i]) @ c, idx[None])[0]
                            for i in range(sys.tau.shape[1])])
            preds[f][:, cols] = B.to_numpy(ybar + pred)
            index[f][cols] = B.to_numpy(idx)
    return preds, index


def _loo_errors(U, s2, c, Yc, alphas, B):
    """(a, m) leave-one-out squared errors of every penalty, from U (n, r), s2 (r,),
    c = U'Yc (r, m) and the centred targets Yc (n, m).

    With equal eigenvalues (a standardised PCA) the residual is Yc - g·UU'Yc for one
    scalar g per penalty, and the errors of all penalties cost three (a × n) products.
    """
    n = U.shape[0]
    g = s2 / (s2 + B.asarray(alphas)[:, None])                     # (a, r)
    w = 1.0 / (1.0 - 1.0 / n - (U * U) @ g.T) ** 2                  # (n, a)
    if len(s2) and float(B.amax(s2, 0) - B.amin(s2, 0)) <= 1e-12 * float(B.amax(s2, 0)):
        u = U @ c
        g0 = g[:, :1]
        return w.T @ (Yc * Yc) - 2 * g0 * (w.T @ (Yc * u)) + g0 * g0 * (w.T @ (u * u))
    errors = []
    for a in range(len(g)):               # one penalty at a time: (n, m) temporaries only
        resid = Yc - (U * g[a]) @ c
        errors.append(w[:, a] @ (resid * resid))
    return B.stack(errors)


def ridge_nested_loo(Z, Y, folds, alphas, backend="numpy"):
    """Outer leave-group-out predictions with a per-column penalty by inner leave-one-out
    on each fold's training rows, for a design scaled the same way in every fold.

    Z : (n, p) design (already scaled); Y : (n, m); folds : list of test-index arrays
    covering the rows once; alphas : (a,). Equal to refitting ridge (unpenalised
    intercept) without the fold and choosing each column's penalty by leave-one-out on
    the remaining rows. Returns (pred (n, m), alpha index (n_folds, m)), numpy.
    """
    B = get_backend(backend)
    alphas = check_alphas(alphas)
    Z, Y = B.asarray(Z), B.asarray(Y)
    n = Z.shape[0]
    Zc = Z - Z.mean(0)
    lam, V = B.eigh(Zc @ Zc.T)
    keep = lam > 1e-12 * max(float(lam[-1]), 1e-300)
    lam, V = lam[keep], V[:, keep]
    plans = [_fold_plan(V, lam, alpha, folds, n, B) for alpha in alphas]
    Mstack = B.cat([plan["M"] for plan in plans])                      # (a · n, n)
    rows = B.asarray(pad_rows(folds, n), dtype="int")                  # (F, s)
    F, s = rows.shape
    pred, index = np.empty(Y.shape), np.empty((F, Y.shape[1]), dtype=np.int64)
    Minv = B.stack([plan["Minv"] for plan in plans])                   # (a, F, s, s)
    for cols in _blocks(Y.shape[1]):
        Yb = Y[:, cols]
        pad = B.zeros((s, Yb.shape[1]))
        Rall = (Mstack @ Yb).reshape(len(plans), n, -1)                 # (a, n, mb) residuals
        Rs = B.cat([Rall, B.zeros((len(plans), s, Yb.shape[1]))], 1)[:, rows]   # (a, F, s, mb)
        errs = B.stack([plan["W"] @ (R * R) - (Rr * (2 * (plan["WQ"] @ R).reshape(Rr.shape)
                                                      - B.einsum("fst,ftm->fsm", plan["Q2"], Rr))
                                                 ).sum(1)
                        for plan, R, Rr in zip(plans, Rall, Rs)])       # (a, F, mb)
        idx = B.argmin(errs, 0)                                         # (F, mb)
        f_ = B.arange(F)[:, None]
        chosen = Rs[idx, f_, :, B.arange(Yb.shape[1])[None, :]]          # (F, mb, s)
        pb = B.cat([Yb, pad])[rows] - B.einsum("fmst,fmt->fsm", Minv[idx, f_], chosen)
        index[:, cols] = B.to_numpy(idx)
        pb = B.to_numpy(pb)
        for f, test in enumerate(folds):
            pred[np.asarray(test), cols] = pb[f, :len(test)]
    return pred, index


def _fold_plan(V, lam, alpha, folds, n, B):
    """Per-fold matrices of one penalty for :func:`ridge_nested_loo`.

    M = I - H (n, n). For fold f with test set S (padded to s_max with dummy rows n, n+1,
    … that are independent of everything): Minv (F, s, s) = (M_SS)^{-1}; for each
    inner row i outside S the leave-(S ∪ i)-out residual of i is (R_i - q_i'R_S) / d_i
    with q_i = Minv M_Si and d_i = M_ii - M_iS q_i; W (F, n) = 1 / d_i² (0 on S),
    WQ (F·s, n) the rows w·q, Q2 (F, s, s) = Σ_i w_i q_i q_i'.
    """
    g = lam / (lam + alpha)
    M = B.eye(n) - 1.0 / n - (V * g) @ V.T
    rows = B.asarray(pad_rows(folds, n), dtype="int")                 # (F, s)
    F, s_max = rows.shape
    Mp = B.eye(n + s_max)
    Mp[:n, :n] = M
    Minv = B.inv(Mp[rows[:, :, None], rows[:, None, :]])               # (F, s, s)
    Msi = Mp[rows][:, :, :n]                                           # (F, s, n)
    Q = Minv @ Msi                                                     # (F, s, n)
    d = M.diagonal()[None, :] - (Msi * Q).sum(1)                       # (F, n)
    test = B.zeros((F, n), dtype="bool")
    for f, t in enumerate(folds):
        test[f, B.asarray(t, dtype="int")] = True
    w = B.where(test, 0.0, 1.0 / B.where(test, 1.0, d) ** 2)
    WQ = (w[:, None, :] * Q).reshape(F * s_max, n)
    Q2 = (w[:, None, None, :] * Q[:, :, None, :] * Q[:, None, :, :]).sum(-1)
    return {"M": M, "Minv": Minv, "W": w, "WQ": WQ, "Q2": Q2}


def pad_rows(folds, n):
    """(n_folds, s_max) int: each fold's test rows, padded with n, n + 1, …"""
    s_max = max(len(t) for t in folds)
    rows = np.tile(np.arange(n, n + s_max), (len(folds), 1))
    for f, t in enumerate(folds):
        rows[f, :len(t)] = t
    return rows


def check_alphas(alphas):
    """The penalty grid as a float array; positive values, at least one."""
    alphas = np.asarray(alphas, dtype=float)
    if alphas.ndim != 1 or not len(alphas) or not (alphas > 0).all():
        raise ValueError(f"alphas must be a non-empty 1-D grid of positive values, got {alphas}")
    return alphas


def _blocks(m):
    """Column slices of at most COLUMN_BLOCK."""
    return [slice(lo, min(lo + COLUMN_BLOCK, m)) for lo in range(0, m, COLUMN_BLOCK)]


def _stack(blocks, systems, n, B):
    """(n_folds · k_max, n): each fold's block (k, n_train) on its training rows, zero on
    its test rows and in the padding."""
    k_max = max(b.shape[0] for b in blocks)
    out = B.zeros((len(blocks), k_max, n))
    for f, (block, sys) in enumerate(zip(blocks, systems)):
        out[f, :block.shape[0]][:, B.asarray(sys.train, dtype="int")] = block
    return out.reshape(len(blocks) * k_max, n)


def ridge_groups(gm, splits, alphas, backend="numpy", plans=None):
    """Ridge on weighted group moments (:func:`.moments.group_moments`), for designs
    with few columns (the primal): per split, inputs standardised on its training frames,
    a penalty per target column by the summed squared error over its inner splits, and
    the fitted coefficients.

    splits : list of (keep, inner) with keep the training groups and inner a list of
    (keep, test) group arrays inside them. plans : :func:`ridge_group_plans` of the same
    design and splits, when the caller keeps them for several targets. Returns a list of
    (x_mean (p,), sd (p,), coef (p, m) on the standardised inputs, y_mean (m,), alpha
    index (m,)).
    """
    from .moments import group_sums, many_group_sums, split_moments, test_moments

    B = get_backend(backend)
    al = B.asarray(check_alphas(alphas))[:, None]
    if plans is None:
        plans = ridge_group_plans(gm.design, splits, alphas, B)
    out = []
    for chunk in _outer_chunks(plans, SUMS_BYTES // (8 * int(np.prod(gm.cross.shape[1:])))):
        test_sums = many_group_sums(gm, [i[3].groups for plan in chunk for i in plan[4]], B)
        row = 0                                              # this inner split's in them
        for tr, sd, V, s2, inner in chunk:
            err = 0.0
            for sub, V_in, s2_in, test, rest, (K, dM, close) in inner:
                sums = [t[row] for t in test_sums]     # the test groups' sums serve twice
                fm = split_moments(gm, sub, [a + b for a, b in zip(sums, group_sums(gm, rest))])
                c = V_in.T @ (fm.cross / sd[:, None])
                Sxy, Syy = test_moments(gm, fm.y_mean, test, sums)
                b = V_in.T @ (Sxy / sd[:, None])
                phi = 1.0 / (s2_in + al)                                # (a, r)
                err = err + Syy + 2 * (phi @ (c * (K @ c - b))) + \
                    (phi * phi) @ (dM[:, None] * c * c) + _close_pairs(phi, close, c, B)
                row += 1
            fm = split_moments(gm, tr)
            c = V.T @ (fm.cross / sd[:, None])
            idx = B.argmin(err, 0) if inner else B.zeros((c.shape[1],), dtype="int")
            phi = (1.0 / (s2[None, :] + al))[idx]                      # (m, r)
            out.append((fm.x_mean, sd, V @ (phi.T * c), fm.y_mean, idx))
    return out


def _outer_chunks(plans, per_chunk):
    """The plans in runs of whole outer splits with at most ``per_chunk`` inner splits
    (at least one outer split a run)."""
    chunk, count = [], 0
    for plan in plans:
        if chunk and count + len(plan[4]) > per_chunk:
            yield chunk
            chunk, count = [], 0
        chunk.append(plan)
        count += len(plan[4])
    if chunk:
        yield chunk


def ridge_group_plans(gd, splits, alphas, backend="numpy"):
    """The target-free part of :func:`ridge_groups` for the design ``gd``
    (:class:`.moments.GroupDesign`) and penalties ``alphas``: per split (keep, inner),
    the moments of its training groups, the scale, the eigendecompositions of the
    standardised training Grams of the split and of its inner splits, the groups an
    inner split drops besides its test groups and the weights of its test error
    (:func:`_inner_form`) (memory: about 1 + 2 · inner (p, p) arrays per split)."""
    from .moments import split_design, test_design

    B = get_backend(backend)
    alpha_max = float(np.max(check_alphas(alphas)))
    plans = []
    for keep, inner in splits:
        tr = split_design(gd, keep)
        sd = B.sqrt(B.maximum(tr.gram.diagonal() / tr.N, 0.0))
        sd = B.where(sd > 0, sd, 1.0)
        scale = sd[:, None] * sd[None, :]
        subs = []
        for k_in, t_in in inner:
            sub = split_design(gd, k_in)
            V, s2 = _eig(sub.gram / scale, B)
            test = test_design(gd, t_in, sub.x_mean)
            if not np.isin(test.groups, sub.drop).all():
                raise ValueError("an inner split trains on one of its test groups")
            subs.append((sub, V, s2, test, np.setdiff1d(sub.drop, test.groups),
                         _inner_form(s2, V.T @ (test.Sxx / scale) @ V, alpha_max, B)))
        V, s2 = _eig(tr.gram / scale, B)
        plans.append((tr, sd, V, s2, subs))
    return plans


def _inner_form(s2, M, alpha_max, B):
    """Weights of the quadratic term of an inner split's test error, Σ_rs M_rs φ_r φ_s
    c_r c_s with φ_r = 1 / (s2_r + α) (M: the test moments in the training eigenbasis,
    c: the targets' cross-products there), for every penalty α without (a, r, s) work:
    for eigenvalues apart φ_r φ_s = (φ_r - φ_s) / (s2_s - s2_r), so those pairs sum to
    2 Σ_r φ_r c_r (K c)_r with K_rs = M_rs / (s2_s - s2_r) (one (p, p) product a split);
    the diagonal is Σ_r φ_r² M_rr c_r²; the close pairs r < s (within CLOSE, where the
    difference would lose digits) are summed directly. Returns (K, diag M, close pairs
    (iu, ju, 2 M_rs))."""
    s2, M = B.to_numpy(s2), B.to_numpy(M)
    gap = s2[None, :] - s2[:, None]
    apart = np.abs(gap) > CLOSE * (np.abs(s2[:, None]) + np.abs(s2[None, :]) + alpha_max)
    K = np.where(apart, M / np.where(apart, gap, 1.0), 0.0)
    iu, ju = np.nonzero(np.triu(~apart, 1))
    return B.asarray(K), B.asarray(np.diag(M).copy()), (iu, ju, B.asarray(2 * M[iu, ju]))


def _close_pairs(phi, close, c, B):
    """(a, m) Σ over the close pairs (iu, ju, weights w) of w φ_a,iu φ_a,ju c_iu c_ju."""
    iu, ju, w = close
    if len(iu) == 0:
        return 0.0
    weights = B.take(phi, iu, 1) * B.take(phi, ju, 1) * w                # (a, pairs)
    return weights @ (B.take(c, iu, 0) * B.take(c, ju, 0))


def ridge_cells(X, Y, w, splits, alphas, backend="numpy"):
    """Ridge on weighted rows (cells) in the dual, for wide designs with few cells.

    X : (n, p) rows; Y : (n, m) their mean targets; w : (n,) frames per row;
    splits : list of (train, test, inner) cell index arrays, inner a list of
    (train, test) inside ``train``. Inputs are standardised on each split's training
    frames (the inner splits reuse it); a column's penalty minimises the weighted
    squared error summed over its inner splits. Returns a list of (pred (t, m), alpha
    index (m,)).
    """
    B = get_backend(backend)
    alphas = check_alphas(alphas)
    X, Y, w = B.asarray(X), B.asarray(Y), B.asarray(w)
    out = []
    for train, test, inner in splits:
        wt = B.take(w, train, 0)
        mean = (wt @ B.take(X, train, 0)) / wt.sum()
        sd = B.sqrt(B.maximum((wt @ (B.take(X, train, 0) - mean) ** 2) / wt.sum(), 0.0))
        Z = (X - mean) / B.where(sd > 0, sd, 1.0)
        err = 0.0
        for tr_in, te_in in inner:
            resid = _dual_fit(Z, Y, w, tr_in, te_in, alphas, B)         # (a, t, m)
            resid -= B.take(Y, te_in, 0)[None]
            resid *= resid
            err = err + B.take(w, te_in, 0) @ resid
        preds = _dual_fit(Z, Y, w, train, test, alphas, B)
        idx = B.argmin(err, 0) if inner else B.zeros((Y.shape[1],), dtype="int")
        rows, cols = B.arange(len(test))[:, None], B.arange(Y.shape[1])[None, :]
        out.append((preds[idx[None, :], rows, cols], idx))
    return out


def _dual_fit(Z, Y, w, train, test, alphas, B):
    """(a, t, m) weighted-ridge predictions of the test rows for every penalty, from the
    training rows (standardised design Z, mean targets Y, weights w)."""
    sw = B.sqrt(B.take(w, train, 0))[:, None]
    Zt = B.take(Z, train, 0)
    zbar = (sw[:, 0] ** 2 @ Zt) / (sw ** 2).sum()
    ybar = (sw[:, 0] ** 2 @ B.take(Y, train, 0)) / (sw ** 2).sum()
    Zh = sw * (Zt - zbar)
    U, s2 = _eig(Zh @ Zh.T, B)
    c = U.T @ (sw * (B.take(Y, train, 0) - ybar))                      # (r, m)
    tau = U.T @ (Zh @ (B.take(Z, test, 0) - zbar).T)                    # (r, t)
    phi = 1.0 / (s2[None, :] + B.asarray(alphas)[:, None])              # (a, r)
    return ybar + (phi[:, None, :] * tau.T[None]) @ c                   # (a, t, r) @ (r, m)


def _eig(K, B):
    """Eigenpairs of a PSD matrix above the rank tolerance: (vectors (n, r), values (r,))."""
    lam, vec = B.eigh(K)
    keep = lam > 1e-12 * max(float(lam[-1]), 1e-300) if len(lam) else lam > 0
    return vec[:, keep], lam[keep]
