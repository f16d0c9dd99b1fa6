from hgrecon.runtime import job
from hgrecon.tables import run_config

with job(snakemake):
    run_config(snakemake.params.config, snakemake.output.yaml, snakemake.output.html)
