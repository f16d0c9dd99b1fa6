"""The summary table: the paper's scores beside the baselines, per subject × feature."""

import numpy as np
import pandas as pd

from .encoding.stats import perm_pvalue
from .io import atomic_path, read_parquet

#: The first columns of ``results/tables/summary.csv``, in this order.
SUMMARY_COLUMNS = [
    "subject", "feature", "n_words", "n_channels", "paper_pcc", "paper_r2",
    "paper_pcc_intercept", "paper_r2_intercept", "paper_pcc_null_mean", "paper_pcc_p",
    "n_nonzero", "channel_pcc_median", "n_channels_sig",
]
#: FDR level at which a channel counts as significant.
FDR_Q = 0.05


def encoding_paths(root, subject, feature):
    """The three encode outputs of one subject × feature: channels, words, null."""
    stem = f"{root}/sub-{subject}/{feature}"
    return f"{stem}.parquet", f"{stem}_words.parquet", f"{stem}_null.parquet"


def summarise_one(subject, feature, channels, words, null):
    """One summary row from the encode outputs (DataFrames) of a subject × feature."""
    ridge = channels[channels["model"] == "ridge"]
    enet = channels[channels["model"] == "elasticnet"]
    paper_pcc = words["pcc"].mean()
    return {
        "subject": subject, "feature": feature,
        "n_words": len(words), "n_channels": len(ridge),
        "paper_pcc": paper_pcc, "paper_r2": words["r2"].mean(),
        "paper_pcc_intercept": words["pcc_intercept"].mean(),
        "paper_r2_intercept": words["r2_intercept"].mean(),
        "paper_pcc_null_mean": null["pcc"].mean() if len(null) else np.nan,
        "paper_pcc_p": float(perm_pvalue(paper_pcc, null["pcc"].to_numpy()))
        if len(null) else np.nan,
        "n_nonzero": words["n_nonzero"].mean(),
        "channel_pcc_median": ridge["pcc"].median(),
        "n_channels_sig": int((ridge["p_fdr"] < FDR_Q).sum()),
        "paper_r2_null_mean": null["r2"].mean() if len(null) else np.nan,
        "enet_channel_pcc_median": enet["pcc"].median(),
        "enet_n_channels_sig": int((enet["p_fdr"] < FDR_Q).sum()),
        "n_features": int(channels["n_features"].iloc[0]),
        "pca_fit": channels["pca_fit"].iloc[0],
    }


def summarise(root, subjects, features):
    """The summary DataFrame for every subject × feature under ``root``."""
    rows = []
    for subject in subjects:
        for feature in features:
            tables = [read_parquet(p) for p in encoding_paths(root, subject, feature)]
            rows.append(summarise_one(subject, feature, *tables))
    return pd.DataFrame(rows)


def run(root, subjects, features, out_csv):
    """Write ``results/tables/summary.csv``."""
    table = summarise(root, subjects, features)
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
