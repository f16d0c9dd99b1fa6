"""Language-model word vectors: tiny random GPT-2 / BERT built here, and the real MiniLM."""

import shutil

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from hgrecon.embeddings import checkpoint, run_trials, run_words, tiny
from hgrecon.errors import InputError
from hgrecon.io import read_h5

WORDS = ["hond", "kat", "fietsen", "kinderen", "boom", "zwemmen"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("lm")
    return {"gpt2": tiny.gpt2(root / "gpt2", n_layer=3), "bert": tiny.bert(root / "bert")}


@pytest.fixture
def load_calls(monkeypatch):
    """Count model loads (a cache hit loads nothing and runs no forward pass)."""
    calls, real = [], checkpoint.load
    monkeypatch.setattr(checkpoint, "load", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def _embed(tmp_path, spec, words=WORDS, **kw):
    out = tmp_path / "out.h5"
    run_words("f", spec, [tiny.words_file(tmp_path / "w.parquet", words)], out, **kw)
    return read_h5(out)


def _states(model_dir, text, special):
    """All hidden states (n_layers + 1, tokens, dim) and token ids of one unpadded text."""
    model = AutoModel.from_pretrained(model_dir).eval()
    ids = AutoTokenizer.from_pretrained(model_dir)(text, add_special_tokens=special)["input_ids"]
    with torch.inference_mode():
        out = model(torch.tensor([ids]), output_hidden_states=True)
    return torch.stack(out.hidden_states)[:, 0].numpy(), ids, out.last_hidden_state[0].numpy()


POOL = {"mean": lambda h: h.mean(0), "first": lambda h: h[0], "last": lambda h: h[-1]}


@pytest.mark.parametrize("pooling", ["mean", "first", "last"])
@pytest.mark.parametrize("layers, mode", [([-1], "mean"), ([0], "mean"), ([1, -1], "mean"),
                                          ([2, 0], "concat")])
def test_gpt2_word_alone_matches_a_manual_forward(models, tmp_path, pooling, layers, mode):
    spec = {"kind": "text", "model": str(models["gpt2"]), "layers": layers,
            "layer_mode": mode, "pooling": pooling, "add_special_tokens": False}
    arrays, attrs = _embed(tmp_path, spec)
    assert list(arrays["words"]) == sorted(WORDS)
    assert arrays["vectors"].dtype == np.float32
    assert attrs["dim"] == 32 * (len(layers) if mode == "concat" else 1)
    for word, got in zip(arrays["words"], arrays["vectors"]):
        states, _, _ = _states(models["gpt2"], word, False)
        per_layer = [POOL[pooling](states[i]) for i in layers]
        want = np.mean(per_layer, 0) if mode == "mean" else np.concatenate(per_layer)
        np.testing.assert_allclose(got, want, atol=2e-5, rtol=1e-4)


def test_subword_pooling_is_really_over_several_tokens(models):
    tokenizer = AutoTokenizer.from_pretrained(models["gpt2"])
    assert max(len(tokenizer(w)["input_ids"]) for w in WORDS) > 1


def test_gpt2_last_entry_is_the_last_hidden_state(models):
    """The paper's 'last hidden state' (after ln_f) is layers: [-1]."""
    states, _, last = _states(models["gpt2"], "fietsen", False)
    np.testing.assert_array_equal(states[-1], last)
    assert len(states) == 4  # 3 layers + the embeddings


def test_bert_special_tokens_feed_the_model_but_are_not_pooled(models, tmp_path):
    spec = {"kind": "text", "model": str(models["bert"])}
    arrays, _ = _embed(tmp_path, spec)
    bare, _ = _embed(tmp_path, {**spec, "add_special_tokens": False})
    for word, got, got_bare in zip(arrays["words"], arrays["vectors"], bare["vectors"]):
        states, ids, _ = _states(models["bert"], word, True)
        assert len(ids) >= 3  # [CLS] word-pieces [SEP]
        np.testing.assert_allclose(got, states[-1][1:-1].mean(0), atol=2e-5, rtol=1e-4)
        states, _, _ = _states(models["bert"], word, False)
        np.testing.assert_allclose(got_bare, states[-1].mean(0), atol=2e-5, rtol=1e-4)
        assert not np.allclose(got, got_bare, atol=1e-3)


def test_context_window_pools_only_the_target_tokens(models, tmp_path):
    words = ["de", "hond", "kat", "fietsen", "kinderen"]
    wfile = tiny.words_file(tmp_path / "w.parquet", words)
    spec = {"kind": "text", "model": str(models["gpt2"]), "context": "window",
            "context_words": 2}
    run_trials("c", spec, None, wfile, tmp_path / "c.h5")
    arrays, _ = read_h5(tmp_path / "c.h5")
    assert list(arrays["trial"]) == list(range(5)) and list(arrays["words"]) == words
    tokenizer = AutoTokenizer.from_pretrained(models["gpt2"])
    for i, got in enumerate(arrays["vectors"]):
        prefix = " ".join(words[max(0, i - 2):i])
        text = f"{prefix} {words[i]}" if prefix else words[i]
        states, ids, _ = _states(models["gpt2"], text, True)
        n_prefix = len(tokenizer(prefix)["input_ids"]) if prefix else 0
        assert ids[:n_prefix] == tokenizer(prefix)["input_ids"][:n_prefix]
        np.testing.assert_allclose(got, states[-1][n_prefix:].mean(0), atol=2e-5, rtol=1e-4)
    alone, _ = _embed(tmp_path, {**spec, "context": "none", "context_words": None},
                      words=words)
    first = list(alone["words"]).index("de")
    np.testing.assert_allclose(arrays["vectors"][0], alone["vectors"][first], atol=1e-5)
    assert not np.allclose(arrays["vectors"][1], alone["vectors"][list(alone["words"])
                                                                   .index("hond")], atol=1e-3)


def test_batching_does_not_change_vectors(models, tmp_path):
    spec = {"kind": "text", "model": str(models["bert"])}
    one, _ = _embed(tmp_path, {**spec, "batch_size": 1})
    many, _ = _embed(tmp_path, {**spec, "batch_size": 64})
    np.testing.assert_allclose(one["vectors"], many["vectors"], atol=1e-5)


def test_layer_out_of_range(models, tmp_path):
    with pytest.raises(InputError, match=r"\[7\] out of range.*4 hidden states") as err:
        _embed(tmp_path, {"kind": "text", "model": str(models["gpt2"]), "layers": [7]})
    assert err.value.where == "features.f.layers"


def test_cache_second_run_loads_no_model(models, tmp_path, load_calls):
    spec = {"kind": "text", "model": str(models["gpt2"])}
    cache = tmp_path / "cache"
    first, _ = _embed(tmp_path, spec, cache_dir=cache)
    again, _ = _embed(tmp_path, spec, words=list(reversed(WORDS)), cache_dir=cache)
    assert len(load_calls) == 1  # same sorted word union: no model load, no forward pass
    np.testing.assert_array_equal(first["vectors"], again["vectors"])
    _embed(tmp_path, {**spec, "pooling": "last"}, cache_dir=cache)
    _embed(tmp_path, spec, words=WORDS + ["vis"], cache_dir=cache)
    assert len(load_calls) == 3
    assert len(list(cache.glob("*.h5"))) == 3


def test_cache_key_follows_the_checkpoint_files(models, tmp_path, load_calls):
    model_dir = shutil.copytree(models["gpt2"], tmp_path / "copy")
    spec = {"kind": "text", "model": str(model_dir)}
    _embed(tmp_path, spec, cache_dir=tmp_path / "cache")
    tiny.gpt2(model_dir, n_layer=3, seed=1)  # new weights in the same place
    _embed(tmp_path, spec, cache_dir=tmp_path / "cache")
    assert len(load_calls) == 2


@pytest.fixture
def hub_cache(models, tmp_path, monkeypatch):
    """A Hugging Face cache holding the tiny GPT-2 as ``acme/tiny-gpt2`` at one commit."""
    from huggingface_hub import constants

    repo = tmp_path / "hub" / "models--acme--tiny-gpt2"
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(models["gpt2"], repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return commit


def test_hub_id_loads_from_the_cache_offline(models, hub_cache, tmp_path):
    spec = {"kind": "text", "model": "acme/tiny-gpt2", "layers": [-1]}
    arrays, attrs = _embed(tmp_path, spec, cache_dir=tmp_path / "cache")
    local, _ = _embed(tmp_path, {**spec, "model": str(models["gpt2"])})
    np.testing.assert_array_equal(arrays["vectors"], local["vectors"])
    assert attrs["model"] == "acme/tiny-gpt2"
    (entry,) = (tmp_path / "cache").glob("*.h5")
    assert hub_cache in read_h5(entry)[1]["key"]  # the cache key holds the commit


@pytest.mark.parametrize("cached", [False, True])  # the error comes from load or source
def test_missing_hub_model_is_one_clear_error(tmp_path, monkeypatch, cached):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError) as err:
        _embed(tmp_path, {"kind": "text", "model": "nobody-here/no-such-model"},
               cache_dir=tmp_path / "cache" if cached else None)
    from huggingface_hub import constants
    message = str(err.value)
    assert err.value.where == "features.f.model"
    for part in ("huggingface-cli download nobody-here/no-such-model", constants.HF_HUB_CACHE,
                 "HF_HUB_OFFLINE is set", "local checkpoint directory"):
        assert part in message


def test_missing_local_directory(tmp_path):
    with pytest.raises(InputError, match="no such directory: ./not/there"):
        _embed(tmp_path, {"kind": "text", "model": "./not/there"})


@pytest.mark.parametrize("damage", ["truncate weights", "drop config"])
def test_corrupt_checkpoint_is_an_input_error(models, tmp_path, damage):
    broken = shutil.copytree(models["gpt2"], tmp_path / "broken")
    if damage == "drop config":
        (broken / "config.json").unlink()
    else:
        weights = broken / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(InputError, match="not a readable checkpoint") as err:
        _embed(tmp_path, {"kind": "text", "model": str(broken)})
    assert err.value.where == "features.f.model"


def test_checkpoint_of_another_architecture_is_refused(models, tmp_path):
    """Loading would leave every weight random: refuse rather than embed noise."""
    other = shutil.copytree(models["gpt2"], tmp_path / "other")
    shutil.copy(models["bert"] / "config.json", other / "config.json")
    with pytest.raises(InputError, match="lacks 37 weights of BertModel"):
        _embed(tmp_path, {"kind": "text", "model": str(other)})


@pytest.fixture(scope="module")
def minilm():
    def embed(words, tmp_path, **spec):
        return _embed(tmp_path, {"kind": "text", **spec}, words=words)[0]
    return embed


def _cos(arrays, a, b):
    words = list(arrays["words"])
    u, v = arrays["vectors"][words.index(a)], arrays["vectors"][words.index(b)]
    return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))


def test_minilm_default_embeds_dutch_words_offline(minilm, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    dutch = ["hond", "kat", "fiets", "auto", "peer", "vis", "bus", "tafel"]
    arrays = minilm(dutch, tmp_path)
    assert arrays["vectors"].shape == (8, 384) and np.isfinite(arrays["vectors"]).all()
    # single-token words (kat, auto, peer, vis, bus) stay distinct with the default
    # add_special_tokens: true ...
    assert max(_cos(arrays, a, b) for a, b in [("kat", "auto"), ("peer", "vis"),
                                                ("bus", "kat")]) < 0.9
    # ... and collapse onto one vector without [CLS]/[SEP] (why the default is true)
    bare = minilm(dutch, tmp_path, add_special_tokens=False)
    assert min(_cos(bare, a, b) for a, b in [("kat", "auto"), ("peer", "vis"),
                                              ("bus", "kat")]) > 0.99


def test_minilm_vectors_carry_meaning_in_english(minilm, tmp_path, monkeypatch):
    """all-MiniLM-L6-v2 is an English model: measured here, it separates English
    categories (cos dog-cat 0.54 vs dog-bicycle 0.14) but not Dutch ones (hond-kat 0.09 vs
    hond-fiets 0.14), so the semantic check uses English words."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    groups = [["dog", "cat", "horse", "cow"], ["apple", "pear", "banana"],
              ["table", "chair"], ["bicycle", "car", "train", "bus"]]
    arrays = minilm(sum(groups, []), tmp_path)
    assert _cos(arrays, "dog", "cat") > _cos(arrays, "dog", "bicycle") + 0.2
    label = {w: g for g, words in enumerate(groups) for w in words}
    pairs = [(a, b) for a in label for b in label if a < b]
    within = np.mean([_cos(arrays, a, b) for a, b in pairs if label[a] == label[b]])
    between = np.mean([_cos(arrays, a, b) for a, b in pairs if label[a] != label[b]])
    assert within > between + 0.1, (within, between)
