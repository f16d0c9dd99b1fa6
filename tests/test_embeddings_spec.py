"""Feature specs: defaults, validation messages, scopes, and the schema agreeing with them."""

from pathlib import Path

import jsonschema
import pytest
import yaml

from hgrecon.embeddings import scope, validate_spec
from hgrecon.embeddings.registry import KINDS
from hgrecon.embeddings.spec import COMMON_KEYS, KEYS, REQUIRED
from hgrecon.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/features.schema.yaml").read_text())


def test_defaults_are_filled():
    text = validate_spec("t", {"kind": "text"})
    assert text == {"kind": "text", "model": "minilm", "revision": None, "layers": [-1],
                    "layer_mode": "mean", "dtype": "float32", "pooling": "mean",
                    "context": "none", "context_words": None, "add_special_tokens": True,
                    "batch_size": 32, "pca_variance": None}
    audio = validate_spec("a", {"kind": "audio", "model": "m", "layers": 24})
    assert audio["layers"] == [24] and audio["trial_pooling"] == "mean"
    assert audio["chunk_s"] == 20.0 and audio["chunk_overlap_s"] == 2.0
    assert validate_spec("m", {"kind": "mel"})["n_mels"] == 23
    assert validate_spec("r", {"kind": "random"})["dim"] == 64
    window = validate_spec("c", {"kind": "text", "context": "window"})
    assert window["context_words"] == 5


def test_defaults_are_not_shared_between_specs():
    a = validate_spec("a", {"kind": "text"})
    a["layers"].append(3)
    assert validate_spec("b", {"kind": "text"})["layers"] == [-1]


@pytest.mark.parametrize("spec", [
    {"kind": "text", "model": "gpt2", "layers": "all", "pooling": "last"},
    {"kind": "fasttext", "path": "x.bin", "lowercase": True},
    {"kind": "audio", "model": "m", "trial_pooling": "flatten", "pca_variance": 0.9},
])
def test_validation_is_idempotent(spec):
    once = validate_spec("f", spec)
    assert validate_spec("f", once) == once


@pytest.mark.parametrize("spec, where, text", [
    ({"kind": "bogus"}, "features.f.kind", "'bogus'"),
    ({"kind": "text", "colour": 1}, "features.f.colour", "unknown key"),
    ({"kind": "text", "pooling": "max"}, "features.f.pooling", "'max'"),
    ({"kind": "text", "layers": []}, "features.f.layers", "[]"),
    ({"kind": "text", "layers": [1.5]}, "features.f.layers", "[1.5]"),
    ({"kind": "text", "batch_size": 0}, "features.f.batch_size", "got 0"),
    ({"kind": "text", "add_special_tokens": "yes"}, "features.f.add_special_tokens", "'yes'"),
    ({"kind": "text", "context_words": 3}, "features.f.context_words", "context: none"),
    ({"kind": "audio"}, "features.f.model", "required"),
    ({"kind": "fasttext"}, "features.f.path", "required"),
    ({"kind": "random", "dim": True}, "features.f.dim", "True"),
    ({"kind": "mel", "trial_pooling": "sum"}, "features.f.trial_pooling", "'sum'"),
    ({"kind": "mel", "pca_variance": 1.5}, "features.f.pca_variance", "1.5"),
])
def test_bad_specs_name_the_key_and_value(spec, where, text):
    with pytest.raises(InputError) as err:
        validate_spec("f", spec)
    assert err.value.where == where
    assert text in err.value.problem


def test_bad_feature_name():
    with pytest.raises(InputError, match="names files"):
        validate_spec("a/b", {"kind": "mel"})


@pytest.mark.parametrize("spec, expected", [
    ({"kind": "text"}, "word"), ({"kind": "text", "context": "window"}, "trial"),
    ({"kind": "fasttext", "path": "x"}, "word"), ({"kind": "random"}, "word"),
    ({"kind": "table", "path": "x"}, "word"), ({"kind": "audio", "model": "m"}, "trial"),
    ({"kind": "mel"}, "trial"),
])
def test_scope(spec, expected):
    assert scope(spec) == expected
    assert scope(validate_spec("f", spec)) == expected


def _resolve(node):
    ref = node.get("$ref", "")
    return {**SCHEMA["$defs"][ref.split("/")[-1]], **node} if ref else node


def test_schema_lists_the_keys_and_defaults_of_validate_spec():
    assert set(SCHEMA["properties"]["kind"]["enum"]) == set(KEYS) == set(KINDS)
    by_kind = {b["if"]["properties"]["kind"]["const"]: b["then"] for b in SCHEMA["allOf"]}
    assert set(by_kind) == set(KEYS)
    for kind, block in by_kind.items():
        props = {k: _resolve(v) for k, v in block["properties"].items() if k != "kind"}
        keys = {**KEYS[kind], **COMMON_KEYS}
        assert set(props) == set(keys), kind
        for key, (default, _) in keys.items():
            assert props[key]["description"], (kind, key)
            if default is REQUIRED:
                assert key in block["required"] and "default" not in props[key], (kind, key)
            else:
                assert props[key]["default"] == default, (kind, key)


def test_paper_config_features_validate():
    features = yaml.safe_load((ROOT / "config/paper.yaml").read_text())["features"]
    assert {s["kind"] for s in features.values()} == {"fasttext", "text", "audio", "mel",
                                                      "random"}
    for name, spec in features.items():
        jsonschema.validate(spec, SCHEMA)
        validate_spec(name, spec)
    assert features["xlsr"]["layers"] == [24] and features["xlsr"]["trial_pooling"] == "flatten"
    assert features["gpt2"]["model"] == "gpt2" and features["gpt2"]["context"] == "none"


@pytest.mark.parametrize("spec", [
    {"kind": "text", "pooling": "max"}, {"kind": "audio"}, {"kind": "mel", "extra": 1},
    {"kind": "text", "layers": []},
])
def test_schema_rejects_what_validate_spec_rejects(spec):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(spec, SCHEMA)
