"""Audio helpers shared by the mel and speech-model features.

Time convention: sample i of a signal at rate sr covers [i / sr, (i + 1) / sr); a window
of samples [a, b) is centred at (a + b) / 2 / sr. High-gamma frames are 50 ms windows
(``WIN_S``) whose start times are ``frame_times``, so frame j is centred at
frame_times[j] + WIN_S / 2.
"""

from fractions import Fraction

import numpy as np

from ..constants import WIN_S


def to_rate(audio, sfreq, target):
    """float32 audio resampled from ``sfreq`` to ``target`` along the last axis.

    Polyphase FIR (``scipy.signal.resample_poly``, Kaiser window): linear phase, so
    events keep their times.
    """
    from scipy.signal import resample_poly

    audio = np.asarray(audio, dtype=np.float32)
    if float(sfreq) == float(target):
        return audio
    ratio = Fraction(float(target) / float(sfreq)).limit_denominator(1000)
    return resample_poly(audio, ratio.numerator, ratio.denominator, axis=-1).astype(np.float32)


def pool_trials(x, mode):
    """(n_trials, n_frames, d) -> (n_trials, d) for ``mean`` over frames, or
    (n_trials, n_frames * d) for ``flatten`` (frame-major, as numpy's ``flatten``)."""
    x = np.asarray(x, dtype=np.float32)
    return x.mean(axis=1) if mode == "mean" else x.reshape(len(x), -1)


def onto_frames(centres, values, frame_times):
    """float32 (n_frames, d): ``values`` (n, d) at times ``centres`` (s, increasing),
    linearly interpolated at the high-gamma window centres (held constant beyond the ends).
    """
    query = np.asarray(frame_times, dtype=np.float64) + WIN_S / 2
    pos = np.interp(query, centres, np.arange(len(centres), dtype=np.float64))
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(centres) - 1)
    frac = (pos - lo)[:, None]
    return ((1 - frac) * values[lo] + frac * values[hi]).astype(np.float32)
