rule embed_words:
    """Word-scope features (text, fastText, random, table), once for the union of words."""
    input:
        words=expand("results/ingest/sub-{subject}_words.parquet", subject=SUBJECTS),
        extra=table_inputs,
    output:
        "results/embeddings/words/{feature}.h5",
    params:
        spec=lambda wc: FEATURES[wc.feature],
        embeddings=config["embeddings"],
    log:
        "results/logs/embed/{feature}.log",
    threads: config["embeddings"]["threads"]
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        gpu=gpu_request,
    conda:
        ENV
    script:
        "../scripts/embed_words.py"


rule embed_trials:
    """Trial-scope features (speech models, log-mel, text in context), per subject."""
    input:
        audio="results/trials/sub-{subject}_audio.h5",
        words="results/ingest/sub-{subject}_words.parquet",
    output:
        "results/embeddings/trials/sub-{subject}/{feature}.h5",
    params:
        spec=lambda wc: FEATURES[wc.feature],
        embeddings=config["embeddings"],
    log:
        "results/logs/embed/sub-{subject}_{feature}.log",
    threads: config["embeddings"]["threads"]
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        gpu=gpu_request,
    conda:
        ENV
    script:
        "../scripts/embed_trials.py"
