"""The paper table against a direct pandas computation, and the versions table."""

import numpy as np
import pandas as pd
import pytest

from hgrecon.io import read_parquet
from hgrecon.summary import encoding_paths
from hgrecon.tables import (PAPER_TABLE_COLUMNS, paper_table, run_paper_table,
                            run_software_versions, software_versions, to_markdown)
from hgrecon.figures.data import load
from hgrecon.figures.demo import write_demo

SUBJECTS = ["01", "02"]
FEATURES = ["fasttext", "xlsr"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("tables")
    root = base / "encoding"
    write_demo(root, base / "bids", SUBJECTS, FEATURES, n_words=12, n_channels=6,
               n_driven=3, n_perm=99, gain=3.0)
    return {"root": str(root), "base": base}


@pytest.fixture(scope="module")
def table(demo):
    base = demo["base"]
    return run_paper_table(demo["root"], SUBJECTS, FEATURES, base / "t.csv", base / "t.md",
                           base / "t.html")


def test_columns_and_rows(table):
    assert list(table.columns) == PAPER_TABLE_COLUMNS
    assert len(table) == len(SUBJECTS) * len(FEATURES) + len(FEATURES)
    assert table["subject"].tolist()[:4] == ["01", "01", "02", "02"]
    assert table["subject"].tolist()[4:] == ["all", "all"]


@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("feature", FEATURES)
def test_values_equal_direct_pandas(demo, table, subject, feature):
    ch_path, w_path, n_path = encoding_paths(demo["root"], subject, feature)
    w, n, ch = read_parquet(w_path), read_parquet(n_path), read_parquet(ch_path)
    row = table[(table["subject"] == subject) & (table["feature"] == feature)].iloc[0]
    assert row["n_words"] == len(w) == 12
    assert row["r_mean"] == pytest.approx(w["pcc"].mean())
    assert row["r_sd"] == pytest.approx(w["pcc"].std(ddof=1))
    assert row["r2_mean"] == pytest.approx(w["r2"].mean())
    assert row["r2_sd"] == pytest.approx(w["r2"].std(ddof=1))
    assert row["r_intercept_mean"] == pytest.approx(w["pcc_intercept"].mean())
    assert row["r2_intercept_mean"] == pytest.approx(w["r2_intercept"].mean())
    assert row["r_null_mean"] == pytest.approx(n["pcc"].mean())
    assert row["r2_null_mean"] == pytest.approx(n["r2"].mean())
    p = (1 + (n["pcc"] >= w["pcc"].mean()).sum()) / (1 + len(n))
    assert row["r_p"] == pytest.approx(p)
    p2 = (1 + (n["r2"] >= w["r2"].mean()).sum()) / (1 + len(n))
    assert row["r2_p"] == pytest.approx(p2)
    ridge = ch[ch["model"] == "ridge"]
    assert row["n_sig_channels"] == (ridge["p_fdr"] < 0.05).sum()
    assert row["n_channels"] == len(ridge) == 6
    assert row["n_perm"] == len(n) == 99


@pytest.mark.parametrize("feature", FEATURES)
def test_pooled_rows(demo, table, feature):
    w = pd.concat([read_parquet(encoding_paths(demo["root"], s, feature)[1]) for s in SUBJECTS])
    ch = pd.concat([read_parquet(encoding_paths(demo["root"], s, feature)[0]) for s in SUBJECTS])
    row = table[(table["subject"] == "all") & (table["feature"] == feature)].iloc[0]
    assert row["n_words"] == len(w)
    assert row["r_mean"] == pytest.approx(w["pcc"].mean())
    assert row["r_sd"] == pytest.approx(w["pcc"].std())
    assert row["r2_mean"] == pytest.approx(w["r2"].mean())
    assert np.isnan(row["r_p"]) and row["n_perm"] == 0
    assert row["n_sig_channels"] == ((ch["model"] == "ridge") & (ch["p_fdr"] < 0.05)).sum()


def test_some_channels_are_significant(table):
    assert table["n_sig_channels"].sum() > 0


def test_csv_and_markdown_written(demo, table):
    base = demo["base"]
    back = pd.read_csv(base / "t.csv", dtype={"subject": str})
    assert list(back.columns) == PAPER_TABLE_COLUMNS and len(back) == len(table)
    np.testing.assert_allclose(back["r_mean"], table["r_mean"], rtol=1e-5)
    md = (base / "t.md").read_text(encoding="utf-8").splitlines()
    assert md[0].startswith("| participant | feature |")
    body = [line for line in md if line.startswith("| sub-") or line.startswith("| all")]
    assert len(body) == len(table)
    first = table.iloc[0]
    assert f"{first['r_mean']:.3f} ± {first['r_sd']:.3f}" in body[0]
    assert f"{first['n_sig_channels']} / {first['n_channels']}" in body[0]
    page = (base / "t.html").read_text(encoding="utf-8")
    assert page.count("<tr") == len(table) + 1 and "sub-01" in page and "pooled" in page
    assert not list(base.glob("*.part"))


def test_markdown_handles_missing_null():
    table = pd.DataFrame([{
        "subject": "01", "feature": "f", "n_words": 3, "r_mean": 0.9, "r_sd": 0.1,
        "r2_mean": 0.8, "r2_sd": 0.1, "r_intercept_mean": 0.9, "r2_intercept_mean": 0.8,
        "r_null_mean": np.nan, "r2_null_mean": np.nan, "r_p": np.nan, "r2_p": np.nan,
        "n_sig_channels": 0, "n_channels": 4, "n_perm": 0}])
    assert "n/a / n/a" in to_markdown(table)


def test_no_null_gives_nan_p(demo):
    words = load(demo["root"], SUBJECTS, FEATURES, "words")
    channels = load(demo["root"], SUBJECTS, FEATURES, "channels")
    null = load(demo["root"], SUBJECTS, FEATURES, "null").iloc[:0]
    table = paper_table(words, null, channels, pooled=False)
    assert len(table) == 4 and table["r_p"].isna().all() and (table["n_perm"] == 0).all()


def test_software_versions(tmp_path):
    table = software_versions()
    assert table["package"].tolist()[:2] == ["python", "platform"]
    versions = dict(zip(table["package"], table["version"]))
    assert versions["pandas"] == pd.__version__ and versions["numpy"] == np.__version__
    run_software_versions(tmp_path / "v.csv", tmp_path / "v.html")
    assert "<table" in (tmp_path / "v.html").read_text()
    assert pd.read_csv(tmp_path / "v.csv").shape == table.shape


def test_run_config_round_trips(tmp_path):
    import yaml

    from hgrecon.tables import run_config

    config = {"bids_root": "data/synthetic", "subjects": ["01", "02"],
              "encoding": {"n_perm": 200, "ridge_alpha_grid": {"low": 0.01, "n": 17}}}
    run_config(config, tmp_path / "c.yaml", tmp_path / "c.html")
    assert yaml.safe_load((tmp_path / "c.yaml").read_text()) == config
    assert "n_perm: 200" in (tmp_path / "c.html").read_text()
