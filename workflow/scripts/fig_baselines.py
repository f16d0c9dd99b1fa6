from hgrecon.figures import make
from hgrecon.runtime import job

with job(snakemake):
    p, out = snakemake.params, snakemake.output
    make.baselines(list(snakemake.input), p.subjects, p.features,
                   snakemake.wildcards.feature, out.png, out.pdf)
