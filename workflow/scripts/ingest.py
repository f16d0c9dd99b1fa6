from hgrecon.ingest import run
from hgrecon.runtime import job

with job(snakemake):
    run(snakemake.params.root, snakemake.wildcards.subject, snakemake.output.h5,
        snakemake.output.words, **snakemake.params.ingest)
