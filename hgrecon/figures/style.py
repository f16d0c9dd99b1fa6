"""One style for every figure: the Okabe-Ito palette, labelled units, PNG + PDF output.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot), so that
nothing depends on a GUI backend or on pyplot's global figure list, and every plotting
function can return its Figure for inspection.
"""

import contextlib
import re
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from ..io import atomic_path

#: Okabe & Ito (2008), distinguishable under the common colour-vision deficiencies.
OKABE_ITO = {
    "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7", "black": "#000000",
}
#: Order in which features take colours (yellow last: weak on white).
FEATURE_CYCLE = ["blue", "orange", "bluish_green", "reddish_purple", "sky_blue",
                 "vermillion", "yellow"]
#: The three scores shown side by side in the honest figures.
MODEL_COLORS = {"paper": OKABE_ITO["blue"], "intercept": OKABE_ITO["orange"],
                "null": "#8C8C8C"}
MODEL_LABELS = {"paper": "paper model (ElasticNet)", "intercept": "intercept-only",
                "null": "shuffled-embedding null"}
#: Marks channels significant after FDR correction.
SIG_COLOR = OKABE_ITO["vermillion"]
#: Diverging colour map for signed r (blue-white-orange, colour-blind safe).
DIVERGING_CMAP = "PuOr_r"

#: rcParams of every figure.
RC = {
    "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "legend.fontsize": 7,
    "xtick.labelsize": 7, "ytick.labelsize": 7, "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": True, "axes.grid.axis": "y",
    "grid.color": "#DDDDDD", "grid.linewidth": 0.5, "axes.axisbelow": True,
    "savefig.dpi": 150, "figure.dpi": 100, "pdf.fonttype": 42, "ps.fonttype": 42,
    "svg.hashsalt": "hgrecon", "figure.constrained_layout.use": True,
    "axes.prop_cycle": mpl.cycler(color=[OKABE_ITO[c] for c in FEATURE_CYCLE]),
}

#: Unit strings used in axis labels; a label ends with "(<unit>)".
UNITLESS = "unitless"
COUNT = "count"
MM = "mm"
#: The pattern every axis label of a data axis matches.
UNIT_PATTERN = re.compile(r"\((unitless|count|mm|[^()]+)\)$")


def label(quantity, unit):
    """An axis label with its unit: ``"Pearson r (unitless)"``."""
    return f"{quantity} ({unit})"


def feature_colors(features):
    """Colour of each feature name, in the order given (cycles past seven)."""
    return {f: OKABE_ITO[FEATURE_CYCLE[i % len(FEATURE_CYCLE)]] for i, f in enumerate(features)}


@contextlib.contextmanager
def style():
    """The rcParams of every hgrecon figure, for the duration of the block."""
    with mpl.rc_context(RC):
        yield


def new_figure(width, height, **kwargs):
    """A pyplot-free Figure of ``width`` × ``height`` inches (call inside :func:`style`)."""
    return Figure(figsize=(width, height), **kwargs)


def jitter(n, width=0.25, seed=0):
    """Deterministic horizontal offsets for ``n`` strip-plot points."""
    return np.random.default_rng(seed).uniform(-width / 2, width / 2, n)


def pdf_path(png):
    """The vector twin of a PNG path: same name, ``.pdf``."""
    return Path(png).with_suffix(".pdf")


def save(fig, path):
    """Write ``fig`` to ``path`` atomically, in the format its suffix names (png, pdf, svg).

    Creation dates and software stamps are left out, so the same figure gives the
    same bytes (PNG) on every run.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    metadata = {"png": {"Software": None}, "pdf": {"CreationDate": None, "Producer": None},
                "svg": {"Date": None}}.get(fmt)
    with style(), atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, metadata=metadata)
    return path


def save_all(fig, png, pdf=None):
    """Write the PNG and its vector PDF (``pdf`` defaults to the PNG's name in .pdf)."""
    save(fig, png)
    save(fig, pdf if pdf is not None else pdf_path(png))
    return fig
