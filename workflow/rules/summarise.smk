rule summarise:
    """One row per subject x feature: the paper's scores beside the baselines."""
    input:
        expand(
            "results/encoding/sub-{subject}/{feature}{part}.parquet",
            subject=SUBJECTS,
            feature=FEATURES,
            part=["", "_words", "_null"],
        ),
    output:
        "results/tables/summary.csv",
    params:
        subjects=SUBJECTS,
        features=list(FEATURES),
    log:
        "results/logs/summarise.log",
    threads: 1
    conda:
        ENV
    script:
        "../scripts/summarise.py"


rule paper_scores_figure:
    """Per-word paper r for each feature beside the intercept-only and null values."""
    input:
        expand(
            "results/encoding/sub-{{subject}}/{feature}_words.parquet", feature=FEATURES
        ),
    output:
        report(
            "results/figures/sub-{subject}_paper_scores.png",
            caption="../report/paper_scores.rst",
            category="3. Honest figures",
            subcategory="per participant",
            labels={"figure": "per-word r, every feature", "participant": "sub-{subject}"},
        ),
    params:
        features=list(FEATURES),
    log:
        "results/logs/figures/sub-{subject}_paper_scores.log",
    threads: 1
    conda:
        ENV
    script:
        "../scripts/paper_scores_figure.py"


# Seconds-long jobs: on a cluster they run beside Snakemake instead of queueing.
localrules:
    summarise,
    paper_scores_figure,
