from hgrecon.figures import make
from hgrecon.runtime import job

with job(snakemake):
    p, out = snakemake.params, snakemake.output
    make.r2_bins(list(snakemake.input), p.subjects, p.features, out.png, out.pdf)
