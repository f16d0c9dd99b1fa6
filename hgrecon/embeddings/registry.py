"""Which function computes each kind of feature, at which level.

Roles, as ``"module:function"`` inside this package (imported on first use, so that
validating a config does not import torch):

- ``words``: (where, spec, words) -> float32 (n_words, d), one vector per distinct word;
- ``trials``: (where, spec, trials) -> float32 (n_trials, d), trials a :class:`.stage.Trials`;
- ``frames``: (where, spec, audio, sfreq, frame_times) -> float32 (n_frames, d);
- ``source``: (where, spec) -> dict naming the model or file; kinds with one are cached.

Kinds with ``torch`` set run a torch model: their functions get two more arguments, the
torch device and dtype.
"""

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    words: str | None = None
    trials: str | None = None
    frames: str | None = None
    source: str | None = None
    #: runs a torch model (device, threads and dtype apply)
    torch: bool = False
    #: whether the trials role reads the trial audio
    needs_audio: bool = False


KINDS = {
    "text": Kind(words="text:embed_words", trials="text:embed_trials",
                 source="checkpoint:source", torch=True),
    "fasttext": Kind(words="static:embed_words", source="static:source"),
    "audio": Kind(trials="audio:embed_trials", frames="audio:frame_features",
                  source="checkpoint:source", torch=True, needs_audio=True),
    "mel": Kind(trials="mel:embed_trials", frames="mel:frame_features", needs_audio=True),
    "random": Kind(words="control:random_vectors"),
    "table": Kind(words="control:table_vectors"),
}


def function(ref):
    """The function a ``"module:function"`` role names."""
    module, name = ref.split(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)
