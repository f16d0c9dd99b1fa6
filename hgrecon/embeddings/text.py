"""Word vectors from Hugging Face language models (causal or masked).

Each item is one text: the word alone (``context: none``, the paper's GPT-2 protocol), or
the ``context_words`` words that preceded it in the recording's presentation order, a
space, then the word (``context: window``). A token belongs to the word when its character
offsets overlap the word's span (hence a fast tokenizer is required); special tokens
([CLS], [SEP]; GPT-2 adds none) are fed to the model but never pooled. The word's tokens
are pooled per selected layer (``pooling``: ``mean`` | ``first`` | ``last``), then the
layers are averaged or concatenated (see :mod:`.hidden`).

``add_special_tokens`` defaults to true: fed a single token without [CLS]/[SEP], a
BERT-family model such as the default MiniLM returns nearly the same vector for every
single-token word (measured: 'kat' vs 'auto', max |difference| 0.001, cosine 1.00).
GPT-2's tokenizer adds no special tokens, so for the paper's GPT-2 it changes nothing.
"""

import numpy as np

from ..errors import InputError
from . import checkpoint, hidden


def embed_words(where, spec, words, device, dtype):
    """float32 (n_words, d): each word fed alone."""
    return _embed(where, spec, list(words), [(0, len(w)) for w in words], device, dtype)


def embed_trials(where, spec, trials, device, dtype):
    """float32 (n_trials, d): each trial's word after its preceding words (``trials.words``
    in presentation order)."""
    texts, spans = context_texts(trials.words, spec["context_words"])
    return _embed(where, spec, texts, spans, device, dtype)


def context_texts(words, n_context):
    """(texts, spans): text i is words[i - n_context .. i] joined by spaces; span i the
    (start, end) characters of word i in it."""
    texts = [" ".join(words[max(0, i - n_context):i + 1]) for i in range(len(words))]
    return texts, [(len(t) - len(w), len(t)) for t, w in zip(texts, words)]


def token_weights(offsets, span, pooling):
    """float (n_tokens,) pooling weights: nonzero only on tokens overlapping ``span``.

    offsets : (start, end) characters per token; special tokens have empty spans.
    Returns None when no token overlaps the span.
    """
    start, end = span
    mine = np.array([e > s and s < end and e > start for s, e in offsets], dtype=bool)
    if not mine.any():
        return None
    w = np.zeros(len(offsets))
    idx = np.flatnonzero(mine)
    if pooling == "mean":
        w[idx] = 1.0 / len(idx)
    else:
        w[idx[0] if pooling == "first" else idx[-1]] = 1.0
    return w


def _embed(where, spec, texts, spans, device, dtype):
    import torch
    from transformers import AutoTokenizer

    model, tokenizer = checkpoint.load(where, spec, AutoTokenizer, device, dtype)
    if not tokenizer.is_fast:
        raise InputError(f"{where}.model", f"{spec['model']} has no fast tokenizer; the "
                         "word's tokens are found from character offsets, which need one")
    enc = tokenizer(texts, add_special_tokens=spec["add_special_tokens"],
                    return_offsets_mapping=True)
    ids, weights = enc["input_ids"], []
    for text, span, offsets in zip(texts, spans, enc["offset_mapping"]):
        w = token_weights(offsets, span, spec["pooling"])
        if w is None:
            raise InputError(where, f"{text[span[0]:span[1]]!r} (in {text!r}) gives no token")
        weights.append(w)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    order = np.argsort([len(x) for x in ids], kind="stable")  # less padding per batch
    out = None
    for start in range(0, len(texts), spec["batch_size"]):
        batch = order[start:start + spec["batch_size"]]
        length = max(len(ids[i]) for i in batch)
        input_ids = torch.full((len(batch), length), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), length), dtype=torch.long)
        w = torch.zeros((len(batch), length))
        for row, i in enumerate(batch):  # right padding: causal models see no pad token
            input_ids[row, :len(ids[i])] = torch.tensor(ids[i])
            mask[row, :len(ids[i])] = 1
            w[row, :len(ids[i])] = torch.from_numpy(weights[i])
        with torch.inference_mode():
            states = model(input_ids=input_ids.to(device), attention_mask=mask.to(device),
                           output_hidden_states=True).hidden_states
            h = hidden.select(where, states, spec["layers"]).float()
            pooled = torch.einsum("bt,lbtd->lbd", w.to(device), h)
            vectors = hidden.combine(pooled, spec["layer_mode"]).cpu().numpy()
        if out is None:
            out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
        out[batch] = vectors
    return out
