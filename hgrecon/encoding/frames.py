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
each word's frames (``pcc_word_mean``; a word whose predictions are constant, as with an
ElasticNet that keeps no coefficient, has no r and is left out of the mean). Nulls,
solved with the real data as extra target columns: ``n_perm`` shuffles of whole trial
windows of the target (each word's embedding and speech timing paired with another
trial's high-gamma) and ``n_shift`` circular shifts of the concatenated selected frames
by at least one window. One-sided permutation p-values of ``pcc`` (``p_value``:
shuffles, ``p_shift``: shifts), with Benjamini-Hochberg FDR across the channels of each
model and lag (``p_fdr``, ``p_shift_fdr``).
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from ..align import frame_cells, lag_frames, paint_codes, trial_windows
from ..constants import PAPER_ENET_ALPHA, PAPER_ENET_L1_RATIO, TRIAL_LENGTH_S, TRIAL_START_S
from ..errors import InputError
from .backend import get_backend
from .elasticnet import check_penalty, enet_cv, enet_gram
from .folds import group_folds
from .kernel import pca_reduce
from .moments import (concat_moments, group_design, group_moments, split_design,
                      split_moments)
from .ridge import check_alphas, ridge_cells, ridge_group_plans, ridge_groups
from .stats import fdr_bh, perm_pvalue, tie_floor

FRAME_MODELS = ("ridge", "elasticnet")
#: Designs with at most this many columns are solved in the primal (group moments).
PRIMAL_MAX = 256
#: Bytes of one (cells, draws · channels) array: the null draws solved together.
BLOCK_BYTES = 32 << 20
#: Bytes of the primal's group cross-products and coefficients solved together (columns).
FIT_BYTES = 32 << 20


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
    if features is not None and "ridge" in st.models and \
            np.shape(features)[1] * len(st.context) > PRIMAL_MAX:
        raise InputError("frames.features", f"ridge on frame-level features of "
                         f"{np.shape(features)[1]} columns × {len(st.context)} context "
                         f"offsets (more than {PRIMAL_MAX}) is fit in the dual, one "
                         f"{len(sel)}-square kernel per fold, which does not scale to a row "
                         f"per frame; reduce the feature first (pca_variance in its spec, "
                         f"with pca_fit: all) or use fewer context offsets")
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
    predicted = {m: _at_best_lag(p, best[m]) for m, p in preds.items()}
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
    pcc_speech, pcc_word_mean}, real predictions per selected frame (float32, as they are
    saved) and chosen alphas.

    The models' target-free work (group designs, decompositions) is done once; the draws
    go through them in blocks of at most BLOCK_BYTES per (cells, draws · q) array, and
    the blocks' small moments (the primal's) are solved together, up to each model's
    ``columns`` (the blocks' targets are then summed again for the scores)."""
    n_cells, q = len(cells.weight), Y.shape[1]
    B = get_backend(st.backend)
    splits = _splits(cells, folds, st.inner_folds)
    fits = {model: _model(model, cells, splits, vectors, st) for model in st.models}
    runs = _runs(cells)
    merged = _merged(cells)
    out = {m: {k: [] for k in ("pcc", "r2", "pcc_speech", "pcc_word_mean")} for m in st.models}
    pred_real, alpha = {}, {}
    per_block = max(1, BLOCK_BYTES // (8 * q * n_cells))
    blocks = [orders[lo:lo + per_block] for lo in range(0, len(orders), per_block)]
    together = max(1, min(f.columns for f in fits.values()) // (per_block * q))
    for lo in range(0, len(blocks), together):
        batch = blocks[lo:lo + together]
        moments = {m: [] for m in st.models}
        for block in batch:
            targets = _targets(cells.weight, merged, Y, block)
            for model in st.models:
                moments[model].append(fits[model].moments(*targets[2:]))
        predict = {m: fits[m].solve(moments.pop(m)) for m in st.models}
        for b, block in enumerate(batch):
            if len(batch) > 1:
                targets = _targets(cells.weight, merged, Y, block)
            S, Q, mean, _ = targets
            for model in st.models:
                P, chosen = _held_out(splits, *predict[model](b), mean.shape, st, B)
                for key, value in _scores(cells.weight, runs, S, Q, P).items():
                    out[model][key].append(value.reshape(len(block), q))
                if lo == b == 0:
                    pred_real[model] = P[cells.frame_cell, :q].astype(np.float32)
                    alpha[model] = chosen[:, :q]
    return ({m: {k: np.concatenate(v) for k, v in d.items()} for m, d in out.items()},
            pred_real, alpha)


def _targets(weight, merged, Y, block):
    """(S, Q, mean, within) of the draws of ``block``: the cells' sums (:func:`_cell_sums`),
    mean targets and within-cell sums of squares (None with one frame a cell)."""
    S, Q = _cell_sums(merged, Y, block)                                  # (n_cells, draws·q)
    if Q is None:
        return S, Q, S, None
    mean = S / weight[:, None]
    return S, Q, mean, Q - S * mean


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


@dataclass
class _Fit:
    """A model prepared on the cells and splits (its target-free work done).

    ``moments(mean, within)``: what the solver needs of one block of target columns (the
    cells' mean targets (n_cells, m) and within-cell sums of squares or None);
    ``solve(list of those)``: solves the blocks' columns together and returns a function
    of a block's index giving its held-out predictions per split and chosen penalties per
    split (or None); ``columns``: how many target columns one solve may take (0: one
    block; the primal's moments are small, the others' are the blocks themselves)."""

    moments: object
    solve: object
    columns: int = 0


def _model(model, cells, splits, vectors, st):
    """:class:`_Fit` of ``model`` on these cells and splits (penalties: the ElasticNet's
    alpha, or the ridge's chosen alpha per split and column)."""
    if vectors is not None and st.pca_variance and st.pca_fit == "train":
        return _model_pca(model, cells, splits, vectors, st)
    B = get_backend(st.backend)
    X, alphas = cells.X, np.asarray(st.ridge_alphas, dtype=float)
    if X.shape[1] > PRIMAL_MAX:                          # the dual: one block a solve
        def solve(blocks):
            ((mean, within),) = blocks
            if model == "elasticnet":
                out = enet_cv(X, mean, [(tr, te) for tr, te, _ in splits], st.enet_alpha,
                              st.enet_l1_ratio, tol=st.tol, weights=cells.weight,
                              within=within, backend=B)[0], None
            else:
                fits = ridge_cells(X, mean, cells.weight, splits, alphas, backend=B)
                out = [p for p, _ in fits], [alphas[B.to_numpy(i)] for _, i in fits]
            return lambda b: out
        return _Fit(_as_is, solve)
    group, n_groups = _groups(cells)
    design = group_design(X, cells.weight, group, n_groups, backend=B)
    keep = [_in_groups(group, tr) for tr, _, _ in splits]
    columns = FIT_BYTES // (8 * X.shape[1] * (n_groups + len(splits)))

    def moments(mean, within):
        return group_moments(design, mean, within, B)

    def predictor(coefficients, widths, chosen):
        """Block b's predictions from each split's (x_mean, scale, coef, y_mean)."""
        edges = np.cumsum([0] + widths)
        tests = [(B.asarray(X[te]) - xm) / sd
                 for (_, te, _), (xm, sd, _, _) in zip(splits, coefficients)]

        def predict(b):
            cols = slice(edges[b], edges[b + 1])
            preds = [ym[cols] + x @ coef[:, cols]
                     for x, (_, _, coef, ym) in zip(tests, coefficients)]
            return preds, None if chosen is None else [c[cols] for c in chosen]
        return predict

    if model == "elasticnet":
        parts = [split_design(design, k) for k in [np.arange(n_groups)] + keep]

        def solve(blocks):
            return predictor(_enet_groups(concat_moments(blocks, B), parts, st, B),
                             [b.y_mean.shape[0] for b in blocks], None)
        return _Fit(moments, solve, columns)
    gsplits = [(k, [(_in_groups(group, a), _in_groups(group, b)) for a, b in inner])
               for k, (_, _, inner) in zip(keep, splits)]
    plans = ridge_group_plans(design, gsplits, alphas, B)

    def solve(blocks):
        fits = ridge_groups(concat_moments(blocks, B), gsplits, alphas, backend=B, plans=plans)
        return predictor([f[:4] for f in fits], [b.y_mean.shape[0] for b in blocks],
                         [alphas[B.to_numpy(f[4])] for f in fits])
    return _Fit(moments, solve, columns)


def _model_pca(model, cells, splits, vectors, st):
    """As :func:`_model`, with the word vectors' PCA fit on each fold's training words
    (one block a solve)."""
    folds = []
    for train, test, inner in splits:
        _, reduced = pca_reduce(vectors[np.unique(cells.owner[train])], st.pca_variance,
                                vectors)
        one = [(np.arange(len(train)), np.arange(len(train), len(train) + len(test)),
                [(np.searchsorted(train, a), np.searchsorted(train, b)) for a, b in inner])]
        idx = np.concatenate([train, test])
        folds.append((idx, _model(model, cells.with_design(reduced).subset(idx), one, None,
                                  st)))

    def solve(blocks):
        ((mean, within),) = blocks
        out = [fold.solve([fold.moments(mean[idx], None if within is None else within[idx])])(0)
               for idx, fold in folds]
        preds = [p[0] for p, _ in out]
        chosen = None if out[0][1] is None else [c[0] for _, c in out]
        return lambda b: (preds, chosen)
    return _Fit(_as_is, solve)


def _as_is(mean, within):
    """The moments of the models that solve one block at a time: the block itself."""
    return mean, within


def _held_out(splits, preds, chosen, shape, st, B):
    """The splits' held-out predictions as one (n_cells, m) array, and the penalty per
    split and column (the ElasticNet's alpha where ``chosen`` is None)."""
    P = np.empty(shape)
    penalty = np.full((len(splits), shape[1]), st.enet_alpha)
    for f, (_, te, _) in enumerate(splits):
        P[te] = B.to_numpy(preds[f])
        if chosen is not None:
            penalty[f] = chosen[f]
    return P, penalty


def _enet_groups(gm, parts, st, B):
    """ElasticNet per split on downdated group moments, warm-started from the full-data
    solution (frame features: many cells, few columns): per split (x_mean, 1, W, y_mean).
    parts : :func:`.moments.split_design` of all groups, then of each split's training
    groups."""
    full = split_moments(gm, parts[0])
    w0 = enet_gram(full.gram, full.cross, full.yy, full.n_train, st.enet_alpha,
                   st.enet_l1_ratio, tol=st.tol, backend=B)
    out = []
    for part in parts[1:]:
        tr = split_moments(gm, part)
        W = enet_gram(tr.gram, tr.cross, tr.yy, tr.n_train, st.enet_alpha, st.enet_l1_ratio,
                      w0=w0, tol=st.tol, backend=B)
        out.append((tr.x_mean, 1.0, W, tr.y_mean))
    return out


def _groups(cells):
    """Cells with the same owner and touched trials form a group: (group (n_cells,), G)."""
    key = np.concatenate([cells.owner[:, None], cells.touched.view(np.uint8)], 1)
    _, group = np.unique(key, axis=0, return_inverse=True)
    group = group.reshape(-1)
    return group, int(group.max()) + 1


def _in_groups(group, cells):
    return np.unique(group[cells])


def _merged(cells):
    """How the selected frames make the cells: (order, starts) — the frames sorted by
    cell and where each cell's run starts — or, with one frame a cell, (the frame of
    each cell, None)."""
    order = np.argsort(cells.frame_cell, kind="stable")
    if len(cells.frame_cell) == len(cells.weight):
        return order, None
    return order, np.searchsorted(cells.frame_cell[order], np.arange(len(cells.weight)))


def _cell_sums(merged, Y, block):
    """Sums over each cell's frames of the targets reordered by each draw of ``block``
    (draws, n_sel) and of their squares: (S, Q), (n_cells, draws · q); Q is None with
    one frame a cell (it is S²). One draw at a time: no (n_sel, draws · q) array."""
    order, starts = merged
    if starts is None:
        return Y[block[:, order].T].reshape(len(order), -1), None
    q = Y.shape[1]
    S = np.empty((len(starts), len(block) * q))
    Q = np.empty_like(S)
    for d, rows in enumerate(block):
        y = Y[rows[order]]
        S[:, d * q:(d + 1) * q] = np.add.reduceat(y, starts, axis=0)
        Q[:, d * q:(d + 1) * q] = np.add.reduceat(y * y, starts, axis=0)
    return S, Q


@dataclass
class _Runs:
    """The cells sorted by owner, then speech (``order``); where each run of equal
    (owner, speech) starts in that order (``starts``), its speech flag (``speech``);
    where each owner's runs start among the runs (``words``); for every sorted row, its
    run (``run``) and the sorted position of its owner's first row (``anchor``)."""

    order: np.ndarray
    starts: np.ndarray
    speech: np.ndarray
    words: np.ndarray
    run: np.ndarray
    anchor: np.ndarray


def _runs(cells):
    """:class:`_Runs` of the cells."""
    order = np.lexsort((cells.speech, cells.owner))
    owner, speech = cells.owner[order], cells.speech[order]
    new_owner = np.r_[True, np.diff(owner) != 0]
    starts = np.flatnonzero(new_owner | np.r_[True, np.diff(speech) != 0])
    first = np.flatnonzero(new_owner)
    return _Runs(order=order, starts=starts, speech=speech[starts],
                 words=np.flatnonzero(new_owner[starts]),
                 run=np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(order)])),
                 anchor=first[np.cumsum(new_owner) - 1])


def _scores(weight, runs, S, Q, P):
    """Per column: r and R² over all held-out frames, r over speech frames, mean r over
    words; from cell sums S, Q (Σy, Σy²; Q None: S²), the cells' weights (frames) and
    predictions P. The sums of each (owner, speech) run are taken in one compiled pass
    (:func:`_run_sums`), of the predictions less their value at the owner's first cell
    (r within a word does not change, and a word's nearly constant predictions lose no
    digits); the runs are then shifted alike for r over all or the speech frames."""
    order, starts = runs.order, runs.starts
    w = weight[order]
    sums = np.zeros((5, len(starts), S.shape[1]))                    # Σ y, y², wŷ, wŷ², yŷ
    _run_sums(order, runs.run, runs.anchor, w, S, S if Q is None else Q, P, Q is not None,
              sums)
    n = np.add.reduceat(w, starts)[:, None] * np.ones((1, S.shape[1]))
    sy, syy, sp, spp, syp = sums
    c = P[order[runs.anchor[starts]]]                                  # each run's shift
    d = c - c[:1]                          # ... less the first one's: all shifted alike
    shifted = [n, sy, syy, sp + d * n, spp + d * (2 * sp + d * n), syp + d * sy]
    N, SY, SYY, SP, SPP, SYP = (t.sum(0) for t in shifted)
    g = c[0]
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)         # words without any r: NaN
        r2 = 1 - (SYY - 2 * (SYP + g * SY) + SPP + g * (2 * SP + g * N)) / (SYY - SY * SY / N)
        word_r = _pearson(*[np.add.reduceat(t, runs.words, axis=0)
                            for t in (n, sy, syy, sp, spp, syp)])
        return {"pcc": _pearson(N, SY, SYY, SP, SPP, SYP), "r2": r2,
                "pcc_speech": _pearson(*[t[runs.speech].sum(0) for t in shifted]),
                "pcc_word_mean": np.nanmean(word_r, 0)}


@njit(cache=True, nogil=True)
def _run_sums(order, run, anchor, w, S, Q, P, within, out):
    """out[:, r] += the sums over run r's rows (``order`` in sorted order, ``run`` and
    ``anchor`` per sorted row) of y, y², wp, wp², py per column, with p the prediction
    less the one at the row's anchor; y² from Q where ``within`` (else S²)."""
    for t in range(order.shape[0]):
        row, a, r, wt = order[t], order[anchor[t]], run[t], w[t]
        for j in range(S.shape[1]):
            y = S[row, j]
            p = P[row, j] - P[a, j]
            out[0, r, j] += y
            out[1, r, j] += Q[row, j] if within else y * y
            out[2, r, j] += wt * p
            out[3, r, j] += wt * p * p
            out[4, r, j] += p * y


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
        best[model] = _best_lags(real)
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


def _at_best_lag(preds, best):
    """(n_sel, q) predictions of each channel at its best lag, from one (n_sel, q) array
    a lag (no (lags, n_sel, q) stack)."""
    out = np.empty(preds[0].shape, dtype=np.float32)
    for li, P in enumerate(preds):
        out[:, best == li] = P[:, best == li]
    return out


def _best_lags(real):
    """Each channel's best lag (index) of ``real`` (L, q) r: the first lag within
    :data:`.stats.TIE` of the largest (:func:`.stats.tie_floor`), so lags that fit alike
    (a painted vector moved inside its window) resolve the same way whatever the
    rounding."""
    r = np.where(np.isnan(real), -np.inf, real)
    return np.argmax(r >= tie_floor(r.max(0)), 0)


def _pvalues(real, null):
    """(L, q) permutation p-values of ``real`` (L, q) against ``null`` (L, draws, q)."""
    if null.shape[1] == 0:
        return np.full(real.shape, np.nan)
    return np.stack([perm_pvalue(r, n) for r, n in zip(real, null)])
