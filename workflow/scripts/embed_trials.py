from hgrecon.embeddings import run_trials
from hgrecon.runtime import job

with job(snakemake):
    opts = snakemake.params.embeddings
    run_trials(snakemake.wildcards.feature, snakemake.params.spec, snakemake.input.audio,
               snakemake.input.words, snakemake.output[0], device=opts["device"],
               threads=snakemake.threads, cache_dir=opts["cache_dir"])
