from hgrecon.runtime import job
from hgrecon.tables import run_paper_table

with job(snakemake):
    p, out = snakemake.params, snakemake.output
    run_paper_table(list(snakemake.input), p.subjects, p.features, out.csv, out.md, out.html)
