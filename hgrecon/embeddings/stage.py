"""The embed stage: read the stage inputs, compute (or fetch from the cache), write.

Word scope (text without context, fasttext, random, table): one file for the sorted union
of all subjects' words, ``results/embeddings/words/{name}.h5`` with ``words`` str (n,) and
``vectors`` float32 (n, d). Trial scope (audio, mel, text with context): one file per
subject, ``results/embeddings/trials/sub-XX/{name}.h5`` with ``trial`` int (n,), ``words``
and ``vectors`` float32 (n, d). Both carry attrs name, kind, model, revision, layers,
pooling, dim, hgrecon_version and the full validated spec (JSON).
"""

import json
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..io import read_checked, read_h5, read_words, write_h5
from . import registry
from .cache import array_digest, cached, strings_digest
from .device import prepare
from .spec import result_keys, scope, validate_spec

#: Bump when a change of code changes the vectors, so that old cache entries are not used.
CACHE_FORMAT = 1


@dataclass(frozen=True)
class Trials:
    """One subject's trials in presentation order."""

    trial: np.ndarray        # int (n,)
    words: list              # str (n,)
    audio: np.ndarray | None  # float32 (n, n_samples), or None when the kind needs none
    sfreq: float | None


def _read_trials(audio_h5, words):
    arrays, attrs = read_checked(audio_h5, ["audio", "trial", "word"], ["sfreq"])
    audio, trial = arrays["audio"], arrays["trial"].astype(np.int64)
    if audio.ndim != 2 or len(audio) != len(trial) or len(trial) != len(arrays["word"]):
        raise InputError(audio_h5, f"expected audio (n_trials, n_samples) with one trial and "
                         f"word each; got audio {audio.shape}, {len(trial)} trials, "
                         f"{len(arrays['word'])} words")
    if audio.shape[1] == 0:
        raise InputError(audio_h5, "holds no audio (the recording has none): audio and mel "
                         "features cannot be computed for this subject")
    known = dict(zip(words["trial"].tolist(), words["word"].tolist()))
    bad = [(int(t), str(w)) for t, w in zip(trial, arrays["word"]) if known.get(int(t)) != w]
    if bad:
        raise InputError(audio_h5, f"{len(bad)} (trial, word) pairs are not in the words "
                         f"table, e.g. {bad[:5]}")
    return Trials(trial, [str(w) for w in arrays["word"]], audio, float(attrs["sfreq"]))


def _compute(name, spec, role, args, inputs, device, threads, cache_dir):
    """float32 (n, d) from the kind's ``role`` function, through the cache if it has one."""
    where = f"features.{name}"
    kind = registry.KINDS[spec["kind"]]
    ref = getattr(kind, role)
    if ref is None:
        raise InputError(f"{where}.kind", f"{spec['kind']!r} features have no {role} level")
    fn = registry.function(ref)
    extra = prepare(device, threads, spec["dtype"], where) if kind.torch else ()

    def compute():
        return np.asarray(fn(where, spec, *args, *extra), dtype=np.float32)

    if kind.source is None:
        return compute()
    parts = {"format": CACHE_FORMAT, "role": role, "spec": result_keys(spec),
             "source": registry.function(kind.source)(where, spec), "inputs": inputs}
    return cached(cache_dir, parts, compute)


def _attrs(name, spec, dim):
    return {"name": name, "kind": spec["kind"],
            "model": spec.get("model") or spec.get("path") or "",
            "revision": spec.get("revision") or "",
            "layers": json.dumps(spec["layers"]) if "layers" in spec else "",
            "pooling": spec.get("pooling") or spec.get("trial_pooling") or "",
            "dim": int(dim), "hgrecon_version": version("hgrecon"),
            "spec": json.dumps(spec, sort_keys=True)}


def _check_scope(name, spec, wanted):
    if scope(spec) != wanted:
        other = "run_trials" if wanted == "word" else "run_words"
        raise InputError(f"features.{name}", f"is a {scope(spec)}-scope feature: {other} "
                         "computes it")


def run_words(name, spec, words_parquets, out_h5, *, device="auto", threads=1,
              cache_dir=None):
    """Embed the sorted union of the words of ``words_parquets`` into ``out_h5``.

    words_parquets : paths of ``results/ingest/sub-XX_words.parquet``.
    device : auto | cpu | cuda[:N]; threads : torch CPU threads; cache_dir : or None.
    """
    spec = validate_spec(name, spec)
    _check_scope(name, spec, "word")
    if isinstance(words_parquets, (str, Path)):
        words_parquets = [words_parquets]
    words = sorted(set().union(*(read_words(p)["word"].tolist() for p in words_parquets)))
    if not words:
        raise InputError(f"features.{name}", f"no words in {list(map(str, words_parquets))}")
    vectors = _compute(name, spec, "words", (words,), {"words": strings_digest(words)},
                       device, threads, cache_dir)
    write_h5(out_h5, {"words": words, "vectors": vectors}, _attrs(name, spec, vectors.shape[1]))


def run_trials(name, spec, audio_h5, words_parquet, out_h5, *, device="auto", threads=1,
               cache_dir=None):
    """Embed one subject's trials into ``out_h5``.

    audio_h5 : ``results/trials/sub-XX_audio.h5`` (read by the audio and mel kinds);
    words_parquet : ``results/ingest/sub-XX_words.parquet`` (presentation order).
    """
    spec = validate_spec(name, spec)
    _check_scope(name, spec, "trial")
    words = read_words(words_parquet)
    if registry.KINDS[spec["kind"]].needs_audio:
        trials = _read_trials(audio_h5, words)
    else:
        trials = Trials(words["trial"].to_numpy(np.int64), words["word"].tolist(), None, None)
    inputs = {"words": strings_digest(trials.words), "sfreq": trials.sfreq,
              "audio": None if trials.audio is None else array_digest(trials.audio)}
    vectors = _compute(name, spec, "trials", (trials,), inputs, device, threads, cache_dir)
    write_h5(out_h5, {"trial": trials.trial, "words": trials.words, "vectors": vectors},
             _attrs(name, spec, vectors.shape[1]))


def load_features(path, words):
    """float64 (n_trials, d): the feature file's vectors aligned to a words table.

    words : DataFrame with ``trial`` and ``word`` (the ingest words or the trials table).
    Trial-scope files are matched by trial (and the words checked), word-scope files by
    word. A trial or word without a vector raises InputError naming the file.
    """
    arrays, _ = read_h5(path)
    if "vectors" not in arrays or "words" not in arrays:
        raise InputError(path, "not a feature file: expected datasets words and vectors")
    wanted = [str(w) for w in words["word"].tolist()]
    if "trial" in arrays:
        pos = {int(t): i for i, t in enumerate(arrays["trial"])}
        trials = [int(t) for t in words["trial"].tolist()]
        missing = [t for t in trials if t not in pos]
        if missing:
            raise InputError(path, f"no vectors for {len(missing)} trials: {missing[:10]}")
        rows = np.array([pos[t] for t in trials], dtype=np.int64)
        bad = [(t, w, arrays["words"][r]) for t, w, r in zip(trials, wanted, rows)
               if arrays["words"][r] != w]
        if bad:
            raise InputError(path, "trials hold other words than the words table "
                             f"(trial, table, file): {bad[:5]}")
    else:
        pos = {w: i for i, w in enumerate(arrays["words"])}
        missing = sorted({w for w in wanted if w not in pos})
        if missing:
            raise InputError(path, f"no vectors for {len(missing)} words: "
                             f"{', '.join(map(repr, missing[:10]))}")
        rows = np.array([pos[w] for w in wanted], dtype=np.int64)
    return arrays["vectors"][rows].astype(np.float64)


def frame_features(spec, audio, audio_sfreq, frame_times, *, name="frames", device="auto",
                   threads=1, cache_dir=None):
    """float32 (n_frames, d): an audio or mel feature on the high-gamma frames.

    audio : (n,) the whole recording at ``audio_sfreq``; frame_times : (n_frames,) window
    starts (s) of the 50 ms high-gamma windows, on the audio's clock. The mapping of
    model frames onto them is described in :mod:`.audio` and :mod:`.mel`.
    """
    spec = validate_spec(name, spec)
    audio = np.asarray(audio, dtype=np.float32)
    frame_times = np.asarray(frame_times, dtype=np.float64)
    if audio.ndim != 1 or not len(audio):
        raise InputError("audio", f"expected a non-empty 1-D recording, got shape {audio.shape}")
    if frame_times.ndim != 1:
        raise InputError("frame_times", f"expected 1-D, got shape {frame_times.shape}")
    inputs = {"audio": array_digest(audio), "sfreq": float(audio_sfreq),
              "frame_times": array_digest(frame_times)}
    return _compute(name, spec, "frames", (audio, float(audio_sfreq), frame_times), inputs,
                    device, threads, cache_dir)
