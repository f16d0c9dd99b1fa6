"""Ingest of one BIDS subject: NWB and mne-bids recordings, words, channels, validation."""

import re
import shutil
import stat

import h5py
import mne
import mne_bids
import numpy as np
import pandas as pd
import pytest
from pynwb import NWBHDF5IO

from hgrecon import ingest
from hgrecon.errors import InputError
from hgrecon.io import read_h5, read_parquet
from hgrecon.simulate import TASK, simulate_dataset

PARAMS = {"n_subjects": 1, "n_words": 8, "n_channels": 6}
STEM = f"sub-01/ieeg/sub-01_task-{TASK}"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp("source")
    simulate_dataset(root, PARAMS)
    return root


@pytest.fixture
def bids(tmp_path, source):
    """A fresh copy of the simulated dataset, for tests that damage it."""
    return shutil.copytree(source, tmp_path / "bids")


def _run(root, tmp_path, **kwargs):
    """Ingest sub-01; return (arrays, attrs, words)."""
    out_h5, out_words = tmp_path / "out" / "sub-01.h5", tmp_path / "out" / "sub-01_words.parquet"
    ingest.run(root, "01", out_h5, out_words, **kwargs)
    arrays, attrs = read_h5(out_h5)
    return arrays, attrs, read_parquet(out_words)


def _read_nwb(root):
    with NWBHDF5IO(str(root / f"{STEM}_ieeg.nwb"), "r") as io:
        acq = io.read().acquisition
        return acq["iEEG"].data[:], acq["Audio"].data[:]


def _tsv(path):
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


def _edit_tsv(path, edit):
    edit(_tsv(path)).to_csv(path, sep="\t", index=False)


def _nwb(root):
    """The NWB file opened for editing with h5py."""
    return h5py.File(root / f"{STEM}_ieeg.nwb", "r+")


def _snapshot(root):
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def test_list_subjects(source):
    assert ingest.list_subjects(source) == ["01"]


def test_ingest_simulated_subject(source, tmp_path):
    arrays, attrs, words = _run(source, tmp_path)
    ieeg, audio = _read_nwb(source)
    events = _tsv(source / f"{STEM}_events.tsv")
    channels = _tsv(source / f"{STEM}_channels.tsv")
    assert arrays["ieeg"].dtype == np.float32 and arrays["audio"].dtype == np.float32
    np.testing.assert_array_equal(arrays["ieeg"], ieeg)
    np.testing.assert_array_equal(arrays["audio"], audio)
    assert arrays["channels"].tolist() == channels["name"].tolist()
    assert attrs == {"sfreq": 1024.0, "audio_sfreq": 48000.0, "subject": "01",
                     "source": f"{STEM}_ieeg.nwb"}
    assert words.columns.tolist() == ["trial", "word", "onset_s", "sample"]
    assert words["trial"].tolist() == list(range(PARAMS["n_words"]))
    assert words["word"].tolist() == events["value"].tolist()
    assert words["sample"].tolist() == events["sample"].astype(int).tolist()
    np.testing.assert_allclose(words["onset_s"], events["onset"].astype(float))
    assert words["sample"].dtype == np.int64 and words["onset_s"].dtype == np.float64


def test_words_from_stimulus_without_events(bids, tmp_path):
    events = _tsv(bids / f"{STEM}_events.tsv")
    (bids / f"{STEM}_events.tsv").unlink()
    _, _, words = _run(bids, tmp_path)
    assert words["word"].tolist() == events["value"].tolist()
    assert words["sample"].tolist() == events["sample"].astype(int).tolist()
    np.testing.assert_allclose(words["onset_s"], words["sample"] / 1024.0)


def test_bad_channels_are_dropped(bids, tmp_path):
    _edit_tsv(bids / f"{STEM}_channels.tsv",
              lambda t: t.assign(status=["good", "bad"] + ["good"] * 4))
    names = _tsv(bids / f"{STEM}_channels.tsv")["name"].tolist()
    ieeg, _ = _read_nwb(bids)
    arrays, _, _ = _run(bids, tmp_path)
    assert arrays["channels"].tolist() == names[:1] + names[2:]
    np.testing.assert_array_equal(arrays["ieeg"], np.delete(ieeg, 1, axis=1))
    arrays, _, _ = _run(bids, tmp_path, drop_bad=False)
    assert arrays["channels"].tolist() == names


def test_2048_hz_recording_is_resampled(tmp_path):
    root = tmp_path / "bids"
    simulate_dataset(root, {**PARAMS, "sfreq": 2048.0})
    ieeg, _ = _read_nwb(root)
    events = _tsv(root / f"{STEM}_events.tsv")
    arrays, attrs, words = _run(root, tmp_path)
    assert attrs["sfreq"] == 1024.0
    assert arrays["ieeg"].shape == (len(ieeg) // 2, PARAMS["n_channels"])
    assert words["sample"].tolist() == (events["sample"].astype(int) // 2).tolist()
    np.testing.assert_allclose(words["onset_s"], events["onset"].astype(float))
    # nearly all of the power lies below the new Nyquist frequency (512 Hz) and survives
    np.testing.assert_allclose(arrays["ieeg"].std(0), ieeg.std(0), rtol=0.05)


@pytest.mark.parametrize("fmt", ["EDF", "BrainVision"])
def test_mne_bids_recording(tmp_path, fmt):
    names, words = ["LA1", "LA2", "RH1", "RH2"], ["huis", "één", "boom"]
    onsets = np.array([1.0, 4.0, 7.0])
    volts = np.random.default_rng(0).standard_normal((len(names), 10 * 1024)) * 20e-6
    raw = mne.io.RawArray(volts, mne.create_info(names, 1024.0, "seeg"), verbose="error")
    raw.info["line_freq"] = 50.0
    raw.set_annotations(mne.Annotations(onsets, 2.0, ["word"] * 3))
    bids_path = mne_bids.BIDSPath(subject="01", task=TASK, datatype="ieeg", root=tmp_path / "bids")
    mne_bids.write_raw_bids(raw, bids_path, format=fmt, allow_preload=True, verbose="error")
    # the dataset's events carry the word in `value`; mne-bids writes an event code there
    _edit_tsv(tmp_path / "bids" / f"{STEM}_events.tsv", lambda t: t.assign(value=words))

    assert ingest.list_subjects(tmp_path / "bids") == ["01"]
    arrays, attrs, table = _run(tmp_path / "bids", tmp_path)
    assert arrays["channels"].tolist() == names
    assert arrays["audio"].shape == (0,) and attrs["audio_sfreq"] == 0.0
    np.testing.assert_allclose(arrays["ieeg"], volts.T * 1e6, atol=0.05)   # µV: channels.tsv
    assert table["word"].tolist() == words
    assert table["sample"].tolist() == (onsets * 1024).astype(int).tolist()


def test_events_and_stimulus_disagreement_warns(bids, tmp_path):
    events = _tsv(bids / f"{STEM}_events.tsv")
    changed = events.assign(value=["anders"] + events["value"].tolist()[1:],
                            sample=(events["sample"].astype(int) + 5).astype(str))
    changed.to_csv(bids / f"{STEM}_events.tsv", sep="\t", index=False)
    expected = (r"1 words differ \(first: trial 0, 'anders' in the events file, '\w+' in "
                r"Stimulus\); onsets differ by up to 5 samples; using the events file")
    with pytest.warns(UserWarning, match=expected):
        _, _, words = _run(bids, tmp_path)
    assert words["word"][0] == "anders" and words["sample"][0] == int(events["sample"][0]) + 5


def test_bids_folder_is_read_only(bids, tmp_path):
    before = _snapshot(bids)
    for path in [bids, *bids.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        _run(bids, tmp_path)
        assert ingest.list_subjects(bids) == ["01"]
    finally:
        for path in [bids, *bids.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    assert _snapshot(bids) == before   # nothing written, nothing added (root ignores the chmod)


# --- validation: each error names the file (or argument) and the problem -------------------


def _raises(root, tmp_path, where, problem, **kwargs):
    with pytest.raises(InputError, match=problem) as error:
        _run(root, tmp_path, **kwargs)
    assert error.value.where.endswith(where), error.value.where
    assert not (tmp_path / "out" / "sub-01.h5").exists()


def test_missing_participants_and_duplicates(bids):
    (bids / "participants.tsv").write_text("participant_id\nsub-01\n01\n")
    with pytest.raises(InputError, match="participants.tsv: duplicate participant_id: 01"):
        ingest.list_subjects(bids)
    (bids / "participants.tsv").write_text("participant_id\nsub-01\nsub-02\n")
    with pytest.raises(InputError, match="participants.tsv: lists subjects without a folder "
                                         ".*: sub-02"):
        ingest.list_subjects(bids)
    (bids / "participants.tsv").unlink()
    with pytest.raises(InputError, match="participants.tsv: missing BIDS file"):
        ingest.list_subjects(bids)


def test_missing_subject_folder(bids, tmp_path):
    with pytest.raises(InputError, match="sub-02: missing: no such subject folder"):
        ingest.run(bids, "02", tmp_path / "a.h5", tmp_path / "a.parquet")


@pytest.mark.parametrize(("suffix", "problem"), [
    ("_channels.tsv", "missing"),
    ("_ieeg.nwb", r"expected one recording sub-01_\*_ieeg\{.nwb,.edf,.vhdr,.fif\}, found none"),
])
def test_missing_bids_files(bids, tmp_path, suffix, problem):
    (bids / f"{STEM}{suffix}").unlink()
    _raises(bids, tmp_path, "_channels.tsv" if suffix == "_channels.tsv" else "sub-01", problem)


def test_events_required_without_stimulus(tmp_path):
    raw = mne.io.RawArray(np.ones((1, 2048)) * np.arange(2048) * 1e-6,
                          mne.create_info(["LA1"], 1024.0, "seeg"), verbose="error")
    bids_path = mne_bids.BIDSPath(subject="01", task=TASK, datatype="ieeg", root=tmp_path / "bids")
    mne_bids.write_raw_bids(raw, bids_path, format="BrainVision", allow_preload=True,
                            verbose="error")
    _raises(tmp_path / "bids", tmp_path, "_events.tsv",
            "missing, and the recording has no Stimulus")


def test_truncated_nwb(bids, tmp_path):
    path = bids / f"{STEM}_ieeg.nwb"
    path.write_bytes(path.read_bytes()[:100_000])
    _raises(bids, tmp_path, "_ieeg.nwb", r"cannot be read as NWB \(truncated or damaged\?\)")


def test_not_an_nwb_file(bids, tmp_path):
    (bids / f"{STEM}_ieeg.nwb").write_text("not hdf5")
    _raises(bids, tmp_path, "_ieeg.nwb", "is not an HDF5 file, so not an NWB file")


@pytest.mark.parametrize("series", ["iEEG", "Audio", "Stimulus"])
def test_missing_nwb_series(bids, tmp_path, series):
    with _nwb(bids) as f:
        del f[f"acquisition/{series}"]
    _raises(bids, tmp_path, "_ieeg.nwb", f"acquisition lacks {series} ")


def test_channel_count_mismatch(bids, tmp_path):
    _edit_tsv(bids / f"{STEM}_channels.tsv", lambda t: t.iloc[:5])
    _raises(bids, tmp_path, "_ieeg.nwb", re.escape("iEEG has shape (25600, 6): 6 channels, but "
                                                   "_channels.tsv lists 5"))


def test_no_words_in_events(bids, tmp_path):
    _edit_tsv(bids / f"{STEM}_events.tsv", lambda t: t.assign(trial_type="fixation"))
    _raises(bids, tmp_path, "_events.tsv", "no words: no row has trial_type 'word'")


def test_no_words_in_stimulus(bids, tmp_path):
    (bids / f"{STEM}_events.tsv").unlink()
    with _nwb(bids) as f:
        f["acquisition/Stimulus/data"][...] = ""
    _raises(bids, tmp_path, "_ieeg.nwb", "no words: the Stimulus series is empty")


def test_nan_channel(bids, tmp_path):
    with _nwb(bids) as f:
        f["acquisition/iEEG/data"][1000, 2] = np.nan
    name = _tsv(bids / f"{STEM}_channels.tsv")["name"][2]
    _raises(bids, tmp_path, "_ieeg.nwb", re.escape(f"NaN/Inf in {name} (first at 0.977 s)"))
    with pytest.warns(UserWarning, match=f"dropping channels: NaN/Inf in {name}"):
        arrays, _, _ = _run(bids, tmp_path, nan_policy="drop")
    assert name not in arrays["channels"] and arrays["ieeg"].shape[1] == 5


def test_flat_channel(bids, tmp_path):
    with _nwb(bids) as f:
        f["acquisition/iEEG/data"][:, 4] = 3.0
    name = _tsv(bids / f"{STEM}_channels.tsv")["name"][4]
    _raises(bids, tmp_path, "_ieeg.nwb",
            re.escape(f"flat (zero variance over the recording): {name}"))
    with pytest.warns(UserWarning, match=f"dropping channels: flat .*: {name}"):
        arrays, _, _ = _run(bids, tmp_path, nan_policy="drop")
    assert name not in arrays["channels"]


def test_low_sampling_rate(bids, tmp_path):
    with _nwb(bids) as f:
        f["acquisition/iEEG/starting_time"].attrs["rate"] = 256.0
    _raises(bids, tmp_path, "_ieeg.nwb", "iEEG sampling rate 256 Hz is below 340 Hz")


def test_audio_shorter_than_ieeg(bids, tmp_path):
    with _nwb(bids) as f:
        audio = f["acquisition/Audio"]
        data, attrs = audio["data"][: 48000 * 10], dict(audio["data"].attrs)
        del audio["data"]
        audio.create_dataset("data", data=data).attrs.update(attrs)
    _raises(bids, tmp_path, "_ieeg.nwb",
            "Audio is shorter than the iEEG: 10.000 s against 25.000 s")


def test_events_beyond_the_recording(bids, tmp_path):
    _edit_tsv(bids / f"{STEM}_events.tsv",
              lambda t: t.assign(sample=t["sample"].where(t.index < 7, "99999")))
    _raises(bids, tmp_path, "_events.tsv",
            r"1 word onsets lie outside the recording \(0 to 25.000 s, 25600 samples\), "
            r"first '\w+' at sample 99999")


@pytest.mark.parametrize(("kwargs", "where"), [({"sfreq": 200.0}, "sfreq"),
                                               ({"nan_policy": "ignore"}, "nan_policy")])
def test_bad_arguments(source, tmp_path, kwargs, where):
    with pytest.raises(InputError, match=f"^{where}: must be .*got {kwargs[where]!r}"):
        _run(source, tmp_path, **kwargs)
