"""Embeddings: one vector per word or per trial, from language models, fastText, speech
models, log-mel spectra, or control features (random vectors, a table).

A feature is ``features: {name: spec}`` in the config; ``spec['kind']`` is one of text,
fasttext, audio, mel, random, table (keys and defaults: :mod:`.spec` and
``workflow/schemas/features.schema.yaml``). The Snakemake rules call:

- :func:`validate_spec`, :func:`scope`, :func:`uses_gpu` when building the DAG;
- :func:`run_words` (word scope) or :func:`run_trials` (trial scope) in the embed rules;
- :func:`load_features` in the encoding stage, :func:`frame_features` in the
  time-resolved stage.

Modules: ``spec`` (keys, defaults), ``registry`` (kind -> functions), ``stage`` (inputs,
cache, outputs), ``device``, ``cache``, ``checkpoint`` (Hugging Face loading), ``hidden``
(layer selection), ``text``, ``static`` (fastText / word2vec), ``audio`` (speech models),
``mel``, ``control`` (random, table), ``waveform`` (resampling, frame mapping), ``tiny``
(small random checkpoints and stage inputs for tests and benchmarks).
"""

from .device import uses_gpu
from .spec import scope, validate_spec
from .stage import frame_features, load_features, run_trials, run_words

__all__ = ["validate_spec", "scope", "uses_gpu", "run_words", "run_trials",
           "load_features", "frame_features"]
