from hgrecon.align import embed_frames
from hgrecon.runtime import job

with job(snakemake):
    opts = snakemake.params.embeddings
    embed_frames(snakemake.input.ingest, snakemake.input.highgamma, snakemake.output[0],
                 snakemake.params.spec, name=snakemake.wildcards.feature,
                 device=opts["device"], threads=snakemake.threads, cache_dir=opts["cache_dir"])
