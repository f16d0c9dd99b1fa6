"""Speech-model features: wav2vec 2.0, XLS-R, HuBERT, WavLM (``AutoModel`` +
``AutoFeatureExtractor``) on the produced speech.

Input: the audio resampled to the extractor's rate (16 kHz) and normalised by the
extractor (zero mean, unit variance when ``do_normalize``): per trial in the trial path,
over the whole recording in the frame path.

Which layer is the paper's? The paper's code takes torchaudio's ``WAV2VEC2_XLSR_300M``
``extract_features(x)[23]``: the output of the 24th (last) transformer layer, before the
encoder's final layer norm. In transformers (checked in 5.24, ``Wav2Vec2EncoderStable
LayerNorm``, the ``do_stable_layer_norm`` architecture of XLS-R) ``hidden_states`` has
25 entries: entry 0 is the input of the first layer (feature projection + convolutional
position embedding), entry i the output of layer i, and the last entry is *not*
layer-normed (the final ``layer_norm`` is applied only to ``last_hidden_state``). So
torchaudio output k = ``hidden_states[k + 1]`` and the paper's layer is ``layers: [24]``
(= ``[-1]``). Transformers 4.x appended the layer-normed state as the last entry instead;
``tests/test_embeddings_audio.py`` pins the current behaviour.

Frames. The convolutional encoder maps samples to frames with receptive field ``rf`` and
stride ``stride`` (from ``conv_kernel`` / ``conv_stride``; 400 and 320 samples = 25 and
20 ms for every wav2vec 2.0-family model): frame k covers samples
[k * stride, k * stride + rf), centred at (k * stride + rf / 2) / sr = 20 k + 12.5 ms.
The frame path moves these onto the high-gamma frames by linear interpolation at the
high-gamma window centres (frame_times + 25 ms; :func:`.waveform.onto_frames`): e.g. the
window starting at 0 s (centre 25 ms) gets 0.375 × frame 0 + 0.625 × frame 1.

Chunking (frame path). The recording is cut into chunks of ``chunk_s`` (rounded to whole
frames), each run with ``chunk_overlap_s`` of extra audio on both sides; only the frames
centred in the chunk are kept. Chunk starts are multiples of the stride, so a kept frame
sees exactly the samples it sees in one pass, and with a layer-normed feature encoder
(``feat_extract_norm: layer``: XLS-R, large models) entry 0 of ``hidden_states`` is
identical whenever the overlap covers the position convolution (128 frames = ±1.28 s
for XLS-R, inside the 2 s default). Transformer layers attend over their whole input,
so deeper layers see ±``chunk_overlap_s`` of context instead of the whole recording
(and a ``group``-normed encoder, wav2vec2-base, normalises per chunk): an approximation,
needed to fit a 5-minute recording in memory.
"""

import numpy as np

from ..errors import InputError
from . import checkpoint, hidden
from .waveform import onto_frames, pool_trials, to_rate


def geometry(config):
    """(receptive field, stride) of the convolutional feature encoder, in samples."""
    rf, stride = 1, 1
    for kernel, step in zip(config.conv_kernel, config.conv_stride):
        rf += (kernel - 1) * stride
        stride *= step
    return rf, stride


def n_frames(n_samples, config):
    """Number of encoder frames for ``n_samples`` input samples."""
    for kernel, step in zip(config.conv_kernel, config.conv_stride):
        n_samples = (n_samples - kernel) // step + 1
    return max(0, n_samples)


def _load(where, spec, device, dtype):
    from transformers import AutoFeatureExtractor

    return checkpoint.load(where, spec, AutoFeatureExtractor, device, dtype)


def _states(where, spec, model, inputs, device, dtype):
    """float32 (batch, frames, d): selected, combined hidden states for inputs (batch, n)."""
    import torch

    with torch.inference_mode():
        x = torch.as_tensor(np.asarray(inputs, dtype=np.float32)).to(device=device, dtype=dtype)
        states = model(x, output_hidden_states=True).hidden_states
        h = hidden.select(where, states, spec["layers"]).float()
        return hidden.combine(h, spec["layer_mode"]).cpu().numpy()


def _prepare(extractor, audio, sfreq):
    """Audio (..., n) at the extractor's rate, normalised as the extractor does."""
    sr = extractor.sampling_rate
    audio = to_rate(audio, sfreq, sr)
    rows = audio.reshape(-1, audio.shape[-1])
    values = extractor(list(rows), sampling_rate=sr, return_tensors="np")["input_values"]
    return np.asarray(values, dtype=np.float32).reshape(audio.shape), sr


def embed_trials(where, spec, trials, device, dtype):
    """float32 (n_trials, d) (``trial_pooling: mean``) or (n_trials, n_frames * d)
    (``flatten``, frame-major)."""
    model, extractor = _load(where, spec, device, dtype)
    audio, _ = _prepare(extractor, trials.audio, trials.sfreq)
    if n_frames(audio.shape[1], model.config) < 1:
        raise InputError(where, f"trials of {audio.shape[1]} samples are shorter than one "
                         "frame of the model")
    bs = spec["batch_size"]
    frames = np.concatenate([_states(where, spec, model, audio[i:i + bs], device, dtype)
                             for i in range(0, len(audio), bs)])
    return pool_trials(frames, spec["trial_pooling"])


def frame_features(where, spec, audio, sfreq, frame_times, device, dtype):
    """float32 (n_frames, d): the recording's model frames on the high-gamma frames."""
    model, extractor = _load(where, spec, device, dtype)
    # one extractor call on the whole recording: one normalisation for every chunk
    x, sr = _prepare(extractor, np.asarray(audio)[None], sfreq)
    x = x[0]
    rf, stride = geometry(model.config)
    total = n_frames(len(x), model.config)
    if total < 1:
        raise InputError(where, f"the recording ({len(x)} samples) is shorter than one "
                         "frame of the model")
    chunk = max(1, int(round(spec["chunk_s"] * sr / stride)))
    overlap = int(np.ceil(spec["chunk_overlap_s"] * sr / stride))
    kept = []
    for c0 in range(0, total, chunk):
        c1 = min(total, c0 + chunk)
        f0, f1 = max(0, c0 - overlap), min(total, c1 + overlap)
        h = _states(where, spec, model, x[None, f0 * stride:(f1 - 1) * stride + rf],
                    device, dtype)[0]
        kept.append(h[c0 - f0:c1 - f0])
    centres = (np.arange(total) * stride + rf / 2) / sr
    return onto_frames(centres, np.concatenate(kept), frame_times)
