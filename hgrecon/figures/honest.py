"""The honest figures: the paper's scores beside the intercept-only model and the null,
and the per-channel scores that ask whether the embedding predicts anything word-specific.
"""

import numpy as np
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from ..encoding.stats import perm_pvalue
from ..summary import FDR_Q
from . import style as st
from .data import read_checked, subject_of
from .paper import R2_FLOOR, _order, box_strip, clip_floor, subject_ticks

#: Per-word columns of the three scores, for r and R².
SCORE_COLUMNS = {
    "pcc": {"paper": "pcc", "intercept": "pcc_intercept", "null": "pcc_null_mean"},
    "r2": {"paper": "r2", "intercept": "r2_intercept", "null": "r2_null_mean"},
}
_NAMES = {"pcc": "Pearson r", "r2": "R²"}
#: Above this many channels the channel names are not written on the axis.
MAX_CHANNEL_TICKS = 64


def _legend_handles(kinds=("paper", "intercept", "null")):
    return [Patch(facecolor=st.MODEL_COLORS[k], alpha=0.6, label=st.MODEL_LABELS[k])
            for k in kinds]


def format_p(p):
    """``"p = 0.03"``, ``"p < 0.005"`` at the resolution of the permutation count."""
    if not np.isfinite(p):
        return "p = n/a"
    return f"p = {p:.2g}" if p >= 0.001 else "p < 0.001"


def _three_groups(ax, table, subjects, metric, offsets, width):
    """Boxes + points of the paper, intercept-only and null per-word scores per subject."""
    x = np.arange(len(subjects))
    for kind, offset in zip(("paper", "intercept", "null"), offsets):
        groups = [table.loc[table["subject"] == s, SCORE_COLUMNS[metric][kind]].to_numpy(float)
                  for s in subjects]
        box_strip(ax, groups, x + offset, st.MODEL_COLORS[kind], width=width,
                  floor=R2_FLOOR if metric == "r2" else None)
    return x


def fig_baselines(words, null, feature):
    """Figure 3 (one feature): figure 2 with the intercept-only model and the null beside it.

    Two Axes (R², r). Per participant three boxes of per-word scores: the paper's model,
    the intercept-only model (each channel's training mean), and the shuffled-embedding
    null (per word, the mean over permutations). Above each participant the permutation
    p-value of the paper's mean score against the null of that mean.
    """
    table = words[words["feature"] == feature]
    nul = null[null["feature"] == feature]
    subjects = _order(table["subject"])
    width = 0.26
    offsets = (-width, 0.0, width)
    with st.style():
        fig = st.new_figure(max(4.0, 1.0 * len(subjects) + 1.8), 5.4)
        axes = fig.subplots(2, 1, sharex=True)
        for ax, metric in zip(axes, ("r2", "pcc")):
            x = _three_groups(ax, table, subjects, metric, offsets, width * 0.9)
            ax.set_ylabel(st.label(f"{_NAMES[metric]}, per word", st.UNITLESS))
            if metric == "r2":
                clip_floor(ax, table[[c for c in SCORE_COLUMNS["r2"].values()]].to_numpy().ravel())
            trans = blended_transform_factory(ax.transData, ax.transAxes)
            for xi, s in zip(x, subjects):
                observed = table.loc[table["subject"] == s, metric].mean()
                draws = nul.loc[nul["subject"] == s, metric].to_numpy(float)
                p = perm_pvalue(observed, draws) if len(draws) else np.nan
                ax.text(xi, 1.0, format_p(float(p)), transform=trans, ha="center",
                        va="bottom", fontsize=6)
        axes[1].set_xticks(np.arange(len(subjects)), subject_ticks(table, subjects))
        axes[1].set_xlabel("participant")
        axes[0].legend(handles=_legend_handles(), frameon=False, fontsize=6,
                       loc="lower left", bbox_to_anchor=(0.0, 1.08), ncols=3)
        fig.suptitle(f"{feature}: paper score (across channels, per held-out word)\n"
                     f"beside the intercept-only model and the null", fontsize=9)
    return fig


def fig_channels(channels, subject, model="ridge", q=FDR_Q):
    """Figure 4 (one participant): per-channel r across held-out words, against its null.

    One Axes per feature. Channels sorted by observed r; each channel's observed r (a dot,
    filled with :data:`~hgrecon.figures.style.SIG_COLOR` when FDR q < ``q``) is joined to
    the mean r of the same model under shuffled word↔embedding (grey bar). With
    leave-one-out, a model that learns nothing scores below 0, so 0 is not the reference:
    the null is. The filled dots are the PathCollection with gid ``"significant"``.
    """
    table = channels[(channels["subject"] == subject) & (channels["model"] == model)]
    features = _order(table["feature"])
    ncols = min(2, max(1, len(features)))
    nrows = int(np.ceil(len(features) / ncols))
    n_chan = int(table.groupby("feature", observed=True).size().max()) if len(table) else 0
    with st.style():
        fig = st.new_figure(max(3.6, min(0.1 * n_chan + 1.5, 7.5)) * ncols, 2.6 * nrows)
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
        for ax, feature in zip(axes, features):
            _channel_panel(ax, table[table["feature"] == feature], feature, q)
        for ax in axes[len(features):]:
            ax.set_visible(False)
        handles = [
            ax_handle("o", st.SIG_COLOR, st.SIG_COLOR, f"observed r, FDR q < {q:g}"),
            ax_handle("o", "white", st.OKABE_ITO["blue"], "observed r, not significant"),
            ax_handle("_", st.MODEL_COLORS["null"], st.MODEL_COLORS["null"],
                      "null: mean r under shuffled embeddings"),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False,
                   fontsize=6)
        fig.suptitle(f"sub-{subject}: per-channel {model} r across held-out words vs null",
                     fontsize=9)
    return fig


def ax_handle(marker, face, edge, text):
    """A legend entry for a marker."""
    from matplotlib.lines import Line2D

    return Line2D([], [], marker=marker, linestyle="", markerfacecolor=face,
                  markeredgecolor=edge, color=edge, label=text, markersize=5)


def _channel_panel(ax, table, feature, q):
    table = table.sort_values("pcc", ascending=False, na_position="last")
    x = np.arange(len(table))
    r = table["pcc"].to_numpy(float)
    null = table["pcc_null_mean"].to_numpy(float)
    sig = (table["p_fdr"].to_numpy(float) < q)
    ax.vlines(x, np.minimum(r, null), np.maximum(r, null), color="#BBBBBB", linewidth=0.6,
              zorder=1)
    ax.scatter(x, null, marker="_", s=30, color=st.MODEL_COLORS["null"], zorder=2,
               gid="null")
    ax.scatter(x[~sig], r[~sig], s=14, facecolors="white", edgecolors=st.OKABE_ITO["blue"],
               linewidths=0.8, zorder=3, gid="not-significant")
    ax.scatter(x[sig], r[sig], s=16, color=st.SIG_COLOR, zorder=4, gid="significant")
    ax.axhline(0, color="#777777", linewidth=0.5, zorder=0)
    ax.set_ylim(-1.05, 1.05)
    if len(table) <= MAX_CHANNEL_TICKS:
        ax.set_xticks(x, table["channel"].astype(str).tolist(), rotation=90, fontsize=5)
    ax.set_xlabel("channel, sorted by observed r")
    ax.set_ylabel(st.label("r across held-out words", st.UNITLESS))
    ax.set_title(f"{feature}: {int(sig.sum())}/{len(table)} channels FDR q < {q:g}")


def paper_scores(word_parquets, features, out_png):
    """Issue-9 figure for one participant: per-word paper r of each feature beside the
    intercept-only and null values.

    word_parquets : the ``{feature}_words.parquet`` files, in the order of ``features``.
    Writes ``out_png`` (only that file) and returns the Figure: one Axes, three point
    groups (paper, intercept-only, null) per feature.
    """
    if len(word_parquets) != len(features):
        raise ValueError(f"{len(word_parquets)} word tables for {len(features)} features")
    tables = [read_checked(p, "words") for p in word_parquets]
    subject = subject_of(word_parquets[0]) if word_parquets else None
    width = 0.26
    offsets = (-width, 0.0, width)
    with st.style():
        fig = st.new_figure(max(3.5, 1.1 * len(features) + 1.5), 3.2)
        ax = fig.add_subplot()
        x = np.arange(len(features))
        for kind, offset in zip(("paper", "intercept", "null"), offsets):
            groups = [t[SCORE_COLUMNS["pcc"][kind]].to_numpy(float) for t in tables]
            box_strip(ax, groups, x + offset, st.MODEL_COLORS[kind], width=width * 0.9)
        ax.set_xticks(x, list(features))
        ax.set_xlabel("feature")
        ax.set_ylabel(st.label("Pearson r across channels, per word", st.UNITLESS))
        ax.legend(handles=_legend_handles(), frameon=False, fontsize=6, loc="best")
        who = f"sub-{subject}: " if subject else ""
        ax.set_title(f"{who}per-word paper r (across channels)\n"
                     f"beside the intercept-only model and the null")
    st.save(fig, out_png)
    return fig
