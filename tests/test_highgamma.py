import numpy as np
import pytest
from scipy import signal

from hgrecon import highgamma as hg
from hgrecon.errors import InputError
from hgrecon.io import read_h5, write_h5

SFREQ = 1024.0


def reference_envelope(x, sfreq, stops=([98, 102], [148, 152])):
    """The authors' recipe written out directly: (n_samples, n_channels) float64."""
    x = signal.detrend(x.astype(np.float64), axis=0)
    x = signal.sosfiltfilt(signal.butter(4, [70, 170], "bandpass", output="sos", fs=sfreq),
                           x, axis=0)
    for stop in stops:
        x = signal.sosfiltfilt(signal.butter(4, stop, "bandstop", output="sos", fs=sfreq),
                               x, axis=0)
    return np.abs(signal.hilbert(x, axis=0))


def tone(freq, amplitude, seconds=4.0, sfreq=SFREQ):
    t = np.arange(int(seconds * sfreq)) / sfreq
    return (amplitude * np.sin(2 * np.pi * freq * t))[:, None]


def interior(x, sfreq=SFREQ, edge_s=0.5):
    """Drop the filter edges."""
    return x[int(edge_s * sfreq):-int(edge_s * sfreq)]


@pytest.fixture
def recording():
    """20 s × 5 channels: 1/f noise, 50/100/150 Hz line noise, a 3 Hz-modulated 100 Hz burst."""
    rng = np.random.default_rng(0)
    n, n_ch = int(20 * SFREQ), 5
    spectrum = np.fft.rfft(rng.standard_normal((n, n_ch)), axis=0)
    freqs = np.fft.rfftfreq(n, 1 / SFREQ)
    spectrum[1:] /= np.sqrt(freqs[1:, None])
    spectrum[0] = 0
    pink = np.fft.irfft(spectrum, n, axis=0) * 20
    t = np.arange(n) / SFREQ
    line = sum(a * np.sin(2 * np.pi * f * t + 0.3) for f, a in ((50, 5), (100, 2), (150, 1)))
    burst = np.where((t > 8) & (t < 12), 3 * (1 + np.sin(2 * np.pi * 3 * t)), 0)
    x = pink + line[:, None] + (burst * np.sin(2 * np.pi * 100 * t))[:, None] * rng.uniform(
        0.5, 1.5, n_ch) + 0.01 * t[:, None]
    return x.astype(np.float32)


@pytest.mark.parametrize("block_channels", [None, 2])
def test_envelope_matches_direct_recipe(recording, monkeypatch, block_channels):
    if block_channels:
        monkeypatch.setattr(hg, "_BLOCK_BYTES", 8 * recording.shape[0] * block_channels)
    env = hg.high_gamma_envelope(recording, SFREQ)
    ref = reference_envelope(recording, SFREQ)
    assert env.dtype == np.float32 and env.shape == recording.shape
    for ch in range(recording.shape[1]):
        assert np.corrcoef(env[:, ch], ref[:, ch])[0, 1] > 0.999
    np.testing.assert_allclose(env, ref, rtol=1e-4, atol=1e-4 * ref.max())


def test_line_noise_removed():
    line = tone(100, 10.0) + tone(150, 10.0)
    kept = hg.high_gamma_envelope(line, SFREQ, line_freq=None)
    removed = hg.high_gamma_envelope(line, SFREQ)
    ratio = np.mean(interior(removed) ** 2) / np.mean(interior(kept) ** 2)
    assert ratio < 1e-4


def test_out_of_band_tone_suppressed_and_in_band_tone_recovered():
    assert np.max(interior(hg.high_gamma_envelope(tone(300, 10.0), SFREQ))) < 0.01 * 10.0
    env = interior(hg.high_gamma_envelope(tone(120, 10.0), SFREQ))
    np.testing.assert_allclose(env, 10.0, rtol=0.02)


def test_60_hz_line_stops_only_inside_band(recording):
    assert np.max(interior(hg.high_gamma_envelope(tone(120, 10.0), SFREQ, line_freq=60.0))) < 0.3
    # 60 and 180 Hz lie outside the 70-170 Hz band: only 120 Hz gets a band-stop.
    np.testing.assert_allclose(hg.high_gamma_envelope(recording, SFREQ, line_freq=60.0),
                               reference_envelope(recording, SFREQ, stops=[[118, 122]]),
                               rtol=1e-4, atol=1e-4 * np.abs(recording).max())


@pytest.mark.parametrize("sfreq", [1024.0, 1000.0, 2048.0])
def test_frame_arithmetic(sfreq):
    rng = np.random.default_rng(1)
    env = rng.random((3000, 3)).astype(np.float32)
    frames, times = hg.frame_means(env, sfreq)
    n_frames = int(np.floor((3000 - 0.05 * sfreq) / (0.01 * sfreq)))
    assert frames.shape == (n_frames, 3) and frames.dtype == np.float32
    assert times.dtype == np.float64
    for w in range(n_frames):
        start = int(np.floor(w * 0.01 * sfreq))
        expected = np.mean(env[start:start + round(0.05 * sfreq)], axis=0, dtype=np.float64)
        np.testing.assert_allclose(frames[w], expected, rtol=1e-6)
        assert times[w] == start / sfreq


def test_frame_means_too_short():
    with pytest.raises(InputError, match="envelope"):
        hg.frame_means(np.ones((40, 2)), SFREQ)


CHANNELS = ["LA1", "LA2", "LA12", "RB1", "RB2", "X7"]


def test_rereference_car():
    x = np.random.default_rng(2).standard_normal((100, len(CHANNELS)))
    expected = x - x.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(hg.rereference(x, CHANNELS, "car"), expected, atol=1e-12)
    np.testing.assert_array_equal(hg.rereference(x, CHANNELS), x)


def test_rereference_shaft():
    x = np.random.default_rng(3).standard_normal((100, len(CHANNELS)))
    expected = x.copy()
    expected[:, :3] -= x[:, :3].mean(axis=1, keepdims=True)
    expected[:, 3:5] -= x[:, 3:5].mean(axis=1, keepdims=True)
    with pytest.warns(UserWarning, match="X7"):
        out = hg.rereference(x, CHANNELS, "shaft")
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_envelope_rereferences_before_filtering(recording):
    env = hg.high_gamma_envelope(recording, SFREQ, reref="car")
    car = recording - recording.astype(np.float64).mean(axis=1, keepdims=True)
    np.testing.assert_allclose(env, reference_envelope(car, SFREQ), rtol=1e-4,
                               atol=1e-4 * env.max())


def test_shaft_names():
    assert [hg.shaft_of(name) for name in ["LA1", "LA12", "RPH'3", "AB10C2"]] == \
        ["LA", "LA", "RPH'", "AB10C"]
    for bad in ["LA", "12"]:
        with pytest.raises(InputError, match=repr(bad)):
            hg.shaft_of(bad)


@pytest.mark.parametrize("kwargs, parameter", [
    ({"sfreq": 300.0}, "sfreq"),
    ({"sfreq": 340.0}, "sfreq"),
    ({"band": (170.0, 70.0)}, "band"),
    ({"line_freq": -50.0}, "line_freq"),
    ({"order": 0}, "order"),
    ({"reref": "bipolar"}, "reref"),
    ({"reref": "shaft"}, "channels"),
])
def test_validation_names_the_parameter(kwargs, parameter):
    args = {"sfreq": SFREQ, **kwargs}
    with pytest.raises(InputError, match=parameter) as err:
        hg.high_gamma_envelope(np.zeros((2048, 2)), **args)
    assert err.value.where == parameter


def test_validation_of_the_signal():
    x = np.zeros((2048, 2))
    x[5, 1] = np.nan
    with pytest.raises(InputError, match=r"channels \[1\]"):
        hg.high_gamma_envelope(x, SFREQ)
    with pytest.raises(InputError, match="x"):
        hg.high_gamma_envelope(np.zeros(2048), SFREQ)


def test_run_round_trip(tmp_path, recording):
    channels = np.array(CHANNELS[:recording.shape[1]])
    ingest = tmp_path / "ingest" / "sub-01.h5"
    write_h5(ingest, {"ieeg": recording, "channels": channels, "audio": np.zeros(0, np.float32)},
             {"sfreq": SFREQ, "audio_sfreq": 0.0})
    out = tmp_path / "highgamma" / "sub-01.h5"
    hg.run(ingest, out, reref="car", line_freq=None)
    arrays, attrs = read_h5(out)
    n_frames = int(np.floor((recording.shape[0] - 0.05 * SFREQ) / (0.01 * SFREQ)))
    assert arrays["envelope"].shape == recording.shape
    assert arrays["envelope"].dtype == np.float32
    assert arrays["hg"].shape == (n_frames, recording.shape[1])
    assert arrays["hg"].dtype == np.float32
    assert arrays["frame_times"].dtype == np.float64
    np.testing.assert_array_equal(arrays["channels"], channels)
    assert attrs["sfreq"] == SFREQ and attrs["win_s"] == 0.05 and attrs["hop_s"] == 0.01
    assert list(attrs["band"]) == [70.0, 170.0]
    assert attrs["line_freq"] == 0.0 and attrs["reref"] == "car"
    np.testing.assert_array_equal(
        arrays["envelope"],
        hg.high_gamma_envelope(recording, SFREQ, reref="car", line_freq=None))


def test_run_names_the_file(tmp_path):
    ingest = tmp_path / "sub-01.h5"
    write_h5(ingest, {"ieeg": np.zeros((2048, 2), np.float32), "channels": ["A1", "A2"]},
             {"sfreq": 256.0})
    with pytest.raises(InputError, match="sfreq") as err:
        hg.run(ingest, tmp_path / "out.h5")
    assert err.value.where == str(ingest)
    write_h5(ingest, {"channels": ["A1", "A2"]}, {"sfreq": SFREQ})
    with pytest.raises(InputError, match="ieeg") as err:
        hg.run(ingest, tmp_path / "out.h5")
    assert err.value.where == str(ingest)
    assert not (tmp_path / "out.h5").exists()
