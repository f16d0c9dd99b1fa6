from hgrecon.figures.make import layers
from hgrecon.runtime import job

with job(snakemake):
    layers(snakemake.input[0], snakemake.params.model, snakemake.params.members,
           snakemake.output.png, snakemake.output.pdf)
