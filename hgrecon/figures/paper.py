"""The paper's figures, as published: R² bins per feature and per-participant word scores.

Input is the long per-word table of :func:`hgrecon.figures.data.load` (``words``):
one row per subject × feature × held-out word with the paper's ``pcc`` and ``r2``
(across channels).
"""

import numpy as np
import pandas as pd

from . import style as st

#: R² bin edges of the paper's first figure: 0 to 1 in steps of 0.1.
R2_EDGES = np.round(np.linspace(0.0, 1.0, 11), 1)
#: Bin labels; values below 0 get their own bin.
R2_BINS = ["<0"] + [f"{a:.1f}–{b:.1f}" for a, b in zip(R2_EDGES[:-1], R2_EDGES[1:])]
#: Lowest R² drawn in the box plots; lower words are counted in the panel instead.
R2_FLOOR = -1.0


def r2_bin(r2):
    """Index into :data:`R2_BINS` of each R² (NaN stays NaN).

    <0 → 0, [0, 0.1) → 1, …, [0.9, 1] → 10.
    """
    r2 = np.asarray(r2, dtype=float)
    idx = np.where(r2 < 0, 0, np.minimum(np.floor(r2 * 10 + 1e-9), 9) + 1)
    return np.where(np.isnan(r2), np.nan, idx)


def r2_bin_counts(words):
    """Words per R² bin, mean over participants: DataFrame feature × bin (float).

    A participant contributes a 0 to a bin it has no word in; words whose R² is NaN are
    left out. Rows follow the feature order of ``words``; columns are :data:`R2_BINS`.
    """
    idx = r2_bin(words["r2"])
    counted = words.assign(bin=idx).dropna(subset=["bin"])
    counted["bin"] = counted["bin"].astype(int)
    per_subject = (counted.groupby(["feature", "subject", "bin"], observed=True).size()
                   .unstack("bin", fill_value=0)
                   .reindex(columns=range(len(R2_BINS)), fill_value=0))
    # participants with no finite word at all still count as zeros
    full = pd.MultiIndex.from_frame(words[["feature", "subject"]].drop_duplicates())
    per_subject = per_subject.reindex(full, fill_value=0)
    mean = per_subject.groupby(level="feature", observed=True).mean()
    mean.columns = R2_BINS
    features = _order(words["feature"])
    return mean.reindex(features)


def _order(column):
    """Unique values of a (possibly categorical) column, in category or appearance order."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        present = set(column.dropna().unique())
        return [c for c in column.cat.categories if c in present]
    return list(pd.unique(column.dropna()))


def all_features(column):
    """Every feature a figure may colour: the categories, or the values present."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return list(column.cat.categories)
    return _order(column)


def fig_r2_bins(words):
    """Figure 1: grouped bars, number of held-out words per R² bin, one bar per feature.

    Bar heights are the mean over participants of the word counts. Returns the Figure;
    its one Axes holds ``n_bins × n_features`` bars (one BarContainer per feature).
    """
    counts = r2_bin_counts(words)
    features = list(counts.index)
    n_sub = words.groupby("feature", observed=True)["subject"].nunique()
    colors = st.feature_colors(all_features(words["feature"]))
    with st.style():
        fig = st.new_figure(max(6.0, 0.55 * len(R2_BINS) * max(1, len(features)) / 2.5), 3.2)
        ax = fig.add_subplot()
        x = np.arange(len(R2_BINS))
        width = 0.8 / max(1, len(features))
        for i, feature in enumerate(features):
            offset = (i - (len(features) - 1) / 2) * width
            ax.bar(x + offset, counts.loc[feature].to_numpy(), width, color=colors[feature],
                   label=f"{feature} (n = {n_sub[feature]})", edgecolor="white", linewidth=0.4)
        ax.set_xticks(x, R2_BINS)
        ax.set_xlabel(st.label("R² across channels of a held-out word, bin", st.UNITLESS))
        ax.set_ylabel(st.label("held-out words per participant, mean", st.COUNT))
        ax.set_title("Paper figure 1: per-word R² (paper's metric), mean over participants")
        ax.legend(title="feature (participants)", frameon=False, ncols=min(4, len(features)))
    return fig


def _subjects(words):
    return _order(words["subject"])


def subject_ticks(table, subjects):
    """Tick labels ``sub-01\\n(n = 40)``: participant and its number of held-out words."""
    n = table.groupby("subject", observed=True).size()
    return [f"sub-{s}\n(n = {n.get(s, 0)})" for s in subjects]


def box_strip(ax, groups, positions, color, width=0.6, seed=0, floor=None, marker="o"):
    """Box plot (no fliers) with every value as a jittered point, at ``positions``.

    groups : list of 1-D arrays. ``floor``: values below it are not drawn as points
    (the caller says how many). Returns the PathCollection of each group's points.
    """
    finite = [g[np.isfinite(g)] for g in map(lambda a: np.asarray(a, float), groups)]
    keep = [i for i, g in enumerate(finite) if len(g)]
    if keep:
        ax.boxplot([finite[i] for i in keep], positions=[positions[i] for i in keep],
                   widths=width, showfliers=False, patch_artist=True,
                   boxprops={"facecolor": color, "alpha": 0.25, "edgecolor": color},
                   medianprops={"color": color, "linewidth": 1.5},
                   whiskerprops={"color": color}, capprops={"color": color})
    points = []
    for g, pos in zip(finite, positions):
        shown = g if floor is None else g[g >= floor]
        points.append(ax.scatter(pos + st.jitter(len(shown), width * 0.8, seed), shown, s=6,
                                 color=color, alpha=0.7, linewidths=0, marker=marker,
                                 zorder=3))
    return points


def clip_floor(ax, values, floor=R2_FLOOR):
    """Keep the y-axis above ``floor`` when some values fall below it; say how many."""
    values = np.asarray(values, dtype=float)
    below = int((values < floor).sum())
    if below:
        ax.set_ylim(bottom=floor - 0.05)
        ax.text(0.01, 0.02, f"{below} word(s) with R² < {floor:g} not drawn",
                transform=ax.transAxes, fontsize=6, color="#555555")
    return below


def fig_per_participant(words, feature):
    """Figure 2 (one feature): per participant, box + word points of R² (top) and r (bottom).

    Returns the Figure with two Axes; each has one box and one point group per participant.
    """
    table = words[words["feature"] == feature]
    subjects = _subjects(table)
    color = st.feature_colors(all_features(words["feature"]))[feature]
    with st.style():
        fig = st.new_figure(max(4.0, 0.55 * len(subjects) + 1.5), 5.0)
        axes = fig.subplots(2, 1, sharex=True)
        x = np.arange(len(subjects))
        for ax, column, name in ((axes[0], "r2", "R²"), (axes[1], "pcc", "Pearson r")):
            groups = [table.loc[table["subject"] == s, column].to_numpy(float) for s in subjects]
            box_strip(ax, groups, x, color, floor=R2_FLOOR if column == "r2" else None)
            ax.set_ylabel(st.label(f"{name}, per word", st.UNITLESS))
            if column == "r2":
                clip_floor(ax, table[column])
        axes[1].set_xticks(x, subject_ticks(table, subjects))
        axes[1].set_xlabel("participant")
        axes[0].set_title(f"Paper figure 2: {feature}\nper-word score across channels")
    return fig
