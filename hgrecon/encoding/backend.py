"""Array backends for the solvers (in the style of himalaya's ``get_backend``).

``get_backend("numpy" | "torch" | "torch_cuda")`` returns a :class:`Backend` whose
functions the solvers call for everything that is not an operator (``@``, ``+``,
indexing, ``.T``, ``.sum(axis)``), so the same code runs on numpy arrays and on torch
tensors on the CPU or a CUDA GPU. Arrays are float64 on every backend: the solvers
must agree with scikit-learn to tolerance, which float32 cannot promise.
"""

import numpy as np

NAMES = ("numpy", "torch", "torch_cuda")


class Backend:
    """Array functions of one library and device; see the module docstring."""

    def __init__(self, name):
        if name not in NAMES:
            raise ValueError(f"backend must be one of {NAMES}, got {name!r}")
        self.name = name
        if name == "numpy":
            self.xp = np
            self.device = None
            return
        import torch

        if name == "torch_cuda" and not torch.cuda.is_available():
            raise ValueError("backend 'torch_cuda' needs a CUDA device; none is available")
        self.xp = torch
        self.device = torch.device("cuda" if name == "torch_cuda" else "cpu")

    @property
    def is_torch(self):
        return self.xp is not np

    # conversion ---------------------------------------------------------------
    def asarray(self, x, dtype=None):
        """``x`` as a backend array (float64 unless ``dtype`` is ``"int"`` or ``"bool"``)."""
        if not self.is_torch:
            return np.asarray(x, dtype={None: np.float64, "int": np.int64, "bool": bool}[dtype])
        torch = self.xp
        kind = {None: torch.float64, "int": torch.int64, "bool": torch.bool}[dtype]
        if isinstance(x, torch.Tensor):
            return x.to(device=self.device, dtype=kind)
        return torch.as_tensor(np.asarray(x), dtype=kind, device=self.device)

    def to_numpy(self, x):
        """A numpy copy (or view) of a backend array."""
        if self.is_torch and isinstance(x, self.xp.Tensor):
            return x.detach().cpu().numpy()
        return np.asarray(x)

    # creation -----------------------------------------------------------------
    def zeros(self, shape, dtype=None):
        if not self.is_torch:
            return np.zeros(shape, dtype={None: np.float64, "int": np.int64, "bool": bool}[dtype])
        kind = {None: self.xp.float64, "int": self.xp.int64, "bool": self.xp.bool}[dtype]
        return self.xp.zeros(shape, dtype=kind, device=self.device)

    def full(self, shape, value):
        return self.zeros(shape) + value

    def eye(self, n):
        if not self.is_torch:
            return np.eye(n)
        return self.xp.eye(n, dtype=self.xp.float64, device=self.device)

    def arange(self, n):
        return self.asarray(np.arange(n), dtype="int")

    def copy(self, x):
        return x.clone() if self.is_torch else x.copy()

    # elementwise and reductions ---------------------------------------------------
    def where(self, cond, a, b):
        if self.is_torch:
            a = a if isinstance(a, self.xp.Tensor) else self.xp.tensor(a, dtype=self.xp.float64, device=self.device)
            b = b if isinstance(b, self.xp.Tensor) else self.xp.tensor(b, dtype=self.xp.float64, device=self.device)
        return self.xp.where(cond, a, b)

    def maximum(self, a, b):
        if self.is_torch and not isinstance(b, self.xp.Tensor):
            return self.xp.clamp(a, min=b)
        return self.xp.maximum(a, b)

    def minimum(self, a, b):
        if self.is_torch and not isinstance(b, self.xp.Tensor):
            return self.xp.clamp(a, max=b)
        return self.xp.minimum(a, b)

    def sqrt(self, x):
        return self.xp.sqrt(x)

    def isfinite(self, x):
        return self.xp.isfinite(x)

    def sign(self, x):
        return self.xp.sign(x)

    def amax(self, x, axis):
        return x.amax(axis) if self.is_torch else x.max(axis)

    def amin(self, x, axis):
        return x.amin(axis) if self.is_torch else x.min(axis)

    def argmin(self, x, axis):
        return x.argmin(axis)

    def argmax(self, x, axis):
        return x.argmax(axis)

    def all(self, x):
        return bool(x.all())

    def any(self, x, axis=None):
        if axis is None:
            return bool(x.any())
        return x.any(axis)

    def cat(self, arrays, axis=0):
        return self.xp.cat(arrays, axis) if self.is_torch else np.concatenate(arrays, axis)

    def stack(self, arrays, axis=0):
        return self.xp.stack(arrays, axis) if self.is_torch else np.stack(arrays, axis)

    def take(self, x, index, axis):
        """``x`` indexed by the integer array ``index`` along ``axis``."""
        index = self.asarray(index, dtype="int")
        return x.index_select(axis, index) if self.is_torch else np.take(x, index, axis)

    def gather_rows(self, x, index):
        """out[i, j] = x[index[i, j], j] (index int (k, m), x (p, m))."""
        return x.gather(0, index) if self.is_torch else np.take_along_axis(x, index, 0)

    def reverse(self, x, axis):
        """``x`` in reverse order along ``axis``."""
        return self.xp.flip(x, [axis]) if self.is_torch else np.flip(x, axis)

    def topk(self, x, k, axis):
        """Indices of the k largest entries along ``axis`` (in no particular order)."""
        if self.is_torch:
            return self.xp.topk(x, k, dim=axis).indices
        if k >= x.shape[axis]:
            return np.argsort(x, axis=axis)
        return np.take(np.argpartition(-x, k - 1, axis=axis), np.arange(k), axis=axis)

    def argsort(self, x, axis):
        """Stable ascending order along ``axis``."""
        if self.is_torch:
            return self.xp.argsort(x, dim=axis, stable=True)
        return np.argsort(x, axis=axis, kind="stable")

    def sort(self, x, axis):
        return self.xp.sort(x, axis)[0] if self.is_torch else np.sort(x, axis)

    def where_int(self, cond, a, b):
        """where() keeping integer arrays integer (a or b may be a Python int)."""
        return self.xp.where(cond, a, b)

    def diag(self, x):
        return self.xp.diag(x)

    def add_diagonal(self, a, v):
        """a[..., i, i] += v[..., i] in place."""
        if self.is_torch:
            a.diagonal(dim1=-2, dim2=-1).add_(v)
        else:
            i = np.arange(a.shape[-1])
            a[..., i, i] += v

    def flatnonzero(self, mask):
        return mask.nonzero().flatten() if self.is_torch else np.flatnonzero(mask)

    def einsum(self, spec, *arrays):
        return self.xp.einsum(spec, *arrays)

    # linear algebra -----------------------------------------------------------------
    def eigh(self, a):
        """Eigenvalues (ascending) and eigenvectors of the symmetric ``a`` (..., n, n)."""
        return self.xp.linalg.eigh(a)

    def inv(self, a):
        return self.xp.linalg.inv(a)

    def solve(self, a, b):
        return self.xp.linalg.solve(a, b)


_CACHE = {}


def get_backend(name="numpy"):
    """The :class:`Backend` called ``name`` ("numpy", "torch" or "torch_cuda")."""
    if isinstance(name, Backend):
        return name
    if name not in _CACHE:
        _CACHE[name] = Backend(name)
    return _CACHE[name]
