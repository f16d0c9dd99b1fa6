"""Where the torch models run: device choice, threads, dtype and determinism.

``device`` is ``auto`` (CUDA when ``torch.cuda.is_available()``, else CPU), ``cpu``, or
``cuda`` / ``cuda:N`` (an error when CUDA is unavailable). torch is imported only here and
in the model modules, so validating a config stays cheap.
"""

import re

from ..errors import InputError
from .registry import KINDS

_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def _check(device):
    if not isinstance(device, str) or not _DEVICE.match(device):
        raise InputError("device", f"expected auto, cpu, cuda or cuda:N, got {device!r}")


def resolve_device(device):
    """The ``torch.device`` that ``device`` names (see the module docstring)."""
    import torch

    _check(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("device", f"{device!r} was asked for but torch sees no CUDA device "
                         "(use device: auto or cpu)")
    return torch.device(device)


def uses_gpu(spec, device):
    """Whether feature ``spec`` would run on a GPU with this ``device`` setting.

    Only model kinds (text, audio) use one. With ``auto`` the answer depends on the machine
    asking: a workflow that submits jobs to GPU nodes should say ``cuda``.
    """
    _check(device)
    kind = KINDS.get(spec.get("kind"))
    if kind is None or not kind.torch or device == "cpu":
        return False
    if device.startswith("cuda"):
        return True
    import torch

    return torch.cuda.is_available()


def prepare(device, threads, dtype, where):
    """Set threads and seeds; return (torch.device, torch.dtype) for a model run.

    dtype : ``float32`` | ``float16`` | ``bfloat16``; half precision only on CUDA.
    """
    import torch

    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InputError("threads", f"expected an integer >= 1, got {threads!r}")
    dev = resolve_device(device)
    if dtype != "float32" and dev.type != "cuda":
        raise InputError(f"{where}.dtype", f"{dtype} runs only on CUDA; the device is "
                         f"{dev.type} (use float32)")
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if dev.type == "cuda":
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    return dev, getattr(torch, dtype)
