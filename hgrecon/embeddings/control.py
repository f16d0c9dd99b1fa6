"""Control features: seeded random vectors, and per-word vectors from a table.

``random``: each word gets standard-normal values from a generator seeded with
BLAKE2b(seed, word), so a word has the same vector in every subject, run and word set.
``table``: a TSV / CSV / Parquet file whose first column is ``word`` and whose other
columns are numeric (e.g. the simulator's ``word_features.tsv``, columns word, f0…f7).
"""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import read_parquet


def word_seed(seed, word):
    """64-bit generator seed from (seed, word); stable across processes and platforms."""
    digest = hashlib.blake2b(f"{seed}\x00{word}".encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def random_vectors(where, spec, words):
    """float32 (n_words, dim)."""
    return np.array([np.random.default_rng(word_seed(spec["seed"], w))
                     .standard_normal(spec["dim"]) for w in words],
                    dtype=np.float32).reshape(len(words), spec["dim"])


def read_table(where, path):
    """DataFrame indexed by word, float64 columns, from a .tsv, .csv or .parquet file."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(f"{where}.path", f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        table = read_parquet(path)
    elif suffix in (".tsv", ".csv"):
        # keep_default_na=False: Dutch words such as "nan" or "null" stay words.
        table = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",",
                            dtype={"word": str}, keep_default_na=False)
    else:
        raise InputError(f"{where}.path", f"{path}: expected a .tsv, .csv or .parquet file")
    if len(table.columns) < 2 or table.columns[0] != "word":
        raise InputError(path, f"expected a first column 'word' and at least one vector "
                         f"column, got columns {list(table.columns)}")
    values = table.iloc[:, 1:]
    bad = [c for c in values.columns if not pd.api.types.is_numeric_dtype(values[c])]
    if bad or values.isna().any().any():
        raise InputError(path, f"vector columns must be numeric without gaps; non-numeric: "
                         f"{bad}, with missing values: "
                         f"{list(values.columns[values.isna().any()])}")
    words = table["word"].astype(str)
    dup = sorted(set(words[words.duplicated()]))
    if dup:
        raise InputError(path, f"words listed twice: {dup[:10]}")
    return pd.DataFrame(values.to_numpy(np.float64), index=words.to_numpy(),
                        columns=values.columns)


def table_vectors(where, spec, words):
    """float32 (n_words, n_columns) rows of the table for ``words``."""
    table = read_table(where, spec["path"])
    missing = [w for w in words if w not in table.index]
    if missing:
        raise InputError(spec["path"], f"no row for {len(missing)} words: "
                         f"{', '.join(map(repr, missing[:10]))}")
    return table.loc[list(words)].to_numpy(np.float32)
