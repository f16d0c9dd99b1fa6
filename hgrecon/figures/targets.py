"""Input paths of the figure rules (kept out of the .smk files, as ``snakemake --lint`` asks)."""

from itertools import product

from .data import electrodes_paths


def encoded(root, subjects, features, parts=("", "_words", "_null")):
    """Encode outputs ``{root}/sub-{s}/{feature}{part}.parquet`` of subjects × features × parts."""
    return [f"{root}/sub-{s}/{f}{p}.parquet" for s, f, p in product(subjects, features, parts)]


def electrodes_file(bids_root, subject, declared=()):
    """The subject's ``_electrodes.tsv`` as a rule input: ``[path]`` or ``[]``.

    A path that a rule declares (``declared``: that rule's outputs) comes first, then
    the file on disk (:func:`hgrecon.figures.data.electrodes_paths`: any ``space-``
    entity, with or without the task). The simulate job writes it without declaring it;
    since the encode outputs come after that job, the file is there when the map is
    drawn. When there is none, ``[]`` lets the DAG build and only the map's job fails,
    with an error that names the file.
    """
    folder = f"{bids_root}/sub-{subject}/ieeg/"
    for f in map(str, declared):
        if f.startswith(folder) and f.endswith("_electrodes.tsv"):
            return [f]
    tsv, _ = electrodes_paths(bids_root, subject)
    return [str(tsv)] if tsv.exists() else []
