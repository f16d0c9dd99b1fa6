from hgrecon.embeddings import run_words
from hgrecon.runtime import job

with job(snakemake):
    opts = snakemake.params.embeddings
    run_words(snakemake.wildcards.feature, snakemake.params.spec, snakemake.input.words,
              snakemake.output[0], device=opts["device"], threads=snakemake.threads,
              cache_dir=opts["cache_dir"])
