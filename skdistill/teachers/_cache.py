"""Caching the fitted teacher and its outputs across the fits of a grid search.

A ``GridSearchCV`` over ``T`` x ``alpha`` fits the distiller once per candidate
and fold, and each fit would refit the teacher on the same training fold. With
``memory`` set, the teacher's fit and outputs are stored per distinct
(teacher parameters, rows, labels) in a ``joblib.Memory`` cache, so the grid fits
the teacher once per fold. A lock file per entry makes parallel workers
(``n_jobs=2``, dask workers sharing the cache folder) wait for the one worker
computing it instead of fitting the same teacher twice.

Trust model: the cache holds pickles, and loading a pickle runs code. Only you
may write to the cache folder. It is created private to its owner (mode 700,
which also hides the training rows and teachers it holds from other users),
symlinked entries are refused and lock files are never opened through a
symlink.
"""

import contextlib
import functools
import inspect
import os
import pickle
import sys
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
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags, 0o600)  # never through a symlink
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def code_fingerprint(obj):
    """A hash of the code behind ``obj``: its classes' modules, names, versions and sources.

    Covers the classes of ``obj`` and of every estimator among its parameters
    (a Pipeline's steps, a FrozenEstimator's model), so a cached teacher is not
    served after its class's code or its package's version changed.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> code_fingerprint(LogisticRegression()) == code_fingerprint(LogisticRegression(C=2))
    True
    """
    classes = {type(obj)}
    params = obj.get_params(deep=True) if hasattr(obj, "get_params") else {}
    classes.update(type(value) for value in params.values() if hasattr(value, "get_params"))
    ordered = sorted(classes, key=lambda c: (c.__module__, c.__qualname__))
    return joblib.hash([_code_of(base) for cls in ordered for base in cls.__mro__[:-1]])


@functools.lru_cache(maxsize=256)
def _code_of(obj):
    """(module, name, package version, source) of a class or function."""
    package = sys.modules.get(obj.__module__.split(".")[0])
    try:
        source = inspect.getsource(obj)
    except (OSError, TypeError):
        source = None
    return obj.__module__, obj.__qualname__, getattr(package, "__version__", None), source


def _call(func, code, *args):
    """What the cache stores: ``func(*args)``, keyed by ``code`` (naming ``func``) and ``args``."""
    return func(*args)


def _checked_location(memory):
    """The cache folder, made private to its owner; ValueError naming memory= when unusable."""
    location = os.path.abspath(str(memory.location))
    if os.path.islink(location):
        raise ValueError(f"memory={location!r} is a symlink; give the cache folder itself.")
    if os.path.exists(location) and not os.path.isdir(location):
        raise ValueError(f"memory={location!r} is a file, not a folder for the teacher cache.")
    os.makedirs(location, mode=0o700, exist_ok=True)
    if os.stat(location).st_uid == os.getuid() and os.stat(location).st_mode & 0o077:
        os.chmod(location, 0o700)  # what it holds: teachers and training rows
    for folder, subfolders, files in os.walk(location):
        for name in subfolders + files:
            if os.path.islink(os.path.join(folder, name)):
                raise ValueError(
                    f"memory={location!r} holds a symlink ({os.path.join(folder, name)}); the "
                    "cache refuses symlinked entries. Only you should write to the cache folder: "
                    "its pickles run code when loaded."
                )
    return location


def cached_call(memory, func, *args):
    """Return ``func(*args)``, through ``memory`` (None, a path or a joblib.Memory).

    Entries are keyed by ``func``'s code, the arguments and the code of the
    estimators among them (see :func:`code_fingerprint`). The folder is made
    private to its owner (mode 700); symlinked entries are refused; a folder
    that cannot be written falls back to computing, with a warning.

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
    try:
        memory = check_memory(memory)
    except (NotADirectoryError, FileExistsError) as exc:
        raise ValueError(
            f"memory={str(memory)!r} is a file, not a folder for the teacher cache ({exc})."
        ) from None
    if getattr(memory, "location", None) is None:
        return func(*args)
    try:
        models = [getattr(a, "model", a) for a in args if _is_model(a)]
        code = (_code_of(func), [code_fingerprint(model) for model in models])
        key = joblib.hash((func.__module__, func.__qualname__, code, args))
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        warnings.warn(
            f"memory: the teacher or data cannot be hashed ({exc}); fitting without the "
            "cache. A teacher class defined in a script's __main__ cannot be hashed in worker "
            "processes: define it in an importable module.",
            UserWarning,
        )
        return func(*args)
    location = _checked_location(memory)
    lock = os.path.join(location, "skdistill-locks", f"{key}.lock")
    try:
        os.makedirs(os.path.dirname(lock), mode=0o700, exist_ok=True)
        if os.path.isdir(lock):
            raise ValueError(f"memory={location!r}: the lock path {lock} is a folder; remove it.")
        with _file_lock(lock):
            return memory.cache(_call, ignore=["func"])(func, code, *args)
    except PermissionError as exc:
        warnings.warn(
            f"memory={location!r} cannot be written ({exc}); fitting the teacher without the "
            "cache.",
            UserWarning,
        )
        return func(*args)


def _is_model(value):
    return hasattr(value, "model") or hasattr(value, "get_params")
