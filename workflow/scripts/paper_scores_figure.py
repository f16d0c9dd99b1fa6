from hgrecon.figures import paper_scores
from hgrecon.runtime import job

with job(snakemake):
    paper_scores(list(snakemake.input), snakemake.params.features, snakemake.output[0])
