# Time-resolved (frame-level) encoding, opt-in through the `frames` config block.
from snakemake.logging import logger

from hgrecon.align import on_frames

FRAMES = config["frames"]
FRAME_FEATURES = [f for f in FRAMES["features"] if f in FEATURES] if FRAMES["enabled"] else []
if FRAMES["enabled"] and len(FRAME_FEATURES) < len(FRAMES["features"]):
    logger.warning(
        f"frames.features {sorted(set(FRAMES['features']) - set(FEATURES))} are not in the "
        "features block: no frame-level encoding for them"
    )
FRAME_OUTPUTS = expand(
    "results/encoding_frames/sub-{subject}/{feature}{part}",
    subject=SUBJECTS,
    feature=FRAME_FEATURES,
    part=[".parquet", "_pred.h5"],
)


rule embed_frames:
    """An audio or mel feature of the whole recording on the 10 ms high-gamma frames."""
    input:
        ingest="results/ingest/sub-{subject}.h5",
        highgamma="results/highgamma/sub-{subject}.h5",
    output:
        "results/embeddings/frames/sub-{subject}/{feature}.h5",
    params:
        spec=lambda wc: FEATURES[wc.feature],
        embeddings=config["embeddings"],
    log:
        "results/logs/embed/sub-{subject}_{feature}_frames.log",
    threads: config["embeddings"]["threads"]
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        gpu=gpu_request,
    conda:
        ENV
    script:
        "../scripts/embed_frames.py"


rule encode_frames:
    """Per channel and lag: frame-level predictions, scores, shuffle and shift nulls."""
    input:
        highgamma="results/highgamma/sub-{subject}.h5",
        ingest="results/ingest/sub-{subject}.h5",
        words="results/ingest/sub-{subject}_words.parquet",
        features=lambda wc: (
            f"results/embeddings/frames/sub-{wc.subject}/{wc.feature}.h5"
            if on_frames(FEATURES[wc.feature])
            else feature_file(wc)
        ),
    output:
        table="results/encoding_frames/sub-{subject}/{feature}.parquet",
        pred="results/encoding_frames/sub-{subject}/{feature}_pred.h5",
    params:
        frames=FRAMES,
        encoding=config["encoding"],
        trials=config["trials"],
        spec=lambda wc: FEATURES[wc.feature],
        on_frames=lambda wc: on_frames(FEATURES[wc.feature]),
    log:
        "results/logs/encode_frames/sub-{subject}_{feature}.log",
    threads: FRAMES["threads"]
    resources:
        mem_mb=lambda wc, attempt: 6000 * attempt,
        gpu=solver_gpu(FRAMES["backend"]),
    conda:
        ENV
    script:
        "../scripts/encode_frames.py"
