from hgrecon.figures import make
from hgrecon.runtime import job

with job(snakemake):
    p, inp, out = snakemake.params, snakemake.input, snakemake.output
    # the _electrodes.tsv when the rule could declare it, else looked up under the BIDS root
    where = inp.electrodes[0] if len(inp.electrodes) else p.bids_root
    make.electrodes(list(inp.results), where, snakemake.wildcards.subject, p.features,
                    out.png, out.pdf)
