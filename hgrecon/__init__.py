"""hgrecon: reconstruct speech-production high-gamma from model embeddings.

Stages (one module each, called by the Snakemake rules under ``workflow/rules``):
``simulate`` → ``ingest`` → ``highgamma`` → ``trials`` → ``embeddings`` →
``encoding`` → ``summary`` / ``figures``.
"""

__version__ = "0.1.0"
