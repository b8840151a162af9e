"""Caching the fitted teacher and its outputs across the fits of a grid search.

A ``GridSearchCV`` over ``T`` x ``alpha`` fits the distiller once per candidate
and fold, and each fit would refit the teacher on the same training fold. With
``memory`` set, the teacher's fit and outputs are stored per distinct
(teacher parameters, rows, labels) in a ``joblib.Memory`` cache, so the grid fits
the teacher once per fold. A lock file per entry makes parallel workers
(``n_jobs=2``, dask workers sharing the cache folder) wait for the one worker
computing it instead of fitting the same teacher twice.
"""

import contextlib
import os
import pickle
import warnings

import joblib
from sklearn.utils.validation import check_memory

try:  # POSIX; elsewhere the cache still works, only concurrent misses may repeat work
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

__all__ = ["cached_call"]


@contextlib.contextmanager
def _file_lock(path):
    if fcntl is None:  # pragma: no cover
        yield
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached_call(memory, func, *args):
    """Return ``func(*args)``, through ``memory`` (None, a path or a joblib.Memory).

    Examples
    --------
    >>> import tempfile
    >>> calls = []
    >>> def square(x):
    ...     calls.append(x)
    ...     return x * x
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     [cached_call(folder, square, 3) for _ in range(2)], len(calls)
    ([9, 9], 1)
    """
    memory = check_memory(memory)
    if getattr(memory, "location", None) is None:
        return func(*args)
    try:
        key = joblib.hash((func.__module__, func.__qualname__, args))
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        warnings.warn(
            f"memory: the teacher or data cannot be hashed ({exc}); fitting without the "
            "cache. A teacher class defined in a script's __main__ cannot be hashed in worker "
            "processes: define it in an importable module.",
            UserWarning,
        )
        return func(*args)
    lock = os.path.join(str(memory.location), "skdistill-locks", f"{key}.lock")
    with _file_lock(lock):
        return memory.cache(func)(*args)
