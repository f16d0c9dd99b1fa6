"""Feature specs: the keys of each kind, their defaults, and validation.

A feature is configured as ``features: {name: spec}``; ``spec`` is a dict with ``kind`` and
the keys of that kind below (``workflow/schemas/features.schema.yaml`` documents the same
keys for users; a test keeps the two in agreement). ``pca_variance`` is accepted by every
kind: the encoding stage reads it, the embeddings ignore it.
"""

import copy
import re

from ..constants import N_MELS
from ..errors import InputError

#: Marks a key without default: the user must give it.
REQUIRED = "<required>"
#: Context length used when ``context: window`` is given without ``context_words``.
DEFAULT_CONTEXT_WORDS = 5


def _string(value):
    if not isinstance(value, str) or not value:
        raise ValueError("expected a non-empty string")
    return value


def _optional_string(value):
    return None if value is None else _string(value)


def _bool(value):
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _int(minimum):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"expected an integer >= {minimum}")
        return value
    return check


def _positive(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError("expected a number > 0")
    return float(value)


def _non_negative(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError("expected a number >= 0")
    return float(value)


def _optional_fraction(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ValueError("expected null or a number in (0, 1]")
    return float(value)


def _choice(*options):
    def check(value):
        if value not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return value
    return check


def _layers(value):
    """``all`` or a non-empty list of ``hidden_states`` indices (a bare int is a list of one)."""
    if value == "all":
        return value
    items = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if (not isinstance(items, (list, tuple)) or not items
            or any(isinstance(i, bool) or not isinstance(i, int) for i in items)):
        raise ValueError("expected 'all' or a non-empty list of integers (negatives count "
                         "from the last hidden state)")
    return list(items)


def _optional_int(minimum):
    check = _int(minimum)
    return lambda value: None if value is None else check(value)


_MODEL_KEYS = {
    "revision": (None, _optional_string),
    "layers": ([-1], _layers),
    "layer_mode": ("mean", _choice("mean", "concat")),
    "dtype": ("float32", _choice("float32", "float16", "bfloat16")),
}

#: kind -> key -> (default, checker); a checker returns the normalised value or raises
#: ValueError with what it expected.
KEYS = {
    "text": {
        "model": ("minilm", _string),
        **_MODEL_KEYS,
        "pooling": ("mean", _choice("mean", "last", "first")),
        "context": ("none", _choice("none", "window")),
        "context_words": (None, _optional_int(1)),
        "add_special_tokens": (True, _bool),
        "batch_size": (32, _int(1)),
    },
    "fasttext": {
        "path": (REQUIRED, _string),
        "format": ("auto", _choice("auto", "fasttext_bin", "word2vec_text", "word2vec_binary")),
        "lowercase": (False, _bool),
    },
    "audio": {
        "model": (REQUIRED, _string),
        **_MODEL_KEYS,
        "trial_pooling": ("mean", _choice("mean", "flatten")),
        "batch_size": (8, _int(1)),
        "chunk_s": (20.0, _positive),
        "chunk_overlap_s": (2.0, _non_negative),
    },
    "mel": {
        "n_mels": (N_MELS, _int(1)),
        "trial_pooling": ("mean", _choice("mean", "flatten")),
    },
    "random": {
        "dim": (64, _int(1)),
        "seed": (0, _int(0)),
    },
    "table": {
        "path": (REQUIRED, _string),
    },
}
#: Keys every kind accepts.
COMMON_KEYS = {"pca_variance": (None, _optional_fraction)}
#: Keys that do not change the vectors (left out of cache keys).
NOT_IN_RESULT = ("batch_size", "pca_variance")

#: Feature names (they name files); the same pattern as config.schema.yaml.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def validate_spec(name, spec):
    """Return ``spec`` filled with the defaults of its kind, every value checked.

    Raises InputError(``features.<name>.<key>``, ...) for an unknown kind or key, a missing
    required key, or a bad value. Idempotent: a validated spec validates to itself.
    """
    where = f"features.{name}"
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(where, "a feature name is a letter then letters, digits, '_' or "
                         f"'-' (it names files), got {name!r}")
    if not isinstance(spec, dict):
        raise InputError(where, f"expected a mapping with a 'kind', got {spec!r}")
    kind = spec.get("kind")
    if kind not in KEYS:
        raise InputError(f"{where}.kind", f"expected one of {', '.join(KEYS)}, got {kind!r}")
    keys = {**KEYS[kind], **COMMON_KEYS}
    unknown = sorted(set(spec) - set(keys) - {"kind"})
    if unknown:
        raise InputError(f"{where}.{unknown[0]}", f"unknown key for kind {kind!r}; its keys "
                         f"are {', '.join(sorted(keys))}")
    out = {"kind": kind}
    for key, (default, check) in keys.items():
        if key not in spec:
            if default is REQUIRED:
                raise InputError(f"{where}.{key}", f"required for kind {kind!r}")
            out[key] = copy.deepcopy(default)
            continue
        try:
            out[key] = check(spec[key])
        except ValueError as err:
            raise InputError(f"{where}.{key}", f"{err}, got {spec[key]!r}") from None
    if kind == "text":
        _check_context(where, out)
    return out


def _check_context(where, spec):
    if spec["context"] == "window":
        if spec["context_words"] is None:
            spec["context_words"] = DEFAULT_CONTEXT_WORDS
    elif spec["context_words"] is not None:
        raise InputError(f"{where}.context_words", "only used with context: window, got "
                         f"{spec['context_words']!r} with context: {spec['context']}")


def scope(spec):
    """``"word"``: one vector per distinct word, shared by all subjects; ``"trial"``: per
    subject and trial (audio, mel, and text with a context window)."""
    kind = spec.get("kind")
    if kind in ("audio", "mel") or (kind == "text" and spec.get("context") == "window"):
        return "trial"
    return "word"


def result_keys(spec):
    """The part of a validated spec that determines the vectors (for cache keys)."""
    return {k: v for k, v in spec.items() if k not in NOT_IN_RESULT}
