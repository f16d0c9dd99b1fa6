"""Frame-level designs: windows, painting, the lag sign convention, cells and guards."""

import numpy as np
import pytest

from hgrecon.align import (frame_cells, lag_frames, paint_codes, speech_frames, stack_rows,
                           trial_windows)
from hgrecon.errors import InputError

HOP = 0.01


def grid(n_frames):
    return np.arange(n_frames) * HOP


def windows3(margin_s=0.1):
    return trial_windows(grid(1200), np.array([1.0, 4.0, 7.0]), start_s=0.0, length_s=2.0,
                         margin_s=margin_s)


def test_windows_have_equal_lengths_and_the_core_inside():
    w = windows3()
    assert w.n_window == 220 and w.start.tolist() == [90, 390, 690]
    assert w.core.sum(1).tolist() == [200, 200, 200]
    assert w.frames.reshape(3, -1)[0, w.core[0]][0] == 100        # onset frame


def test_overlapping_or_outside_windows_are_rejected():
    with pytest.raises(InputError, match="overlap"):
        trial_windows(grid(1200), np.array([1.0, 2.5]), start_s=0, length_s=2, margin_s=0.1)
    with pytest.raises(InputError, match="run past"):
        trial_windows(grid(300), np.array([1.0, 2.5]), start_s=0, length_s=2, margin_s=0.0)
    with pytest.raises(InputError, match="multiples"):
        lag_frames(15)


def test_lag_sign_convention_feature_follows_at_positive_lag():
    """With lag +50 ms the row of frame t holds the feature of frame t + 5."""
    w = windows3()
    n = 1200
    feature = np.zeros((n, 1))
    feature[500, 0] = 1.0                     # an audio event at 5.00 s
    cells = frame_cells(w, np.zeros(n, bool), lag_frames(50), [0], features=feature)
    hot = w.frames[cells.frame_cell[np.flatnonzero(cells.X[cells.frame_cell, 0])]]
    assert hot.tolist() == [495]              # neural frame 4.95 s sees the 5.00 s feature


def test_painting_trial_and_speech_modes():
    w = windows3()
    speech = np.zeros(1200, bool)
    speech[150:180] = True
    codes = paint_codes(w, speech, "trial", 1200)
    assert (codes[100:300] == 0).all() and codes[99] == -1 and (codes[400:600] == 1).all()
    codes = paint_codes(w, speech, "speech", 1200)
    assert np.flatnonzero(codes == 0).tolist() == list(range(150, 180))
    assert (codes[400:600] == -1).all()


def test_painted_cells_compress_frames_and_weights_add_up():
    w = windows3()
    vectors = np.arange(6.0).reshape(3, 2)
    codes = paint_codes(w, np.zeros(1200, bool), "trial", 1200)
    cells = frame_cells(w, np.zeros(1200, bool), 0, [0], vectors=vectors, codes=codes)
    assert len(cells.weight) == 6              # per trial: painted cell + margin cell
    assert cells.weight.sum() == 3 * 220
    painted = cells.X.any(1)
    np.testing.assert_array_equal(cells.X[painted], vectors[cells.owner[painted]])
    assert cells.weight[painted].tolist() == [200, 200, 200]


def test_guard_band_marks_frames_reading_a_neighbours_features():
    """A lag longer than the gap between windows makes trial 0's last frames read
    trial 1's frames: those frames are touched by trial 1."""
    w = trial_windows(grid(1200), np.array([1.0, 3.5]), start_s=0, length_s=2, margin_s=0.1)
    feats = np.ones((1200, 1))
    cells = frame_cells(w, np.zeros(1200, bool), lag_frames(600), [0], features=feats)
    touched_by_1 = cells.touched[:, 1] & (cells.owner == 0)
    assert touched_by_1.any() and not (cells.touched[:, 1] & (cells.owner == 0))[:100].any()
    # and overlapping 50 ms windows: the last 4 frames before trial 1's window
    cells = frame_cells(w, np.zeros(1200, bool), 0, [0], features=feats)
    assert not cells.touched[cells.owner == 0, 1].any()      # 0.3 s gap: no overlap


def test_context_stacks_neighbouring_frames():
    base = np.arange(10.0)[:, None]
    np.testing.assert_array_equal(stack_rows(base, np.array([[1, 2], [9, -1]])),
                                  [[1, 2], [9, 0]])


def test_voice_activity_by_energy():
    sf = 1000.0
    audio = np.random.default_rng(0).normal(size=10_000) * 1e-3
    audio[3000:5000] += np.sin(np.arange(2000) * 0.3)
    speech = speech_frames(audio, sf, grid(995), 15.0)
    assert speech[310:490].all() and not speech[:250].any() and not speech[560:].any()
