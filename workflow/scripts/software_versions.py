from hgrecon.runtime import job
from hgrecon.tables import run_software_versions

with job(snakemake):
    run_software_versions(snakemake.output.csv, snakemake.output.html)
