# The paper's table and figures, the honest figures beside them, and the report's extras.
# Everything lands under results/tables/ and results/figures/; `snakemake reproduce_paper`
# builds it all, `snakemake --report results/report.html` collects it.

from hgrecon.figures.layers import layer_groups
from hgrecon.figures.targets import electrodes_file, encoded

ENCODED = "results/encoding"
FIGURES = "results/figures"
#: Models with several single-layer features: group label -> [(layer, feature), ...].
LAYER_GROUPS = layer_groups(FEATURES)


rule paper_table:
    """The paper's scores per participant x feature beside intercept-only, null and FDR counts."""
    input:
        encoded(ENCODED, SUBJECTS, FEATURES),
    output:
        csv="results/tables/paper_table.csv",
        md="results/tables/paper_table.md",
        html=report(
            "results/tables/paper_table.html",
            caption="../report/paper_table.rst",
            category="1. Tables",
            labels={"table": "paper table with baselines"},
        ),
    params:
        subjects=SUBJECTS,
        features=list(FEATURES),
    log:
        "results/logs/figures/paper_table.log",
    threads: 1
    conda:
        ENV
    script:
        "../scripts/paper_table.py"


rule fig_r2_bins:
    """Paper figure 1: held-out words per R² bin, per feature, mean over participants."""
    input:
        encoded(ENCODED, SUBJECTS, FEATURES, ["_words"]),
    output:
        png=report(
            f"{FIGURES}/paper/r2_bins.png",
            caption="../report/fig_r2_bins.rst",
            category="2. Paper figures",
            labels={"figure": "1: words per R² bin", "feature": "all"},
        ),
        pdf=f"{FIGURES}/paper/r2_bins.pdf",
    params:
        subjects=SUBJECTS,
        features=list(FEATURES),
    log:
        "results/logs/figures/r2_bins.log",
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_r2_bins.py"


rule fig_per_participant:
    """Paper figure 2 for one feature: per-participant boxes of per-word R² and r."""
    input:
        lambda wc: encoded(ENCODED, SUBJECTS, [wc.feature], ["_words"]),
    output:
        png=report(
            f"{FIGURES}/paper/{{feature}}_per_participant.png",
            caption="../report/fig_per_participant.rst",
            category="2. Paper figures",
            labels={"figure": "2: per participant", "feature": "{feature}"},
        ),
        pdf=f"{FIGURES}/paper/{{feature}}_per_participant.pdf",
    params:
        subjects=SUBJECTS,
        features=list(FEATURES),
    log:
        "results/logs/figures/{feature}_per_participant.log",
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_per_participant.py"


rule fig_baselines:
    """Honest figure 3 for one feature: figure 2 beside the intercept-only model and the null."""
    input:
        lambda wc: encoded(ENCODED, SUBJECTS, [wc.feature], ["_words", "_null"]),
    output:
        png=report(
            f"{FIGURES}/honest/{{feature}}_baselines.png",
            caption="../report/fig_baselines.rst",
            category="3. Honest figures",
            subcategory="per feature",
            labels={"figure": "3: paper score vs baselines", "feature": "{feature}"},
        ),
        pdf=f"{FIGURES}/honest/{{feature}}_baselines.pdf",
    params:
        subjects=SUBJECTS,
        features=list(FEATURES),
    log:
        "results/logs/figures/{feature}_baselines.log",
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_baselines.py"


rule fig_channels:
    """Honest figure 4 for one participant: per-channel ridge r across words vs its null."""
    input:
        lambda wc: encoded(ENCODED, [wc.subject], FEATURES, [""]),
    output:
        png=report(
            f"{FIGURES}/honest/sub-{{subject}}_channels.png",
            caption="../report/fig_channels.rst",
            category="3. Honest figures",
            subcategory="per participant",
            labels={"figure": "4: per-channel r vs null", "participant": "sub-{subject}"},
        ),
        pdf=f"{FIGURES}/honest/sub-{{subject}}_channels.pdf",
    params:
        features=list(FEATURES),
    log:
        "results/logs/figures/sub-{subject}_channels.log",
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_channels.py"


rule fig_electrodes:
    """Honest figure 6 for one participant: contacts in three projections, coloured by ridge r."""
    input:
        results=lambda wc: encoded(ENCODED, [wc.subject], FEATURES, [""]),
        electrodes=lambda wc: electrodes_file(
            BIDS, wc.subject, rules.simulate.output if SIMULATE else ()
        ),
    output:
        png=report(
            f"{FIGURES}/honest/sub-{{subject}}_electrodes.png",
            caption="../report/fig_electrodes.rst",
            category="3. Honest figures",
            subcategory="per participant",
            labels={"figure": "6: electrode map", "participant": "sub-{subject}"},
        ),
        pdf=f"{FIGURES}/honest/sub-{{subject}}_electrodes.pdf",
    params:
        bids_root=BIDS,
        features=list(FEATURES),
    log:
        "results/logs/figures/sub-{subject}_electrodes.log",
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_electrodes.py"


rule software_versions:
    """Versions of Python and the packages the pipeline runs on, for the report."""
    output:
        csv="results/tables/software_versions.csv",
        html=report(
            "results/tables/software_versions.html",
            caption="../report/software_versions.rst",
            category="4. Software",
            labels={"table": "software versions"},
        ),
    log:
        "results/logs/figures/software_versions.log",
    threads: 1
    conda:
        ENV
    script:
        "../scripts/software_versions.py"


rule run_config:
    """The run's effective configuration (defaults filled in), for the report."""
    output:
        yaml="results/tables/config.yaml",
        html=report(
            "results/tables/config.html",
            caption="../report/run_config.rst",
            category="4. Software",
            labels={"table": "configuration"},
        ),
    params:
        config=config,
    log:
        "results/logs/figures/run_config.log",
    threads: 1
    conda:
        ENV
    script:
        "../scripts/run_config.py"


rule fig_layers:
    """Figure 7: one model's scores by layer (features that each extract one layer)."""
    input:
        "results/tables/summary.csv",
    output:
        png=report(
            f"{FIGURES}/honest/layers_{{group}}.png",
            caption="../report/fig_layers.rst",
            category="3. Honest figures",
            subcategory="per model",
            labels={"figure": "7: scores by layer", "model": "{group}"},
        ),
        pdf=f"{FIGURES}/honest/layers_{{group}}.pdf",
    params:
        model=lambda wc: wc.group,
        members=lambda wc: LAYER_GROUPS[wc.group],
    log:
        "results/logs/figures/layers_{group}.log",
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_layers.py"


rule fig_lag_curves:
    """Figure 5b: frame-level r by lag per feature, over FDR-significant channels."""
    input:
        expand(
            "results/encoding_frames/sub-{subject}/{feature}.parquet",
            subject=SUBJECTS,
            feature=FRAME_FEATURES,
        ),
    output:
        png=report(
            f"{FIGURES}/honest/lag_curves.png",
            caption="../report/fig_lag_curves.rst",
            category="4. Time-resolved",
            labels={"figure": "5b: r by lag", "feature": "all"},
        ),
        pdf=f"{FIGURES}/honest/lag_curves.pdf",
    params:
        subjects=SUBJECTS,
        features=FRAME_FEATURES,
    log:
        "results/logs/figures/lag_curves.log",
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_lag_curves.py"


rule fig_reconstruction:
    """Figure 5a: measured vs reconstructed high-gamma of the best channels, held-out words."""
    input:
        table="results/encoding_frames/sub-{subject}/{feature}.parquet",
        pred="results/encoding_frames/sub-{subject}/{feature}_pred.h5",
    output:
        png=report(
            f"{FIGURES}/honest/sub-{{subject}}_{{feature}}_reconstruction.png",
            caption="../report/fig_reconstruction.rst",
            category="4. Time-resolved",
            labels={"figure": "5a: reconstruction", "participant": "sub-{subject}",
                    "feature": "{feature}"},
        ),
        pdf=f"{FIGURES}/honest/sub-{{subject}}_{{feature}}_reconstruction.pdf",
    log:
        "results/logs/figures/sub-{subject}_{feature}_reconstruction.log",
    threads: 1
    conda:
        ENV
    script:
        "../scripts/fig_reconstruction.py"


rule reproduce_paper:
    """The paper table and every figure (paper and honest), with the software versions."""
    input:
        rules.paper_table.output,
        rules.fig_r2_bins.output,
        expand(rules.fig_per_participant.output, feature=FEATURES),
        expand(rules.fig_baselines.output, feature=FEATURES),
        expand(rules.fig_channels.output, subject=SUBJECTS),
        expand(rules.fig_electrodes.output, subject=SUBJECTS),
        expand(rules.fig_layers.output, group=LAYER_GROUPS),
        rules.fig_lag_curves.output if FRAME_FEATURES else [],
        expand(rules.fig_reconstruction.output, subject=SUBJECTS, feature=FRAME_FEATURES),
        rules.software_versions.output,
        rules.run_config.output,
    default_target: False


# Seconds-long jobs: on a cluster they run beside Snakemake instead of queueing.
localrules:
    reproduce_paper,
    paper_table,
    fig_r2_bins,
    fig_per_participant,
    fig_baselines,
    fig_channels,
    fig_electrodes,
    fig_layers,
    fig_lag_curves,
    fig_reconstruction,
    software_versions,
    run_config,
