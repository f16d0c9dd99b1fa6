"""A synthetic SingleWordProductionDutch-iBIDS dataset with planted, known effects.

The files follow the real dataset's layout (``shared/docs/paper-and-dataset.md``): per subject
an NWB file with ``acquisition['iEEG' | 'Audio' | 'Stimulus']`` and the BIDS sidecars, plus
``participants.tsv`` and ``dataset_description.json`` at the root. The ground truth goes to
``derivatives/simulation/``.

Signal model, channel c, in µV::

    x_c(t) = pink_c(t) + line_c(t) + base_c * (1 + drive_c(t)) * n_c(t)

``n_c`` is unit-variance 70–170 Hz band-limited noise, ``base_c`` log-normal across channels.
The drive depends on the channel's kind:

- ``speech``: ``gain_c * env(t + lag)``, env the produced audio's syllabic amplitude envelope
  in [0, 1]; high gamma leads the audio by ``speech_lag_ms``.
- ``word``: ``gain_c + w_c · z_word`` inside each trial window [onset, onset + trial_s),
  0 outside. ``z_word`` has unit norm and ``|w_c| = gain_c``, so the drive is never negative.
  ``z_word`` depends on the word and the seed only: the same in every subject.
- ``noise``: 0.
"""

import contextlib
import datetime
import importlib.metadata
import json
import re
import uuid
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import scipy.fft
from pynwb import NWBHDF5IO, NWBFile, TimeSeries
from pynwb.file import Subject

from hgrecon.constants import HG_BAND
from hgrecon.errors import InputError
from hgrecon.io import atomic_path
from hgrecon.words_nl import WORDS

DEFAULTS = {
    "n_subjects": 3,
    "n_words": 40,
    "n_channels": 24,
    "seed": 0,
    "sfreq": 1024.0,
    "audio_sfreq": 48000.0,
    "line_freq": 50.0,
    "baseline_s": 1.0,      # silence before the first cue
    "trial_s": 2.0,
    "pause_s": 1.0,
    "speech_lag_ms": 100.0,
    "frac_speech": 0.25,
    "frac_word": 0.25,
    "n_latent": 8,
    # effect sizes
    "hg_uv": 5.0,           # median high-gamma base level across channels (µV)
    "base_sigma": 0.7,      # log-normal spread of the base levels
    "word_gain": 1.0,       # mean gain_c of word channels
    "speech_gain": 2.0,     # mean gain_c of speech channels
    # noise
    "pink_uv": 10.0,        # standard deviation of the 1/f background (µV)
    "line_uv": 10.0,        # typical line-noise amplitude at line_freq (µV)
    "audio_snr_db": 30.0,   # speech RMS over microphone background noise
}

TASK = "wordProduction"
_INTEGERS = ("n_subjects", "n_words", "n_channels", "n_latent", "seed")
_REACTION_S = (0.4, 0.9)
_GAIN_SPREAD = (0.5, 1.5)           # per-channel gain = mean gain x uniform(*_GAIN_SPREAD)
_SPEECH_RMS = 0.1                   # audio units
_VOICE_RANGES = ((90.0, 300.0, 900.0, 2300.0), (200.0, 800.0, 2200.0, 3000.0))  # f0, F1-F3 (Hz)
_FORMANT_BW = 100.0                 # Hz
_VOICE_TOP = 4000.0                 # highest harmonic (Hz)
_LINE_HARMONICS = (1.0, 0.3, 0.15)  # relative amplitudes at 1, 2, 3 x line_freq
_REGIONS = "AHTFPOICMS"             # shaft letters after the side (L/R)
_CONTACTS_PER_SHAFT = (6, 13)       # [low, high)
_CONTACT_MM = 3.5                   # spacing along a shaft
_CONTACT_AREA_MM2 = 5.0
_BRAIN_MM = np.array([68.0, 95.0, 60.0])  # semi-axes of the ellipsoid the shafts enter
_VOWELS = re.compile(r"[aeiouyéëèïü]+")
_EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)


def simulate_dataset(root, params=None):
    """Write a synthetic dataset under ``root``; return the subject labels (``["01", ...]``)."""
    p = _params(params)
    root = Path(root)
    features = word_features(p)
    voices = np.random.default_rng([p["seed"], 1]).uniform(*_VOICE_RANGES, (len(WORDS), 4))
    labels = [f"{i + 1:02d}" for i in range(p["n_subjects"])]
    truth = [_simulate_subject(root, label, index, p, features, voices)
             for index, label in enumerate(labels)]
    _write_tsv(pd.DataFrame({"participant_id": [f"sub-{s}" for s in labels],
                             "age": "n/a", "sex": "n/a"}), root / "participants.tsv")
    _write_json({"Name": "hgrecon synthetic SingleWordProductionDutch-iBIDS",
                 "BIDSVersion": "1.8.0", "DatasetType": "raw",
                 "GeneratedBy": [{"Name": "hgrecon",
                                  "Version": importlib.metadata.version("hgrecon"),
                                  "Description": f"hgrecon.simulate, seed {p['seed']}"}]},
                root / "dataset_description.json")
    truth_dir = root / "derivatives" / "simulation"
    used = pd.DataFrame(features[: p["n_words"]], columns=[f"f{i}" for i in range(p["n_latent"])])
    used.insert(0, "word", WORDS[: p["n_words"]])
    _write_tsv(used, truth_dir / "word_features.tsv")
    _write_tsv(pd.concat(truth, ignore_index=True), truth_dir / "channels.tsv")
    _write_json(p, truth_dir / "simulation.json")
    return labels


def word_features(params=None):
    """Latent vector of every word of ``WORDS``: (len(WORDS), n_latent), unit-norm rows.

    Depends on ``seed`` and ``n_latent`` only, so a word has the same vector in every subject.
    """
    p = _params(params)
    z = np.random.default_rng([p["seed"], 0]).standard_normal((len(WORDS), p["n_latent"]))
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def _params(params):
    """``DEFAULTS`` updated with ``params``, validated, as plain ``int`` / ``float``."""
    p = {}
    for key, value in {**DEFAULTS, **(params or {})}.items():
        if key not in DEFAULTS:
            raise InputError(f"simulation.{key}",
                             f"unknown parameter (known: {', '.join(DEFAULTS)})")
        if key in _INTEGERS:
            valid = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            valid = valid and value >= (0 if key == "seed" else 1)
            expected = "a non-negative integer" if key == "seed" else "a positive integer"
            kind = int
        else:
            valid = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
            valid = valid and np.isfinite(value) and value >= 0
            expected, kind = "a finite number >= 0", float
        if not valid:
            raise InputError(f"simulation.{key}", f"must be {expected}, got {value!r}")
        p[key] = kind(value)
    limits = (
        ("n_words", p["n_words"] <= len(WORDS), f"at most {len(WORDS)} (hgrecon.words_nl.WORDS)"),
        ("frac_word", p["frac_speech"] + p["frac_word"] <= 1, "frac_speech + frac_word at most 1"),
        ("sfreq", p["sfreq"] > 2 * HG_BAND[1], f"above {2 * HG_BAND[1]:g} Hz (high-gamma band)"),
        ("audio_sfreq", p["audio_sfreq"] >= 2 * _VOICE_TOP, f"at least {2 * _VOICE_TOP:g} Hz"),
        ("line_freq", 0 < p["line_freq"] * len(_LINE_HARMONICS) < p["sfreq"] / 2,
         "positive, its harmonics below the Nyquist frequency"),
        ("trial_s", p["trial_s"] > _REACTION_S[1] + 0.1, f"above {_REACTION_S[1] + 0.1:g} s "
         "(latest reaction time plus 0.1 s of speech)"),
    )
    for key, ok, expected in limits:
        if not ok:
            raise InputError(f"simulation.{key}", f"must be {expected}, got {p[key]!r}")
    return p


def _simulate_subject(root, label, index, p, features, voices):
    """Write one subject's NWB and sidecars; return its ground-truth channel table."""
    rng = np.random.default_rng([p["seed"], 2, index])
    order = rng.permutation(p["n_words"])
    words = np.array(WORDS, dtype=object)[order]
    cycle = p["trial_s"] + p["pause_s"]
    cue_s = p["baseline_s"] + cycle * np.arange(len(order))
    onsets = np.round(cue_s * p["sfreq"]).astype(np.int64)
    n_samples = round((p["baseline_s"] + cycle * len(order)) * p["sfreq"])
    trial = _trial_index(onsets, round(p["trial_s"] * p["sfreq"]), n_samples)
    speech = _speech_timing(rng, words, onsets / p["sfreq"], p["trial_s"])
    voice = voices[order] * np.r_[rng.uniform(0.8, 1.25), np.ones(3)]   # the speaker scales f0
    audio = _audio(rng, speech, voice, round(n_samples / p["sfreq"] * p["audio_sfreq"]), p)
    electrodes = _electrodes(rng, p["n_channels"])
    truth = _channel_truth(rng, p)
    truth.insert(0, "subject", label)
    truth.insert(1, "channel", electrodes["name"])
    ieeg = _ieeg(rng, truth, trial, speech, features[order], p)
    stimulus = np.where(trial >= 0, words[np.maximum(trial, 0)], "").astype(object)

    folder, prefix = root / f"sub-{label}" / "ieeg", f"sub-{label}_task-{TASK}"
    _write_nwb(folder / f"{prefix}_ieeg.nwb", label, index, ieeg, audio, stimulus, p)
    _write_tsv(pd.DataFrame({"onset": onsets / p["sfreq"], "duration": p["trial_s"],
                             "trial_type": "word", "sample": onsets, "value": words}),
               folder / f"{prefix}_events.tsv")
    _write_tsv(pd.DataFrame({"name": electrodes["name"], "type": "SEEG", "units": "µV",
                             "low_cutoff": 0.0, "high_cutoff": p["sfreq"] / 2,
                             "sampling_frequency": p["sfreq"], "status": "good"}),
               folder / f"{prefix}_channels.tsv")
    _write_tsv(electrodes, folder / f"{prefix}_space-ACPC_electrodes.tsv")
    _write_json({"iEEGCoordinateSystem": "ACPC", "iEEGCoordinateUnits": "mm",
                 "iEEGCoordinateSystemDescription": "synthetic contact positions"},
                folder / f"{prefix}_space-ACPC_coordsystem.json")
    _write_json({"TaskName": TASK,
                 "TaskDescription": "read aloud single Dutch words shown on screen",
                 "SamplingFrequency": p["sfreq"], "PowerLineFrequency": p["line_freq"],
                 "iEEGReference": "synthetic data, no physical reference",
                 "SoftwareFilters": "n/a", "HardwareFilters": "n/a",
                 "Manufacturer": "hgrecon.simulate", "RecordingType": "continuous",
                 "RecordingDuration": n_samples / p["sfreq"],
                 "SEEGChannelCount": p["n_channels"], "ECOGChannelCount": 0,
                 "EEGChannelCount": 0, "MiscChannelCount": 0},
                folder / f"{prefix}_ieeg.json")
    return truth


def _trial_index(onsets, length, n_samples):
    """Trial containing each sample, -1 between trials: (n_samples,) int."""
    samples = np.arange(n_samples)
    trial = np.searchsorted(onsets, samples, side="right") - 1
    inside = (trial >= 0) & (samples - onsets[np.maximum(trial, 0)] < length)
    return np.where(inside, trial, -1)


def _speech_timing(rng, words, cue_s, trial_s):
    """When each word is spoken: DataFrame start (s), duration (s), syllables; one row per trial.

    Speech starts 0.4–0.9 s after the cue and lasts longer for longer words, within the trial.
    """
    reaction = rng.uniform(*_REACTION_S, len(words))
    length = np.array([len(w) for w in words])
    return pd.DataFrame({"start": cue_s + reaction,
                         "duration": np.minimum(0.15 + 0.06 * length, trial_s - reaction),
                         "syllables": [max(1, len(_VOWELS.findall(w))) for w in words]})


def _speech_envelope(t, speech):
    """Syllabic amplitude envelope in [0, 1] at times ``t`` (s): (len(t),).

    One half-sine hump per syllable while a word is spoken, 0 elsewhere.
    """
    start = speech["start"].to_numpy()
    k = np.maximum(np.searchsorted(start, t, side="right") - 1, 0)
    progress = (t - start[k]) / speech["duration"].to_numpy()[k]
    hump = np.sin(np.pi * ((progress * speech["syllables"].to_numpy()[k]) % 1.0))
    return np.where((progress >= 0) & (progress < 1), hump, 0.0)


def _audio(rng, speech, voices, n_audio, p):
    """Microphone signal (n_audio,) float32: background noise plus one voiced word per trial.

    voices : (n_trials, 4) f0 and three formant frequencies (Hz) of each trial's word.
    """
    fs = p["audio_sfreq"]
    noise_sd = _SPEECH_RMS * 10 ** (-p["audio_snr_db"] / 20)
    audio = (noise_sd * rng.standard_normal(n_audio)).astype(np.float32)
    for k, (f0, *formants) in enumerate(voices):
        row = speech.iloc[[k]]
        first = round(row["start"].iloc[0] * fs)
        t = np.arange(first, min(first + round(row["duration"].iloc[0] * fs), n_audio)) / fs
        carrier = _voice(t - t[0], f0, np.array(formants), fs)
        audio[first:first + len(t)] += _SPEECH_RMS * carrier * _speech_envelope(t, row)
    return audio


def _voice(t, f0, formants, fs):
    """Unit-RMS voiced carrier at times ``t`` (s, from 0): harmonics of a falling pitch
    starting near ``f0``, weighted by Gaussian formant resonances: (len(t),)."""
    pitch = f0 * (1.1 - 0.2 * t / max(t[-1], 1 / fs))
    phase = 2 * np.pi * np.cumsum(pitch) / fs
    harmonics = np.arange(1, int(_VOICE_TOP // (1.1 * f0)) + 1)
    weight = np.exp(-0.5 * ((harmonics[:, None] * f0 - formants) / _FORMANT_BW) ** 2).sum(1)
    x = np.sin(np.outer(phase, harmonics)) @ (weight + 0.1 / harmonics)
    return x / np.sqrt(np.mean(x ** 2))


def _electrodes(rng, n_channels):
    """Contacts along sEEG shafts: DataFrame name, x, y, z (mm), size (mm²); contact 1 deepest."""
    shafts = []
    names = _shaft_names()
    while sum(len(s) for s in shafts) < n_channels:
        name = next(names)
        side = -1.0 if name[0] == "L" else 1.0
        direction = rng.standard_normal(3)
        direction[0] = side * (abs(direction[0]) + 0.5)
        entry = _BRAIN_MM * direction / np.linalg.norm(direction)
        target = np.array([side * 20.0, 0.0, 0.0]) + rng.normal(0.0, 10.0, 3)
        axis = (entry - target) / np.linalg.norm(entry - target)
        n = rng.integers(*_CONTACTS_PER_SHAFT)
        xyz = target + np.outer(np.arange(n) * _CONTACT_MM, axis)
        shafts.append(pd.DataFrame(xyz.round(2), columns=["x", "y", "z"])
                      .assign(name=[f"{name}{i + 1}" for i in range(n)]))
    table = pd.concat(shafts, ignore_index=True).iloc[:n_channels]
    return table.assign(size=_CONTACT_AREA_MM2)[["name", "x", "y", "z", "size"]]


def _shaft_names():
    """Yield LA, RA, LH, RH, ... then LAA, RAA, LAH, ...: letters only, side first."""
    suffixes = list(_REGIONS)
    while True:
        for suffix in suffixes:
            yield "L" + suffix
            yield "R" + suffix
        suffixes = [a + b for a in suffixes for b in _REGIONS]


def _channel_truth(rng, p):
    """Ground truth per channel: DataFrame kind, base_level (µV), gain, lag_ms, and the word
    weights w0, w1, ... (n/a outside word channels)."""
    n = p["n_channels"]
    n_speech = round(p["frac_speech"] * n)
    n_word = min(round(p["frac_word"] * n), n - n_speech)
    counts = [n_speech, n_word, n - n_speech - n_word]
    kind = rng.permutation(np.repeat(["speech", "word", "noise"], counts))
    word = kind == "word"
    mean_gain = np.select([kind == "speech", word], [p["speech_gain"], p["word_gain"]], 0.0)
    gain = mean_gain * rng.uniform(*_GAIN_SPREAD, n)
    u = rng.standard_normal((n, p["n_latent"]))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    w = np.where(word[:, None], gain[:, None] * u, np.nan)
    base = p["hg_uv"] * np.exp(p["base_sigma"] * rng.standard_normal(n))
    return pd.DataFrame({"kind": kind, "base_level": base, "gain": gain,
                         "lag_ms": np.where(kind == "speech", p["speech_lag_ms"], np.nan),
                         **{f"w{i}": w[:, i] for i in range(p["n_latent"])}})


def _ieeg(rng, truth, trial, speech, z, p):
    """sEEG (n_samples, n_channels) float32 in µV, following the module's signal model.

    trial : (n_samples,) trial index of each sample (-1 between trials); z : (n_trials, n_latent).
    """
    n_samples, n_channels = len(trial), len(truth)
    t = np.arange(n_samples) / p["sfreq"]
    kind, gain = truth["kind"].to_numpy(), truth["gain"].to_numpy()
    drive = np.zeros((n_samples, n_channels), dtype=np.float32)
    envelope = _speech_envelope(t + p["speech_lag_ms"] / 1000, speech)
    drive[:, kind == "speech"] = np.outer(envelope, gain[kind == "speech"])
    word = kind == "word"
    weights = truth.filter(regex=r"^w\d+$").to_numpy()[word]
    level = gain[word] + z @ weights.T                                   # (n_trials, n_word)
    drive[np.ix_(trial >= 0, word)] = level[trial[trial >= 0]]
    freqs = scipy.fft.rfftfreq(n_samples, 1 / p["sfreq"])
    band = ((freqs >= HG_BAND[0]) & (freqs <= HG_BAND[1])).astype(np.float32)
    pink = np.where(freqs > 0, 1 / np.sqrt(np.maximum(freqs, 1.0)), 0.0).astype(np.float32)
    x = _colored_noise(rng, n_samples, n_channels, band)
    x *= truth["base_level"].to_numpy(np.float32) * (1 + drive)
    x += p["pink_uv"] * _colored_noise(rng, n_samples, n_channels, pink)
    x += _line_noise(rng, t, n_channels, p)
    return x


def _colored_noise(rng, n_samples, n_channels, gain):
    """Gaussian noise with amplitude spectrum ``gain`` ((n_samples // 2 + 1,) float32),
    unit variance per channel: (n_samples, n_channels) float32."""
    real, imag = (rng.standard_normal((len(gain), n_channels), dtype=np.float32) for _ in range(2))
    x = scipy.fft.irfft((real + 1j * imag) * gain[:, None], n=n_samples, axis=0, workers=-1)
    x /= x.std(axis=0)
    return x


def _line_noise(rng, t, n_channels, p):
    """Line noise at line_freq and its harmonics, random amplitude and phase per channel:
    (len(t), n_channels) float32 in µV."""
    arg = 2 * np.pi * p["line_freq"] * np.outer(t, np.arange(1, len(_LINE_HARMONICS) + 1))
    basis = np.hstack([np.sin(arg), np.cos(arg)])
    scale = p["line_uv"] * np.tile(_LINE_HARMONICS, 2)[:, None] / np.sqrt(2)
    return (basis @ (scale * rng.standard_normal((basis.shape[1], n_channels)))).astype(np.float32)


@contextlib.contextmanager
def _seeded_object_ids(seed):
    """Make hdmf's per-object UUIDs reproducible (it draws them from ``uuid.uuid4``)."""
    rng = np.random.default_rng(seed)
    with mock.patch("hdmf.container.uuid4",
                    lambda: uuid.UUID(bytes=rng.bytes(16), version=4)):
        yield


def _write_nwb(path, label, index, ieeg, audio, stimulus, p):
    """Write the NWB file: iEEG (n_samples, n_channels) in µV, Audio (n_audio,),
    Stimulus (n_samples,) str."""
    start = _EPOCH + datetime.timedelta(days=p["seed"])
    with _seeded_object_ids([p["seed"], 3, index]):
        nwb = NWBFile(session_description="synthetic single-word production (hgrecon.simulate)",
                      identifier=f"hgrecon-simulate-seed{p['seed']}-sub-{label}",
                      session_start_time=start, file_create_date=start,
                      subject=Subject(subject_id=label, species="Homo sapiens"))
        nwb.add_acquisition(TimeSeries(name="iEEG", data=ieeg, unit="volts", conversion=1e-6,
                                       rate=p["sfreq"], description="sEEG in µV"))
        nwb.add_acquisition(TimeSeries(name="Audio", data=audio, unit="n/a", rate=p["audio_sfreq"],
                                       description="microphone"))
        nwb.add_acquisition(TimeSeries(name="Stimulus", data=stimulus, unit="n/a", rate=p["sfreq"],
                                       description="word on screen, empty between trials"))
        with atomic_path(path) as tmp, warnings.catch_warnings():
            # the temporary name ends in .part; the renamed file ends in .nwb
            warnings.filterwarnings("ignore", message=".*does not end in '.nwb'")
            with NWBHDF5IO(tmp, "w") as io:
                io.write(nwb)


def _write_tsv(df, path):
    """Write a BIDS TSV atomically (missing values as ``n/a``)."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False, na_rep="n/a")


def _write_json(obj, path):
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
