rule high_gamma:
    """Band-pass 70-170 Hz, line band-stops, Hilbert envelope, 50/10 ms frames."""
    input:
        "results/ingest/sub-{subject}.h5",
    output:
        "results/highgamma/sub-{subject}.h5",
    params:
        high_gamma=config["high_gamma"],
    log:
        "results/logs/highgamma/sub-{subject}.log",
    threads: 1
    resources:
        mem_mb=lambda wc, input, attempt: (1000 + 8 * input.size_mb) * attempt,
    conda:
        ENV
    script:
        "../scripts/highgamma.py"
