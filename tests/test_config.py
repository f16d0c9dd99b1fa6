"""The config schema: defaults, rejection of wrong keys, and the shipped presets."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def dry_run(tmp_path, *args):
    return subprocess.run([SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory",
                           str(tmp_path), "--dry-run", "--cores", "1", *args],
                          capture_output=True, text=True)


def test_default_config_plans_the_whole_pipeline(tmp_path):
    proc = dry_run(tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    for rule in ("simulate", "ingest", "high_gamma", "trials", "embed_words",
                 "embed_trials", "encode", "summarise"):
        assert rule in out


@pytest.mark.parametrize("override, needle", [
    (["--config", "n_permutations=5"], "n_permutations"),
    (["--config", "encoding={n_perms: 5}"], "n_perms"),
    (["--config", "high_gamma={reref: median}"], "median"),
    (["--config", "trials={length_s: -1}"], "length_s"),
    (["--config", "encoding={ridge_scale: everywhere}"], "everywhere"),
])
def test_schema_rejects_wrong_keys_and_values_naming_them(tmp_path, override, needle):
    proc = dry_run(tmp_path, *override)
    assert proc.returncode != 0
    assert needle in proc.stderr + proc.stdout


def test_shipped_configs_are_valid_yaml_with_known_top_level_keys():
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    for name in ("config.yaml", "paper.yaml"):
        cfg = yaml.safe_load((REPO / "config" / name).read_text())
        assert set(cfg) <= set(schema["properties"]), name


def test_lint_is_clean(tmp_path):
    proc = subprocess.run([SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory",
                           str(tmp_path), "--lint"], capture_output=True, text=True)
    assert "Congratulations" in proc.stdout + proc.stderr, proc.stdout[-4000:]


def test_encoding_backend_torch_cuda_asks_a_gpu_for_the_encode_jobs(tmp_path):
    """The solver backend is a config key; on CUDA the encode jobs request a GPU (so a
    cluster profile sends them to a GPU partition), and only them."""
    def resources(out, rule):
        jobs = out.split("\nrule ")[1:]
        return {ln.strip() for job in jobs if job.startswith(rule + ":")
                for ln in job.splitlines() if ln.strip().startswith("resources:")}

    plain = dry_run(tmp_path).stdout
    cuda = dry_run(tmp_path, "--config", "encoding={backend: torch_cuda}").stdout
    assert resources(plain, "encode") and all("gpu=0" in r for r in resources(plain, "encode"))
    assert resources(cuda, "encode") and all("gpu=1" in r for r in resources(cuda, "encode"))
    assert all("gpu=0" in r for r in resources(cuda, "encode_frames"))


def test_encoding_settings_come_from_the_validated_config():
    from snakemake.utils import validate

    from hgrecon.encoding import settings_from_config

    cfg = yaml.safe_load((REPO / "config/config.yaml").read_text())
    cfg["encoding"].update(ridge_scale="all", backend="torch")
    validate(cfg, str(REPO / "workflow/schemas/config.schema.yaml"))
    st = settings_from_config(cfg["encoding"], {"kind": "random"})
    assert (st.ridge_scale, st.backend, st.n_perm) == ("all", "torch", cfg["encoding"]["n_perm"])
    del cfg["encoding"]["ridge_scale"], cfg["encoding"]["backend"]
    validate(cfg, str(REPO / "workflow/schemas/config.schema.yaml"))   # schema defaults
    st = settings_from_config(cfg["encoding"], {"kind": "random"})
    assert (st.ridge_scale, st.backend) == ("train", "numpy")
