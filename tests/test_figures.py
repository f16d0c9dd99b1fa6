"""Every figure drawn from small synthetic encode outputs: files, panels, bars, labels, marks."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgb
from matplotlib.container import BarContainer

from hgrecon.figures import make, paper_scores
from hgrecon.figures import style as st
from hgrecon.figures.data import load, load_electrodes, read_electrodes
from hgrecon.figures.demo import demo_paths, write_demo
from hgrecon.figures.electrodes import VIEWS, fig_electrodes
from hgrecon.figures.honest import fig_baselines, fig_channels
from hgrecon.figures.paper import R2_BINS, fig_per_participant, fig_r2_bins, r2_bin, r2_bin_counts

SUBJECTS = ["01", "02", "03"]
FEATURES = ["fasttext", "gpt2", "xlsr"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("demo")
    root, bids = base / "encoding", base / "bids"
    # 199 permutations: the smallest p (0.005) survives BH over 8 channels
    write_demo(root, bids, SUBJECTS, FEATURES, n_words=14, n_channels=8, n_driven=3,
               n_perm=199, gain=3.0)
    return {"root": str(root), "bids": str(bids), "base": base}


@pytest.fixture(scope="module")
def words(demo):
    return load(demo["root"], SUBJECTS, FEATURES, "words")


@pytest.fixture(scope="module")
def channels(demo):
    return load(demo["root"], SUBJECTS, FEATURES, "channels")


def check_files(png, pdf=None):
    pdf = pdf or st.pdf_path(png)
    data = open(png, "rb").read()
    assert data.startswith(PNG_MAGIC) and len(data) > 1000
    vec = open(pdf, "rb").read()
    assert vec.startswith(b"%PDF") and len(vec) > 1000


def data_axes(fig):
    """Visible Axes that are not colour bars."""
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def assert_units(ax, which="y"):
    text = ax.get_ylabel() if which == "y" else ax.get_xlabel()
    assert st.UNIT_PATTERN.search(text), f"{which} label {text!r} has no unit"


def collections(ax, gid):
    return [c for c in ax.collections if isinstance(c, PathCollection) and c.get_gid() == gid]


# --- paper figure 1 --------------------------------------------------------------------

def test_r2_bin_edges():
    r2 = np.array([-3.0, -1e-9, 0.0, 0.05, 0.1, 0.95, 0.999, 1.0, np.nan])
    np.testing.assert_array_equal(r2_bin(r2)[:-1], [0, 0, 1, 1, 2, 10, 10, 10])
    assert np.isnan(r2_bin(r2)[-1])
    assert len(R2_BINS) == 11 and R2_BINS[0] == "<0" and R2_BINS[-1] == "0.9–1.0"


def test_r2_bin_counts_mean_over_participants():
    words = pd.DataFrame({
        "subject": ["01"] * 4 + ["02"] * 2,
        "feature": ["a"] * 6,
        "r2": [-0.5, 0.05, 0.95, 0.97, 0.55, np.nan],
    })
    counts = r2_bin_counts(words)
    assert counts.shape == (1, 11)
    expected = np.zeros(11)
    expected[[0, 1]] = 0.5          # one word in sub-01, none in sub-02
    expected[10] = 1.0              # two in sub-01
    expected[6] = 0.5               # 0.55 in sub-02; its NaN word is left out
    np.testing.assert_allclose(counts.loc["a"].to_numpy(), expected)


def test_fig_r2_bins(demo, words, tmp_path):
    fig = make.r2_bins(demo["root"], SUBJECTS, FEATURES, tmp_path / "r2.png")
    check_files(tmp_path / "r2.png")
    (ax,) = data_axes(fig)
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars) == len(FEATURES)
    assert sum(len(b) for b in bars) == len(R2_BINS) * len(FEATURES)
    assert [t.get_text() for t in ax.get_xticklabels()] == R2_BINS
    assert_units(ax, "y") and assert_units(ax, "x")
    # bar heights are the mean counts, and sum to the words per participant
    for bar, feature in zip(bars, FEATURES):
        heights = np.array([p.get_height() for p in bar])
        assert heights.sum() == pytest.approx(14.0)
        np.testing.assert_allclose(heights, r2_bin_counts(words).loc[feature].to_numpy())
    assert ax.get_legend() is not None and len(ax.get_legend().get_texts()) == len(FEATURES)


# --- paper figure 2 and honest figure 3 --------------------------------------------------

@pytest.mark.parametrize("feature", FEATURES[:2])
def test_fig_per_participant(demo, feature, tmp_path):
    fig = make.per_participant(demo["root"], SUBJECTS, FEATURES, feature, tmp_path / "pp.png")
    check_files(tmp_path / "pp.png")
    axes = data_axes(fig)
    assert len(axes) == 2
    for ax in axes:
        assert_units(ax, "y")
        points = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(points) == len(SUBJECTS)                  # one strip per participant
        assert sum(len(c.get_offsets()) for c in points) == 14 * len(SUBJECTS)
    assert "R²" in axes[0].get_ylabel() and "Pearson r" in axes[1].get_ylabel()
    assert [t.get_text() for t in axes[1].get_xticklabels()] == [f"sub-{s}\n(n = 14)"
                                                                  for s in SUBJECTS]
    # the colour of a feature is the same as in figure 1
    colour = st.feature_colors(FEATURES)[feature]
    assert np.allclose(points[0].get_facecolor()[0][:3], to_rgb(colour))


def test_fig_per_participant_clips_very_negative_r2(words):
    low = words.copy()
    low.loc[low.index[low["feature"] == "gpt2"][:3], "r2"] = -5.0
    fig = fig_per_participant(low, "gpt2")
    ax = data_axes(fig)[0]
    assert ax.get_ylim()[0] == pytest.approx(-1.05)
    assert any("not drawn" in t.get_text() for t in ax.texts)


def test_fig_baselines(demo, tmp_path):
    fig = make.baselines(demo["root"], SUBJECTS, FEATURES, "xlsr", tmp_path / "bl.png")
    check_files(tmp_path / "bl.png")
    axes = data_axes(fig)
    assert len(axes) == 2
    for ax in axes:
        assert_units(ax, "y")
        points = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(points) == 3 * len(SUBJECTS)              # paper, intercept, null
        colours = {tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in points}
        assert len(colours) == 3
        assert sum(t.get_text().startswith("p ") for t in ax.texts) == len(SUBJECTS)
    legend = axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == list(st.MODEL_LABELS.values())


def test_fig_baselines_p_matches_table(demo, words):
    null = load(demo["root"], SUBJECTS, FEATURES, "null")
    from hgrecon.tables import paper_table

    table = paper_table(words, null, load(demo["root"], SUBJECTS, FEATURES, "channels"))
    fig = fig_baselines(words, null, "gpt2")
    shown = [t.get_text() for t in data_axes(fig)[1].texts if t.get_text().startswith("p ")]
    expected = table[(table["feature"] == "gpt2") & (table["subject"] != "all")]["r_p"]
    from hgrecon.figures.honest import format_p

    assert shown == [format_p(p) for p in expected]


# --- honest figure 4 -------------------------------------------------------------------

def test_fig_channels(demo, channels, tmp_path):
    fig = make.channels(demo["root"], "02", FEATURES, tmp_path / "ch.png")
    check_files(tmp_path / "ch.png")
    axes = data_axes(fig)
    assert len(axes) == len(FEATURES)
    ridge = channels[(channels["subject"] == "02") & (channels["model"] == "ridge")]
    total_sig = 0
    for ax, feature in zip(axes, FEATURES):
        assert_units(ax, "y")
        expected = int((ridge.loc[ridge["feature"] == feature, "p_fdr"] < 0.05).sum())
        (sig,) = collections(ax, "significant")
        (nonsig,) = collections(ax, "not-significant")
        (null,) = collections(ax, "null")
        assert len(sig.get_offsets()) == expected
        assert len(sig.get_offsets()) + len(nonsig.get_offsets()) == 8
        assert len(null.get_offsets()) == 8
        total_sig += expected
        # sorted profile: observed r falls from left to right
        xy = np.concatenate([sig.get_offsets(), nonsig.get_offsets()])
        r = xy[np.argsort(xy[:, 0]), 1]
        assert np.all(np.diff(r) <= 1e-12)
        assert f"{expected}/8" in ax.get_title()
    assert total_sig > 0, "the demo should plant detectable channels"


def test_fig_channels_hides_spare_panels(channels):
    two = channels[channels["feature"].isin(FEATURES[:1])]
    fig = fig_channels(two, "01")
    assert len(data_axes(fig)) == 1


# --- honest figure 6 -------------------------------------------------------------------

def test_read_electrodes_drops_missing_positions(tmp_path):
    tsv = tmp_path / "e.tsv"
    tsv.write_text("name\tx\ty\tz\tsize\nA1\t1\t2\t3\t5\nA2\tn/a\tn/a\tn/a\t5\n")
    table, info = read_electrodes(tsv)
    assert table["name"].tolist() == ["A1"] and info == {"system": "unknown", "units": "mm"}


@pytest.mark.parametrize("name, system", [
    ("sub-07_task-wordProduction_space-ACPC_electrodes.tsv", "ACPC"),   # the real dataset
    ("sub-07_space-MNI152NLin2009cAsym_electrodes.tsv", "MNI152NLin2009cAsym"),
    ("sub-07_task-wordProduction_electrodes.tsv", "unknown"),
])
def test_electrodes_paths_find_bids_names(tmp_path, name, system):
    from hgrecon.figures.data import electrodes_paths

    ieeg = tmp_path / "sub-07" / "ieeg"
    ieeg.mkdir(parents=True)
    (ieeg / name).write_text("name\tx\ty\tz\nA1\t1\t2\t3\n")
    tsv, coords = electrodes_paths(tmp_path, "07")
    assert tsv == ieeg / name
    table, info = load_electrodes(tmp_path, "07")     # no coordsystem: system from the name
    assert len(table) == 1 and info["system"] == system
    (ieeg / name.replace("_electrodes.tsv", "_coordsystem.json")).write_text(
        '{"iEEGCoordinateSystem": "Other", "iEEGCoordinateUnits": "m"}')
    assert load_electrodes(tmp_path, "07")[1] == {"system": "Other", "units": "m"}


def test_fig_electrodes(demo, channels, tmp_path):
    fig = make.electrodes(demo["root"], demo["bids"], "03", FEATURES, tmp_path / "el.png")
    check_files(tmp_path / "el.png")
    axes = data_axes(fig)
    assert len(axes) == 3 * len(FEATURES)
    assert any(ax.get_label() == "<colorbar>" for ax in fig.axes)
    ridge = channels[(channels["subject"] == "03") & (channels["model"] == "ridge")]
    for row, feature in enumerate(FEATURES):
        expected = int((ridge.loc[ridge["feature"] == feature, "p_fdr"] < 0.05).sum())
        for ax, (h, v, _) in zip(axes[3 * row:3 * row + 3], VIEWS):
            (sig,) = collections(ax, "significant")
            (nonsig,) = collections(ax, "not-significant")
            assert len(sig.get_offsets()) == expected
            assert len(sig.get_offsets()) + len(nonsig.get_offsets()) == 8
            assert ax.get_xlabel().startswith(h) and ax.get_xlabel().endswith("(mm)")
            assert ax.get_ylabel().startswith(v) and ax.get_ylabel().endswith("(mm)")


def test_fig_electrodes_positions_and_missing(demo, channels):
    positions, info = load_electrodes(demo["bids"], "01")
    assert info["system"] == "ACPC"
    partial = positions.iloc[2:]                  # two channels without a position
    fig = fig_electrodes(channels, partial, "01", info)
    ax = data_axes(fig)[0]
    shown = np.concatenate([c.get_offsets() for c in ax.collections
                            if isinstance(c, PathCollection)])
    assert len(shown) == 6
    np.testing.assert_allclose(np.sort(shown[:, 0]), np.sort(partial["x"].to_numpy()))
    assert "2 without position" in ax.get_title()


# --- issue-9 figure ----------------------------------------------------------------------

def test_paper_scores(demo, tmp_path):
    out = tmp_path / "sub-01_paper_scores.png"
    fig = paper_scores(demo_paths(demo["root"], "01", FEATURES), FEATURES, str(out))
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 1000
    assert not out.with_suffix(".pdf").exists()      # only the rule's declared output
    (ax,) = data_axes(fig)
    assert_units(ax, "y")
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(points) == 3 * len(FEATURES)
    assert [t.get_text() for t in ax.get_xticklabels()] == FEATURES
    assert "sub-01" in ax.get_title()


def test_paper_scores_rejects_mismatch(demo, tmp_path):
    with pytest.raises(ValueError, match="2 word tables for 3 features"):
        paper_scores(demo_paths(demo["root"], "01", FEATURES[:2]), FEATURES,
                     str(tmp_path / "x.png"))


# --- style ---------------------------------------------------------------------------------

def test_every_value_axis_has_a_unit(demo, words, channels):
    null = load(demo["root"], SUBJECTS, FEATURES, "null")
    positions, info = load_electrodes(demo["bids"], "01")
    figures = [fig_r2_bins(words), fig_per_participant(words, "gpt2"),
               fig_baselines(words, null, "gpt2"), fig_channels(channels, "01"),
               fig_electrodes(channels, positions, "01", info)]
    for fig in figures:
        for ax in data_axes(fig):
            assert_units(ax, "y")
            categorical = ("participant", "feature", "channel, sorted by observed r")
            if ax.get_xlabel() == "":               # the label sits on the shared x-axis below
                siblings = ax.get_shared_x_axes().get_siblings(ax)
                assert any(o.get_xlabel() in categorical for o in siblings if o is not ax)
            elif ax.get_xlabel() not in categorical:
                assert_units(ax, "x")


def test_png_bytes_are_reproducible(words, tmp_path):
    fig = fig_r2_bins(words)
    st.save(fig, tmp_path / "a.png")
    st.save(fig, tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert not list(tmp_path.glob("*.part"))


def test_feature_colours_are_okabe_ito():
    colours = st.feature_colors(["a", "b", "c"])
    assert set(colours.values()) <= set(st.OKABE_ITO.values())
    assert len(set(colours.values())) == 3


# --- inputs as a rule passes them ------------------------------------------------------------

def test_load_files_equals_load(demo):
    from hgrecon.figures.data import load_files
    from hgrecon.figures.targets import encoded

    files = encoded(demo["root"], SUBJECTS[::-1], FEATURES)       # any order, all parts
    a = load_files(files, SUBJECTS, FEATURES, "words")
    b = load(demo["root"], SUBJECTS, FEATURES, "words")
    pd.testing.assert_frame_equal(a, b)
    from hgrecon.errors import InputError

    with pytest.raises(InputError, match="sub-01/gpt2_null.parquet"):
        load_files(files[:1], ["01"], ["gpt2"], "null")


def test_electrodes_from_tsv_path_and_missing(demo, tmp_path):
    from hgrecon.errors import InputError
    from hgrecon.figures.data import electrodes_paths
    from hgrecon.figures.targets import electrodes_file

    tsv, _ = electrodes_paths(demo["bids"], "02")
    assert electrodes_file(demo["bids"], "02") == [str(tsv)]
    assert electrodes_file(str(tmp_path), "02") == []
    assert electrodes_file(str(tmp_path), "02", declared=[str(tsv)]) == []
    fig = make.electrodes(demo["root"], str(tsv), "02", FEATURES, tmp_path / "e.png")
    assert fig.get_suptitle().startswith("sub-02: contacts (ACPC")
    with pytest.raises(InputError, match="sub-02_task-wordProduction_electrodes.tsv"):
        make.electrodes(demo["root"], str(tmp_path), "02", FEATURES, tmp_path / "f.png")


def test_layer_groups_pick_single_layer_features_of_one_model():
    from hgrecon.figures.layers import layer_groups

    features = {"g6": {"kind": "text", "model": "gpt2", "layers": [6]},
                "g2": {"kind": "text", "model": "gpt2", "layers": [2]},
                "gall": {"kind": "text", "model": "gpt2", "layers": [2, 6]},
                "b3": {"kind": "text", "model": "bert", "layers": [3]},
                "glast": {"kind": "text", "model": "gpt2", "layers": [-1]},
                "mel": {"kind": "mel"}}
    assert layer_groups(features) == {"text_gpt2": [(2, "g2"), (6, "g6")]}
    assert list(layer_groups({"a": {"kind": "audio", "model": "facebook/w2v", "layers": [1]},
                              "b": {"kind": "audio", "model": "facebook/w2v", "layers": [3]}}
                             )) == ["audio_facebook_w2v"]


def test_fig_layers(tmp_path):
    import pandas as pd

    from hgrecon.figures.make import layers

    rows = [{"subject": s, "feature": f, "channel_pcc_median": 0.1 * k + i,
             "n_channels_sig": k, "paper_pcc": 0.9, "paper_pcc_intercept": 0.89}
            for i, s in enumerate(["01", "02"]) for k, f in enumerate(["g2", "g6", "g9"])]
    pd.DataFrame(rows).to_csv(tmp_path / "summary.csv", index=False)
    fig = layers(tmp_path / "summary.csv", "text_gpt2", [(2, "g2"), (6, "g6"), (9, "g9")],
                 tmp_path / "l.png")
    assert (tmp_path / "l.png").stat().st_size > 0 and (tmp_path / "l.pdf").stat().st_size > 0
    axes = fig.get_axes()
    assert len(axes) == 3
    x, y = axes[0].lines[0].get_data()
    np.testing.assert_array_equal(x, [2, 6, 9])
    np.testing.assert_allclose(y, [0.5, 0.6, 0.7])      # mean over the two subjects
    assert len(axes[2].lines) >= 2                         # embedding and intercept curves
    assert all("(" in ax.get_xlabel() and "(" in ax.get_ylabel() for ax in axes)


def _frame_table(rng, channels, lags, peak_lag):
    """A frame-level table whose channel c0 is significant and peaks at ``peak_lag``."""
    rows = []
    for c in channels:
        for lag in lags:
            r = 0.8 - abs(lag - peak_lag) / 500 if c == "c0" else rng.normal(0, 0.02)
            rows.append({"model": "ridge", "channel": c, "lag_ms": float(lag), "pcc": r,
                         "p_fdr": 0.001 if c == "c0" else 0.9})
    import pandas as pd
    return pd.DataFrame(rows)


def test_fig_lag_curves_peaks_where_the_table_says(tmp_path):
    import pandas as pd

    from hgrecon.figures.make import lag_curves

    rng = np.random.default_rng(0)
    lags = [-100, 0, 100, 200]
    paths = []
    for s in ("01", "02"):
        for f in ("mel", "planted"):
            path = tmp_path / f"{s}_{f}.parquet"
            _frame_table(rng, ["c0", "c1"], lags, 100 if f == "mel" else 0).to_parquet(path)
            paths.append(path)
    fig = lag_curves(paths, ["01", "02"], ["mel", "planted"], tmp_path / "lag.png")
    assert (tmp_path / "lag.png").stat().st_size > 0 and (tmp_path / "lag.pdf").exists()
    ax = fig.get_axes()[0]
    assert len(ax.containers) == 2                           # one curve per feature
    x, y = ax.containers[0].lines[0].get_data()
    assert x[np.argmax(y)] == 100                            # mel peaks at +100 ms
    assert "(ms)" in ax.get_xlabel() and "(unitless)" in ax.get_ylabel()
    assert pd.read_parquet(paths[0]).shape[0] == 8


def test_fig_reconstruction_draws_best_channels_and_boundaries(tmp_path):
    from hgrecon.figures.frames import N_CHANNELS, fig_reconstruction

    rng = np.random.default_rng(1)
    n_per, n_words, channels = 50, 3, ["c0", "c1", "c2", "c3"]
    trial = np.repeat(np.arange(n_words), n_per)
    measured = rng.normal(size=(len(trial), len(channels)))
    speech = np.tile(np.r_[np.zeros(20), np.ones(10), np.zeros(20)], n_words).astype(bool)
    pred = {"measured": measured, "predicted_ridge": measured * 0.5, "trial": trial,
            "word": np.array(["a", "b", "c"])[trial], "speech": speech,
            "channels": np.array(channels), "best_lag_ms_ridge": np.array([0, 100, 0, 0.])}
    table = _frame_table(rng, channels, [0, 100], 100)
    fig = fig_reconstruction(pred, table, "01", "mel")
    axes = fig.get_axes()
    assert len(axes) == N_CHANNELS
    assert axes[0].get_title(loc="left").startswith("c0")   # best channel first
    # measured + reconstructed, 3 word boundaries and 3 speech onsets per panel
    assert len(axes[0].lines) == 2 + n_words + n_words
    assert "(s)" in axes[-1].get_xlabel() and "(µV)" in axes[0].get_ylabel()
