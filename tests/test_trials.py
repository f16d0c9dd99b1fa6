import numpy as np
import pandas as pd
import pytest
from scipy import signal

from hgrecon import trials
from hgrecon.errors import InputError
from hgrecon.io import read_h5, read_parquet, write_h5, write_parquet

SFREQ = 1024.0
AUDIO_SFREQ = 48000.0


@pytest.fixture
def envelope():
    return np.random.default_rng(0).random((8000, 3)).astype(np.float32)


@pytest.mark.parametrize("start_s, length_s", [(0.0, 2.0), (-0.5, 1.0), (0.25, 1.0)])
def test_trial_means_equals_loop(envelope, start_s, length_s):
    samples = np.array([600, 2000, 5500])
    out = trials.trial_means(envelope, SFREQ, samples, start_s=start_s, length_s=length_s)
    assert out.dtype == np.float64 and out.shape == (3, 3)
    for i, sample in enumerate(samples):
        start = sample + round(start_s * SFREQ)
        expected = np.mean(envelope[start:start + round(length_s * SFREQ)], axis=0,
                           dtype=np.float64)
        np.testing.assert_allclose(out[i], expected, rtol=1e-9)


@pytest.mark.parametrize("samples, start_s, bad", [
    ([600, 7000], 0.0, "stoel"),   # runs off the end
    ([300, 2000], -0.5, "huis"),   # starts before the recording
])
def test_trial_means_window_outside_names_the_word(envelope, samples, start_s, bad):
    words = np.array(["huis", "stoel"])
    with pytest.raises(InputError, match=f"'{bad}'.*window") as err:
        trials.trial_means(envelope, SFREQ, np.array(samples), start_s=start_s, words=words)
    assert err.value.where == "samples"


def test_trial_means_validation(envelope):
    with pytest.raises(InputError, match="length_s"):
        trials.trial_means(envelope, SFREQ, np.array([0]), length_s=0.0)
    with pytest.raises(InputError, match="samples"):
        trials.trial_means(envelope, SFREQ, np.array([0.5]))


def burst(audio, sfreq, at_s, freq=1000.0, length_s=0.1):
    """Add a sine burst (amplitude 0.7) starting at ``at_s``."""
    start, n = round(at_s * sfreq), round(length_s * sfreq)
    audio[start:start + n] += 0.7 * np.sin(2 * np.pi * freq * np.arange(n) / sfreq)


@pytest.mark.parametrize("audio_sfreq", [AUDIO_SFREQ, 44100.0])
def test_trial_audio_tone_at_the_right_sample(audio_sfreq):
    audio = np.zeros(int(6 * audio_sfreq), np.float32)
    onsets = np.array([0.5, 3.0])
    burst(audio, audio_sfreq, 0.5 + 0.3)
    burst(audio, audio_sfreq, 3.0 + 0.7)
    out = trials.trial_audio(audio, audio_sfreq, onsets, start_s=0.0, length_s=1.0)
    assert out.shape == (2, 16000) and out.dtype == np.float32
    for row, at_s in zip(out, [0.3, 0.7]):
        first = np.flatnonzero(np.abs(row) > 0.5)[0]
        assert abs(first / 16000 - at_s) <= 0.001
        assert np.abs(row).max() == pytest.approx(1.0)


def test_trial_audio_rate_and_peak_normalisation():
    t = np.arange(int(4 * AUDIO_SFREQ)) / AUDIO_SFREQ
    audio = np.where(t < 2.5, 0.2 * np.sin(2 * np.pi * 1000 * t), 0.0)
    out = trials.trial_audio(audio, AUDIO_SFREQ, np.array([0.5, 3.0]), start_s=-0.2,
                             length_s=1.0)
    freqs = np.fft.rfftfreq(out.shape[1], 1 / 16000)
    assert freqs[np.argmax(np.abs(np.fft.rfft(out[0])))] == pytest.approx(1000.0)
    assert np.abs(out[0]).max() == pytest.approx(1.0)
    np.testing.assert_array_equal(out[1], 0.0)


@pytest.mark.parametrize("ftype, atol", [("iir", 0.01), ("fir", 0.002)])
def test_trial_audio_agrees_with_decimate(ftype, atol):
    rng = np.random.default_rng(1)
    sos = signal.butter(8, 5000, output="sos", fs=AUDIO_SFREQ)
    audio = signal.sosfiltfilt(sos, rng.standard_normal(int(5 * AUDIO_SFREQ)))
    onset, n = 1.5, int(2 * AUDIO_SFREQ)
    start = round(onset * AUDIO_SFREQ)
    pad = 4800  # decimate the trial with margins, as the authors decimate the recording
    cut = audio[start - pad:start + n + pad]
    reference = signal.decimate(cut, 3, ftype=ftype)[pad // 3:(pad + n) // 3]
    reference /= np.abs(reference).max()
    out = trials.trial_audio(audio, AUDIO_SFREQ, np.array([onset]), length_s=2.0)[0]
    assert out.shape == reference.shape
    np.testing.assert_allclose(out, reference, atol=atol)
    assert np.corrcoef(out, reference)[0, 1] > 0.9999


@pytest.mark.parametrize("audio_sfreq", [AUDIO_SFREQ, 44100.0])
def test_trial_audio_equals_resampling_the_whole_recording(audio_sfreq):
    audio = np.random.default_rng(3).standard_normal(int(3 * audio_sfreq))
    whole = signal.resample_poly(audio, *{48000.0: (1, 3), 44100.0: (160, 441)}[audio_sfreq])
    out = trials.trial_audio(audio, audio_sfreq, np.array([0.0, 1.0, 2.0]), length_s=1.0)
    for k, row in enumerate(out):  # the first starts, the last ends, at the recording's edge
        expected = whole[k * 16000:(k + 1) * 16000]
        np.testing.assert_allclose(row, expected / np.abs(expected).max(), atol=1e-6)


def test_trial_audio_validation():
    audio = np.zeros(48000 * 3)
    with pytest.raises(InputError, match="'boom'.*window"):
        trials.trial_audio(audio, AUDIO_SFREQ, np.array([0.5, 2.0]), words=["vis", "boom"])
    with pytest.raises(InputError, match="audio_sfreq"):
        trials.trial_audio(audio, 48000.5, np.array([0.5]))
    with pytest.raises(InputError, match="audio"):
        trials.trial_audio(np.zeros(0), AUDIO_SFREQ, np.array([0.5]))
    with pytest.raises(InputError, match="onsets_s"):
        trials.trial_audio(audio, AUDIO_SFREQ, np.array([0.5, np.nan]))


def write_inputs(tmp_path, with_audio=True):
    """Hand-made ingest, highgamma and words files of one subject (10 s, 3 channels)."""
    rng = np.random.default_rng(2)
    channels = np.array(["LA1", "LA2", "RB1"])
    n = int(10 * SFREQ)
    envelope = rng.random((n, 3)).astype(np.float32)
    audio = rng.standard_normal(int(10 * AUDIO_SFREQ)).astype(np.float32) if with_audio \
        else np.zeros(0, np.float32)
    paths = {"ingest": tmp_path / "ingest" / "sub-01.h5",
             "highgamma": tmp_path / "highgamma" / "sub-01.h5",
             "words": tmp_path / "ingest" / "sub-01_words.parquet"}
    write_h5(paths["ingest"], {"ieeg": envelope, "audio": audio, "channels": channels},
             {"sfreq": SFREQ, "audio_sfreq": AUDIO_SFREQ if with_audio else 0.0})
    write_h5(paths["highgamma"], {"envelope": envelope, "channels": channels}, {"sfreq": SFREQ})
    onsets = np.array([1.0, 4.0, 7.0])
    words = pd.DataFrame({"trial": np.arange(3), "word": ["huis", "stoel", "vis"],
                          "onset_s": onsets, "sample": np.round(onsets * SFREQ).astype(int)})
    write_parquet(words, paths["words"])
    return paths, envelope, audio, words


@pytest.mark.parametrize("with_audio", [True, False])
def test_run(tmp_path, with_audio):
    paths, envelope, audio, words = write_inputs(tmp_path, with_audio)
    out_table, out_audio = tmp_path / "trials" / "sub-01.parquet", tmp_path / "trials" / "a.h5"
    trials.run(paths["highgamma"], paths["ingest"], paths["words"], out_table, out_audio)

    table = read_parquet(out_table)
    assert list(table.columns) == ["trial", "word", "onset_s", "LA1", "LA2", "RB1"]
    assert all(table[ch].dtype == np.float64 for ch in ["LA1", "LA2", "RB1"])
    assert table["word"].tolist() == ["huis", "stoel", "vis"]
    np.testing.assert_array_equal(table["trial"], [0, 1, 2])
    np.testing.assert_allclose(table[["LA1", "LA2", "RB1"]].to_numpy(),
                               trials.trial_means(envelope, SFREQ, words["sample"].to_numpy()))

    arrays, attrs = read_h5(out_audio)
    assert attrs["sfreq"] == 16000.0 and attrs["start_s"] == 0.0 and attrs["length_s"] == 2.0
    assert attrs["has_audio"] is with_audio
    assert arrays["audio"].dtype == np.float32
    assert arrays["audio"].shape == (3, 32000 if with_audio else 0)
    np.testing.assert_array_equal(arrays["trial"], [0, 1, 2])
    assert arrays["word"].tolist() == ["huis", "stoel", "vis"]
    if with_audio:
        np.testing.assert_array_equal(
            arrays["audio"], trials.trial_audio(audio, AUDIO_SFREQ, words["onset_s"].to_numpy()))


def test_run_names_the_file(tmp_path):
    paths, _, _, words = write_inputs(tmp_path)
    write_parquet(words.assign(onset_s=[1.0, 4.0, 9.5], sample=[1024, 4096, 9728]),
                  paths["words"])
    out = tmp_path / "trials" / "sub-01.parquet"
    with pytest.raises(InputError, match="'vis'") as err:
        trials.run(paths["highgamma"], paths["ingest"], paths["words"], out, tmp_path / "a.h5")
    assert err.value.where == str(paths["highgamma"])
    write_parquet(words.drop(columns="sample"), paths["words"])
    with pytest.raises(InputError, match="sample") as err:
        trials.run(paths["highgamma"], paths["ingest"], paths["words"], out, tmp_path / "a.h5")
    assert err.value.where == str(paths["words"])
    assert not out.exists()
