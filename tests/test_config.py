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
