# Config loading, validation, the subject list and the input functions.
import os
from pathlib import Path

from snakemake.utils import validate

validate(config, "../schemas/config.schema.yaml")

from hgrecon.embeddings import scope, uses_gpu, validate_spec

#: The conda environment of every rule (for --software-deployment-method conda).
ENV = "../../envs/hgrecon.yaml"
SIMULATED_ROOT = "data/synthetic"
BIDS = config["bids_root"]
SIMULATE = os.path.normpath(BIDS) == SIMULATED_ROOT
FEATURES = {name: validate_spec(name, spec) for name, spec in config["features"].items()}


def _subjects():
    if SIMULATE:
        n = config["simulation"]["n_subjects"]
        available = [f"{i:02d}" for i in range(1, n + 1)]
    else:
        from hgrecon.ingest import list_subjects

        available = list_subjects(BIDS)
    wanted = config["subjects"]
    if wanted == "all":
        return available
    missing = sorted(set(wanted) - set(available))
    if missing:
        raise ValueError(f"config subjects {missing} are not in {BIDS}/participants.tsv")
    return list(wanted)


SUBJECTS = _subjects()


wildcard_constraints:
    subject="[A-Za-z0-9]+",
    feature="|".join(FEATURES),


def subject_inputs(wildcards):
    """The BIDS files of one subject (made by the simulate rule for synthetic data)."""
    ieeg = f"{BIDS}/sub-{wildcards.subject}/ieeg"
    if SIMULATE:
        stem = f"{ieeg}/sub-{wildcards.subject}_task-wordProduction"
        return [f"{stem}_ieeg.nwb", f"{stem}_channels.tsv", f"{stem}_events.tsv"]
    return sorted(str(p) for p in Path(ieeg).glob("*") if p.is_file())


def feature_file(wildcards):
    """Where the encode rule finds one subject's feature file."""
    if scope(FEATURES[wildcards.feature]) == "word":
        return f"results/embeddings/words/{wildcards.feature}.h5"
    return f"results/embeddings/trials/sub-{wildcards.subject}/{wildcards.feature}.h5"


def table_inputs(wildcards):
    """Files a word-scope feature reads besides the word lists (a `table` path)."""
    spec = FEATURES[wildcards.feature]
    return [spec["path"]] if spec["kind"] == "table" else []


def solver_gpu(backend):
    """Resource `gpu` of an encoding job: 1 with the torch_cuda backend."""
    return int(backend == "torch_cuda")


def gpu_request(wildcards):
    """1 for model features (text, audio) unless embeddings.device is cpu.

    Independent of the machine that builds the DAG: a cluster profile then submits these
    jobs with a GPU, and inside the job `device: auto` falls back to CPU without one.
    """
    if config["embeddings"]["device"] == "cpu":
        return 0
    return int(uses_gpu(FEATURES[wildcards.feature], "cuda"))
