from hgrecon.figures import make
from hgrecon.runtime import job

with job(snakemake):
    p, out = snakemake.params, snakemake.output
    make.channels(list(snakemake.input), snakemake.wildcards.subject, p.features,
                  out.png, out.pdf)
