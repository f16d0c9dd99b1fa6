"""fastText / word2vec files, random control vectors, tables, and word-scope files."""

import numpy as np
import pandas as pd
import pytest
from gensim.models import KeyedVectors
from gensim.models.fasttext import load_facebook_vectors

from hgrecon.embeddings import load_features, run_trials, run_words, tiny
from hgrecon.embeddings.control import random_vectors
from hgrecon.errors import InputError
from hgrecon.io import read_h5, write_parquet


#: random_vectors(seed 0, dim 3) of "hond", computed once (numpy 2.4, PCG64).
PINNED_HOND = [-0.8592199087, -0.0835656226, 0.0016831348]


@pytest.fixture(scope="module")
def fasttext_files(tmp_path_factory):
    return tiny.fasttext(tmp_path_factory.mktemp("ft"))


def _run(tmp_path, spec, *subjects):
    files = [tiny.words_file(tmp_path / f"sub-{i}.parquet", w) for i, w in enumerate(subjects)]
    run_words("f", spec, files, tmp_path / "f.h5")
    return read_h5(tmp_path / "f.h5")


def test_fasttext_bin_composes_unseen_words_like_gensim(fasttext_files, tmp_path):
    binary, _ = fasttext_files
    seen, unseen = ["hond", "fietsen"], ["fietsenmaker", "Hond", "honden"]
    arrays, attrs = _run(tmp_path, {"kind": "fasttext", "path": str(binary)}, seen, unseen)
    reference = load_facebook_vectors(str(binary))
    assert "fietsenmaker" not in reference.key_to_index
    assert list(arrays["words"]) == sorted(seen + unseen)
    for word, vector in zip(arrays["words"], arrays["vectors"]):
        np.testing.assert_array_equal(vector, reference.get_vector(word))
    assert attrs["kind"] == "fasttext" and attrs["dim"] == 16


def test_lowercase_looks_up_lowercased_words(fasttext_files, tmp_path):
    binary, _ = fasttext_files
    arrays, _ = _run(tmp_path, {"kind": "fasttext", "path": str(binary), "lowercase": True},
                     ["Hond", "hond"])
    assert list(arrays["words"]) == ["Hond", "hond"]
    np.testing.assert_array_equal(arrays["vectors"][0], arrays["vectors"][1])


def test_vec_file_reads_known_words_and_refuses_unknown(fasttext_files, tmp_path):
    binary, text = fasttext_files
    arrays, _ = _run(tmp_path, {"kind": "fasttext", "path": str(text)}, ["hond", "kat"])
    reference = KeyedVectors.load_word2vec_format(str(text))
    np.testing.assert_allclose(arrays["vectors"], reference[["hond", "kat"]])
    np.testing.assert_allclose(arrays["vectors"], load_facebook_vectors(str(binary))[
        ["hond", "kat"]], atol=1e-5)  # the same model, written as text
    with pytest.raises(InputError) as err:
        _run(tmp_path, {"kind": "fasttext", "path": str(text)}, ["hond", "fietsenmaker", "xq"])
    assert err.value.where == "features.f.path"
    assert str(text) in err.value.problem and "'fietsenmaker', 'xq'" in err.value.problem


def test_fasttext_file_problems(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        _run(tmp_path, {"kind": "fasttext", "path": str(tmp_path / "none.bin")}, ["a"])
    odd = tmp_path / "vectors.dat"
    odd.write_text("1 2\na 0.1 0.2\n")
    with pytest.raises(InputError, match="cannot tell the format") as err:
        _run(tmp_path, {"kind": "fasttext", "path": str(odd)}, ["a"])
    assert err.value.where == "features.f.format"
    arrays, _ = _run(tmp_path, {"kind": "fasttext", "path": str(odd),
                                "format": "word2vec_text"}, ["a"])
    np.testing.assert_allclose(arrays["vectors"], [[0.1, 0.2]])
    broken = tmp_path / "broken.bin"
    broken.write_bytes(b"not a fasttext model")
    with pytest.raises(InputError, match="cannot read .* as fasttext_bin"):
        _run(tmp_path, {"kind": "fasttext", "path": str(broken)}, ["a"])


def test_random_vectors_are_stable_across_word_sets_and_runs(tmp_path):
    spec = {"kind": "random", "dim": 8, "seed": 3}
    a, _ = _run(tmp_path, spec, ["hond", "kat"])
    b, _ = _run(tmp_path, spec, ["fiets"], ["boom", "hond", "water"])
    np.testing.assert_array_equal(a["vectors"][list(a["words"]).index("hond")],
                                  b["vectors"][list(b["words"]).index("hond")])
    assert a["vectors"].shape == (2, 8) and a["vectors"].dtype == np.float32
    other = random_vectors("f", {"dim": 8, "seed": 4}, ["hond"])
    assert not np.allclose(other[0], a["vectors"][list(a["words"]).index("hond")])
    # pinned: BLAKE2b seeding is the same on every platform and Python version
    np.testing.assert_allclose(random_vectors("f", {"dim": 3, "seed": 0}, ["hond"])[0],
                               PINNED_HOND, rtol=1e-6)
    vectors = random_vectors("f", {"dim": 64, "seed": 0}, [f"w{i}" for i in range(200)])
    assert abs(vectors.mean()) < 0.02 and abs(vectors.std() - 1) < 0.02


def _table(path, text):
    path.write_text(text)
    return path


def test_table_rows_per_word(tmp_path):
    path = _table(tmp_path / "t.tsv", "word\tf0\tf1\nhond\t1\t2\nnan\t3\t4\nkat\t5\t6\n")
    arrays, attrs = _run(tmp_path, {"kind": "table", "path": str(path)}, ["kat", "nan"])
    assert list(arrays["words"]) == ["kat", "nan"]  # "nan" stays a word
    np.testing.assert_array_equal(arrays["vectors"], [[5, 6], [3, 4]])
    assert attrs["model"] == str(path)
    csv = _table(tmp_path / "t.csv", "word,a\nkat,0.5\n")
    np.testing.assert_array_equal(_run(tmp_path, {"kind": "table", "path": str(csv)},
                                       ["kat"])[0]["vectors"], [[0.5]])


@pytest.mark.parametrize("text, message", [
    ("word\tf0\nhond\t1\n", "no row for 1 words: 'kat'"),
    ("name\tf0\nkat\t1\n", "first column 'word'"),
    ("word\tf0\nkat\tx\n", "non-numeric: \\['f0'\\]"),
    ("word\tf0\nkat\t1\nkat\t2\n", "listed twice"),
])
def test_table_problems_name_the_file(tmp_path, text, message):
    path = _table(tmp_path / "t.tsv", text)
    with pytest.raises(InputError, match=message) as err:
        _run(tmp_path, {"kind": "table", "path": str(path)}, ["kat"])
    assert err.value.where == str(path)


def test_non_ascii_words_round_trip(fasttext_files, tmp_path):
    binary, _ = fasttext_files
    words = ["één", "café", "ruïne"]
    for spec in ({"kind": "random"}, {"kind": "fasttext", "path": str(binary)}):
        arrays, _ = _run(tmp_path, spec, words)
        assert list(arrays["words"]) == sorted(words)
        table = pd.DataFrame({"trial": [0, 1], "word": ["café", "één"]})
        X = load_features(tmp_path / "f.h5", table)
        assert X.shape == (2, arrays["vectors"].shape[1]) and np.isfinite(X).all()


def test_word_scope_file_aligns_to_a_words_table(tmp_path):
    _run(tmp_path, {"kind": "random", "dim": 4}, ["kat", "hond"], ["boom"])
    table = pd.DataFrame({"trial": [5, 1, 2], "word": ["hond", "boom", "hond"]})
    X = load_features(tmp_path / "f.h5", table)
    direct = random_vectors("f", {"dim": 4, "seed": 0}, ["hond", "boom", "hond"])
    assert X.dtype == np.float64
    np.testing.assert_allclose(X, direct)
    with pytest.raises(InputError, match="no vectors for 1 words: 'vis'") as err:
        load_features(tmp_path / "f.h5", pd.DataFrame({"trial": [0], "word": ["vis"]}))
    assert err.value.where == str(tmp_path / "f.h5")


def test_scope_mismatch_points_to_the_other_function(tmp_path):
    with pytest.raises(InputError, match="run_words computes it"):
        run_trials("r", {"kind": "random"}, None, tiny.words_file(tmp_path / "w.parquet", ["a"]),
                   tmp_path / "x.h5")
    with pytest.raises(InputError, match="run_trials computes it"):
        _run(tmp_path, {"kind": "mel"}, ["a"])


def test_words_table_problems(tmp_path):
    bad = tmp_path / "bad.parquet"
    write_parquet(pd.DataFrame({"trial": [0], "token": ["a"]}), bad)
    with pytest.raises(InputError, match="missing \\['word', 'onset_s', 'sample'\\]"):
        run_words("f", {"kind": "random"}, [bad], tmp_path / "f.h5")
    dup = tiny.words_file(tmp_path / "dup.parquet", ["a", "b"], trials=[0, 0])
    with pytest.raises(InputError, match="distinct trial"):
        run_words("f", {"kind": "random"}, [dup], tmp_path / "f.h5")
