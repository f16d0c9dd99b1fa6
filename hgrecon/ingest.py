"""Read one subject of a BIDS iEEG dataset into the pipeline's ingest files.

The dataset's own format (SingleWordProductionDutch-iBIDS) is an NWB file per subject with
``acquisition['iEEG' | 'Audio' | 'Stimulus']``; EDF, BrainVision and FIF recordings are read
through mne-bids instead and have no audio. Everything under the BIDS root is opened
read-only. Outputs (docs/architecture.md):

- ``sub-{s}.h5``: ``ieeg`` float32 (n_samples, n_channels) at ``attrs.sfreq``, ``audio`` float32
  (n_audio,) at ``attrs.audio_sfreq``, ``channels`` str (n_channels,); attrs ``subject``,
  ``source`` (the recording, relative to the BIDS root).
- ``sub-{s}_words.parquet``: ``trial``, ``word``, ``onset_s``, ``sample`` (at ``sfreq``).

``ieeg`` is in the units of the ``_channels.tsv`` file: NWB data are taken as stored (as the
dataset authors' scripts do); mne gives volts, scaled back to the ``units`` column.
"""

import contextlib
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import h5py
import mne_bids
import numpy as np
import pandas as pd
from pynwb import NWBHDF5IO
from scipy.signal import resample_poly

from hgrecon.constants import HG_BAND, IEEG_SFREQ
from hgrecon.errors import InputError
from hgrecon.io import write_h5, write_parquet

NWB_SERIES = ("iEEG", "Audio", "Stimulus")
MNE_EXTENSIONS = (".edf", ".vhdr", ".fif")
NAN_POLICIES = ("error", "drop")
#: Lowest usable sampling rate (Hz): twice the top of the high-gamma band.
MIN_SFREQ = 2 * HG_BAND[1]
_UNIT_SCALE = {"V": 1.0, "mV": 1e3, "µV": 1e6, "μV": 1e6, "uV": 1e6, "nV": 1e9}


@dataclass(frozen=True)
class SubjectFiles:
    """A subject's recording and sidecars; ``events`` may not exist."""

    root: Path
    recording: Path
    channels: Path
    events: Path


@dataclass(frozen=True)
class Recording:
    """ieeg (n_samples, n_channels) float32 at sfreq; audio (n_audio,) float32 at audio_sfreq
    (empty and 0 Hz when there is none); stimulus (n_samples,) str, or None."""

    ieeg: np.ndarray
    sfreq: float
    audio: np.ndarray
    audio_sfreq: float
    stimulus: np.ndarray | None


def list_subjects(bids_root):
    """Subject labels (without ``sub-``) listed in ``participants.tsv``, in file order."""
    root = Path(bids_root)
    path = root / "participants.tsv"
    table = _read_tsv(path, required=("participant_id",))
    labels = [label.removeprefix("sub-") for label in table["participant_id"]]
    if not labels:
        raise InputError(path, "lists no participants")
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise InputError(path, f"duplicate participant_id: {', '.join(duplicates)}")
    missing = [f"sub-{label}" for label in labels if not (root / f"sub-{label}").is_dir()]
    if missing:
        raise InputError(path, f"lists subjects without a folder under {root}: "
                               f"{', '.join(missing)}")
    return labels


def run(bids_root, subject, out_h5, out_words, *, sfreq=IEEG_SFREQ, drop_bad=True,
        nan_policy="error"):
    """Ingest ``sub-{subject}`` of the BIDS dataset at ``bids_root`` into ``out_h5`` (HDF5) and
    ``out_words`` (Parquet).

    sfreq : rate of the written ``ieeg`` (Hz); other recording rates are resampled.
    drop_bad : drop channels whose ``_channels.tsv`` status is ``bad``.
    nan_policy : ``"error"`` raises on channels with NaN/Inf or zero variance; ``"drop"``
        drops them with a warning.
    """
    if not (isinstance(sfreq, (int, float)) and sfreq >= MIN_SFREQ):
        raise InputError("sfreq", f"must be a number of at least {MIN_SFREQ:g} Hz, got {sfreq!r}")
    if nan_policy not in NAN_POLICIES:
        raise InputError("nan_policy", f"must be one of {NAN_POLICIES}, got {nan_policy!r}")
    files = find_files(bids_root, subject)
    channels = read_channels(files.channels)
    recording = read_recording(files, channels)
    words = read_words(files, recording)
    keep = select_channels(recording, channels, files.recording, drop_bad=drop_bad,
                           nan_policy=nan_policy)
    ieeg, words = resample(recording.ieeg[:, keep], words, recording.sfreq, float(sfreq))
    write_h5(out_h5, {"ieeg": ieeg, "audio": recording.audio, "channels": channels["name"][keep]},
             attrs={"sfreq": float(sfreq), "audio_sfreq": recording.audio_sfreq,
                    "subject": subject,
                    "source": files.recording.relative_to(files.root).as_posix()})
    write_parquet(words[["trial", "word", "onset_s", "sample"]], out_words)


def find_files(bids_root, subject):
    """Locate ``sub-{subject}``'s one recording (``sub-XX_*_ieeg.<nwb|edf|vhdr|fif>``) and its
    sidecars."""
    root = Path(bids_root)
    folder = root / f"sub-{subject}"
    if not folder.is_dir():
        raise InputError(folder, "missing: no such subject folder")
    extensions = (".nwb", *MNE_EXTENSIONS)
    recordings = sorted(path for path in folder.glob(f"**/ieeg/sub-{subject}_*_ieeg.*")
                        if path.suffix in extensions)
    if len(recordings) != 1:
        found = ", ".join(path.name for path in recordings) or "none"
        pattern = f"sub-{subject}_*_ieeg{{{','.join(extensions)}}}"
        raise InputError(folder, f"expected one recording {pattern}, found {found}")
    recording = recordings[0]
    stem = recording.name.removesuffix(f"_ieeg{recording.suffix}")
    return SubjectFiles(root, recording, recording.with_name(f"{stem}_channels.tsv"),
                        recording.with_name(f"{stem}_events.tsv"))


def read_channels(path):
    """The ``_channels.tsv`` table, one row per data column: ``name``, ``status``, ``units``..."""
    table = _read_tsv(path, required=("name",))
    duplicates = sorted(set(table["name"][table["name"].duplicated()]))
    if duplicates:
        raise InputError(path, f"duplicate channel names: {', '.join(duplicates)}")
    defaults = {"status": "good", "units": "V"}
    return table.assign(**{col: table[col].fillna(value) if col in table else value
                           for col, value in defaults.items()})


def read_recording(files, channels):
    """Read the recording, checking its shape, rate and audio before loading the data."""
    if files.recording.suffix == ".nwb":
        return _read_nwb(files.recording, channels)
    return _read_mne(files, channels)


def _read_nwb(path, channels):
    """The dataset's own format: acquisition iEEG (n_samples, n_channels), Audio (n_audio,),
    Stimulus (n_samples,)."""
    if not h5py.is_hdf5(path):
        raise InputError(path, "is not an HDF5 file, so not an NWB file")
    with contextlib.ExitStack() as stack:
        try:
            acquisition = stack.enter_context(NWBHDF5IO(str(path), mode="r")).read().acquisition
        except Exception as err:  # h5py, hdmf and pynwb raise many types for a damaged file
            problem = f"cannot be read as NWB (truncated or damaged?): {err}"
            raise InputError(path, problem) from err
        missing = [name for name in NWB_SERIES if name not in acquisition]
        if missing:
            raise InputError(path, f"acquisition lacks {', '.join(missing)} "
                                   f"(it has: {', '.join(acquisition) or 'nothing'})")
        ieeg, audio, stimulus = (acquisition[name] for name in NWB_SERIES)
        sfreq, audio_sfreq = _rate(path, ieeg), _rate(path, audio)
        _check_layout(path, ieeg.data.shape, sfreq, channels)
        n_samples, n_audio = ieeg.data.shape[0], audio.data.shape[0]
        if audio.data.ndim != 1:
            raise InputError(path, f"Audio must be one vector, got shape {audio.data.shape}")
        if n_audio / audio_sfreq < (n_samples - 1) / sfreq:
            raise InputError(path, f"Audio is shorter than the iEEG: {n_audio / audio_sfreq:.3f}"
                                   f" s against {n_samples / sfreq:.3f} s")
        if stimulus.data.shape != (n_samples,):
            raise InputError(path, f"Stimulus must hold one string per iEEG sample: shape "
                                   f"{stimulus.data.shape}, iEEG has {n_samples} samples")
        words = [s.decode() if isinstance(s, bytes) else s for s in stimulus.data[:]]
        return Recording(np.asarray(ieeg.data[:], dtype=np.float32), sfreq,
                         np.asarray(audio.data[:], dtype=np.float32), audio_sfreq,
                         np.array(words, dtype=str))


def _rate(path, series):
    """Sampling rate (Hz) of an NWB TimeSeries, from ``rate`` or its first and last timestamps."""
    if series.rate is not None:
        return float(series.rate)
    timestamps = series.timestamps
    if timestamps is None or len(timestamps) < 2 or timestamps[-1] <= timestamps[0]:
        raise InputError(path, f"{series.name} has neither a rate nor increasing timestamps")
    return (len(timestamps) - 1) / float(timestamps[-1] - timestamps[0])


def _read_mne(files, channels):
    """EDF / BrainVision / FIF through mne-bids: no audio, no Stimulus; volts scaled to the
    ``units`` of ``_channels.tsv``."""
    bids_path = mne_bids.get_bids_path_from_fname(files.recording)
    try:
        with warnings.catch_warnings():
            # mne-bids warns about coordinates and channel metadata that ingest does not use
            warnings.simplefilter("ignore")
            raw = mne_bids.read_raw_bids(bids_path, verbose="error")
    except Exception as err:  # the readers of each format raise their own types
        raise InputError(files.recording, f"cannot be read by mne-bids: {err}") from err
    sfreq = float(raw.info["sfreq"])
    _check_layout(files.recording, (raw.n_times, len(raw.ch_names)), sfreq, channels)
    unknown = sorted(set(channels["units"]) - set(_UNIT_SCALE))
    if unknown:
        raise InputError(files.channels,
                         f"unknown units {unknown}; known: {', '.join(_UNIT_SCALE)}")
    volts = raw.get_data().T
    ieeg = (volts * channels["units"].map(_UNIT_SCALE).to_numpy()).astype(np.float32)
    return Recording(ieeg, sfreq, np.zeros(0, dtype=np.float32), 0.0, None)


def _check_layout(path, shape, sfreq, channels):
    """Check the iEEG data shape (n_samples, n_channels) against ``_channels.tsv`` and the rate."""
    if len(shape) != 2 or shape[1] != len(channels):
        raise InputError(path, f"iEEG has shape {shape}: {shape[-1]} channels, but _channels.tsv "
                               f"lists {len(channels)}")
    if sfreq < MIN_SFREQ:
        raise InputError(path, f"iEEG sampling rate {sfreq:g} Hz is below {MIN_SFREQ:g} Hz "
                               f"(twice the top of the {HG_BAND[0]:g}-{HG_BAND[1]:g} Hz band)")


def read_words(files, recording):
    """Words in presentation order: DataFrame word, onset_s, sample (at the recording's rate),
    trial.

    From the events file when there is one, else from the Stimulus vector; when both exist and
    disagree, warn and use the events file.
    """
    stimulus = None
    if recording.stimulus is not None:
        stimulus = _words_from_stimulus(recording.stimulus, recording.sfreq, files.recording)
    if files.events.is_file():
        words, source = _words_from_events(files.events, recording.sfreq), files.events
    elif stimulus is not None:
        words, source = stimulus, files.recording
    else:
        raise InputError(files.events,
                         "missing, and the recording has no Stimulus to take words from")
    n_samples = len(recording.ieeg)
    outside = words[(words["sample"] < 0) | (words["sample"] >= n_samples)]
    if len(outside):
        first = outside.iloc[0]
        raise InputError(source, f"{len(outside)} word onsets lie outside the recording (0 to "
                                 f"{n_samples / recording.sfreq:.3f} s, {n_samples} samples), "
                                 f"first {first['word']!r} at sample {first['sample']}")
    if stimulus is not None and source == files.events:
        _warn_disagreement(words, stimulus, files.events)
    return words.assign(trial=np.arange(len(words)))


def _words_from_events(path, sfreq):
    """Rows with ``trial_type == 'word'``: DataFrame word, onset_s, sample, sorted by onset."""
    table = _read_tsv(path, required=("onset", "trial_type", "value"))
    table = table[table["trial_type"] == "word"]
    if table.empty:
        raise InputError(path, "no words: no row has trial_type 'word'")
    if table["value"].isna().any():
        raise InputError(path, f"{table['value'].isna().sum()} word rows have no value (the word)")
    onset = _numeric(table, "onset", path)
    if "sample" in table and table["sample"].notna().all():
        sample = _numeric(table, "sample", path).round().astype(np.int64)
    else:
        sample = (onset * sfreq).round().astype(np.int64)
    words = pd.DataFrame({"word": table["value"].to_numpy(), "onset_s": onset.to_numpy(),
                          "sample": sample.to_numpy()})
    return words.sort_values("sample", kind="stable", ignore_index=True)


def _words_from_stimulus(stimulus, sfreq, path):
    """One word per run of equal non-empty strings in ``stimulus`` ((n_samples,) str), onset at
    its first sample: DataFrame word, onset_s, sample."""
    starts = np.flatnonzero(np.r_[True, stimulus[1:] != stimulus[:-1]])
    starts = starts[stimulus[starts] != ""]
    if not len(starts):
        raise InputError(path, "no words: the Stimulus series is empty between and during trials")
    return pd.DataFrame({"word": stimulus[starts], "onset_s": starts / sfreq, "sample": starts})


def _warn_disagreement(events, stimulus, path):
    """Warn, saying how, when the events file and the Stimulus vector list different words or
    onsets more than one sample apart."""
    if len(events) != len(stimulus):
        problems = [f"{len(events)} words in the events file, {len(stimulus)} in Stimulus"]
    else:
        differ = np.flatnonzero(events["word"].to_numpy() != stimulus["word"].to_numpy())
        shift = int(np.abs(events["sample"].to_numpy() - stimulus["sample"].to_numpy()).max())
        problems = []
        if len(differ):
            k = differ[0]
            problems.append(f"{len(differ)} words differ (first: trial {k}, "
                            f"{events['word'][k]!r} in the events file, "
                            f"{stimulus['word'][k]!r} in Stimulus)")
        if shift > 1:
            problems.append(f"onsets differ by up to {shift} samples")
    if problems:
        warnings.warn(f"{path}: events file and NWB Stimulus disagree: {'; '.join(problems)}; "
                      "using the events file", stacklevel=3)


def select_channels(recording, channels, where, *, drop_bad=True, nan_policy="error"):
    """Boolean mask (n_channels,) of the channels to keep.

    Drops ``status == bad`` channels (when ``drop_bad``); channels with NaN/Inf or zero variance
    raise an InputError naming them (``nan_policy="error"``) or are dropped with a warning.
    """
    ieeg, names = recording.ieeg, channels["name"].to_numpy()
    keep = np.ones(len(names), dtype=bool)
    if drop_bad:
        keep = (channels["status"].str.lower() != "bad").to_numpy()
    finite = np.isfinite(ieeg)
    nonfinite = keep & ~finite.all(axis=0)
    flat = keep & ~nonfinite & (ieeg == ieeg[0]).all(axis=0)
    problems = [f"NaN/Inf in {name} (first at {np.argmin(finite[:, c]) / recording.sfreq:.3f} s)"
                for c, name in zip(np.flatnonzero(nonfinite), names[nonfinite])]
    if flat.any():
        problems.append(f"flat (zero variance over the recording): {', '.join(names[flat])}")
    if problems and nan_policy == "error":
        raise InputError(where, f"{'; '.join(problems)} (nan_policy='drop' drops such channels)")
    if problems:
        warnings.warn(f"{where}: dropping channels: {'; '.join(problems)}", stacklevel=2)
    keep = keep & ~nonfinite & ~flat
    if not keep.any():
        raise InputError(where, "no usable channel left")
    return keep


def resample(ieeg, words, from_sfreq, to_sfreq):
    """Resample ``ieeg`` (n_samples, n_channels) to ``to_sfreq``; scale the words' ``sample``."""
    if from_sfreq == to_sfreq:
        return ieeg, words
    ratio = Fraction(to_sfreq / from_sfreq).limit_denominator(1000)
    ieeg = resample_poly(ieeg, ratio.numerator, ratio.denominator, axis=0).astype(np.float32)
    samples = (words["sample"] * to_sfreq / from_sfreq).round().astype(np.int64)
    return ieeg, words.assign(sample=samples)


def _read_tsv(path, required):
    """A BIDS TSV as strings (``n/a`` → missing); checks it exists and has the ``required``
    columns."""
    if not Path(path).is_file():
        raise InputError(path, "missing BIDS file")
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_values=["n/a"])
    absent = [col for col in required if col not in table]
    if absent:
        raise InputError(path, f"lacks column(s) {', '.join(absent)} "
                               f"(has: {', '.join(table.columns)})")
    return table


def _numeric(table, column, path):
    """A complete column of a TSV read as strings, as float64."""
    if table[column].isna().any():
        raise InputError(path, f"column {column!r} has missing values (n/a)")
    try:
        return table[column].astype(np.float64)
    except ValueError as err:
        raise InputError(path, f"column {column!r} must be numeric: {err}") from err
