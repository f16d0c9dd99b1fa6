"""Stage ``high_gamma``: the sample-level high-gamma envelope and its 50/10 ms frames.

The dataset authors' recipe (Verwoert et al. 2022): linear detrend, 4th-order zero-phase
Butterworth band-pass 70–170 Hz, 4th-order zero-phase band-stops ±2 Hz around every line
harmonic inside the band, |Hilbert|; then the mean envelope in 50 ms windows every 10 ms.
An optional re-reference (common average or per electrode shaft) comes after the detrend.
"""

import re
import warnings

import numpy as np
from scipy import signal

from .constants import HG_BAND, HG_ORDER, HOP_S, LINE_FREQ, LINE_STOP_HALFWIDTH, WIN_S
from .errors import InputError
from .io import read_checked, write_h5

REREF_METHODS = ("none", "car", "shaft")
#: Channels are processed in blocks of about this many float64 bytes (memory, not recipe).
_BLOCK_BYTES = 64 * 2**20
_CONTACT = re.compile(r"^(.*?)\d+$")


def shaft_of(name):
    """Electrode shaft of a channel: the name without its trailing contact number (LA12 → LA)."""
    match = _CONTACT.match(str(name))
    if match is None or not match.group(1):
        raise InputError("channels", f"cannot tell the shaft of channel {name!r}: "
                                     "expected a shaft name followed by a contact number")
    return match.group(1)


def rereference(x, channels=None, method="none"):
    """Re-referenced copy of ``x``, float64 (n_samples, n_channels).

    x : array (n_samples, n_channels). method : ``"none"``; ``"car"`` subtracts the mean
    over all channels; ``"shaft"`` subtracts the mean over the channels of the same
    electrode shaft (see :func:`shaft_of`; needs ``channels``, names (n_channels,)).
    A channel alone on its shaft has no reference: it is left as is, with a warning.
    """
    x = _check_signal(x, "x")
    _check_reref(method, channels, x.shape[1], "method")
    ref, owner = _reference(x, channels, method)
    return x - ref[:, owner]


def high_gamma_envelope(x, sfreq, *, band=HG_BAND, order=HG_ORDER, line_freq=LINE_FREQ,
                        reref="none", channels=None):
    """Sample-level high-gamma envelope, float32 (n_samples, n_channels).

    x : array (n_samples, n_channels) at ``sfreq`` Hz. Detrend, re-reference ``reref``
    (see :func:`rereference`), band-pass ``band`` (Butterworth of ``order``, zero phase),
    band-stops of the same order ±LINE_STOP_HALFWIDTH Hz around each harmonic of
    ``line_freq`` inside the band (None: none), |Hilbert|. The re-reference is applied
    before the per-channel detrend: both are linear, so the order does not change the
    result. Channels go through in blocks, float64 inside.
    """
    x = _check_signal(x, "x")
    band = _check_band(band, sfreq)
    if not (isinstance(order, (int, np.integer)) and order >= 1):
        raise InputError("order", f"must be a positive integer, got {order!r}")
    if line_freq is not None and not line_freq > 0:
        raise InputError("line_freq", f"must be positive or None, got {line_freq!r}")
    _check_reref(reref, channels, x.shape[1], "reref")
    filters = _filters(sfreq, band, order, line_freq)
    # sosfiltfilt pads each end with up to 3·(2·n_sections + 1) samples of the signal.
    min_samples = 3 * (2 * max(len(sos) for sos in filters) + 1) + 1
    if x.shape[0] < min_samples:
        raise InputError("x", f"needs at least {min_samples} samples to filter, got {x.shape[0]}")

    ref, owner = _reference(x, channels, reref)
    out = np.empty(x.shape, dtype=np.float32)
    for cols in _channel_blocks(*x.shape):
        block = np.ascontiguousarray((x[:, cols] - ref[:, owner[cols]]).T)
        out[:, cols] = _envelope(block, filters).T
    return out


def frame_means(envelope, sfreq, win_s=WIN_S, hop_s=HOP_S):
    """Mean envelope in windows of ``win_s`` every ``hop_s`` (the authors' framing).

    envelope : array (n_samples, n_channels). Frame w covers samples
    [floor(w·hop·sfreq), that + round(win·sfreq));
    n_frames = floor((n_samples − win·sfreq) / (hop·sfreq)).
    Returns frames float32 (n_frames, n_channels) and frame_times float64 (n_frames,),
    the window starts in s.
    """
    envelope = _check_signal(envelope, "envelope")
    _check_positive(sfreq, "sfreq")
    for value, name in ((win_s, "win_s"), (hop_s, "hop_s")):
        if not value * sfreq >= 1:
            raise InputError(name, f"must span at least one sample at {sfreq} Hz, got {value!r}")
    n_frames = int(np.floor((envelope.shape[0] - win_s * sfreq) / (hop_s * sfreq)))
    if n_frames < 1:
        raise InputError("envelope", f"{envelope.shape[0]} samples is shorter than one "
                                     f"{win_s} s window at {sfreq} Hz")
    starts = np.floor(np.arange(n_frames) * hop_s * sfreq).astype(np.int64)
    frames = window_means(envelope, starts, round(win_s * sfreq))
    return frames.astype(np.float32), starts / sfreq


def window_means(x, starts, length):
    """Mean of ``x`` (n_samples, n_channels) over samples [start, start + length) for each
    start (n_windows,), float64 (n_windows, n_channels), from cumulative sums."""
    starts = np.asarray(starts, dtype=np.int64)
    if starts.size and (starts.min() < 0 or starts.max() + length > x.shape[0]):
        raise InputError("starts", f"windows of {length} samples must lie inside the "
                                   f"{x.shape[0]} samples, got starts "
                                   f"{starts.min()}…{starts.max()}")
    out = np.empty((starts.size, x.shape[1]))
    for cols in _channel_blocks(*x.shape):
        csum = np.zeros((x.shape[0] + 1, cols.stop - cols.start))
        np.cumsum(x[:, cols], axis=0, dtype=np.float64, out=csum[1:])
        out[:, cols] = (csum[starts + length] - csum[starts]) / length
    return out


def run(ingest_h5, out_h5, *, reref="none", line_freq=LINE_FREQ, band=HG_BAND):
    """``results/ingest/sub-XX.h5`` → ``results/highgamma/sub-XX.h5``.

    Writes ``envelope`` float32 (n_samples, n_channels), ``hg`` float32 (n_frames,
    n_channels), ``frame_times`` float64 (n_frames,), ``channels``; attrs sfreq, win_s,
    hop_s, band, line_freq (0.0 when there are no band-stops) and reref.
    """
    arrays, attrs = read_checked(ingest_h5, ["ieeg", "channels"], ["sfreq"])
    ieeg, channels, sfreq = arrays["ieeg"], arrays["channels"], float(attrs["sfreq"])
    if ieeg.ndim != 2 or ieeg.shape[1] != channels.size:
        raise InputError(ingest_h5, f"ieeg {ieeg.shape} does not match {channels.size} channels")
    try:
        envelope = high_gamma_envelope(ieeg, sfreq, band=band, line_freq=line_freq,
                                       reref=reref, channels=channels)
        hg, frame_times = frame_means(envelope, sfreq)
    except InputError as err:
        raise InputError(ingest_h5, str(err)) from err
    write_h5(out_h5,
             {"envelope": envelope, "hg": hg, "frame_times": frame_times, "channels": channels},
             {"sfreq": sfreq, "win_s": WIN_S, "hop_s": HOP_S,
              "band": [float(f) for f in band],
              "line_freq": 0.0 if line_freq is None else float(line_freq), "reref": reref})


def _envelope(block, filters):
    """|Hilbert| of the detrended, filtered rows of ``block`` (n_channels, n_samples) float64."""
    block = signal.detrend(block, axis=-1, type="linear", overwrite_data=True)
    for sos in filters:
        block = signal.sosfiltfilt(sos, block, axis=-1)
    return np.abs(signal.hilbert(block, axis=-1))


def _filters(sfreq, band, order, line_freq):
    """SOS of the band-pass, then of a band-stop at each line harmonic strictly inside the band."""
    filters = [signal.iirfilter(order, band, btype="bandpass", ftype="butter",
                                output="sos", fs=sfreq)]
    if line_freq is not None:
        for k in range(int(band[0] // line_freq) + 1, int(np.ceil(band[1] / line_freq))):
            stop = [k * line_freq - LINE_STOP_HALFWIDTH, k * line_freq + LINE_STOP_HALFWIDTH]
            filters.append(signal.iirfilter(order, stop, btype="bandstop", ftype="butter",
                                            output="sos", fs=sfreq))
    return filters


def _reference(x, channels, method):
    """Reference signals ref (n_samples, n_refs + 1) float64 and, per channel, the column
    it subtracts, owner (n_channels,) int; the last column is zero (no reference)."""
    groups = _reference_groups(channels, method)
    ref = np.zeros((x.shape[0], len(groups) + 1))
    owner = np.full(x.shape[1], len(groups))
    for k, cols in enumerate(groups):
        ref[:, k] = x[:, cols].mean(axis=1, dtype=np.float64)
        owner[cols] = k
    return ref, owner


def _reference_groups(channels, method):
    """Column selections that share a reference; a shaft of one contact gets none."""
    if method != "shaft":
        return [slice(None)] if method == "car" else []
    shafts = np.array([shaft_of(name) for name in channels])
    _, inverse, counts = np.unique(shafts, return_inverse=True, return_counts=True)
    alone = np.asarray(channels)[counts[inverse] == 1]
    if alone.size:
        warnings.warn(f"channels {alone.tolist()} are alone on their shaft: left without "
                      "re-reference", stacklevel=4)
    return [np.flatnonzero(inverse == k) for k in np.flatnonzero(counts > 1)]


def _channel_blocks(n_samples, n_channels):
    """Column slices of about ``_BLOCK_BYTES`` of float64 each."""
    width = max(1, _BLOCK_BYTES // (8 * max(n_samples, 1)))
    return [slice(i, min(i + width, n_channels)) for i in range(0, n_channels, width)]


def _check_signal(x, name):
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] == 0 or x.dtype.kind not in "fiu":
        raise InputError(name, f"must be a real array (n_samples, n_channels), got "
                               f"{x.dtype} {x.shape}")
    bad = ~np.isfinite(x).all(axis=0)
    if bad.any():
        raise InputError(name, f"non-finite values in channels {np.flatnonzero(bad).tolist()}")
    return x


def _check_positive(value, name):
    if not (np.isscalar(value) and value > 0):
        raise InputError(name, f"must be a positive number, got {value!r}")


def _check_band(band, sfreq):
    """Validated (low, high) band in Hz below the Nyquist frequency of ``sfreq``."""
    _check_positive(sfreq, "sfreq")
    if len(band) != 2 or not 0 < band[0] < band[1]:
        raise InputError("band", f"must be (low, high) with 0 < low < high, got {band!r}")
    if not sfreq > 2 * band[1]:
        raise InputError("sfreq", f"must exceed twice the band top {band[1]} Hz, got {sfreq!r}")
    return float(band[0]), float(band[1])


def _check_reref(method, channels, n_channels, name):
    if method not in REREF_METHODS:
        raise InputError(name, f"must be one of {REREF_METHODS}, got {method!r}")
    if method == "shaft" and (channels is None or len(channels) != n_channels):
        raise InputError("channels", f"'shaft' needs one name per channel ({n_channels}), "
                                     f"got {None if channels is None else len(channels)}")
