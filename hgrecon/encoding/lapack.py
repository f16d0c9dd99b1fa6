"""LAPACK's Cholesky routines (scipy's ``cython_lapack``) for compiled code.

numba's ``np.linalg`` has no solve or inverse from a Cholesky factor, and its ``solve``
and ``inv`` go through LU (twice the work on a symmetric positive definite matrix). The
routines' addresses are looked up once per process (:func:`routines`) and passed to the
compiled functions as integers: machine code with the addresses built in could not be
cached by numba from one process to the next.
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import get_cython_function_address, intrinsic

#: Order of the routines in :func:`routines`.
NAMES = ("dpotrf", "dpotrs", "dpotri")


def routines():
    """The addresses of ``NAMES`` (int64 array) for the functions below."""
    return np.array([get_cython_function_address("scipy.linalg.cython_lapack", name)
                     for name in NAMES], dtype=np.int64)


@intrinsic
def _call(typingctx, address, arrays):
    """Call the void function at ``address`` with the data pointers of the tuple
    ``arrays`` (LAPACK's arguments, all by reference). The arrays themselves are the
    arguments, so they stay alive through the call."""
    count = len(arrays)

    def codegen(context, builder, signature, args):
        byte = ir.IntType(8).as_pointer()
        fn = builder.inttoptr(args[0], ir.FunctionType(ir.VoidType(), [byte] * count)
                              .as_pointer())
        values = cgutils.unpack_tuple(builder, args[1], count)
        pointers = [builder.bitcast(context.make_array(ty)(context, builder, v).data, byte)
                    for ty, v in zip(arrays.types, values)]
        builder.call(fn, pointers)
        return context.get_dummy_value()

    return types.void(address, arrays), codegen


@njit(cache=True, nogil=True)
def _ints(k):
    """(uplo 'L', n = k, nrhs = 1, info) as LAPACK takes them."""
    return (np.full(1, ord("L"), dtype=np.uint8), np.full(1, k, dtype=np.int32),
            np.ones(1, dtype=np.int32), np.zeros(1, dtype=np.int32))


@njit(cache=True, nogil=True)
def cholesky(H, lapack):
    """Factor the symmetric positive definite H (k, k) in place (its upper triangle, in
    C order, holds the factor); False where it is not positive definite."""
    uplo, n, _, info = _ints(H.shape[0])
    _call(lapack[0], (uplo, n, H, n, info))
    return info[0] == 0


@njit(cache=True, nogil=True)
def cholesky_solve(F, b, lapack):
    """Solve H x = b in place from F, :func:`cholesky` of H."""
    uplo, n, nrhs, info = _ints(F.shape[0])
    _call(lapack[1], (uplo, n, nrhs, F, n, b, n, info))


@njit(cache=True, nogil=True)
def cholesky_inverse(F, lapack):
    """H^-1 in place of F, :func:`cholesky` of H (both triangles, exactly symmetric)."""
    uplo, n, _, info = _ints(F.shape[0])
    _call(lapack[2], (uplo, n, F, n, info))
    for a in range(F.shape[0]):
        for b in range(a):
            F[a, b] = F[b, a]
