from hgrecon.encoding import frame_settings_from_config, run_frames
from hgrecon.runtime import job

with job(snakemake):
    p = snakemake.params
    settings = frame_settings_from_config(p.frames, p.encoding, p.trials, p.spec)
    run_frames(snakemake.input.highgamma, snakemake.input.ingest, snakemake.input.words,
               snakemake.input.features, snakemake.output.table, snakemake.output.pred,
               settings, frame_features=p.on_frames)
