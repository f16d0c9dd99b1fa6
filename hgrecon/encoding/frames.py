"""Time-resolved encoding: frame-level high-gamma from lagged features, per channel.

For one subject and one feature: the selected frames (trial windows, :mod:`hgrecon.align`)
of every channel are predicted, at every lag of ``lags_ms``, from the feature
(a word's vector painted on its frames, or a frame-level audio feature), by

* ``ridge`` — inputs standardised on each fold's training frames, penalty chosen per
  channel (and per null draw) by inner grouped cross-validation on the training words;
* ``elasticnet`` — the paper's model (unscaled inputs, fixed alpha and l1_ratio).

Folds hold out one word (``folds: loo``) or a group of words (``folds: k``) with a
guard band: a training frame is never touched by a held-out word (:mod:`hgrecon.align`).
Every selected frame is predicted once, by the fold of its word.

Scores per channel and lag over the held-out frames: Pearson r (``pcc``) and R² over all
of them, r over the speech frames (``pcc_speech``), and the mean over words of r within
each word's frames (``pcc_word_mean``). Nulls, solved with the real data as extra target
columns: ``n_perm`` shuffles of whole trial windows of the target (each word's
embedding and speech timing paired with another trial's high-gamma) and ``n_shift``
circular shifts of the concatenated selected frames by at least one window. One-sided
permutation p-values of ``pcc`` (``p_value``: shuffles, ``p_shift``: shifts), with
Benjamini-Hochberg FDR across the channels of each model and lag (``p_fdr``,
``p_shift_fdr``).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..align import frame_cells, lag_frames, paint_codes, trial_windows
from ..constants import PAPER_ENET_ALPHA, PAPER_ENET_L1_RATIO, TRIAL_LENGTH_S, TRIAL_START_S
from ..errors import InputError
from .backend import get_backend
from .elasticnet import check_penalty, enet_cv, enet_gram
from .folds import group_folds
from .kernel import pca_reduce
from .moments import group_moments, split_moments
from .ridge import check_alphas, ridge_cells, ridge_groups
from .stats import fdr_bh, perm_pvalue

FRAME_MODELS = ("ridge", "elasticnet")
#: Designs with at most this many columns are solved in the primal (group moments).
PRIMAL_MAX = 256
#: Null draws (target orders) solved together (memory: cells × draws × channels).
DRAW_BLOCK = 64


@dataclass
class FrameSettings:
    """Frame-level encoding settings (the ``frames`` block of the config)."""

    lags_ms: tuple = tuple(range(-200, 401, 100))
    context: tuple = (0,)
    paint: str = "trial"
    start_s: float = TRIAL_START_S
    length_s: float = TRIAL_LENGTH_S
    margin_s: float = 0.2
    speech_db: float = 15.0
    folds: object = "loo"
    inner_folds: int = 5
    models: tuple = ("ridge",)
    n_perm: int = 100
    n_shift: int = 100
    seed: int = 0
    ridge_alphas: tuple = tuple(np.logspace(-2, 6, 17))
    enet_alpha: float = PAPER_ENET_ALPHA
    enet_l1_ratio: float = PAPER_ENET_L1_RATIO
    tol: float = 1e-4
    pca_variance: float | None = None
    pca_fit: str = "train"
    backend: str = "numpy"

    def __post_init__(self):
        if not self.lags_ms:
            raise InputError("frames.lags_ms", "needs at least one lag")
        for lag in self.lags_ms:
            lag_frames(lag)
        if not self.models or set(self.models) - set(FRAME_MODELS):
            raise InputError("frames.models", f"must be a non-empty subset of {FRAME_MODELS}, "
                                              f"got {self.models!r}")
        if not (self.folds == "loo" or (isinstance(self.folds, (int, np.integer))
                                        and self.folds >= 2)):
            raise InputError("frames.folds", f"must be 'loo' or an integer >= 2, got "
                                             f"{self.folds!r}")
        if not (isinstance(self.inner_folds, (int, np.integer)) and self.inner_folds >= 2):
            raise InputError("frames.inner_folds", f"must be an integer >= 2, got "
                                                   f"{self.inner_folds!r}")
        for name in ("n_perm", "n_shift"):
            value = getattr(self, name)
            if not (isinstance(value, (int, np.integer)) and value >= 0):
                raise InputError(f"frames.{name}", f"must be an integer >= 0, got {value!r}")
        if self.pca_fit not in ("train", "all"):
            raise InputError("frames.pca_fit", f"must be 'train' or 'all', got {self.pca_fit!r}")
        check_penalty(self.enet_alpha, self.enet_l1_ratio)
        check_alphas(self.ridge_alphas)
        get_backend(self.backend)


@dataclass
class FrameResult:
    """table : one row per model × channel × lag; measured : (n_sel, q) high-gamma of
    the selected frames; predicted : {model: (n_sel, q) held-out prediction at each
    channel's best lag}; best_lag_ms : {model: (q,)}; frame_times, trial, speech :
    (n_sel,) of the selected frames."""

    table: pd.DataFrame
    measured: np.ndarray
    predicted: dict
    best_lag_ms: dict
    frame_times: np.ndarray
    trial: np.ndarray
    speech: np.ndarray


def evaluate_frames(hg, frame_times, words, channels, speech, settings=None, *,
                    vectors=None, features=None):
    """Run the frame-level models and scores; see the module docstring.

    hg : (n_frames, q) high-gamma frames; frame_times : (n_frames,) window starts (s);
    words : DataFrame ``trial``, ``word``, ``onset_s`` (one row per trial); channels :
    (q,) names; speech : (n_frames,) bool voice activity. Either ``vectors``
    (n_trials, d), one per trial, painted on the frames, or ``features`` (n_frames, d).
    """
    st = settings or FrameSettings()
    windows = trial_windows(frame_times, words["onset_s"].to_numpy(), start_s=st.start_s,
                            length_s=st.length_s, margin_s=st.margin_s)
    sel = windows.frames
    Y = np.asarray(hg, dtype=float)[sel]                                 # (n_sel, q)
    speech = np.asarray(speech, dtype=bool)
    if features is not None and st.pca_variance and st.pca_fit == "train":
        raise InputError("frames.pca_fit", "a PCA fit on the training words is supported for "
                                           "word vectors only; use pca_fit: all for frame "
                                           "features")
    if features is not None and st.pca_variance:
        (features,) = pca_reduce(features, st.pca_variance)
    if vectors is not None and st.pca_variance and st.pca_fit == "all":
        (vectors,) = pca_reduce(vectors, st.pca_variance)
    codes = None if vectors is None else paint_codes(windows, speech, st.paint, len(speech))
    folds = group_folds(words["word"].to_numpy(), st.folds)
    orders = _null_orders(windows, st)
    stats, preds, alphas = [], {}, {}
    for lag in st.lags_ms:
        cells = frame_cells(windows, speech, lag_frames(lag), st.context, vectors=vectors,
                            codes=codes, features=features)
        lag_stats, lag_pred, lag_alpha = _lag(cells, Y, orders, folds, vectors, st)
        stats.append(lag_stats)
        for model in lag_pred:
            preds.setdefault(model, []).append(lag_pred[model])
            alphas.setdefault(model, []).append(lag_alpha[model])
    table, best = _table(stats, alphas, channels, st)
    predicted = {m: np.stack(p)[best[m], np.arange(len(sel))[:, None], np.arange(Y.shape[1])]
                 .astype(np.float32) for m, p in preds.items()}
    lags = np.asarray(st.lags_ms, dtype=float)
    return FrameResult(table=table, measured=Y.astype(np.float32), predicted=predicted,
                       best_lag_ms={m: lags[b] for m, b in best.items()},
                       frame_times=np.asarray(frame_times)[sel], trial=windows.owner,
                       speech=speech[sel])


def _null_orders(windows, st):
    """(1 + n_perm + n_shift, n_sel) row orders of the selected frames' targets: the
    identity, trial-window shuffles and circular shifts by at least one window."""
    rng = np.random.default_rng(st.seed)
    n_trials, n_win = len(windows.start), windows.n_window
    n_sel = n_trials * n_win
    offset = np.arange(n_win)
    shuffles = [(rng.permutation(n_trials)[:, None] * n_win + offset).reshape(-1)
                for _ in range(st.n_perm)]
    if st.n_shift and n_trials < 3:
        raise InputError("frames.n_shift", f"circular shifts need at least 3 trials, got {n_trials}")
    shifts = [np.roll(np.arange(n_sel), -int(s))
              for s in rng.integers(n_win, n_sel - n_win + 1, st.n_shift)]
    return np.vstack([np.arange(n_sel)[None]] + [np.asarray(o)[None] for o in shuffles + shifts])


def _lag(cells, Y, orders, folds, vectors, st):
    """Scores of every null draw at one lag: {model: (draws, q) arrays of pcc, r2,
    pcc_speech, pcc_word_mean}, real predictions per selected frame and chosen alphas."""
    n_cells, q = len(cells.weight), Y.shape[1]
    splits = _splits(cells, folds, st.inner_folds)
    out = {m: {k: [] for k in ("pcc", "r2", "pcc_speech", "pcc_word_mean")} for m in st.models}
    pred_real, alpha = {}, {}
    for lo in range(0, len(orders), DRAW_BLOCK):
        block = orders[lo:lo + DRAW_BLOCK]
        Yb = Y[block.T].reshape(len(Y), -1)                               # (n_sel, draws·q)
        S = _cell_sums(cells.frame_cell, Yb, n_cells)
        Q = _cell_sums(cells.frame_cell, Yb * Yb, n_cells)
        mean = S / cells.weight[:, None]
        within = Q - S * mean
        for model in st.models:
            P, chosen = _predict(model, cells, mean, within, splits, vectors, st)
            for key, value in _scores(cells, S, Q, P).items():
                out[model][key].append(value.reshape(len(block), q))
            if lo == 0:
                pred_real[model] = P[cells.frame_cell, :q]
                alpha[model] = chosen[:, :q]
    return ({m: {k: np.concatenate(v) for k, v in d.items()} for m, d in out.items()},
            pred_real, alpha)


def _splits(cells, folds, inner_folds):
    """Per outer fold (test trials): (train cells, test cells, inner) with inner a list
    of (train, test) cells of grouped inner folds over the training words."""
    out = []
    for test_trials, inner_trials in folds.with_inner(inner_folds):
        touched = cells.touched[:, test_trials].any(1)
        train = np.flatnonzero(~touched)
        test = np.flatnonzero(np.isin(cells.owner, test_trials))
        inner = []
        for t_in in inner_trials:
            t_touch = cells.touched[train][:, t_in].any(1)
            inner.append((train[~t_touch], train[np.isin(cells.owner[train], t_in)]))
        out.append((train, test, inner))
    return out


def _predict(model, cells, mean, within, splits, vectors, st):
    """Held-out predictions (n_cells, m) of every cell and the per-fold chosen penalty
    (n_folds, m) (the ElasticNet alpha for ``elasticnet``)."""
    if vectors is not None and st.pca_variance and st.pca_fit == "train":
        return _predict_pca(model, cells, mean, within, splits, vectors, st)
    B = get_backend(st.backend)
    X = cells.X
    P = np.empty(mean.shape)
    chosen = np.full((len(splits), mean.shape[1]), st.enet_alpha)
    if model == "elasticnet":
        preds, _ = enet_cv(X, mean, [(tr, te) for tr, te, _ in splits], st.enet_alpha,
                           st.enet_l1_ratio, tol=st.tol, weights=cells.weight, within=within,
                           backend=B) if X.shape[1] > PRIMAL_MAX else \
            _enet_groups(cells, mean, within, splits, st, B)
        for (_, te, _), p in zip(splits, preds):
            P[te] = p
        return P, chosen
    alphas = np.asarray(st.ridge_alphas, dtype=float)
    if X.shape[1] > PRIMAL_MAX:
        for f, ((_, te, _), (p, idx)) in enumerate(zip(splits, ridge_cells(
                X, mean, cells.weight, splits, alphas, backend=B))):
            P[te], chosen[f] = B.to_numpy(p), alphas[B.to_numpy(idx)]
        return P, chosen
    group, n_groups = _groups(cells)
    gm = group_moments(B.asarray(X), B.asarray(mean), B.asarray(cells.weight), B.asarray(within),
                       group, n_groups, backend=B)
    gsplits = [(_in_groups(group, tr), [(_in_groups(group, a), _in_groups(group, b))
                                        for a, b in inner]) for tr, _, inner in splits]
    for f, ((_, te, _), (xm, sd, coef, ym, idx)) in enumerate(zip(splits, ridge_groups(
            gm, gsplits, alphas, backend=B))):
        P[te] = B.to_numpy(ym + ((B.asarray(X[te]) - xm) / sd) @ coef)
        chosen[f] = alphas[B.to_numpy(idx)]
    return P, chosen


def _predict_pca(model, cells, mean, within, splits, vectors, st):
    """As :func:`_predict`, with the word vectors' PCA fit on each fold's training words."""
    P = np.empty(mean.shape)
    chosen = np.full((len(splits), mean.shape[1]), st.enet_alpha)
    for f, (train, test, inner) in enumerate(splits):
        train_words = np.unique(cells.owner[train])
        _, reduced = pca_reduce(vectors[train_words], st.pca_variance, vectors)
        fold_cells = cells.with_design(reduced)
        one = [(np.arange(len(train)), np.arange(len(train), len(train) + len(test)),
                [(np.searchsorted(train, a), np.searchsorted(train, b)) for a, b in inner])]
        idx = np.concatenate([train, test])
        p, c = _predict(model, fold_cells.subset(idx), mean[idx], within[idx], one, None, st)
        P[test], chosen[f] = p[len(train):], c[0]
    return P, chosen


def _enet_groups(cells, mean, within, splits, st, B):
    """ElasticNet per fold on downdated group moments, warm-started from the full-data
    solution (frame features: many cells, few columns)."""
    group, n_groups = _groups(cells)
    gm = group_moments(B.asarray(cells.X), B.asarray(mean), B.asarray(cells.weight),
                       B.asarray(within), group, n_groups, backend=B)
    full = split_moments(gm, np.arange(n_groups))
    w0 = enet_gram(full.gram, full.cross, full.yy, full.n_train, st.enet_alpha,
                   st.enet_l1_ratio, tol=st.tol, backend=B)
    preds = []
    for train, test, _ in splits:
        tr = split_moments(gm, _in_groups(group, train))
        W = enet_gram(tr.gram, tr.cross, tr.yy, tr.n_train, st.enet_alpha, st.enet_l1_ratio,
                      w0=w0, tol=st.tol, backend=B)
        preds.append(B.to_numpy(tr.y_mean + (B.asarray(cells.X[test]) - tr.x_mean) @ W))
    return preds, None


def _groups(cells):
    """Cells with the same owner and touched trials form a group: (group (n_cells,), G)."""
    key = np.concatenate([cells.owner[:, None], cells.touched.view(np.uint8)], 1)
    _, group = np.unique(key, axis=0, return_inverse=True)
    group = group.reshape(-1)
    return group, int(group.max()) + 1


def _in_groups(group, cells):
    return np.unique(group[cells])


def _cell_sums(frame_cell, values, n_cells):
    """(n_cells, m) sums of the rows of ``values`` (n_sel, m) over each cell's frames."""
    if n_cells == len(frame_cell):                      # one frame per cell
        out = np.empty_like(values)
        out[frame_cell] = values
        return out
    order = np.argsort(frame_cell, kind="stable")
    starts = np.searchsorted(frame_cell[order], np.arange(n_cells))
    return np.add.reduceat(values[order], starts, axis=0)


def _scores(cells, S, Q, P):
    """Per column: r and R² over all held-out frames, r over speech frames, mean r over
    words; from cell sums S, Q (Σy, Σy²) and the cells' predictions P."""
    w = cells.weight[:, None]
    terms = [np.broadcast_to(w, S.shape), S, Q, w * P, w * P * P, P * S]
    total = [t.sum(0) for t in terms]
    speech = [t[cells.speech].sum(0) for t in terms]
    words = [_by_owner(cells.owner, t) for t in terms]                     # (n_words, m)
    n, sy, syy, _, _, syp = total
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = 1 - (syy - 2 * syp + total[4]) / (syy - sy * sy / n)
        return {"pcc": _pearson(*total), "pcc_speech": _pearson(*speech), "r2": r2,
                "pcc_word_mean": np.nanmean(_pearson(*words), 0)}


def _by_owner(owner, values):
    """(n_owners, m) sums of the rows of ``values`` by owner (equal-sized contiguous
    blocks — one cell per frame — are reshaped, not reduced)."""
    counts = np.bincount(owner)
    if (np.diff(owner) >= 0).all() and (counts == counts[0]).all():
        return values.reshape(len(counts), counts[0], -1).sum(1)
    order = np.argsort(owner, kind="stable")
    return np.add.reduceat(values[order], np.r_[0, np.cumsum(counts)[:-1]], axis=0)


def _pearson(n, sy, syy, sp, spp, syp):
    """Pearson r from the sums over frames of 1, y, y², ŷ, ŷ², yŷ."""
    num = n * syp - sy * sp
    den = np.sqrt(np.maximum(n * syy - sy * sy, 0) * np.maximum(n * spp - sp * sp, 0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-12 * np.maximum(n * syy, 1e-300), num / den, np.nan)


def _table(stats, alphas, channels, st):
    """The per model × channel × lag table with p-values and FDR, and each channel's best
    lag (index) per model."""
    rows, best = [], {}
    for model in st.models:
        pcc = np.stack([s[model]["pcc"] for s in stats])                  # (L, draws, q)
        real = pcc[:, 0]
        shuffles, shifts = pcc[:, 1:1 + st.n_perm], pcc[:, 1 + st.n_perm:]
        p_perm = _pvalues(real, shuffles)
        p_shift = _pvalues(real, shifts)
        best[model] = np.nanargmax(np.where(np.isnan(real), -np.inf, real), 0)
        for li, lag in enumerate(st.lags_ms):
            rows.append(pd.DataFrame({
                "model": model, "channel": list(channels), "lag_ms": float(lag),
                **{k: stats[li][model][k][0] for k in ("pcc", "pcc_speech", "pcc_word_mean",
                                                        "r2")},
                "p_value": p_perm[li], "p_shift": p_shift[li],
                "pcc_null_mean": shuffles[li].mean(0) if st.n_perm else np.nan,
                "alpha": np.median(alphas[model][li], axis=0)}))
    table = pd.concat(rows, ignore_index=True)
    for column, fdr in (("p_value", "p_fdr"), ("p_shift", "p_shift_fdr")):
        table[fdr] = table.groupby(["model", "lag_ms"], sort=False)[column].transform(
            lambda p: fdr_bh(p.to_numpy()))
    return table, best


def _pvalues(real, null):
    """(L, q) permutation p-values of ``real`` (L, q) against ``null`` (L, draws, q)."""
    if null.shape[1] == 0:
        return np.full(real.shape, np.nan)
    return np.stack([perm_pvalue(r, n) for r, n in zip(real, null)])
