rule trials:
    """Per-word mean high-gamma over the trial window, and the trial audio at 16 kHz."""
    input:
        highgamma="results/highgamma/sub-{subject}.h5",
        ingest="results/ingest/sub-{subject}.h5",
        words="results/ingest/sub-{subject}_words.parquet",
    output:
        table="results/trials/sub-{subject}.parquet",
        audio="results/trials/sub-{subject}_audio.h5",
    params:
        trials=config["trials"],
    log:
        "results/logs/trials/sub-{subject}.log",
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: (1000 + 2 * input.size_mb) * attempt,
    conda:
        ENV
    script:
        "../scripts/trials.py"
