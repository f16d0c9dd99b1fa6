"""The synthetic dataset: BIDS layout, NWB contents, determinism and the planted effects."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import scipy.signal as ss
from pynwb import NWBHDF5IO

from hgrecon.errors import InputError
from hgrecon.simulate import DEFAULTS, TASK, simulate_dataset, word_features
from hgrecon.words_nl import WORDS

PARAMS = {"n_subjects": 2}
SFREQ = DEFAULTS["sfreq"]
TRIAL_N = round(DEFAULTS["trial_s"] * SFREQ)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim")
    assert simulate_dataset(root, PARAMS) == ["01", "02"]
    return root


@pytest.fixture(scope="module")
def truth(root):
    return pd.read_csv(root / "derivatives/simulation/channels.tsv", sep="\t",
                       dtype={"subject": str})


def _tsv(path):
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=["n/a"])


def _stem(root, subject):
    return root / f"sub-{subject}" / "ieeg" / f"sub-{subject}_task-{TASK}"


@pytest.fixture(scope="module")
def recordings(root):
    """Per subject: events table, iEEG (n, c), audio (n_audio,), Stimulus (n,) str."""
    out = {}
    for subject in ("01", "02"):
        stem = _stem(root, subject)
        with NWBHDF5IO(f"{stem}_ieeg.nwb", "r") as io:
            acq = io.read().acquisition
            out[subject] = {"events": _tsv(f"{stem}_events.tsv"), "ieeg": acq["iEEG"].data[:],
                            "audio": acq["Audio"].data[:],
                            "stimulus": acq["Stimulus"].data[:].astype(str),
                            "rates": tuple(acq[n].rate for n in ("iEEG", "Audio", "Stimulus"))}
    return out


@pytest.fixture(scope="module")
def trial_means(recordings):
    """Per subject: (n_trials, n_channels) trial means of the 70-170 Hz Hilbert envelope, and the
    sample-level envelope."""
    sos = ss.butter(4, [70, 170], btype="bandpass", fs=SFREQ, output="sos")
    out = {}
    for subject, rec in recordings.items():
        envelope = np.abs(ss.hilbert(ss.sosfiltfilt(sos, rec["ieeg"], axis=0), axis=0))
        means = np.stack([envelope[s:s + TRIAL_N].mean(0) for s in rec["events"]["sample"]])
        out[subject] = means, envelope
    return out


def test_layout_and_columns(root):
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    per_subject = [f"sub-{s}/ieeg/sub-{s}_task-{TASK}_{name}" for s in ("01", "02") for name in (
        "space-ACPC_coordsystem.json", "space-ACPC_electrodes.tsv", "channels.tsv", "events.tsv",
        "ieeg.json", "ieeg.nwb")]
    truth_files = [f"derivatives/simulation/{name}"
                   for name in ("channels.tsv", "simulation.json", "word_features.tsv")]
    top = ["dataset_description.json", "participants.tsv"]
    assert files == sorted([*top, *per_subject, *truth_files])

    assert _tsv(root / "participants.tsv")["participant_id"].tolist() == ["sub-01", "sub-02"]
    description = json.loads((root / "dataset_description.json").read_text())
    assert description["DatasetType"] == "raw"
    assert description["GeneratedBy"][0]["Name"] == "hgrecon"
    assert {"Name", "BIDSVersion"} <= set(description)

    stem = _stem(root, "01")
    channels = _tsv(f"{stem}_channels.tsv")
    assert channels.columns.tolist() == ["name", "type", "units", "low_cutoff", "high_cutoff",
                                         "sampling_frequency", "status"]
    assert len(channels) == DEFAULTS["n_channels"] and channels["name"].is_unique
    assert (channels["type"] == "SEEG").all() and (channels["status"] == "good").all()
    assert channels["name"].str.fullmatch(r"[LR][A-Z]+\d+").all()
    events = _tsv(f"{stem}_events.tsv")
    assert events.columns.tolist() == ["onset", "duration", "trial_type", "sample", "value"]
    sidecar = json.loads(open(f"{stem}_ieeg.json", encoding="utf-8").read())
    assert sidecar["TaskName"] == TASK and sidecar["SamplingFrequency"] == SFREQ
    assert sidecar["PowerLineFrequency"] == 50.0 and "iEEGReference" in sidecar
    coords = json.loads(open(f"{stem}_space-ACPC_coordsystem.json", encoding="utf-8").read())
    assert coords["iEEGCoordinateUnits"] == "mm" and "iEEGCoordinateSystem" in coords

    simulation = json.loads((root / "derivatives/simulation/simulation.json").read_text())
    assert simulation == {**DEFAULTS, **PARAMS}
    features = _tsv(root / "derivatives/simulation/word_features.tsv")
    assert features.columns.tolist() == ["word", *(f"f{i}" for i in range(DEFAULTS["n_latent"]))]
    truth = _tsv(root / "derivatives/simulation/channels.tsv")
    assert truth.columns.tolist() == ["subject", "channel", "kind", "base_level", "gain", "lag_ms",
                                      *(f"w{i}" for i in range(DEFAULTS["n_latent"]))]


def test_electrodes_lie_along_shafts(root):
    electrodes = _tsv(f"{_stem(root, '01')}_space-ACPC_electrodes.tsv")
    channels = _tsv(f"{_stem(root, '01')}_channels.tsv")
    assert electrodes.columns.tolist() == ["name", "x", "y", "z", "size"]
    assert electrodes["name"].tolist() == channels["name"].tolist()
    assert electrodes[["x", "y", "z"]].abs().max().max() < 100          # inside a head, in mm
    shaft = electrodes["name"].str.extract(r"^([A-Z]+)(\d+)$")
    for _, contacts in electrodes.groupby(shaft[0]):
        steps = np.linalg.norm(np.diff(contacts[["x", "y", "z"]].to_numpy(), axis=0), axis=1)
        np.testing.assert_allclose(steps, 3.5, atol=0.02)
    left = shaft[0].str.startswith("L")
    assert (electrodes["x"][left] < 0).all() and (electrodes["x"][~left] > 0).all()


def test_events_timing_and_word_order(root):
    orders = []
    for subject in ("01", "02"):
        events = _tsv(f"{_stem(root, subject)}_events.tsv")
        np.testing.assert_allclose(events["onset"], 1.0 + 3.0 * np.arange(DEFAULTS["n_words"]))
        np.testing.assert_array_equal(events["sample"], np.round(events["onset"] * SFREQ))
        assert (events["duration"] == 2.0).all() and (events["trial_type"] == "word").all()
        assert sorted(events["value"]) == sorted(WORDS[: DEFAULTS["n_words"]])
        orders.append(events["value"].tolist())
    assert orders[0] != orders[1]
    assert {"één", "café"} <= set(orders[0])


def test_nwb_round_trip(recordings):
    for rec in recordings.values():
        n_samples = round((1.0 + 3.0 * DEFAULTS["n_words"]) * SFREQ)
        assert rec["rates"] == (SFREQ, DEFAULTS["audio_sfreq"], SFREQ)
        assert rec["ieeg"].shape == (n_samples, DEFAULTS["n_channels"])
        assert rec["ieeg"].dtype == np.float32 and rec["audio"].ndim == 1
        assert len(rec["audio"]) / DEFAULTS["audio_sfreq"] >= n_samples / SFREQ
        stimulus = rec["stimulus"]
        assert stimulus.shape == (n_samples,)
        for sample, word in zip(rec["events"]["sample"], rec["events"]["value"]):
            assert (stimulus[sample:sample + TRIAL_N] == word).all()
            assert stimulus[sample - 1] == "" and stimulus[sample + TRIAL_N] == ""
        assert (stimulus != "").sum() == DEFAULTS["n_words"] * TRIAL_N


def test_same_seed_gives_identical_files(tmp_path):
    params = {"n_subjects": 1, "n_words": 4, "n_channels": 4}
    for name in ("a", "b"):
        simulate_dataset(tmp_path / name, params)
    simulate_dataset(tmp_path / "c", {**params, "seed": 1})
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*")
                   if p.is_file())
    assert files
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    nwb = next(rel for rel in files if rel.suffix == ".nwb")
    assert (tmp_path / "a" / nwb).read_bytes() != (tmp_path / "c" / nwb).read_bytes()


def test_word_features_are_shared_unit_vectors(root):
    table = _tsv(root / "derivatives/simulation/word_features.tsv")
    z = word_features(PARAMS)
    assert table["word"].tolist() == list(WORDS[: DEFAULTS["n_words"]])
    np.testing.assert_allclose(table.drop(columns="word").to_numpy(), z[: DEFAULTS["n_words"]])
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0)
    np.testing.assert_array_equal(z, word_features({"seed": 0, "n_subjects": 9}))


def _loo_ridge(x, y, alpha=1.0):
    """Leave-one-out ridge predictions (closed form) of y (n,) from x (n, d) with an intercept."""
    design = np.c_[np.ones(len(x)), x]
    penalty = alpha * np.diag(np.r_[0.0, np.ones(x.shape[1])])
    hat = design @ np.linalg.solve(design.T @ design + penalty, design.T)
    return y - (y - hat @ y) / (1 - np.diag(hat))


def test_word_channels_follow_the_latent_vectors(root, truth, recordings, trial_means):
    features = _tsv(root / "derivatives/simulation/word_features.tsv").set_index("word")
    loo = {"word": [], "noise": []}
    for subject, rec in recordings.items():
        means, _ = trial_means[subject]
        table = truth[truth["subject"] == subject].reset_index(drop=True)
        z = features.loc[rec["events"]["value"]].to_numpy()
        weights = table.filter(regex=r"^w\d+$").to_numpy()
        for c in np.flatnonzero(table["kind"] == "word"):
            assert np.corrcoef(z @ weights[c], means[:, c])[0, 1] > 0.6
        for kind in loo:
            loo[kind] += [np.corrcoef(_loo_ridge(z, means[:, c]), means[:, c])[0, 1]
                          for c in np.flatnonzero(table["kind"] == kind)]
    assert min(loo["word"]) > 0.5
    assert np.median(loo["noise"]) < 0.3


def test_base_levels_dominate_the_channel_pattern(truth, trial_means):
    for subject, (means, _) in trial_means.items():
        base = truth.loc[truth["subject"] == subject, "base_level"].to_numpy()
        assert base.max() / base.min() > 3
        per_word = [np.corrcoef(row, base)[0, 1] for row in means]   # the paper's metric
        assert np.median(per_word) > 0.8


def test_speech_channels_lead_the_audio(truth, recordings, trial_means):
    lowpass = ss.butter(4, 10, fs=SFREQ, output="sos")
    lags = np.arange(-300, 301)
    curves = []
    for subject, rec in recordings.items():
        audio = ss.resample_poly(np.abs(rec["audio"]), 16, 750)[: len(rec["ieeg"])]  # to 1024 Hz
        audio = ss.sosfiltfilt(lowpass, audio)
        speech = np.flatnonzero(truth.loc[truth["subject"] == subject, "kind"] == "speech")
        for hg in ss.sosfiltfilt(lowpass, trial_means[subject][1][:, speech], axis=0).T:
            # r(hg(t), audio(t + lag)): peaks at the lag by which high gamma leads
            curves.append([np.corrcoef(hg[max(0, -lag):len(hg) - max(0, lag)],
                                       audio[max(0, lag):len(audio) - max(0, -lag)])[0, 1]
                           for lag in lags])
    peaks_ms = lags[np.argmax(curves, axis=1)] / SFREQ * 1000
    pooled_ms = lags[np.argmax(np.mean(curves, axis=0))] / SFREQ * 1000
    assert abs(np.median(peaks_ms) - DEFAULTS["speech_lag_ms"]) <= 10
    assert abs(pooled_ms - DEFAULTS["speech_lag_ms"]) <= 10
    assert np.max(curves, axis=1).min() > 0.2


def test_speech_starts_after_the_cue_and_sounds_like_its_word(recordings):
    fs = DEFAULTS["audio_sfreq"]
    spectra = {}
    for subject, rec in recordings.items():
        envelope = ss.resample_poly(np.abs(rec["audio"]), 1, 480)          # 100 Hz
        spectra[subject] = {}
        for onset, word in zip(rec["events"]["onset"], rec["events"]["value"]):
            trial = envelope[round(onset * 100):round((onset + 2) * 100)]
            start_s = np.argmax(trial > 0.2 * trial.max()) / 100
            assert 0.38 <= start_s <= 0.95
            clip = rec["audio"][round(onset * fs):round((onset + 2) * fs)]
            freqs, power = ss.welch(clip, fs, nperseg=1024)
            log_power = np.log(power[(freqs > 50) & (freqs < 4000)])
            spectra[subject][word] = log_power - log_power.mean()
    words = sorted(spectra["01"])
    similarity = np.corrcoef([spectra["01"][w] for w in words], [spectra["02"][w] for w in words])
    nearest = similarity[: len(words), len(words):].argmax(axis=1)
    assert np.mean(nearest == np.arange(len(words))) > 0.8   # the same word in another speaker


@pytest.mark.parametrize(("params", "key"), [
    ({"bogus": 1}, "simulation.bogus"),
    ({"n_words": len(WORDS) + 1}, "simulation.n_words"),
    ({"n_channels": 0}, "simulation.n_channels"),
    ({"frac_speech": 0.7, "frac_word": 0.5}, "simulation.frac_word"),
    ({"sfreq": 256.0}, "simulation.sfreq"),
    ({"seed": 1.5}, "simulation.seed"),
])
def test_bad_parameters_are_named(tmp_path, params, key):
    with pytest.raises(InputError, match=re.escape(key)) as error:
        simulate_dataset(tmp_path, params)
    assert error.value.where == key
    assert not any(tmp_path.iterdir())
