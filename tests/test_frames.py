"""Time-resolved encoding: planted lags, nulls, guard bands, the pipeline's simulator."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hgrecon.encoding import FrameSettings, evaluate_frames
from hgrecon.encoding import frames as frames_mod
from hgrecon.encoding import ridge as ridge_mod
from hgrecon.errors import InputError

HOP = 0.01


def simulate(n_trials=14, lag_ms=100, seed=0, n_noise=4, gain=1.0):
    """Frames of a word-production session: a speech-locked channel whose high-gamma
    leads the speech envelope by ``lag_ms``, a word channel driven by the word's vector
    during its trial, and noise channels. Returns hg, frame_times, words, speech,
    envelope feature (n_frames, 1), word vectors (n_trials, 4)."""
    rng = np.random.default_rng(seed)
    onsets = 1.0 + 3.0 * np.arange(n_trials)
    n_frames = int((onsets[-1] + 4.0) / HOP)
    t = np.arange(n_frames) * HOP
    env = np.zeros(n_frames)
    for onset in onsets:
        start, dur = onset + rng.uniform(0.4, 0.9), rng.uniform(0.3, 0.7)
        inside = (t >= start) & (t < start + dur)
        env[inside] = np.sin(np.pi * (t[inside] - start) / dur)
    z = rng.normal(size=(n_trials, 4))
    word = np.zeros(n_frames)
    for k, onset in enumerate(onsets):
        word[(t >= onset) & (t < onset + 2.0)] = z[k] @ [1.0, -1.0, 0.5, 0.0]
    lead = int(round(lag_ms / 10))
    hg = np.column_stack([gain * np.roll(env, -lead) + 0.3 * rng.normal(size=n_frames) + 5,
                          gain * word + 0.3 * rng.normal(size=n_frames) + 3,
                          *(rng.normal(size=(n_noise, n_frames)) + 4)])
    words = pd.DataFrame({"trial": np.arange(n_trials), "word": [f"w{i}" for i in range(n_trials)],
                          "onset_s": onsets})
    return hg, t, words, env > 0.05, env[:, None], z


def names(hg):
    return [f"c{i}" for i in range(hg.shape[1])]


@pytest.mark.parametrize("lag_ms", [50, 150])
def test_speech_locked_channel_peaks_at_the_planted_lag(lag_ms):
    hg, t, words, speech, env, _ = simulate(lag_ms=lag_ms)
    st = FrameSettings(lags_ms=tuple(range(-100, 301, 50)), n_perm=19, n_shift=19,
                       inner_folds=3)
    res = evaluate_frames(hg, t, words, names(hg), speech, st, features=env)
    c0 = res.table[res.table.channel == "c0"].set_index("lag_ms")
    assert c0.pcc.idxmax() == lag_ms and c0.pcc.max() > 0.5
    assert c0.loc[lag_ms, "p_value"] == pytest.approx(1 / 20)
    assert c0.loc[lag_ms, "p_shift"] == pytest.approx(1 / 20)
    assert res.best_lag_ms["ridge"][0] == lag_ms
    assert res.predicted["ridge"].shape == res.measured.shape


def test_painted_word_vectors_predict_the_word_channel():
    hg, t, words, speech, _, z = simulate()
    st = FrameSettings(lags_ms=(0,), n_perm=19, n_shift=0, inner_folds=3,
                       models=("ridge", "elasticnet"), enet_alpha=0.01)
    res = evaluate_frames(hg, t, words, names(hg), speech, st, vectors=z)
    ridge = res.table[res.table.model == "ridge"].set_index("channel")
    assert ridge.loc["c1", "pcc"] > 0.8 and ridge.loc["c1", "pcc_word_mean"] > 0.5
    assert ridge.loc["c1", "p_value"] == pytest.approx(1 / 20)
    enet = res.table[res.table.model == "elasticnet"].set_index("channel")
    assert enet.loc["c1", "pcc"] > 0.8


def test_pure_noise_p_values_uniform_and_nothing_survives_fdr():
    rng = np.random.default_rng(3)
    _, t, words, speech, env, _ = simulate(n_trials=12)
    hg = rng.normal(size=(len(t), 30)) + rng.uniform(2, 6, 30)
    st = FrameSettings(lags_ms=(0, 100), n_perm=49, n_shift=49, inner_folds=3)
    table = evaluate_frames(hg, t, words, names(hg), speech, st, features=env).table
    assert stats.kstest(table.p_value, "uniform").pvalue > 0.01
    assert (table.p_fdr < 0.05).sum() == 0 and (table.p_shift_fdr < 0.05).sum() == 0


def test_inner_cv_never_sees_the_outer_test_word(monkeypatch):
    """Every outer and inner training set excludes the cells its test words own or
    touch; with a lag reaching into the next trial, guard cells appear and are dropped."""
    hg, t, words, speech, env, _ = simulate(n_trials=8)
    seen = []
    real = frames_mod._splits

    def spy(cells, folds, inner_folds):
        out = real(cells, folds, inner_folds)
        seen.append((cells, out))
        return out

    monkeypatch.setattr(frames_mod, "_splits", spy)
    st = FrameSettings(lags_ms=(0, 1200), margin_s=0.4, n_perm=2, n_shift=2, inner_folds=3)
    evaluate_frames(hg, t, words, names(hg), speech, st, features=env)
    guards = 0
    for cells, splits in seen:
        for train, test, inner in splits:
            held = np.unique(cells.owner[test])
            assert not cells.touched[train][:, held].any()
            guards += int((cells.touched[:, held].any(1) & ~np.isin(cells.owner, held)).sum())
            for tr_in, te_in in inner:
                held_in = np.unique(cells.owner[te_in])
                assert not cells.touched[tr_in][:, held_in].any()
                assert not cells.touched[tr_in][:, held].any()
    assert guards > 0


@pytest.mark.parametrize("painted", [True, False])
def test_frame_scores_equal_pearson_over_the_frames(painted):
    """The scores from cell sums (frames merged into cells by a painted vector, or one
    frame a cell) equal r, R² and per-word r over the frames themselves, also for a
    column whose predictions are nearly constant within each word (sums of squares
    cancel there)."""
    from hgrecon.align import frame_cells, paint_codes, trial_windows

    hg, t, words, speech, env, z = simulate(n_trials=8)
    win = trial_windows(t, words.onset_s.to_numpy(), start_s=-0.5, length_s=2.5,
                        margin_s=0.2)
    if painted:
        cells = frame_cells(win, speech, 3, (0,), vectors=z,
                            codes=paint_codes(win, speech, "trial", len(t)))
    else:
        cells = frame_cells(win, speech, 3, (0,), features=env)
    assert (len(cells.weight) < len(win.frames)) == painted    # frames merged into cells
    Y = hg[win.frames]
    orders = np.stack([np.arange(len(Y)), np.random.default_rng(1).permutation(len(Y))])
    S, Q = frames_mod._cell_sums(frames_mod._merged(cells), Y, orders)
    rng = np.random.default_rng(2)
    P = rng.normal(size=S.shape) + 4
    P[:, 1] = 1e3 + 1e-7 * rng.normal(size=len(P)) + cells.owner * 1e-4
    got = frames_mod._scores(cells.weight, frames_mod._runs(cells), S, Q, P)
    yf = Y[orders.T].reshape(len(Y), -1)
    pf = P[cells.frame_cell]
    sp, owner = speech[win.frames], win.owner
    for j in range(S.shape[1]):
        y, p = yf[:, j], pf[:, j]
        assert got["pcc"][j] == pytest.approx(np.corrcoef(y, p)[0, 1], abs=1e-9)
        assert got["pcc_speech"][j] == pytest.approx(np.corrcoef(y[sp], p[sp])[0, 1], abs=1e-9)
        assert got["r2"][j] == pytest.approx(1 - ((y - p) ** 2).sum() / ((y - y.mean()) ** 2).sum(),
                                             rel=1e-12,
                                             abs=1e-9)
        per_word = [np.corrcoef(y[owner == k], p[owner == k])[0, 1] for k in range(len(words))]
        assert got["pcc_word_mean"][j] == pytest.approx(np.mean(per_word), abs=1e-9)


def test_null_draws_in_blocks_of_any_size_give_the_same_table(monkeypatch):
    """(The ElasticNet to rounding: at its usual tolerance the columns solved together
    change where it stops.)"""
    hg, t, words, speech, env, z = simulate(n_trials=8)
    st = FrameSettings(lags_ms=(0, 100), n_perm=5, n_shift=5, inner_folds=3,
                       models=("ridge", "elasticnet"), enet_alpha=0.01, tol=1e-12)
    tables, solves = [], []
    ridge_groups = frames_mod.ridge_groups

    def counted(*args, **kwargs):
        solves[-1] += 1
        return ridge_groups(*args, **kwargs)
    monkeypatch.setattr(frames_mod, "ridge_groups", counted)
    for block_bytes, fit_bytes in ((frames_mod.BLOCK_BYTES, frames_mod.FIT_BYTES),  # at once
                                   (1, frames_mod.FIT_BYTES),  # a draw a block, solved at once
                                   (1, 1)):       # a draw a block and a solve, the ridge's
        monkeypatch.setattr(frames_mod, "BLOCK_BYTES", block_bytes)      # inner sums one
        monkeypatch.setattr(frames_mod, "FIT_BYTES", fit_bytes)          # outer split a time
        monkeypatch.setattr(ridge_mod, "SUMS_BYTES", fit_bytes // 2)
        solves.append(0)
        tables.append([evaluate_frames(hg, t, words, names(hg), speech, st, **kw).table
                       for kw in ({"features": env}, {"vectors": z})])
    assert solves == [4, 4, 4 * 11]      # ridge, 2 inputs × 2 lags: one solve each or a draw each
    for one, other in [*zip(tables[0], tables[1]), *zip(tables[0], tables[2])]:
        for column in ("pcc", "pcc_speech", "pcc_word_mean", "r2", "pcc_null_mean", "alpha"):
            np.testing.assert_allclose(one[column], other[column], rtol=0, atol=1e-10)
        for column in ("p_value", "p_shift"):
            np.testing.assert_array_equal(one[column], other[column])


def test_grouped_folds_and_settings_validation():
    hg, t, words, speech, env, _ = simulate(n_trials=9)
    res = evaluate_frames(hg, t, words, names(hg), speech,
                          FrameSettings(lags_ms=(100,), folds=3, n_perm=0, n_shift=0,
                                        inner_folds=2), features=env)
    assert res.table.p_value.isna().all() and res.table.pcc.notna().all()
    with pytest.raises(InputError, match="frames.lags_ms"):
        FrameSettings(lags_ms=(5,))
    with pytest.raises(InputError, match="frames.folds"):
        FrameSettings(folds=1)
    with pytest.raises(InputError, match="frames.pca_fit"):
        evaluate_frames(hg, t, words, names(hg), speech,
                        FrameSettings(pca_variance=0.9), features=env)
    wide = np.random.default_rng(0).normal(size=(len(t), 100))
    with pytest.raises(InputError, match="frames.features.*100 columns × 3 context.*pca_variance"):
        evaluate_frames(hg, t, words, names(hg), speech,
                        FrameSettings(context=(-1, 0, 1)), features=wide)
    res = evaluate_frames(hg, t, words, names(hg), speech,           # the PCA makes it fit
                          FrameSettings(lags_ms=(0,), context=(-1, 0, 1), pca_variance=0.5,
                                        pca_fit="all", n_perm=0, n_shift=0, inner_folds=2),
                          features=wide)
    assert res.table.pcc.notna().all()


def test_pipeline_simulator_speech_channels_peak_at_the_planted_lag(tmp_path):
    """End to end on hgrecon.simulate: ingest, high gamma, frame-level log-mel, frames."""
    from hgrecon import highgamma, ingest
    from hgrecon.align import speech_frames
    from hgrecon.embeddings import frame_features
    from hgrecon.io import read_h5, read_words
    from hgrecon.simulate import simulate_dataset

    root = tmp_path / "bids"
    simulate_dataset(root, {"n_subjects": 1, "n_words": 12, "n_channels": 8,
                            "frac_speech": 0.5, "frac_word": 0.0, "speech_lag_ms": 100.0})
    ingest.run(root, "01", tmp_path / "ingest.h5", tmp_path / "words.parquet")
    highgamma.run(tmp_path / "ingest.h5", tmp_path / "hg.h5")
    ing, attrs = read_h5(tmp_path / "ingest.h5")
    hg, _ = read_h5(tmp_path / "hg.h5")
    mel = frame_features({"kind": "mel"}, ing["audio"], attrs["audio_sfreq"], hg["frame_times"])
    speech = speech_frames(ing["audio"], attrs["audio_sfreq"], hg["frame_times"], 15.0)
    st = FrameSettings(lags_ms=tuple(range(-100, 301, 50)), n_perm=19, n_shift=19,
                       inner_folds=3)
    res = evaluate_frames(hg["hg"], hg["frame_times"], read_words(tmp_path / "words.parquet"),
                          [str(c) for c in hg["channels"]], speech, st, features=mel)
    truth = pd.read_csv(root / "derivatives/simulation/channels.tsv", sep="\t")
    locked = truth.channel[truth.kind == "speech"].tolist()
    best = res.table.loc[res.table.groupby("channel").pcc.idxmax()].set_index("channel")
    assert (best.loc[locked, "lag_ms"].between(50, 150)).all()
    assert (best.loc[locked, "p_value"] < 0.1).all()


def test_best_lag_is_the_first_within_rounding_of_the_largest_r():
    real = np.array([[0.5, 0.2, np.nan],
                     [0.5 + 1e-12, 0.3, np.nan],          # a tie by rounding: the first lag
                     [0.4, 0.3 + 1e-3, np.nan]])          # a real difference: the later one
    np.testing.assert_array_equal(frames_mod._best_lags(real), [0, 2, 0])
