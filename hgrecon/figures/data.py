"""Read the encode outputs into long tables (one column ``subject``, one ``feature``)."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import read_parquet
from ..summary import encoding_paths

_PARTS = {"channels": 0, "words": 1, "null": 2}
#: Columns each encode output must have for the figures and the paper table.
REQUIRED = {
    "channels": ["model", "channel", "pcc", "p_fdr", "pcc_null_mean"],
    "words": ["trial", "word", "pcc", "r2", "pcc_intercept", "r2_intercept",
              "pcc_null_mean", "r2_null_mean"],
    "null": ["perm", "pcc", "r2"],
}


def read_checked(path, part):
    """Read one encode output; raise InputError naming the file if columns are missing."""
    table = read_parquet(path)
    missing = [c for c in REQUIRED[part] if c not in table.columns]
    if missing:
        raise InputError(str(path), f"{part} table lacks columns {missing}")
    return table


def load(root, subjects, features, part, all_features=None):
    """One long DataFrame of ``part`` (channels, words or null) for every subject × feature.

    Subjects and features keep the order given (as ordered categoricals), so plots and
    tables list them in the config's order. ``all_features`` (default ``features``) are
    the categories of ``feature``: a figure of one feature then keeps that feature's
    colour of the figures that show them all.
    """
    frames = []
    for subject in subjects:
        for feature in features:
            path = encoding_paths(root, subject, feature)[_PARTS[part]]
            frames.append(read_checked(path, part).assign(subject=subject, feature=feature))
    return _combine(frames, subjects, features, all_features)


_SUFFIX = {"channels": "", "words": "_words", "null": "_null"}


def load_files(paths, subjects, features, part, all_features=None):
    """As :func:`load`, from a list of encode output files (a rule's input).

    Each subject × feature is looked up as the path ending in
    ``sub-{subject}/{feature}{suffix}.parquet``; files of other parts are ignored, a
    missing one raises InputError.
    """
    paths = [str(p).replace("\\", "/") for p in paths]
    frames = []
    for subject in subjects:
        for feature in features:
            tail = f"sub-{subject}/{feature}{_SUFFIX[part]}.parquet"
            found = [p for p in paths if p == tail or p.endswith("/" + tail)]
            if not found:
                raise InputError(tail, f"not among the rule's inputs ({len(paths)} files)")
            frames.append(read_checked(found[0], part).assign(subject=subject, feature=feature))
    return _combine(frames, subjects, features, all_features)


def load_any(source, subjects, features, part, all_features=None):
    """:func:`load` when ``source`` is the encode root folder, :func:`load_files` when it
    is a list of files (a rule's input)."""
    if isinstance(source, (str, Path)):
        return load(source, subjects, features, part, all_features)
    return load_files(source, subjects, features, part, all_features)


def _combine(frames, subjects, features, all_features):
    if not frames:
        raise InputError("subjects/features", "nothing to plot: no subject or no feature")
    table = pd.concat(frames, ignore_index=True)
    table["subject"] = pd.Categorical(table["subject"], categories=list(subjects), ordered=True)
    table["feature"] = pd.Categorical(table["feature"], ordered=True,
                                      categories=list(all_features or features))
    return table


def subject_of(path):
    """``"01"`` from ``…/sub-01/…`` (None when the path names no subject folder)."""
    for part in Path(path).parts[::-1]:
        if part.startswith("sub-"):
            return part[4:]
    return None


def electrodes_paths(bids_root, subject):
    """The ``_electrodes.tsv`` and ``_coordsystem.json`` of one subject (BIDS layout).

    The files on disk when there are (any ``space-`` entity, with or without the task:
    the real dataset names them ``sub-XX_task-wordProduction_space-ACPC_electrodes.tsv``),
    else the plain task names, which an error message can then show.
    """
    ieeg = Path(bids_root) / f"sub-{subject}" / "ieeg"
    tsv = _pick(ieeg, subject, "electrodes.tsv")
    stem = tsv.name[:-len("electrodes.tsv")]
    coords = ieeg / f"{stem}coordsystem.json"
    if not coords.exists():
        coords = _pick(ieeg, subject, "coordsystem.json")
    return tsv, coords


def _pick(ieeg, subject, suffix):
    """The subject's ``*_{suffix}`` file in ``ieeg``: task-wordProduction first, then any."""
    found = sorted(ieeg.glob(f"sub-{subject}_*{suffix}")) if ieeg.is_dir() else []
    task = [p for p in found if "_task-wordProduction_" in p.name]
    if task or found:
        return (task or found)[0]
    return ieeg / f"sub-{subject}_task-wordProduction_{suffix}"


def read_electrodes(tsv, coordsystem=None):
    """Contact positions: (DataFrame name, x, y, z float; info dict system, units).

    Rows with a missing coordinate (``n/a``) are dropped; ``info`` falls back to
    ``{"system": "unknown", "units": "mm"}`` when there is no coordsystem file.
    """
    tsv = Path(tsv)
    if not tsv.exists():
        raise InputError(str(tsv), "electrodes file not found (needed for the electrode map)")
    table = pd.read_csv(tsv, sep="\t", na_values=["n/a", "N/A", ""], dtype={"name": str})
    missing = [c for c in ("name", "x", "y", "z") if c not in table.columns]
    if missing:
        raise InputError(str(tsv), f"lacks columns {missing}")
    for c in "xyz":
        table[c] = pd.to_numeric(table[c], errors="coerce")
    table = table.dropna(subset=["x", "y", "z"])[["name", "x", "y", "z"]].reset_index(drop=True)
    space = re.search(r"_space-([A-Za-z0-9]+)_", tsv.name)
    info = {"system": space.group(1) if space else "unknown", "units": "mm"}
    if coordsystem is not None and Path(coordsystem).exists():
        meta = json.loads(Path(coordsystem).read_text())
        info["system"] = meta.get("iEEGCoordinateSystem", info["system"])
        info["units"] = meta.get("iEEGCoordinateUnits", info["units"])
    return table, info


def load_electrodes(bids_root, subject):
    """:func:`read_electrodes` for one subject of a BIDS dataset."""
    return read_electrodes(*electrodes_paths(bids_root, subject))


def finite(values):
    """The finite entries of ``values`` as a float array."""
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]
