"""The paper's table with the baselines beside it, and the software-versions table.

``results/tables/paper_table.csv`` (and ``.md``): one row per participant × feature, plus
one ``all`` row per feature pooling the held-out words of every participant (the paper's
"0.951 ± 0.055" numbers are pooled that way). Columns, in order:

* ``r_mean``, ``r_sd``, ``r2_mean``, ``r2_sd`` — the paper's score: Pearson r and R² across
  channels of each held-out word, mean and s.d. (ddof = 1) over words;
* ``r_intercept_mean``, ``r2_intercept_mean`` — the same score of the intercept-only model
  (each channel's training mean);
* ``r_null_mean``, ``r2_null_mean`` — mean of the paper's mean score under shuffled
  word↔embedding (the ``_null.parquet`` permutations);
* ``r_p``, ``r2_p`` — permutation p-value of the paper's mean score against that null;
* ``n_sig_channels`` / ``n_channels`` — channels whose per-channel ridge r across held-out
  words is FDR-significant (BH q < 0.05), out of the channels encoded;
* ``n_words``, ``n_perm``.

The ``all`` rows have no permutation p (the null is per participant) and sum the channels.
"""

import html
import importlib.metadata
import platform

import numpy as np
import pandas as pd

from .encoding.stats import perm_pvalue
from .figures.data import load_any
from .io import atomic_path
from .summary import FDR_Q

#: Columns of ``paper_table.csv``, in order.
PAPER_TABLE_COLUMNS = [
    "subject", "feature", "n_words", "r_mean", "r_sd", "r2_mean", "r2_sd",
    "r_intercept_mean", "r2_intercept_mean", "r_null_mean", "r2_null_mean", "r_p", "r2_p",
    "n_sig_channels", "n_channels", "n_perm",
]
#: Label of the pooled rows.
POOLED = "all"
#: Distributions whose versions the report lists (import names are not needed).
PACKAGES = ["hgrecon", "snakemake", "numpy", "scipy", "pandas", "pyarrow", "h5py",
            "scikit-learn", "matplotlib", "mne", "mne-bids", "pynwb", "torch",
            "transformers", "gensim", "threadpoolctl"]


def paper_table(words, null, channels, q=FDR_Q, pooled=True):
    """The table from the long per-word, null and channel tables (see the module docstring)."""
    rows = []
    ridge = channels[channels["model"] == "ridge"]
    for (subject, feature), w in words.groupby(["subject", "feature"], observed=True, sort=True):
        nl = null[(null["subject"] == subject) & (null["feature"] == feature)]
        ch = ridge[(ridge["subject"] == subject) & (ridge["feature"] == feature)]
        rows.append(_row(str(subject), feature, w, ch, q) | {
            "r_null_mean": nl["pcc"].mean() if len(nl) else np.nan,
            "r2_null_mean": nl["r2"].mean() if len(nl) else np.nan,
            "r_p": _p(w["pcc"].mean(), nl["pcc"]),
            "r2_p": _p(w["r2"].mean(), nl["r2"]),
            "n_perm": len(nl),
        })
    table = pd.DataFrame(rows, columns=PAPER_TABLE_COLUMNS)
    if pooled and len(table):
        extra = []
        for feature, w in words.groupby("feature", observed=True, sort=True):
            ch = ridge[ridge["feature"] == feature]
            extra.append(_row(POOLED, feature, w, ch, q) | {
                "r_null_mean": np.nan, "r2_null_mean": np.nan, "r_p": np.nan,
                "r2_p": np.nan, "n_perm": 0})
        table = pd.concat([table, pd.DataFrame(extra, columns=PAPER_TABLE_COLUMNS)],
                          ignore_index=True)
    table["feature"] = table["feature"].astype(str)
    table["n_perm"] = table["n_perm"].astype(int)
    return table


def _row(subject, feature, w, ch, q):
    return {
        "subject": subject, "feature": str(feature), "n_words": len(w),
        "r_mean": w["pcc"].mean(), "r_sd": w["pcc"].std(), "r2_mean": w["r2"].mean(),
        "r2_sd": w["r2"].std(), "r_intercept_mean": w["pcc_intercept"].mean(),
        "r2_intercept_mean": w["r2_intercept"].mean(),
        "n_sig_channels": int((ch["p_fdr"] < q).sum()), "n_channels": len(ch),
    }


def _p(observed, draws):
    draws = np.asarray(draws, dtype=float)
    if not len(draws) or not np.isfinite(observed):
        return np.nan
    return float(perm_pvalue(observed, draws))


def _fmt(x, digits=3):
    return "n/a" if not np.isfinite(x) else f"{x:.{digits}f}"


def _fmt_p(p):
    return "n/a" if not np.isfinite(p) else (f"{p:.3f}" if p >= 0.001 else "<0.001")


#: Headers of the display table (Markdown and HTML), one per formatted column.
DISPLAY_HEADER = ["participant", "feature", "words", "paper r (mean ± s.d.)",
                  "paper R² (mean ± s.d.)", "intercept-only r / R²", "null r / R²",
                  "perm. p (r / R²)", "FDR-sig. channels (ridge)"]
#: What the columns mean, below the Markdown and HTML tables.
TABLE_NOTE = (
    "Paper score: Pearson r / R² between measured and predicted high-gamma across "
    "channels, per held-out word, mean ± s.d. over words. Intercept-only: the same "
    "score when every channel is predicted by its training mean. Null: mean of the "
    "paper score under shuffled word↔embedding; p: one-sided permutation p of the "
    "paper's mean score. FDR-sig. channels: per-channel ridge r across held-out "
    f"words, BH q < {FDR_Q:g}.")


def display_table(table):
    """The formatted strings of :func:`paper_table`: DataFrame with :data:`DISPLAY_HEADER`."""
    rows = []
    for row in table.itertuples(index=False):
        who = "all (pooled words)" if row.subject == POOLED else f"sub-{row.subject}"
        rows.append([
            who, row.feature, str(row.n_words),
            f"{_fmt(row.r_mean)} ± {_fmt(row.r_sd)}", f"{_fmt(row.r2_mean)} ± {_fmt(row.r2_sd)}",
            f"{_fmt(row.r_intercept_mean)} / {_fmt(row.r2_intercept_mean)}",
            f"{_fmt(row.r_null_mean)} / {_fmt(row.r2_null_mean)}",
            f"{_fmt_p(row.r_p)} / {_fmt_p(row.r2_p)}",
            f"{row.n_sig_channels} / {row.n_channels}",
        ])
    return pd.DataFrame(rows, columns=DISPLAY_HEADER)


def to_markdown(table):
    """A Markdown rendering of :func:`paper_table` (mean ± s.d., side by side)."""
    shown = display_table(table)
    lines = ["| " + " | ".join(DISPLAY_HEADER) + " |",
             "|" + "|".join(["---"] * len(DISPLAY_HEADER)) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in shown.itertuples(index=False)]
    return "\n".join(lines) + "\n\n" + TABLE_NOTE + "\n"


def to_html(table):
    """A standalone HTML page of :func:`paper_table` (what the Snakemake report shows)."""
    body = display_table(table).to_html(index=False, escape=True, border=0)
    return ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>paper table</title>"
            "<style>body{font-family:sans-serif;font-size:13px} table{border-collapse:"
            "collapse} th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:"
            "right} td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}</style>"
            f"</head><body>\n{body}\n<p>{html.escape(TABLE_NOTE)}</p></body></html>\n")


def run_paper_table(source, subjects, features, out_csv, out_md, out_html=None):
    """Write ``paper_table.csv``, ``.md`` (and ``.html``) from the encode outputs.

    source : the encode root folder, or the list of encode files (a rule's input).
    """
    words = load_any(source, subjects, features, "words")
    null = load_any(source, subjects, features, "null")
    channels = load_any(source, subjects, features, "channels")
    table = paper_table(words, null, channels)
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    with atomic_path(out_md) as tmp:
        tmp.write_text(to_markdown(table), encoding="utf-8")
    if out_html is not None:
        with atomic_path(out_html) as tmp:
            tmp.write_text(to_html(table), encoding="utf-8")
    return table


def software_versions(packages=PACKAGES):
    """DataFrame ``package, version`` (``not installed`` when absent), Python first."""
    rows = [("python", platform.python_version()), ("platform", platform.platform())]
    for name in packages:
        try:
            rows.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            rows.append((name, "not installed"))
    return pd.DataFrame(rows, columns=["package", "version"])


def run_software_versions(out_csv, out_html=None):
    """Write the versions table as CSV (and as a small HTML page for the report)."""
    table = software_versions()
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False)
    if out_html is not None:
        body = "\n".join(f"<tr><td>{html.escape(p)}</td><td>{html.escape(v)}</td></tr>"
                         for p, v in table.itertuples(index=False))
        page = ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>software versions"
                "</title></head><body><table border='1' cellpadding='3'>"
                f"<tr><th>package</th><th>version</th></tr>\n{body}\n</table>"
                "</body></html>\n")
        with atomic_path(out_html) as tmp:
            tmp.write_text(page, encoding="utf-8")
    return table


def _plain(value):
    """Config values as plain YAML-able Python (Snakemake's config may hold subclasses)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    return str(value)


def run_config(config, out_yaml, out_html=None):
    """Write the effective configuration of a run (defaults filled in) as YAML and HTML.

    The Snakemake 9 HTML report does not show the config file, so the ``run_config``
    rule registers this page in the report.
    """
    import yaml

    text = yaml.safe_dump(_plain(config), sort_keys=False, allow_unicode=True)
    with atomic_path(out_yaml) as tmp:
        tmp.write_text(text, encoding="utf-8")
    if out_html is not None:
        page = ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>configuration"
                "</title></head><body><p>Effective configuration of this run (the config "
                "file with the schema's defaults filled in):</p>\n<pre>"
                f"{html.escape(text)}</pre></body></html>\n")
        with atomic_path(out_html) as tmp:
            tmp.write_text(page, encoding="utf-8")
    return text
