"""Selecting and combining a model's hidden states (shared by text and audio models).

``hidden_states`` (``output_hidden_states=True``) holds n_layers + 1 tensors
(batch, positions, dim): entry 0 is the input of the first transformer layer, entry i the
output of layer i. ``layers`` are indices into it (negatives count from the end, ``all``
takes every entry); the selected layers are averaged (``layer_mode: mean``) or
concatenated along the feature axis in the order given (``concat``: dim × n_layers).
"""

from ..errors import InputError


def select(where, hidden_states, layers):
    """Tensor (n_selected, batch, positions, dim) of the ``layers`` entries."""
    import torch

    n = len(hidden_states)
    if layers == "all":
        layers = range(n)
    bad = [i for i in layers if not -n <= i < n]
    if bad:
        raise InputError(f"{where}.layers", f"indices {bad} out of range: the model has "
                         f"{n} hidden states (0..{n - 1}, or -{n}..-1)")
    return torch.stack([hidden_states[i] for i in layers])


def combine(x, mode):
    """(n_layers, ..., dim) -> (..., dim) for ``mean``, (..., n_layers * dim) for ``concat``."""
    import torch

    return x.mean(0) if mode == "mean" else torch.cat(list(x), dim=-1)
