"""Figure 5, time-resolved: measured vs reconstructed high-gamma over held-out words, and
r as a function of lag per feature.

Inputs are the frame-level encode outputs: ``results/encoding_frames/sub-XX/{feature}.parquet``
(per model × channel × lag scores) and ``…_pred.h5`` (held-out predictions at each
channel's best lag, with the measured frames, trial, word and speech flags).
"""

import numpy as np

from ..summary import FDR_Q
from . import style as st

#: Channels and words shown in the reconstruction panel.
N_CHANNELS = 3
N_WORDS = 6
HOP_S = 0.01


def significant_pairs(table, model="ridge"):
    """(subject, feature, channel) rows significant (FDR) at any lag for ``model``."""
    sel = table[table["model"] == model]
    sig = sel[sel["p_fdr"] < FDR_Q][["subject", "feature", "channel"]].drop_duplicates()
    return sig


def fig_lag_curves(table, model="ridge"):
    """r across held-out frames as a function of lag, one line per feature.

    table : the frame-level tables of every subject × feature, with ``subject`` and
    ``feature`` columns added. Mean ± s.e.m. over the (subject, channel) pairs that are
    FDR-significant at some lag; a feature without any is drawn dashed over all channels.
    """
    sel = table[table["model"] == model]
    features = list(dict.fromkeys(sel["feature"]))
    colors = st.feature_colors(features)
    sig = significant_pairs(table, model)
    with st.style():
        fig = st.new_figure(6.4, 4.0, layout="constrained")
        ax = fig.subplots()
        for feature in features:
            rows = sel[sel["feature"] == feature]
            keep = sig[sig["feature"] == feature]
            chosen = rows.merge(keep, on=["subject", "feature", "channel"]) if len(keep) else rows
            curve = chosen.groupby("lag_ms")["pcc"].agg(["mean", "std", "count"])
            sem = curve["std"].fillna(0) / np.sqrt(curve["count"])
            n_pairs = len(chosen[["subject", "channel"]].drop_duplicates())
            label = (f"{feature} ({n_pairs} significant channels)" if len(keep)
                     else f"{feature} (none significant: all {n_pairs} channels)")
            ax.errorbar(curve.index, curve["mean"], yerr=sem, marker="o", capsize=3,
                        color=colors[feature], linestyle="-" if len(keep) else "--",
                        label=label)
        ax.axvline(0, color="0.6", linewidth=0.8)
        ax.set_xlabel(st.label("lag: high-gamma leads the feature by", "ms"))
        ax.set_ylabel(st.label("Pearson r over held-out frames", st.UNITLESS))
        ax.set_title(f"Time-resolved encoding ({model}): r by lag, mean ± s.e.m.")
        ax.legend(loc="best")
    return fig


def fig_reconstruction(pred, table, subject, feature, model="ridge"):
    """Measured vs reconstructed high-gamma of the best channels over the first held-out
    words, word boundaries (grey) and speech onsets (dotted) marked.

    pred : the arrays of ``…_pred.h5``; table : that subject × feature's frame table.
    """
    rows = table[table["model"] == model]
    best = rows.sort_values("pcc", ascending=False).drop_duplicates("channel")
    channels = list(pred["channels"])
    top = [c for c in best["channel"] if c in channels][:N_CHANNELS]
    trials = list(dict.fromkeys(pred["trial"]))[:N_WORDS]
    frames = np.flatnonzero(np.isin(pred["trial"], trials))
    t = np.arange(len(frames)) * HOP_S
    trial_of = pred["trial"][frames]
    starts = np.flatnonzero(np.r_[True, trial_of[1:] != trial_of[:-1]])
    speech = pred["speech"][frames].astype(bool)
    onsets = np.flatnonzero(speech & ~np.r_[False, speech[:-1]])
    with st.style():
        fig = st.new_figure(9.0, 2.2 * max(len(top), 1) + 0.6, layout="constrained")
        axes = np.atleast_1d(fig.subplots(max(len(top), 1), 1, sharex=True))
        for ax, channel in zip(axes, top):
            k = channels.index(channel)
            ax.plot(t, pred["measured"][frames, k], color="0.2", linewidth=1.0,
                    label="measured")
            ax.plot(t, pred[f"predicted_{model}"][frames, k], color=st.MODEL_COLORS["paper"],
                    linewidth=1.2, label=f"reconstructed ({model})")
            for s in starts:
                ax.axvline(t[s], color="0.75", linewidth=0.8)
            for o in onsets:
                ax.axvline(t[o], color=st.OKABE_ITO["vermillion"], linewidth=0.8,
                           linestyle=":")
            lag = pred[f"best_lag_ms_{model}"][k]
            r = best.loc[best["channel"] == channel, "pcc"].iloc[0]
            ax.set_title(f"{channel}: r = {r:.2f} at lag {lag:+.0f} ms", loc="left")
            ax.set_ylabel(st.label("high-gamma", "µV"))
        axes[0].legend(loc="upper right")
        words = ", ".join(str(w) for w in dict.fromkeys(pred["word"][frames]))
        axes[-1].set_xlabel(st.label(f"time over held-out words ({words})", "s"))
        fig.suptitle(f"sub-{subject}, {feature}: best channels, held-out words")
    return fig
