"""What every rule's script does around its one call: threads and the log file."""

import contextlib
import logging
import os
import signal
import sys
import warnings

from threadpoolctl import threadpool_limits

from .errors import InputError


@contextlib.contextmanager
def job(smk):
    """Run a rule's body with BLAS/torch threads = the rule's threads, output to its log.

    An error is written to the log and, in one line, to the terminal, then re-raised
    so that Snakemake marks the job failed and removes its outputs.
    """
    # SIGTERM (Snakemake stopping, scancel) unwinds normally, so temp files are removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    threads = int(getattr(smk, "threads", 1) or 1)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    log_path = smk.log[0] if len(smk.log) else os.devnull
    os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
    terminal = sys.stderr
    with open(log_path, "w") as log, threadpool_limits(threads), \
            contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        logging.basicConfig(stream=log, level=logging.INFO, force=True)
        warnings.simplefilter("default")
        _torch_threads(threads)
        try:
            yield
        except InputError as err:
            print(f"hgrecon: {err}", file=log)
            print(f"hgrecon: {err}", file=terminal)
            raise
        except Exception as err:
            logging.exception("job failed")
            print(f"hgrecon: {type(err).__name__}: {err} (details: {log_path})", file=terminal)
            raise


def _torch_threads(threads):
    """Limit torch's intra-op threads when torch is already imported."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
