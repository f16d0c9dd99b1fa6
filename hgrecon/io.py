"""Atomic writers and readers for the stage outputs (Parquet and HDF5).

Every writer goes through :func:`atomic_path`: the file is written under a temporary
name in the destination folder and renamed into place only when complete, so an
interrupted job never leaves a half-file that a later rule would trust.
"""

import contextlib
import os
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from .errors import InputError


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; rename it to ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_parquet(df, path):
    """Write ``df`` to ``path`` atomically (no index, deterministic bytes)."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False, engine="pyarrow")


def read_parquet(path):
    return pd.read_parquet(path, engine="pyarrow")


def write_h5(path, arrays, attrs=None):
    """Write a flat HDF5 file atomically.

    arrays : dict name -> array-like; string sequences are stored as UTF-8.
    attrs : dict of scalar / string / list attributes on the root group.
    """
    with atomic_path(path) as tmp:
        # track_order and no timestamps keep the bytes identical across runs.
        with h5py.File(tmp, "w", track_order=True) as f:
            for name, value in arrays.items():
                arr = np.asarray(value)
                if arr.dtype.kind in "OUS":
                    arr = np.asarray(arr, dtype=object).astype(str)
                    f.create_dataset(name, data=arr.astype(object),
                                     dtype=h5py.string_dtype("utf-8"), track_times=False)
                else:
                    f.create_dataset(name, data=arr, track_times=False)
            for key, value in (attrs or {}).items():
                f.attrs[key] = value


def read_h5(path, names=None):
    """Read datasets (all, or ``names``) and root attributes from an HDF5 file.

    Returns (arrays, attrs); string datasets come back as numpy ``str`` arrays.
    """
    arrays = {}
    with h5py.File(path, "r") as f:
        for name in names or list(f.keys()):
            ds = f[name]
            if h5py.check_string_dtype(ds.dtype) is not None:
                arrays[name] = ds.asstr()[()].astype(str) if ds.shape else np.array(ds.asstr()[()])
            else:
                arrays[name] = ds[()]
        attrs = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()}
    return arrays, attrs


def read_checked(path, names, attrs=()):
    """:func:`read_h5` of datasets ``names``; a missing file, dataset or
    attribute (``attrs``) raises InputError naming the file."""
    try:
        arrays, found = read_h5(path, names)
    except (OSError, KeyError) as err:
        raise InputError(path, f"cannot read datasets {list(names)}: {err}") from err
    missing = [name for name in attrs if name not in found]
    if missing:
        raise InputError(path, f"missing attributes {missing}")
    return arrays, found


#: Columns of the ingest words table (``results/ingest/sub-XX_words.parquet``).
WORD_COLUMNS = ("trial", "word", "onset_s", "sample")


def read_words(path):
    """The ingest words table, checked: ``trial, word, onset_s, sample``, sorted by trial.

    Integer ``trial`` (distinct) and ``sample``, a word on every row, at least one row;
    otherwise InputError naming the file.
    """
    try:
        words = read_parquet(path)
    except (OSError, ValueError) as err:
        raise InputError(path, f"cannot read the words table: {err}") from err
    missing = [col for col in WORD_COLUMNS if col not in words.columns]
    if missing or words.empty:
        raise InputError(path, f"needs rows and columns {list(WORD_COLUMNS)}; "
                               f"missing {missing}, {len(words)} rows")
    for col in ("trial", "sample"):
        if words[col].dtype.kind not in "iu":
            raise InputError(path, f"column {col!r} must be integer, got {words[col].dtype}")
    if words["word"].isna().any() or words["trial"].duplicated().any():
        raise InputError(path, "every row needs a word and a distinct trial")
    return words.sort_values("trial", kind="stable").reset_index(drop=True)
