"""Static word vectors: fastText binaries and word2vec files (gensim).

``format: auto`` reads ``*.bin`` as a fastText binary (``load_facebook_vectors``: a word
outside the vocabulary gets the mean of its character n-gram vectors, as fastText's
``get_word_vector``, which the paper used with ``cc.nl.300.bin``) and ``*.vec`` / ``*.txt``
(optionally ``.gz``) as word2vec text, which has no n-grams: a word outside its vocabulary
is an error. ``lowercase`` looks words up lowercased; the output keeps the original words.
"""

from pathlib import Path

import numpy as np

from ..errors import InputError

_TEXT_SUFFIXES = (".vec", ".txt", ".vec.gz", ".txt.gz")


def _path(where, spec):
    path = Path(spec["path"]).expanduser()
    if not path.is_file():
        raise InputError(f"{where}.path", f"no such file: {spec['path']}")
    return path


def file_format(where, spec):
    """fasttext_bin | word2vec_text | word2vec_binary for the spec's file."""
    if spec["format"] != "auto":
        return spec["format"]
    name = Path(spec["path"]).name.lower()
    if name.endswith(".bin"):
        return "fasttext_bin"
    if name.endswith(_TEXT_SUFFIXES):
        return "word2vec_text"
    raise InputError(f"{where}.format", f"cannot tell the format of {spec['path']} from "
                     f"its name; set format to fasttext_bin, word2vec_text or "
                     "word2vec_binary")


def source(where, spec):
    """The file's path, size and mtime, and how it is read (for cache keys)."""
    path = _path(where, spec)
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns, "format": file_format(where, spec)}


def embed_words(where, spec, words):
    """float32 (n_words, d) vectors of ``words``; words without one raise InputError."""
    from gensim.models import KeyedVectors
    from gensim.models.fasttext import load_facebook_vectors

    path, fmt = _path(where, spec), file_format(where, spec)
    try:
        if fmt == "fasttext_bin":
            vectors = load_facebook_vectors(str(path))
        else:
            vectors = KeyedVectors.load_word2vec_format(str(path),
                                                        binary=fmt == "word2vec_binary")
    except Exception as err:  # gensim raises ValueError, EOFError, UnicodeDecodeError...
        raise InputError(f"{where}.path", f"cannot read {path} as {fmt}: "
                         f"{type(err).__name__}: {err}") from err
    keys = [w.lower() if spec["lowercase"] else w for w in words]
    out, missing = np.zeros((len(keys), vectors.vector_size), dtype=np.float32), []
    for i, key in enumerate(keys):
        try:
            out[i] = vectors.get_vector(key)
        except KeyError:
            missing.append(key)
    if missing:
        how = ("has no character n-grams for them" if fmt == "fasttext_bin" else
               f"has no vector for them and {fmt} cannot compose one (a fastText .bin can)")
        raise InputError(f"{where}.path", f"{path} {how}: {len(missing)} words, "
                         f"{', '.join(map(repr, missing[:10]))}")
    return out
