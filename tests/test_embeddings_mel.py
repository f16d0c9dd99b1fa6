"""Log-mel: the filterbank, an independent STFT, pure tones, and frame alignment."""

import numpy as np
import pandas as pd
import pytest
from scipy.signal import stft

from hgrecon.embeddings import frame_features, load_features, run_trials, tiny
from hgrecon.embeddings.mel import FLOOR, band_centres, filterbank
from hgrecon.errors import InputError
from hgrecon.io import read_h5

SR = 16000


def _mel_trials(tmp_path, audio, sfreq=SR, **spec):
    words = [f"w{i}" for i in range(len(audio))]
    run_trials("mel", {"kind": "mel", **spec}, tiny.trial_audio_file(tmp_path / "a.h5", audio,
                                                                     words, sfreq),
               tiny.words_file(tmp_path / "w.parquet", words), tmp_path / "mel.h5")
    return read_h5(tmp_path / "mel.h5")[0]["vectors"]


def _tone(freq, seconds=2.0, sfreq=SR):
    return 0.5 * np.sin(2 * np.pi * freq * np.arange(int(seconds * sfreq)) / sfreq)


def test_filterbank_shape_and_normalisation():
    fb = filterbank()
    assert fb.shape == (401, 23) and (fb >= 0).all()
    np.testing.assert_allclose(fb.sum(0), 1.0)
    assert (np.diff(fb.argmax(0)) > 0).all()  # filters ordered by frequency
    peak_hz = fb.argmax(0) * SR / 800
    assert np.all(np.abs(peak_hz - band_centres()) <= 40)  # centre bin within 2 bins
    assert fb[:, -1].nonzero()[0].max() <= 400


def test_trial_log_mel_equals_an_independent_stft(tmp_path):
    audio = np.random.default_rng(0).standard_normal((2, 2 * SR)) * 0.1
    got = _mel_trials(tmp_path, audio, trial_pooling="flatten").reshape(2, -1, 23)
    assert got.shape == (2, 195, 23)  # floor((32000 - 800) / 160) windows, the authors' count
    for vectors, x in zip(got, audio.astype(np.float32)):
        _, _, spec = stft(x.astype(np.float64), fs=SR, window="hann", nperseg=800,
                          noverlap=640, boundary=None, padded=False, detrend=False)
        magnitude = np.abs(spec).T * np.hanning(801)[:-1].sum()  # undo scipy's 1/sum(w)
        np.testing.assert_allclose(vectors, np.log(magnitude[:195] @ filterbank() + FLOOR),
                                   rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("freq", [300.0, 1000.0, 3000.0])
def test_pure_tone_lands_in_its_band(tmp_path, freq):
    mean = _mel_trials(tmp_path, _tone(freq)[None])[0]
    assert mean.argmax() == np.abs(band_centres() - freq).argmin()


def test_trial_mean_is_the_mean_of_the_flattened_windows(tmp_path):
    audio = np.random.default_rng(1).standard_normal((3, 2 * SR))
    flat = _mel_trials(tmp_path, audio, trial_pooling="flatten")
    mean = _mel_trials(tmp_path, audio)
    np.testing.assert_allclose(mean, flat.reshape(3, -1, 23).mean(1), rtol=1e-5, atol=1e-5)
    X = load_features(tmp_path / "mel.h5", pd.DataFrame({"trial": [2, 0], "word": ["w2", "w0"]}))
    np.testing.assert_allclose(X, mean[[2, 0]], rtol=1e-6)


def test_48k_trial_audio_is_resampled_first(tmp_path):
    at_16k = _mel_trials(tmp_path, _tone(1000.0)[None])
    at_48k = _mel_trials(tmp_path, _tone(1000.0, sfreq=48000)[None], sfreq=48000)
    loud = at_16k > np.log(FLOOR) + 3  # bands with the tone; the rest sit at the floor
    assert loud.sum() == 2
    np.testing.assert_allclose(at_48k[loud], at_16k[loud], atol=0.01)
    assert at_48k[~loud].max() < at_48k[loud].min() - 15  # resampling leaks < -130 dB


def test_click_changes_exactly_the_windows_that_contain_it():
    frame_times = np.arange(290) * 0.01  # 50 ms windows every 10 ms
    click = 19752  # sample at 1.2345 s, between window starts
    silent = np.zeros(3 * SR, np.float32)
    clicked = silent.copy()
    clicked[click] = 1.0
    spec = {"kind": "mel"}
    delta = np.abs(frame_features(spec, clicked, SR, frame_times)
                   - frame_features(spec, silent, SR, frame_times)).max(1)
    starts = np.round(frame_times * SR)
    expected = np.flatnonzero((starts <= click) & (click < starts + 800))
    assert list(np.flatnonzero(delta > 1e-6)) == list(expected)
    assert len(expected) == 5  # 50 ms window / 10 ms hop


def test_frames_equal_the_trial_path_on_the_same_windows():
    """Frame and trial paths share one log-mel definition."""
    audio = np.random.default_rng(2).standard_normal(3 * SR).astype(np.float32)
    frame_times = np.arange(10) * 0.01 + 0.5
    frames = frame_features({"kind": "mel"}, audio, SR, frame_times)
    from hgrecon.embeddings.mel import log_mel
    np.testing.assert_allclose(frames, log_mel(audio, (frame_times * SR).round().astype(int)),
                               rtol=1e-5, atol=1e-5)
    edge = frame_features({"kind": "mel"}, audio, SR, [2.98, 3.5])  # beyond the end: zeros
    assert np.isfinite(edge).all() and np.allclose(edge[1], np.log(FLOOR))


def test_a_subject_without_audio_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="holds no audio") as err:
        _mel_trials(tmp_path, np.zeros((2, 0)))
    assert err.value.where == str(tmp_path / "a.h5")


def test_frame_inputs_are_checked():
    with pytest.raises(InputError, match="1-D recording"):
        frame_features({"kind": "mel"}, np.zeros((2, 10)), SR, [0.0])
    with pytest.raises(InputError, match="no frames level") as err:
        frame_features({"kind": "random"}, np.zeros(10), SR, [0.0])
    assert err.value.where == "features.frames.kind"
