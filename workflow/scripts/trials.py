from hgrecon.runtime import job
from hgrecon.trials import run

with job(snakemake):
    run(snakemake.input.highgamma, snakemake.input.ingest, snakemake.input.words,
        snakemake.output.table, snakemake.output.audio, **snakemake.params.trials)
