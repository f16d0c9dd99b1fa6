"""Speech-model features with tiny random wav2vec 2.0 models built here."""

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import (AutoFeatureExtractor, AutoModel, Wav2Vec2Config,
                          Wav2Vec2FeatureExtractor)

from hgrecon.constants import WIN_S
from hgrecon.embeddings import checkpoint, frame_features, load_features, run_trials, tiny
from hgrecon.embeddings.audio import geometry, n_frames
from hgrecon.embeddings.waveform import onto_frames
from hgrecon.errors import InputError
from hgrecon.io import read_h5

SR = 16000
WORDS = ["hond", "kat", "fiets"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny.wav2vec2(tmp_path_factory.mktemp("w2v") / "m")


@pytest.fixture(scope="module")
def local_model_dir(tmp_path_factory):
    """Position convolution of 2 frames and no input normalisation: every output frame
    of hidden_states[0] depends only on the samples of two neighbouring frames."""
    path = tiny.wav2vec2(tmp_path_factory.mktemp("w2v") / "local",
                         config={**tiny.TINY_WAV2VEC2, "num_conv_pos_embeddings": 2})
    Wav2Vec2FeatureExtractor(do_normalize=False, return_attention_mask=False).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def trial_audio():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((len(WORDS), 2 * SR)) * 0.1).astype(np.float32)


@pytest.fixture
def load_calls(monkeypatch):
    """Count model loads (a cache hit loads nothing and runs no forward pass)."""
    calls, real = [], checkpoint.load
    monkeypatch.setattr(checkpoint, "load", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def _files(tmp_path, audio, table_words=WORDS):
    return (tiny.trial_audio_file(tmp_path / "a.h5", audio, WORDS),
            tiny.words_file(tmp_path / "w.parquet", table_words))


def _trials(tmp_path, audio, spec, **kw):
    audio_h5, words = _files(tmp_path, audio)
    run_trials("x", spec, audio_h5, words, tmp_path / "x.h5", **kw)
    return read_h5(tmp_path / "x.h5")


def _manual_states(model_dir, audio):
    """All hidden states (n_layers + 1, batch, frames, dim), through the HF classes."""
    model = AutoModel.from_pretrained(model_dir).eval()
    extractor = AutoFeatureExtractor.from_pretrained(model_dir)
    inputs = extractor(list(audio), sampling_rate=SR, return_tensors="pt")
    with torch.inference_mode():
        return torch.stack(model(inputs["input_values"], output_hidden_states=True)
                           .hidden_states).numpy()


def test_hidden_states_layout_matches_torchaudio_indexing(model_dir, trial_audio):
    """hidden_states[k + 1] is the raw output of transformer layer k (torchaudio's
    extract_features()[k]); the last entry is not layer-normed, last_hidden_state is."""
    model = AutoModel.from_pretrained(model_dir).eval()
    assert model.config.do_stable_layer_norm  # XLS-R's architecture
    x = torch.from_numpy(trial_audio[:1])
    with torch.inference_mode():
        out = model(x, output_hidden_states=True)
        states = out.hidden_states
        assert len(states) == model.config.num_hidden_layers + 1
        h = model.feature_projection(model.feature_extractor(x).transpose(1, 2))[0]
        h = h + model.encoder.pos_conv_embed(h)
        torch.testing.assert_close(states[0], h)
        for k, layer in enumerate(model.encoder.layers):
            h = layer(h)
            h = h[0] if isinstance(h, tuple) else h
            torch.testing.assert_close(states[k + 1], h)
        torch.testing.assert_close(model.encoder.layer_norm(states[-1]), out.last_hidden_state)
        assert not torch.allclose(states[-1], out.last_hidden_state, atol=1e-3)


def test_geometry_of_the_feature_encoder(model_dir):
    assert geometry(Wav2Vec2Config()) == (400, 320)
    assert n_frames(2 * SR, Wav2Vec2Config()) == 99  # a 2 s trial: 99 frames
    config = AutoModel.from_pretrained(model_dir).config
    for n in (400, 719, 720, 32000):
        assert n_frames(n, config) == (n - 400) // 320 + 1


@pytest.mark.parametrize("layers, mode", [([-1], "mean"), ([0, 1], "mean"), ([1, 2], "concat")])
def test_trials_match_a_manual_forward(model_dir, trial_audio, tmp_path, layers, mode):
    states = _manual_states(model_dir, trial_audio)[layers]  # (n_layers, trials, frames, dim)
    combined = states.mean(0) if mode == "mean" else np.concatenate(list(states), axis=-1)
    spec = {"kind": "audio", "model": str(model_dir), "layers": layers, "layer_mode": mode,
            "batch_size": 2}
    mean, attrs = _trials(tmp_path, trial_audio, spec)
    np.testing.assert_allclose(mean["vectors"], combined.mean(1), atol=1e-5, rtol=1e-4)
    flat, _ = _trials(tmp_path, trial_audio, {**spec, "trial_pooling": "flatten"})
    assert flat["vectors"].shape == (3, 99 * combined.shape[-1])
    np.testing.assert_allclose(flat["vectors"], combined.reshape(3, -1), atol=1e-5, rtol=1e-4)
    assert list(mean["trial"]) == [0, 1, 2] and list(mean["words"]) == WORDS
    assert attrs["pooling"] == "mean" and attrs["layers"] == str(layers)


def test_trials_must_match_the_words_table(model_dir, trial_audio, tmp_path):
    audio_h5, words = _files(tmp_path, trial_audio, table_words=["hond", "kat", "vis"])
    with pytest.raises(InputError, match=r"\(2, 'fiets'\)") as err:
        run_trials("x", {"kind": "audio", "model": str(model_dir)}, audio_h5, words,
                   tmp_path / "x.h5")
    assert err.value.where == str(audio_h5)


def test_trial_file_aligns_by_trial(model_dir, trial_audio, tmp_path):
    arrays, _ = _trials(tmp_path, trial_audio, {"kind": "audio", "model": str(model_dir)})
    table = pd.DataFrame({"trial": [2, 0], "word": ["fiets", "hond"]})
    np.testing.assert_allclose(load_features(tmp_path / "x.h5", table), arrays["vectors"][[2, 0]])
    with pytest.raises(InputError, match="other words"):
        load_features(tmp_path / "x.h5", pd.DataFrame({"trial": [1], "word": ["vis"]}))
    with pytest.raises(InputError, match="no vectors for 1 trials: \\[7\\]"):
        load_features(tmp_path / "x.h5", pd.DataFrame({"trial": [7], "word": ["vis"]}))


def test_onto_frames_reproduces_a_linear_function_of_time():
    centres = (np.arange(100) * 320 + 200) / SR
    values = np.stack([centres, 2 * centres + 1], axis=1)
    frame_times = np.arange(10, 150) * 0.01
    got = onto_frames(centres, values, frame_times)
    np.testing.assert_allclose(got[:, 0], frame_times + WIN_S / 2, atol=1e-6)
    np.testing.assert_allclose(got[:, 1], 2 * (frame_times + WIN_S / 2) + 1, atol=1e-5)
    first = onto_frames(centres, values, [0.0])  # centre 25 ms: 0.375 frame 0 + 0.625 frame 1
    np.testing.assert_allclose(first[0], 0.375 * values[0] + 0.625 * values[1], rtol=1e-6)


def test_click_shows_up_at_its_time(local_model_dir):
    frame_times = np.arange(290) * 0.01
    click = 19752  # 1.2345 s
    silent = np.zeros(3 * SR, np.float32)
    clicked = silent.copy()
    clicked[click] = 1.0
    spec = {"kind": "audio", "model": str(local_model_dir), "layers": [0]}
    delta = np.abs(frame_features(spec, clicked, SR, frame_times)
                   - frame_features(spec, silent, SR, frame_times)).max(1)
    centres = frame_times + WIN_S / 2
    # documented geometry: model frame k reads samples [320 k, 320 k + 400), centred at
    # (320 k + 200) / sr; the 2-frame position convolution passes frame k on to k + 1;
    # a high-gamma frame interpolates the two model frames around its centre
    hit = [k for k in range(200) if 320 * k <= click < 320 * k + 400]
    model_centres = (320 * np.arange(200) + 200) / SR
    lo, hi = model_centres[min(hit) - 1], model_centres[max(hit) + 2]
    expected = np.flatnonzero((centres > lo) & (centres < hi))
    assert list(np.flatnonzero(delta > 1e-6)) == list(expected)
    assert abs(centres[delta.argmax()] - click / SR) < 0.01


def test_48k_recording_is_resampled(local_model_dir):
    t = np.arange(3 * 48000) / 48000
    audio = (np.sin(2 * np.pi * 440 * t) * 0.3).astype(np.float32)
    frame_times = np.arange(250) * 0.01
    spec = {"kind": "audio", "model": str(local_model_dir), "layers": [0]}
    at_48k = frame_features(spec, audio, 48000, frame_times)
    at_16k = frame_features(spec, audio[::3].copy(), SR, frame_times)  # 440 Hz: no aliasing
    np.testing.assert_allclose(at_48k[10:-10], at_16k[10:-10], atol=2e-3, rtol=1e-2)


def test_chunked_equals_unchunked_for_the_local_layer(model_dir):
    rng = np.random.default_rng(3)
    audio = (rng.standard_normal(8 * SR) * 0.1).astype(np.float32)
    frame_times = np.arange(790) * 0.01
    spec = {"kind": "audio", "model": str(model_dir), "layers": [0]}
    whole = frame_features({**spec, "chunk_s": 100.0}, audio, SR, frame_times)
    chunked = frame_features({**spec, "chunk_s": 1.0, "chunk_overlap_s": 0.5}, audio, SR,
                             frame_times)
    assert whole.shape == chunked.shape == (790, 32)
    np.testing.assert_allclose(chunked, whole, atol=1e-5, rtol=1e-4)


def test_chunks_see_only_their_overlap_in_deeper_layers(model_dir):
    """Attention layers see ±chunk_overlap_s: close to the one-pass result, not equal."""
    rng = np.random.default_rng(4)
    audio = (rng.standard_normal(8 * SR) * 0.1).astype(np.float32)
    frame_times = np.arange(790) * 0.01
    spec = {"kind": "audio", "model": str(model_dir), "layers": [-1]}
    whole = frame_features({**spec, "chunk_s": 100.0}, audio, SR, frame_times)
    chunked = frame_features({**spec, "chunk_s": 2.0, "chunk_overlap_s": 1.0}, audio, SR,
                             frame_times)
    assert np.corrcoef(whole.ravel(), chunked.ravel())[0, 1] > 0.99
    assert np.abs(whole - chunked).max() > 1e-5


def test_frame_features_are_cached(model_dir, tmp_path, load_calls):
    audio = np.random.default_rng(5).standard_normal(2 * SR).astype(np.float32)
    spec = {"kind": "audio", "model": str(model_dir)}
    first = frame_features(spec, audio, SR, np.arange(150) * 0.01, cache_dir=tmp_path)
    again = frame_features(spec, audio, SR, np.arange(150) * 0.01, cache_dir=tmp_path)
    assert len(load_calls) == 1
    np.testing.assert_array_equal(first, again)
    frame_features(spec, audio * 2, SR, np.arange(150) * 0.01, cache_dir=tmp_path)
    assert len(load_calls) == 2


def test_trial_cache_is_shared_by_subjects_with_the_same_audio(model_dir, trial_audio,
                                                               tmp_path, load_calls):
    spec = {"kind": "audio", "model": str(model_dir)}
    for sub in ("01", "02"):
        (tmp_path / sub).mkdir()
        _trials(tmp_path / sub, trial_audio, spec, cache_dir=tmp_path / "cache")
    assert len(load_calls) == 1


def test_missing_audio_model(trial_audio, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError, match="huggingface-cli download facebook/not-a-model") as err:
        _trials(tmp_path, trial_audio, {"kind": "audio", "model": "facebook/not-a-model"})
    assert err.value.where == "features.x.model"
