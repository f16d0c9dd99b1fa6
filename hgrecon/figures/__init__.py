"""The paper's figures and the honest ones beside them.

Plotting functions take long DataFrames (:func:`hgrecon.figures.data.load`) and return
a :class:`matplotlib.figure.Figure`; :mod:`hgrecon.figures.make` loads, draws and writes
PNG + PDF for the rules in ``workflow/rules/figures.smk``.

=====================  =========================================================
paper figure 1         :func:`fig_r2_bins` — words per R² bin, per feature
paper figure 2         :func:`fig_per_participant` — per-word R² and r, per participant
honest figure 3        :func:`fig_baselines` — figure 2 with intercept-only and null
honest figure 4        :func:`fig_channels` — per-channel r against its null, FDR marked
honest figure 6        :func:`fig_electrodes` — contacts in three projections, by r
issue-9 figure         :func:`paper_scores` — per subject, every feature's per-word r
=====================  =========================================================

Figures 5 (time-resolved) and 7 (layer-wise) need stages that do not exist yet.
"""

from .electrodes import fig_electrodes
from .honest import fig_baselines, fig_channels, paper_scores
from .paper import R2_BINS, fig_per_participant, fig_r2_bins, r2_bin, r2_bin_counts

__all__ = ["R2_BINS", "fig_baselines", "fig_channels", "fig_electrodes",
           "fig_per_participant", "fig_r2_bins", "paper_scores", "r2_bin", "r2_bin_counts"]
