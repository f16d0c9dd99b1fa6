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
