"""Log-mel spectra of the speech audio: the dataset authors' audio feature.

Definition (Verwoert et al. 2022 feature code ``extractMelSpecs`` + ``MelFilterBank``,
reimplemented in numpy), in :func:`log_mel`, used by the trial and the frame paths:
audio at 16 kHz (``SPEECH_SFREQ``; other rates are resampled first); 50 ms windows
(800 samples) with a periodic Hann taper; magnitude of the real FFT (401 bins); ``n_mels``
(23) triangular filters whose n_mels + 2 edges are equally spaced on the HTK mel scale
(2595 log10(1 + f / 700)) from 0 Hz to sr / 2, each edge floored to whole Hz and put in
bin floor(f / (sr / 2) * 401) as the authors do, each filter scaled to unit sum; natural
log of (filter output + 1e-7).

Trial path: windows start every 10 ms, floor((n - 800) / 160) of them (the authors'
count; 195 for a 2 s trial), then ``trial_pooling``. Frame path: one window per
high-gamma frame, starting at round(frame_times * 16000): the same 50 ms span as the
high-gamma window; the signal is zero beyond its ends.
"""

import numpy as np

from ..constants import HOP_S, N_MELS, SPEECH_SFREQ, WIN_S
from .waveform import pool_trials, to_rate

WIN = int(round(WIN_S * SPEECH_SFREQ))
HOP = int(round(HOP_S * SPEECH_SFREQ))
#: Added before the log, as the authors' ``fuzz``.
FLOOR = 1e-7
#: Windows transformed at once in :func:`log_mel` (bounds memory for long recordings).
_BLOCK = 4096


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def filterbank(n_mels=N_MELS, n_fft=WIN, sfreq=SPEECH_SFREQ):
    """float64 (n_fft // 2 + 1, n_mels): column k is filter k (unit sum)."""
    n_bins = n_fft // 2 + 1
    edges_hz = np.floor(mel_to_hz(np.linspace(0.0, hz_to_mel(sfreq / 2), n_mels + 2)))
    edges = np.floor(edges_hz / (sfreq / 2) * n_bins).astype(int)
    k = np.arange(n_bins)[:, None]
    lo, mid, hi = edges[:-2], edges[1:-1], edges[2:]
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where((k >= lo) & (k < mid), (k - lo) / (mid - lo), 0.0)
        down = np.where((k >= mid) & (k < hi), (hi - k) / (hi - mid), 0.0)
    fb = up + down
    return fb / np.where(fb.sum(0) == 0, 1.0, fb.sum(0))


def band_centres(n_mels=N_MELS, sfreq=SPEECH_SFREQ):
    """Centre frequency (Hz) of each filter, before the flooring to bins."""
    return mel_to_hz(np.linspace(0.0, hz_to_mel(sfreq / 2), n_mels + 2))[1:-1]


def log_mel(audio, starts, n_mels=N_MELS):
    """float64 (len(starts), n_mels): log-mel of the 800-sample windows at ``starts``.

    audio : (n,) at 16 kHz; starts : int sample indices (windows beyond the ends see zeros).
    """
    audio = np.asarray(audio, dtype=np.float64)
    starts = np.asarray(starts, dtype=np.int64)
    fb = filterbank(n_mels)
    taper = np.hanning(WIN + 1)[:-1]  # periodic Hann
    pad = WIN + max(0, -int(starts.min(initial=0)))
    padded = np.pad(audio, (pad, pad + max(0, int(starts.max(initial=0)) - len(audio))))
    out = np.empty((len(starts), n_mels))
    for b in range(0, len(starts), _BLOCK):
        idx = starts[b:b + _BLOCK, None] + pad + np.arange(WIN)
        spectrum = np.abs(np.fft.rfft(padded[idx] * taper, axis=-1))
        out[b:b + _BLOCK] = np.log(spectrum @ fb + FLOOR)
    return out


def trial_starts(n_samples):
    """Window starts (samples) of the trial path: every 10 ms, the authors' count."""
    return np.arange(max(0, (n_samples - WIN) // HOP)) * HOP


def embed_trials(where, spec, trials):
    """float32 (n_trials, n_mels) or (n_trials, n_windows * n_mels) (``trial_pooling``)."""
    audio = to_rate(trials.audio, trials.sfreq, SPEECH_SFREQ)
    starts = trial_starts(audio.shape[1])
    frames = np.stack([log_mel(a, starts, spec["n_mels"]) for a in audio])
    return pool_trials(frames, spec["trial_pooling"])


def frame_features(where, spec, audio, sfreq, frame_times):
    """float32 (n_frames, n_mels): the log-mel of each high-gamma window."""
    audio = to_rate(audio, sfreq, SPEECH_SFREQ)
    starts = np.round(np.asarray(frame_times, dtype=np.float64) * SPEECH_SFREQ)
    return log_mel(audio, starts.astype(np.int64), spec["n_mels"]).astype(np.float32)
