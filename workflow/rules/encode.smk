rule encode:
    """The paper's protocol with the intercept-only model, permutation null and per-channel ridge."""
    input:
        trials="results/trials/sub-{subject}.parquet",
        features=feature_file,
    output:
        channels="results/encoding/sub-{subject}/{feature}.parquet",
        words="results/encoding/sub-{subject}/{feature}_words.parquet",
        null="results/encoding/sub-{subject}/{feature}_null.parquet",
    params:
        encoding=config["encoding"],
        spec=lambda wc: FEATURES[wc.feature],
    log:
        "results/logs/encode/sub-{subject}_{feature}.log",
    threads: 1
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        gpu=solver_gpu(config["encoding"]["backend"]),
    conda:
        ENV
    script:
        "../scripts/encode.py"
