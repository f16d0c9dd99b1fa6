"""Figure 7: the scores of one model as a function of its layer.

Several layers of one model are extracted as separate features (each with one entry in
``layers``), e.g. ``gpt2_l6: {kind: text, model: gpt2, layers: [6]}``. Features that
share kind and model and name a single non-negative layer form one curve (a negative
index counts from the top, so its place on the axis depends on the model's depth).
"""

import re

import numpy as np

from . import style as st


def layer_groups(features):
    """{group: [(layer, feature), …] sorted by layer} for models with ≥ 2 single-layer
    features; ``group`` is ``kind_model`` with every run of other characters as ``_``
    (usable in a file name).

    features : dict name -> validated spec (the config's ``features``).
    """
    groups = {}
    for name, spec in features.items():
        layers = spec.get("layers")
        if (spec.get("model") and isinstance(layers, list) and len(layers) == 1
                and layers[0] >= 0):
            group = re.sub(r"[^A-Za-z0-9]+", "_", f"{spec['kind']}_{spec['model']}")
            groups.setdefault(group, []).append((layers[0], name))
    return {model: sorted(members) for model, members in groups.items() if len(members) > 1}


def fig_layers(summary, model, members):
    """Per layer: median per-channel ridge r, FDR-significant channels, and the paper score
    beside the intercept-only one; mean ± s.e.m. over participants.

    summary : the summary table (``results/tables/summary.csv``) as a DataFrame;
    members : [(layer, feature), …] as from :func:`layer_groups`.
    """
    layers = [layer for layer, _ in members]
    panels = [("channel_pcc_median", st.label("median per-channel ridge r", st.UNITLESS)),
              ("n_channels_sig", st.label("channels with FDR q < 0.05", st.COUNT)),
              ("paper_pcc", st.label("paper score, r across channels", st.UNITLESS))]
    with st.style():
        fig = st.new_figure(4.0 * len(panels), 3.4, layout="constrained")
        axes = fig.subplots(1, len(panels))
        for ax, (column, ylabel) in zip(axes, panels):
            mean, sem = _per_layer(summary, members, column)
            ax.errorbar(layers, mean, yerr=sem, marker="o", color=st.MODEL_COLORS["paper"],
                        capsize=3, label="embedding")
            if column == "paper_pcc":
                base, base_sem = _per_layer(summary, members, "paper_pcc_intercept")
                ax.errorbar(layers, base, yerr=base_sem, marker="s", capsize=3,
                            color=st.MODEL_COLORS["intercept"], label="intercept-only")
                ax.legend(loc="best")
            ax.set_xlabel(st.label("layer index", st.UNITLESS))
            ax.set_ylabel(ylabel)
            ax.set_xticks(layers)
        fig.suptitle(f"{model}: scores by layer (mean ± s.e.m. over participants)")
    return fig


def _per_layer(summary, members, column):
    """Mean and s.e.m. over subjects of ``column`` for each member feature."""
    stats = []
    for _, feature in members:
        values = summary.loc[summary["feature"] == feature, column].to_numpy(float)
        sem = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
        stats.append((values.mean(), sem))
    mean, sem = np.array(stats).T
    return mean, sem
