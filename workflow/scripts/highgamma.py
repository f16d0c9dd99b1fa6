from hgrecon.highgamma import run
from hgrecon.runtime import job

with job(snakemake):
    hg = snakemake.params.high_gamma
    run(snakemake.input[0], snakemake.output[0], reref=hg["reref"],
        line_freq=hg["line_freq"], band=tuple(hg["band"]))
