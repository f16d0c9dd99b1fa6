"""Electrode map: every contact at its ``_electrodes.tsv`` position, in three orthographic
projections (a glass brain: axial x-y, coronal x-z, sagittal y-z), coloured by per-channel r.
"""

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.patches import Ellipse

from ..summary import FDR_Q
from . import style as st
from .paper import _order

#: (horizontal, vertical) coordinate of each view, and its name.
VIEWS = (("x", "y", "axial, from above"), ("x", "z", "coronal, from the front"),
         ("y", "z", "sagittal, from the left"))
#: Per view, the depth coordinate and its sign towards the viewer (nearer drawn on top).
DEPTH = {("x", "y"): ("z", 1.0), ("x", "z"): ("y", 1.0), ("y", "z"): ("x", -1.0)}
AXIS_NAMES = {"x": "x, left → right", "y": "y, posterior → anterior",
              "z": "z, inferior → superior"}
#: Semi-axes (mm) of the schematic outline drawn behind the contacts (not a real brain).
OUTLINE_MM = {"x": 70.0, "y": 95.0, "z": 65.0}


def match_positions(table, electrodes):
    """Join per-channel rows to contact positions by name.

    Returns (positioned rows with x, y, z; names of channels without a position).
    """
    merged = table.merge(electrodes, left_on="channel", right_on="name", how="left")
    missing = merged.loc[merged["x"].isna(), "channel"].astype(str).tolist()
    return merged.dropna(subset=["x", "y", "z"]), missing


def fig_electrodes(channels, electrodes, subject, info=None, model="ridge", q=FDR_Q):
    """Figure 6 (one participant): contacts coloured by per-channel ``model`` r.

    channels : long channel table (``subject``, ``feature``, ``model``, ``channel``,
    ``pcc``, ``p_fdr``); electrodes : DataFrame name, x, y, z; info : dict with
    ``system`` and ``units`` (from ``_coordsystem.json``).

    One row per feature, three views per row, one shared colour bar. Contacts that are
    FDR-significant (q < ``q``) are drawn larger with a black ring: the PathCollection
    with gid ``"significant"`` in each view.
    """
    info = info or {"system": "unknown", "units": "mm"}
    units = info.get("units", "mm")
    table = channels[(channels["subject"] == subject) & (channels["model"] == model)]
    features = _order(table["feature"])
    values = table["pcc"].to_numpy(float)
    vmax = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    norm = Normalize(-max(vmax, 1e-3), max(vmax, 1e-3))
    cmap = st.DIVERGING_CMAP
    with st.style():
        fig = st.new_figure(7.5, 2.5 * len(features) + 0.6)
        axes = fig.subplots(len(features), 3, squeeze=False)
        mappable = None
        for row, feature in zip(axes, features):
            placed, missing = match_positions(table[table["feature"] == feature], electrodes)
            sig = placed["p_fdr"].to_numpy(float) < q
            for ax, (h, v, name) in zip(row, VIEWS):
                _outline(ax, h, v, units)
                depth, sign = DEPTH[(h, v)]
                order = np.argsort(sign * placed[depth].to_numpy(), kind="stable")
                sub = placed.iloc[order]
                s = sig[order]
                mappable = ax.scatter(sub.loc[~s, h], sub.loc[~s, v], c=sub.loc[~s, "pcc"],
                                      cmap=cmap, norm=norm, s=12, edgecolors="#666666",
                                      linewidths=0.3, zorder=2, gid="not-significant")
                ax.scatter(sub.loc[s, h], sub.loc[s, v], c=sub.loc[s, "pcc"], cmap=cmap,
                           norm=norm, s=34, edgecolors="black", linewidths=1.0, zorder=3,
                           gid="significant")
                ax.set_aspect("equal", adjustable="datalim")
                ax.grid(False)
                ax.set_xlabel(st.label(AXIS_NAMES[h], units))
                ax.set_ylabel(st.label(AXIS_NAMES[v], units))
                ax.set_title(name, fontsize=7)
            note = f", {len(missing)} without position" if missing else ""
            row[0].set_title(f"{feature}: {int(sig.sum())}/{len(placed)} FDR q < {q:g}{note}\n"
                             f"{VIEWS[0][2]}", fontsize=7)
        if mappable is not None:
            bar = fig.colorbar(mappable, ax=axes, shrink=0.6, location="right")
            bar.set_label(st.label(f"{model} r across held-out words", st.UNITLESS))
        fig.suptitle(f"sub-{subject}: contacts ({info.get('system', 'unknown')} coordinates); "
                     f"ringed = FDR q < {q:g}; grey outline schematic", fontsize=9)
    return fig


def _outline(ax, h, v, units):
    """A faint schematic head outline centred at the origin (mm coordinates only)."""
    if units != "mm":
        return
    ax.add_patch(Ellipse((0, 0), 2 * OUTLINE_MM[h], 2 * OUTLINE_MM[v], fill=False,
                         edgecolor="#CCCCCC", linewidth=0.8, zorder=0))
    ax.axhline(0, color="#EEEEEE", linewidth=0.5, zorder=0)
    ax.axvline(0, color="#EEEEEE", linewidth=0.5, zorder=0)
