from pathlib import Path

from hgrecon.runtime import job
from hgrecon.simulate import simulate_dataset

with job(snakemake):
    root = Path(snakemake.output.participants).parent
    simulate_dataset(root, snakemake.params.simulation)
