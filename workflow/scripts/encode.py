from hgrecon.encoding import run, settings_from_config
from hgrecon.runtime import job

with job(snakemake):
    settings = settings_from_config(snakemake.params.encoding, snakemake.params.spec)
    run(snakemake.input.trials, snakemake.input.features, snakemake.output.channels,
        snakemake.output.words, snakemake.output.null, settings)
