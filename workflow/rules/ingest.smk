rule ingest:
    """Read one subject's recording, channels and words; validate before heavy work."""
    input:
        subject_inputs,
    output:
        h5="results/ingest/sub-{subject}.h5",
        words="results/ingest/sub-{subject}_words.parquet",
    params:
        root=BIDS,
        ingest=config["ingest"],
    log:
        "results/logs/ingest/sub-{subject}.log",
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: (1000 + 6 * input.size_mb) * attempt,
    conda:
        ENV
    script:
        "../scripts/ingest.py"
