from hgrecon.figures.make import reconstruction
from hgrecon.runtime import job

with job(snakemake):
    reconstruction(snakemake.input.table, snakemake.input.pred, snakemake.wildcards.subject,
                   snakemake.wildcards.feature, snakemake.output.png, snakemake.output.pdf)
