# hgrecon: speech-production high-gamma from model embeddings.
# Stages: simulate -> ingest -> high_gamma -> trials -> embed -> encode -> summarise.
# Run: snakemake --cores 2 --workflow-profile workflow/profiles/default (see README.md).

import os

from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config", "config.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/highgamma.smk"
include: "workflow/rules/trials.smk"
include: "workflow/rules/embed.smk"
include: "workflow/rules/encode.smk"
include: "workflow/rules/summarise.smk"
include: "workflow/rules/frames.smk"
include: "workflow/rules/figures.smk"


rule all:
    input:
        "results/tables/summary.csv",
        expand("results/figures/sub-{subject}_paper_scores.png", subject=SUBJECTS),
        rules.reproduce_paper.input,
        FRAME_OUTPUTS,
    default_target: True
