"""Stage ``trials``: one high-gamma value per channel and one audio clip per word.

The first author's protocol: the sample-level high-gamma envelope averaged over the trial
(2.0 s from the cue onset), and the same 2.0 s of microphone audio at 16 kHz,
peak-normalised per trial.
"""

import math
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy import signal

from .constants import SPEECH_SFREQ, TRIAL_LENGTH_S, TRIAL_START_S
from .errors import InputError
from .highgamma import window_means
from .io import read_checked, read_words, write_h5, write_parquet

#: Leading columns of the trials table, before one column per channel.
TABLE_COLUMNS = ["trial", "word", "onset_s"]


def trial_means(envelope, sfreq, samples, *, start_s=TRIAL_START_S, length_s=TRIAL_LENGTH_S,
                words=None):
    """Mean envelope over each trial, float64 (n_trials, n_channels).

    envelope : array (n_samples, n_channels) at ``sfreq``; samples : int (n_trials,), the
    cue-onset samples. Trial i covers samples [samples[i] + round(start_s·sfreq), that +
    round(length_s·sfreq)). words : (n_trials,) names the trials in errors.
    """
    envelope = np.asarray(envelope)
    if envelope.ndim != 2:
        raise InputError("envelope", f"must be (n_samples, n_channels), got {envelope.shape}")
    length = _n_samples(length_s, sfreq)
    samples = np.asarray(samples)
    if samples.ndim != 1 or samples.dtype.kind not in "iu":
        raise InputError("samples", f"must be integers (n_trials,), got {samples.dtype} "
                                    f"{samples.shape}")
    starts = samples.astype(np.int64) + round(start_s * sfreq)
    _check_windows(starts, length, envelope.shape[0], sfreq, words, "samples")
    return window_means(envelope, starts, length)


def trial_audio(audio, audio_sfreq, onsets_s, *, start_s=TRIAL_START_S,
                length_s=TRIAL_LENGTH_S, out_sfreq=SPEECH_SFREQ, words=None):
    """Each trial's audio at ``out_sfreq``, peak-normalised, float32 (n_trials, n_out).

    audio : (n_audio,) at ``audio_sfreq``; onsets_s : (n_trials,) cue onsets in s. Trial i
    starts at sample round((onsets_s[i] + start_s)·audio_sfreq) and keeps
    n_out = round(length_s·out_sfreq) samples. It is resampled with
    :func:`scipy.signal.resample_poly` (exact rational factor) on a cut wide enough for
    the filter, so the result equals resampling the whole recording. An all-zero trial
    stays zero. words : (n_trials,) names the trials in errors.
    """
    audio = np.asarray(audio)
    if audio.ndim != 1 or audio.size == 0:
        raise InputError("audio", f"must be a non-empty vector, got shape {audio.shape}")
    up, down = _rate_ratio(out_sfreq, audio_sfreq)
    n_in, n_out = _n_samples(length_s, audio_sfreq), _n_samples(length_s, out_sfreq)
    onsets_s = np.asarray(onsets_s, dtype=np.float64)
    if onsets_s.ndim != 1 or not np.isfinite(onsets_s).all():
        raise InputError("onsets_s", f"must be finite times (n_trials,), got {onsets_s}")
    starts = np.round((onsets_s + start_s) * audio_sfreq).astype(np.int64)
    _check_windows(starts, n_in, audio.size, audio_sfreq, words, "onsets_s")

    # resample_poly's filter reaches 10·max(up, down) samples of the up-sampled signal
    # either side; the margin (input samples) covers it and maps onto whole output samples.
    # Beyond the recording the cut is zero, as resample_poly pads the whole recording.
    steps = math.ceil(10 * max(up, down) / (up * down)) + 1
    margin_in, margin_out = steps * down, steps * up
    index = starts[:, None] + np.arange(-margin_in, math.ceil(n_out * down / up) + margin_in)
    inside = (index >= 0) & (index < audio.size)
    cuts = np.where(inside, audio[np.clip(index, 0, audio.size - 1)], 0.0).astype(np.float64)
    clips = signal.resample_poly(cuts, up, down, axis=-1)[:, margin_out:margin_out + n_out]
    peak = np.abs(clips).max(axis=1, keepdims=True)
    return np.divide(clips, peak, out=np.zeros_like(clips), where=peak > 0).astype(np.float32)


def run(highgamma_h5, ingest_h5, words_parquet, out_parquet, out_audio_h5, *,
        start_s=TRIAL_START_S, length_s=TRIAL_LENGTH_S):
    """``results/highgamma``, ``results/ingest`` → ``results/trials/sub-XX{.parquet,_audio.h5}``.

    The parquet has ``trial, word, onset_s`` then one float64 column per channel, one row
    per word. The audio file has ``audio`` float32 (n_trials, n_samples) at 16 kHz
    ((n_trials, 0) and attr has_audio False when the recording has no audio), ``trial``,
    ``word``; attrs sfreq, start_s, length_s, has_audio.
    """
    words = read_words(words_parquet)
    ingest, ingest_attrs = read_checked(ingest_h5, ["audio"], ["sfreq", "audio_sfreq"])
    table = _trial_table(highgamma_h5, ingest_attrs["sfreq"], words, start_s, length_s)
    has_audio = ingest["audio"].size > 0
    clips = np.zeros((len(words), 0), dtype=np.float32)
    if has_audio:
        try:
            clips = trial_audio(ingest["audio"], ingest_attrs["audio_sfreq"],
                                words["onset_s"].to_numpy(), start_s=start_s,
                                length_s=length_s, words=words["word"].to_numpy())
        except InputError as err:
            raise InputError(ingest_h5, str(err)) from err
    write_parquet(table, out_parquet)
    write_h5(out_audio_h5,
             {"audio": clips, "trial": words["trial"].to_numpy(),
              "word": words["word"].to_numpy()},
             {"sfreq": SPEECH_SFREQ, "start_s": float(start_s), "length_s": float(length_s),
              "has_audio": has_audio})


def _trial_table(highgamma_h5, sfreq, words, start_s, length_s):
    """``trial, word, onset_s`` of ``words`` then the trial means of every channel of the
    envelope in ``highgamma_h5``, which must be at ``sfreq``, the rate of ``words.sample``."""
    arrays, attrs = read_checked(highgamma_h5, ["envelope", "channels"], ["sfreq"])
    channels = [str(name) for name in arrays["channels"]]
    if len(set(channels)) < len(channels) or set(channels) & set(TABLE_COLUMNS):
        raise InputError(highgamma_h5, f"channel names must be unique and differ from "
                                       f"{TABLE_COLUMNS}, got {channels}")
    if attrs["sfreq"] != sfreq:
        raise InputError(highgamma_h5, f"sfreq {attrs['sfreq']} differs from the ingest "
                                       f"sfreq {sfreq} of the word samples")
    try:
        means = trial_means(arrays["envelope"], sfreq, words["sample"].to_numpy(),
                            start_s=start_s, length_s=length_s, words=words["word"].to_numpy())
    except InputError as err:
        raise InputError(highgamma_h5, str(err)) from err
    return pd.concat([words[TABLE_COLUMNS], pd.DataFrame(means, columns=channels)], axis=1)


def _check_windows(starts, length, n_samples, sfreq, words, name):
    """InputError naming the first trial whose window [start, start + length) leaves the
    recording of ``n_samples``."""
    outside = np.flatnonzero((starts < 0) | (starts + length > n_samples))
    if outside.size:
        i = outside[0]
        word = "" if words is None else f" (word {str(words[i])!r})"
        raise InputError(name, f"trial {i}{word}: window [{starts[i] / sfreq:.3f}, "
                               f"{(starts[i] + length) / sfreq:.3f}) s runs off the recording "
                               f"[0, {n_samples / sfreq:.3f}) s ({outside.size} trials do)")


def _n_samples(length_s, sfreq):
    """round(length_s · sfreq), at least one sample."""
    if not (np.isscalar(sfreq) and sfreq > 0):
        raise InputError("sfreq", f"must be a positive number, got {sfreq!r}")
    n = round(length_s * sfreq)
    if n < 1:
        raise InputError("length_s", f"must span at least one sample at {sfreq} Hz, "
                                     f"got {length_s!r}")
    return n


def _rate_ratio(out_sfreq, in_sfreq):
    """(up, down), coprime, with out_sfreq / in_sfreq = up / down; rates in whole Hz."""
    for value, name in ((out_sfreq, "out_sfreq"), (in_sfreq, "audio_sfreq")):
        if not (np.isscalar(value) and value > 0 and float(value).is_integer()):
            raise InputError(name, f"must be a positive whole number of Hz, got {value!r}")
    ratio = Fraction(int(out_sfreq), int(in_sfreq))
    return ratio.numerator, ratio.denominator
