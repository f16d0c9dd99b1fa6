"""An HDF5 cache of computed vectors, keyed by everything that determines them.

The key is a BLAKE2b hash of a JSON description: the model or file identity (hub commit,
or file names, sizes and mtimes), the spec keys that change the vectors, and the inputs
(the word list, or a hash of the audio). Batch size and device are left out: they change
the vectors only at float rounding level. Entries are ``<cache_dir>/<key>.h5`` with one
``vectors`` dataset and the JSON description in ``attrs.key``; writes are atomic.
"""

import hashlib
import json
from pathlib import Path

import numpy as np

from ..io import read_h5, write_h5


def array_digest(array):
    """Hex digest of an array's dtype, shape and bytes."""
    array = np.ascontiguousarray(array)
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{array.dtype.str}{array.shape}".encode())
    h.update(array.tobytes())
    return h.hexdigest()


def strings_digest(strings):
    """Hex digest of a sequence of strings (order matters)."""
    return hashlib.blake2b("\x00".join(strings).encode("utf-8"), digest_size=16).hexdigest()


def describe(parts):
    """Canonical JSON of the key parts."""
    return json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)


def cached(cache_dir, parts, compute):
    """``compute()`` (an array), or its stored result under the key of ``parts``.

    cache_dir : folder, or None to always compute.
    """
    if cache_dir is None:
        return compute()
    text = describe(parts)
    key = hashlib.blake2b(text.encode(), digest_size=20).hexdigest()
    path = Path(cache_dir) / f"{key}.h5"
    if path.exists():
        return read_h5(path, ["vectors"])[0]["vectors"]
    vectors = compute()
    write_h5(path, {"vectors": vectors}, {"key": text})
    return vectors
