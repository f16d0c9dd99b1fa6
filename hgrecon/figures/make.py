"""What the figure rules call: load the encode outputs, draw, write PNG + PDF.

``source`` is either the encode root (``results/encoding``) or the list of encode files
a rule gets as input (see :func:`hgrecon.figures.data.load_any`). Each function returns
the Figure.
"""

from pathlib import Path

import pandas as pd

from .data import _pick, load_any, load_electrodes, read_electrodes
from ..io import read_h5
from .electrodes import fig_electrodes
from .frames import fig_lag_curves, fig_reconstruction
from .honest import fig_baselines, fig_channels
from .layers import fig_layers
from .paper import fig_per_participant, fig_r2_bins
from .style import save_all


def r2_bins(source, subjects, features, png, pdf=None):
    """Paper figure 1 (every feature) to ``png`` and ``pdf``."""
    return save_all(fig_r2_bins(load_any(source, subjects, features, "words")), png, pdf)


def per_participant(source, subjects, features, feature, png, pdf=None):
    """Paper figure 2 for ``feature`` (colours as in the figures of all ``features``)."""
    words = load_any(source, subjects, [feature], "words", all_features=features)
    return save_all(fig_per_participant(words, feature), png, pdf)


def baselines(source, subjects, features, feature, png, pdf=None):
    """Honest figure 3 for ``feature``: paper score, intercept-only and null."""
    words = load_any(source, subjects, [feature], "words", all_features=features)
    null = load_any(source, subjects, [feature], "null", all_features=features)
    return save_all(fig_baselines(words, null, feature), png, pdf)


def channels(source, subject, features, png, pdf=None):
    """Honest figure 4 for one participant: per-channel ridge r against its null."""
    table = load_any(source, [subject], features, "channels")
    return save_all(fig_channels(table, subject), png, pdf)


def electrodes(source, electrodes_source, subject, features, png, pdf=None):
    """Honest figure 6 for one participant: the electrode map coloured by ridge r.

    electrodes_source : the BIDS root (a folder), or the ``_electrodes.tsv`` path (its
    ``_coordsystem.json`` is looked up beside it).
    """
    table = load_any(source, [subject], features, "channels")
    positions, info = _positions(electrodes_source, subject)
    return save_all(fig_electrodes(table, positions, subject, info), png, pdf)


def _positions(source, subject):
    """Positions and coordinate info from a BIDS root or from an ``_electrodes.tsv`` path."""
    path = Path(source)
    if path.is_dir():
        return load_electrodes(path, subject)
    coords = path.with_name(path.name.replace("_electrodes.tsv", "_coordsystem.json"))
    if not coords.exists():
        coords = _pick(path.parent, subject, "coordsystem.json")
    return read_electrodes(path, coords)


def layers(summary_csv, model, members, png, pdf=None):
    """Figure 7 for one model: scores by layer, from the summary table."""
    summary = pd.read_csv(summary_csv, dtype={"subject": str})
    return save_all(fig_layers(summary, model, members), png, pdf)


def _frame_tables(paths, subjects, features):
    """The frame-level tables of ``paths`` (ordered subjects × features), labelled."""
    pairs = [(s, f) for s in subjects for f in features]
    return pd.concat([pd.read_parquet(p).assign(subject=s, feature=f)
                      for p, (s, f) in zip(paths, pairs)], ignore_index=True)


def lag_curves(paths, subjects, features, png, pdf=None):
    """Figure 5b: r by lag per feature, over FDR-significant channels."""
    return save_all(fig_lag_curves(_frame_tables(paths, subjects, features)), png, pdf)


def reconstruction(table_path, pred_path, subject, feature, png, pdf=None):
    """Figure 5a: measured vs reconstructed high-gamma for one subject × feature."""
    pred, _ = read_h5(pred_path)
    table = pd.read_parquet(table_path)
    return save_all(fig_reconstruction(pred, table, subject, feature), png, pdf)
