from hgrecon.figures.make import lag_curves
from hgrecon.runtime import job

with job(snakemake):
    lag_curves(list(snakemake.input), snakemake.params.subjects, snakemake.params.features,
               snakemake.output.png, snakemake.output.pdf)
