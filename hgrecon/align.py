"""Frame-level designs: features on the 10 ms high-gamma frames, lagged and stacked.

Frames are the high-gamma windows of :mod:`hgrecon.highgamma` (50 ms every 10 ms;
``frame_times`` are window starts). Only frames inside trial windows are modelled:
trial k covers the ``n_window`` frames from the first frame at or after
onset_k + start_s - margin_s, so every trial has the same number of frames (the
shuffle null permutes whole windows) and the silence between trials does not dominate.

Lag convention. With ``lag_ms = L`` the row of neural frame t holds the feature at
frame t + L / 10 ms: **L > 0 means high-gamma leads the feature** (the brain precedes
the speech it produces), L < 0 means the feature precedes high-gamma (as in
perception). A channel whose high-gamma leads the produced audio by 100 ms peaks at
``lag_ms = +100``. ``context`` adds further frames t + L/10 ms + o for the offsets o
(in frames), stacked side by side.

Word features are painted: trial k's vector on the frames of its core window
[onset + start_s, onset + start_s + length_s) (``paint: trial``) or only on the speech
frames inside it (``paint: speech``), zero elsewhere. Such a design has at most one
distinct row per word (per lag and context), so rows are grouped into *cells* — frames
sharing the design row, the owning trial and the speech flag — and the models see each
cell once, weighted by its frame count (:mod:`hgrecon.encoding.frames`).

Guard band. A frame is *touched* by every trial whose frames it reads (its own, the
frames its lagged and stacked features come from, and the neighbours whose 50 ms
windows overlap its own): a fold never trains on a frame touched by a held-out word.
"""

import dataclasses
from dataclasses import dataclass

import numpy as np

from .constants import HOP_S, WIN_S
from .errors import InputError

PAINT_MODES = ("trial", "speech")


@dataclass
class Windows:
    """Trial windows on the frame grid.

    start : (n_trials,) first frame of each window; n_window : frames per window;
    core : (n_trials, n_window) bool, the frames inside [onset + start_s, + length_s);
    frames : (n_trials · n_window,) selected frame indices, trial-major.
    """

    start: np.ndarray
    n_window: int
    core: np.ndarray

    @property
    def frames(self):
        return (self.start[:, None] + np.arange(self.n_window)).reshape(-1)

    @property
    def owner(self):
        """(n_trials · n_window,) trial of each selected frame."""
        return np.repeat(np.arange(len(self.start)), self.n_window)


@dataclass
class Cells:
    """Distinct (design row, owner, speech) groups of the selected frames of one lag.

    X : (n_cells, p) design rows; source : (n_cells, n_context) the base feature row
    (trial for word vectors, frame for frame features; -1: zero) stacked in each design
    row; weight : (n_cells,) frames per cell; owner : (n_cells,) trial; speech :
    (n_cells,) bool; touched : (n_cells, n_trials) bool; frame_cell : (n_selected,) cell
    of each selected frame (in Windows.frames order).
    """

    X: np.ndarray
    source: np.ndarray
    weight: np.ndarray
    owner: np.ndarray
    speech: np.ndarray
    touched: np.ndarray
    frame_cell: np.ndarray

    def with_design(self, base):
        """The same cells with design rows from another base feature matrix (n_base, d')."""
        return dataclasses.replace(self, X=stack_rows(base, self.source))

    def subset(self, index):
        """The cells ``index`` (frame_cell is dropped)."""
        return Cells(X=self.X[index], source=self.source[index], weight=self.weight[index],
                     owner=self.owner[index], speech=self.speech[index],
                     touched=self.touched[index], frame_cell=np.zeros(0, dtype=np.int64))


def frame_hop(frame_times):
    """The frame step (s) of the grid of window starts; checks it is HOP_S (to within a
    sample: starts are rounded down to whole samples)."""
    frame_times = np.asarray(frame_times, dtype=float)
    if frame_times.ndim != 1 or len(frame_times) < 2:
        raise InputError("frame_times", f"needs at least 2 frames, got shape {frame_times.shape}")
    steps = np.diff(frame_times)     # window starts are whole samples: steps vary by one
    if not np.allclose(steps, HOP_S, rtol=0, atol=0.15 * HOP_S):
        raise InputError("frame_times", f"must step by {HOP_S} s, got steps "
                                        f"{steps.min():.6f}…{steps.max():.6f} s")
    return HOP_S


def trial_windows(frame_times, onsets_s, *, start_s, length_s, margin_s):
    """:class:`Windows` of the trials with cue onsets ``onsets_s`` (s, iEEG clock).

    Raises InputError when a window leaves the recording or two windows overlap.
    """
    frame_times = np.asarray(frame_times, dtype=float)
    hop = frame_hop(frame_times)
    if not length_s > 0 or margin_s < 0:
        raise InputError("frames", f"length_s must be > 0 and margin_s >= 0, got "
                                   f"{length_s!r}, {margin_s!r}")
    onsets_s = np.asarray(onsets_s, dtype=float)
    n_window = int(round((length_s + 2 * margin_s) / hop))
    start = np.searchsorted(frame_times, onsets_s + start_s - margin_s - 1e-9 * hop)
    if (start < 0).any() or (start + n_window > len(frame_times)).any():
        bad = np.flatnonzero(start + n_window > len(frame_times))
        raise InputError("onset_s", f"trial windows {bad.tolist()} run past the "
                                    f"{len(frame_times)} frames of the recording")
    order = np.argsort(start)
    if (np.diff(start[order]) < n_window).any():
        raise InputError("frames.margin_s", f"windows of {n_window} frames overlap: the "
                                            f"trials are closer than length_s + 2 margin_s")
    times = frame_times[start[:, None] + np.arange(n_window)]
    core = (times >= onsets_s[:, None] + start_s - 1e-9) & (
        times < onsets_s[:, None] + start_s + length_s - 1e-9)
    return Windows(start=start, n_window=n_window, core=core)


def speech_frames(audio, audio_sfreq, frame_times, threshold_db):
    """(n_frames,) bool: frames whose audio RMS over the 50 ms window exceeds the 10th
    percentile of all frames' RMS by ``threshold_db`` (voice activity by energy)."""
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim != 1 or audio.size == 0:
        raise InputError("audio", f"voice activity needs a non-empty audio vector, got "
                                  f"shape {audio.shape}")
    length = max(1, int(round(WIN_S * audio_sfreq)))
    starts = np.round(np.asarray(frame_times) * audio_sfreq).astype(np.int64)
    csum = np.concatenate([[0.0], np.cumsum(audio * audio)])
    lo, hi = np.clip(starts, 0, audio.size), np.clip(starts + length, 0, audio.size)
    rms = np.sqrt(np.maximum(csum[hi] - csum[lo], 0) / length)
    level = 20 * np.log10(np.maximum(rms, 1e-12))
    return level > np.percentile(level, 10) + threshold_db


def paint_codes(windows, speech, mode, n_frames):
    """(n_frames,) int: the trial painted on each frame, -1 where nothing is painted.

    ``trial`` paints each trial's core window; ``speech`` only its speech frames there.
    """
    if mode not in PAINT_MODES:
        raise InputError("frames.paint", f"must be one of {PAINT_MODES}, got {mode!r}")
    codes = np.full(n_frames, -1, dtype=np.int64)
    frames = windows.frames.reshape(windows.core.shape)
    painted = windows.core & (speech[frames] if mode == "speech" else True)
    codes[frames[painted]] = np.nonzero(painted)[0]
    return codes


def lag_frames(lag_ms):
    """The lag in frames (lag_ms must be a whole number of frames)."""
    shift = lag_ms / (HOP_S * 1000)
    if abs(shift - round(shift)) > 1e-6:
        raise InputError("frames.lags_ms", f"lags must be multiples of {HOP_S * 1000:g} ms, "
                                           f"got {lag_ms!r}")
    return int(round(shift))


def frame_cells(windows, speech, shift, context, *, vectors=None, codes=None, features=None):
    """:class:`Cells` of the selected frames for the lag ``shift`` (frames).

    Either word features — ``vectors`` (n_trials, d) painted by ``codes`` (n_frames,)
    from :func:`paint_codes` — or frame features ``features`` (n_frames, d). Row t reads
    the feature frames t + shift + o for o in ``context`` (zero outside the recording)
    and is touched by the trials owning those frames and the frames whose windows
    overlap its own.
    """
    if (vectors is None) == (features is None):
        raise ValueError("give either vectors (with codes) or features")
    n_frames = len(speech)
    frames, owner_of = windows.frames, _owner_map(windows, n_frames)
    read = frames[:, None] + shift + np.asarray(context)[None, :]        # (n_sel, c)
    inside = (read >= 0) & (read < n_frames)
    span = int(np.ceil(WIN_S / HOP_S)) - 1                                # overlapping windows
    near = frames[:, None] + np.arange(-span, span + 1)[None, :]
    refs = np.concatenate([np.where(inside, read, -1), near], 1)
    touched = np.zeros((len(frames), len(windows.start)), dtype=bool)
    valid = (refs >= 0) & (refs < n_frames)
    owners = np.where(valid, owner_of[np.clip(refs, 0, n_frames - 1)], -1)
    rows, cols = np.nonzero(owners >= 0)
    touched[rows, owners[rows, cols]] = True
    owner, flag = windows.owner, speech[frames]
    if vectors is not None:
        source = np.where(inside, codes[np.clip(read, 0, n_frames - 1)], -1)
        key = np.concatenate([source, owner[:, None], flag[:, None],
                              touched.view(np.uint8)], 1)
        _, first, frame_cell = np.unique(key, axis=0, return_index=True, return_inverse=True)
        base = vectors
    else:
        source = np.where(inside, read, -1)
        first, frame_cell = np.arange(len(frames)), np.arange(len(frames))
        base = features
    frame_cell = frame_cell.reshape(-1)
    weight = np.bincount(frame_cell, minlength=len(first)).astype(float)
    return Cells(X=stack_rows(base, source[first]), source=source[first], weight=weight,
                 owner=owner[first], speech=flag[first], touched=touched[first],
                 frame_cell=frame_cell)


def stack_rows(base, source):
    """(n, c · d) rows of ``base`` (n_base, d) at ``source`` (n, c), side by side; zero
    where the source is -1."""
    base = np.asarray(base, dtype=float)
    padded = np.vstack([base, np.zeros((1, base.shape[1]))])
    return padded[source].reshape(len(source), -1)


def _owner_map(windows, n_frames):
    """(n_frames,) trial owning each frame, -1 outside every window."""
    owner = np.full(n_frames, -1, dtype=np.int64)
    owner[windows.frames] = windows.owner
    return owner


def embed_frames(ingest_h5, highgamma_h5, out_h5, spec, *, name, device="auto", threads=1,
                 cache_dir=None):
    """``results/ingest``, ``results/highgamma`` → ``results/embeddings/frames/…/{name}.h5``.

    An audio or mel feature (:func:`hgrecon.embeddings.frame_features`) of the whole
    recording on the high-gamma frames: ``vectors`` float32 (n_frames, d) and
    ``frame_times`` (n_frames,).
    """
    from .embeddings import frame_features
    from .io import read_checked, write_h5

    ingest, attrs = read_checked(ingest_h5, ["audio"], ["audio_sfreq"])
    frames, _ = read_checked(highgamma_h5, ["frame_times"])
    if not ingest["audio"].size:
        raise InputError(ingest_h5, f"feature {name!r} needs the recording's audio, and this "
                                    "recording has none")
    vectors = frame_features(spec, ingest["audio"], attrs["audio_sfreq"],
                             frames["frame_times"], name=name, device=device,
                             threads=threads, cache_dir=cache_dir)
    write_h5(out_h5, {"vectors": np.asarray(vectors, dtype=np.float32),
                      "frame_times": frames["frame_times"]}, {"feature": name})


def on_frames(spec):
    """Whether a feature spec is computed on the high-gamma frames (the audio and mel
    kinds); the others (one vector per word or trial) are painted."""
    from .embeddings.registry import KINDS

    return KINDS[spec["kind"]].frames is not None
