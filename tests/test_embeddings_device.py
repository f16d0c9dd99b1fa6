"""Device choice (CUDA mocked: this machine has none), threads and dtype checks."""

import pytest
import torch

from hgrecon.embeddings import uses_gpu
from hgrecon.embeddings.device import prepare, resolve_device
from hgrecon.errors import InputError

TEXT = {"kind": "text"}


@pytest.fixture
def cuda(monkeypatch):
    """Pretend CUDA is available (resolve_device only builds a torch.device)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_auto_picks_cuda_when_available(cuda):
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    assert resolve_device("cpu") == torch.device("cpu")


def test_auto_falls_back_to_cpu(no_cuda):
    assert resolve_device("auto") == torch.device("cpu")


def test_cuda_without_cuda_is_an_error(no_cuda):
    with pytest.raises(InputError, match="no CUDA device") as err:
        resolve_device("cuda")
    assert err.value.where == "device"


@pytest.mark.parametrize("device", ["gpu", "cuda:x", "", None])
def test_bad_device_names_the_value(device):
    with pytest.raises(InputError, match=repr(device)):
        resolve_device(device)


def test_uses_gpu_only_for_model_kinds(cuda):
    assert uses_gpu(TEXT, "auto") and uses_gpu({"kind": "audio", "model": "m"}, "cuda")
    assert not uses_gpu(TEXT, "cpu")
    for spec in ({"kind": "mel"}, {"kind": "random"}, {"kind": "fasttext", "path": "x"}):
        assert not uses_gpu(spec, "cuda")


def test_uses_gpu_auto_follows_the_machine(no_cuda):
    assert not uses_gpu(TEXT, "auto")
    assert uses_gpu(TEXT, "cuda")  # asked for explicitly: the job must request a GPU


def test_prepare_sets_threads_and_checks_dtype(no_cuda):
    before = torch.get_num_threads()
    try:
        dev, dtype = prepare("auto", 1, "float32", "features.x")
        assert dev.type == "cpu" and dtype is torch.float32 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(InputError) as err:
        prepare("cpu", 1, "float16", "features.x")
    assert err.value.where == "features.x.dtype"
    with pytest.raises(InputError, match="threads"):
        prepare("cpu", 0, "float32", "features.x")


def test_half_precision_allowed_on_cuda(cuda):
    dev, dtype = prepare("auto", 1, "bfloat16", "features.x")
    assert dev.type == "cuda" and dtype is torch.bfloat16
