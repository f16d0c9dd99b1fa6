from hgrecon.runtime import job
from hgrecon.summary import run

with job(snakemake):
    run("results/encoding", snakemake.params.subjects, snakemake.params.features,
        snakemake.output[0])
