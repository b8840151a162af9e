"""Caching the fitted teacher and its outputs across the fits of a grid search.

A ``GridSearchCV`` over ``T`` x ``alpha`` fits the distiller once per candidate
and fold, and each fit would refit the teacher on the same training fold. With
``memory`` set, the teacher's fit and outputs are stored per distinct
(teacher parameters, rows, labels) in a ``joblib.Memory`` cache, so the grid fits
the teacher once per fold. A lock file per entry makes parallel workers
(``n_jobs=2``, dask workers sharing the cache folder) wait for the one worker
computing it instead of fitting the same teacher twice.

Trust model: the cache holds pickles, and loading a pickle runs code. Only you
may write to the cache folder. A folder owned by another user, or one that
others may write to (group- or world-writable, as the shared temporary folder
is), is not used: the fit goes on without the cache and a warning says why, as
``ssh`` refuses a world-writable ``~/.ssh``. The same holds for every entry
inside it. A folder the cache creates is private to its owner (mode 700); one
that exists keeps its mode, but the entries (``joblib/`` and
``skdistill-locks/`` inside it) are kept private: folders 700, files 600, so
the training rows and teachers they hold are readable by you only, whatever
the umask (joblib makes ``joblib/`` with the umask's mode, 775 under 002; the
cache closes it at once). Symlinks
among the entries are refused, and lock files are never opened through a
symlink; the rest of the folder is not read. An entry that does not hold what
the fit stores is refitted and written anew, with a warning.
:func:`user_cache_dir` is a per-user folder to point ``memory=`` at.

What a cache entry is keyed by (see :func:`code_fingerprint`): the teacher's
parameters, the rows and labels, and the code the teacher runs -- the source of
its classes and of every estimator among its parameters (with their base
classes and their package's version), the source (or bytecode) of every
function among its parameters (a ``FunctionTransformer``'s ``func``, a scorer),
and the whole source file of each of your own modules (outside the installed
packages) that defines one of them, so a helper edited in the same file is
seen. Not covered: other files of yours that those modules import, data files
read during ``fit``, and environment variables. Clear the folder after changing
those.
"""

import contextlib
import functools
import hashlib
import inspect
import logging
import os
import pickle
import stat
import sys
import sysconfig
import warnings

import joblib
from sklearn.utils.validation import check_memory

try:  # POSIX; elsewhere the cache still works, only concurrent misses may repeat work
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

__all__ = ["cached_call", "user_cache_dir"]


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
    """A hash of the code behind ``obj``: classes, functions and your own modules' files.

    Covers the classes of ``obj`` and of every estimator among its parameters
    (a Pipeline's steps, a FrozenEstimator's model) with their base classes and
    their package's version; every callable among the parameters (its source,
    or its bytecode and constants); and, for each of those defined in a module
    outside the installed packages and the standard library, that module's
    whole source file. So a cached teacher is not served after its code, a
    function it is given, or a helper beside them changed.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> code_fingerprint(LogisticRegression()) == code_fingerprint(LogisticRegression(C=2))
    True
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> code_fingerprint(FunctionTransformer(abs)) == code_fingerprint(FunctionTransformer(round))
    False
    """
    params = obj.get_params(deep=True) if hasattr(obj, "get_params") else {}
    classes = {type(obj)} | {type(v) for v in params.values() if hasattr(v, "get_params")}
    ordered = sorted(classes, key=lambda c: (c.__module__, c.__qualname__))
    code = [_code_of(base) for cls in ordered for base in cls.__mro__[:-1]]
    functions = [f for value in params.values() for f in _functions_in(value)]
    code += [_function_code(function) for function in functions]
    modules = {base.__module__ for cls in ordered for base in cls.__mro__[:-1]}
    modules |= {getattr(function, "__module__", None) for function in functions}
    code += [_own_module_source(name) for name in sorted(m for m in modules if m)]
    return joblib.hash(code)


def _functions_in(value):
    """The plain callables in a parameter value (functions, partials, methods; not classes)."""
    if isinstance(value, functools.partial):
        return [value.func, *[f for arg in (*value.args, *value.keywords.values())
                              for f in _functions_in(arg)]]
    if isinstance(value, (list, tuple)):
        return [f for item in value for f in _functions_in(item)]
    if isinstance(value, dict):
        return [f for item in value.values() for f in _functions_in(item)]
    if callable(value) and not isinstance(value, type) and not hasattr(value, "get_params"):
        return [getattr(value, "__func__", value)]
    return []


def _function_code(function):
    """(module, name, source) of a function; its bytecode and constants without a source."""
    name = getattr(function, "__qualname__", repr(type(function)))
    try:
        return getattr(function, "__module__", None), name, inspect.getsource(function)
    except (OSError, TypeError):
        code = getattr(function, "__code__", None)
        body = None if code is None else (code.co_code, repr(code.co_consts))
        return getattr(function, "__module__", None), name, body


def _own_module_source(name):
    """The source of module ``name`` when it is your own code (not installed, not stdlib)."""
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    if path is None or not path.endswith(".py"):
        return name, None
    path = os.path.realpath(path)
    installed = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib",
                                                        "platlib")}
    if any(path.startswith(os.path.realpath(root) + os.sep) for root in installed):
        return name, None
    try:
        with open(path, "rb") as file:
            return name, hashlib.sha256(file.read()).hexdigest()
    except OSError:
        return name, None


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
    """What the cache stores: ``func(*args)``, keyed by ``code`` (naming ``func``) and ``args``.

    A PermissionError ``func`` raises travels as :class:`_FailedCall`: it is the
    caller's error, not the cache folder's.
    """
    try:
        return func(*args)
    except PermissionError as exc:
        raise _FailedCall(exc) from exc


class _FailedCall(Exception):
    """An error the cached function raised, carried past the cache's own error handling."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error


ENTRY_FOLDERS = ("joblib", "skdistill-locks")
"""The folders inside ``memory`` the cache reads and writes; the rest is not read."""


def user_cache_dir(name="skdistill"):
    """A folder for the teacher cache that belongs to you: the user's cache directory.

    ``$XDG_CACHE_HOME/<name>`` (``~/.cache/<name>`` by default) on Linux,
    ``~/Library/Caches/<name>`` on macOS and ``%LOCALAPPDATA%\\<name>`` on
    Windows, where pip and joblib users keep theirs. It is not created here;
    ``memory=`` creates it private to you (mode 700) on first use. Prefer it
    to a path in the shared temporary folder, where another user could
    create the folder first.

    Parameters
    ----------
    name : str, default="skdistill"
        The folder's name inside the user's cache directory.

    Returns
    -------
    path : str
        An absolute path.

    See Also
    --------
    DistilledClassifier : Takes it as ``memory=``.

    Examples
    --------
    >>> import os
    >>> from skdistill import user_cache_dir
    >>> folder = user_cache_dir()
    >>> os.path.isabs(folder), os.path.basename(folder)
    (True, 'skdistill')
    """
    if sys.platform == "win32":  # pragma: no cover
        root = os.environ.get("LOCALAPPDATA") or os.path.expanduser(r"~\AppData\Local")
    elif sys.platform == "darwin":  # pragma: no cover
        root = os.path.expanduser("~/Library/Caches")
    else:
        root = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.abspath(os.path.join(root, name))


class UntrustedCache(Exception):
    """The cache folder, or an entry in it, could be written by someone else."""


def _yours(info):
    """Whether the file whose ``lstat`` is ``info`` is owned by this process's user (True
    where the system has no user ids)."""
    owner = getattr(os, "geteuid", None)
    return owner is None or info.st_uid == owner()


def _untrusted(path, info):
    """Why ``path`` (its ``lstat`` is ``info``) cannot be trusted with pickles, or None."""
    if not _yours(info):
        return f"{path} is owned by user id {info.st_uid}, not by you (user id {os.geteuid()})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"others may write to {path} (mode {stat.S_IMODE(info.st_mode):o})"
    return None


def _checked_location(memory, created=False, fresh=()):
    """The cache folder; ValueError naming memory= when unusable, PermissionError when read-only.

    ``created``: the folder did not exist before this call; it is made private.
    ``fresh``: the entry folders joblib made in this call (they did not exist
    before it); they are made private too, whatever the umask gave them.
    Raises :class:`UntrustedCache` for a folder, or an entry, that someone else
    owns or may write to.
    """
    location = os.path.abspath(str(memory.location))
    if os.path.islink(location):
        raise ValueError(f"memory={location!r} is a symlink; give the cache folder itself.")
    if os.path.exists(location) and not os.path.isdir(location):
        raise ValueError(f"memory={location!r} is a file, not a folder for the teacher cache.")
    os.makedirs(location, mode=0o700, exist_ok=True)
    if created:  # a new folder is private; one that existed keeps its mode
        os.chmod(location, 0o700)
    reason = _untrusted(location, os.lstat(location))
    for entries in ENTRY_FOLDERS:
        top = os.path.join(location, entries)
        if os.path.islink(top) or (os.path.exists(top) and not os.path.isdir(top)):
            raise ValueError(
                f"memory={location!r}: {top} is a symlink or a file; the cache keeps its entries "
                "in that folder. Remove it or choose another cache folder."
            )
        if (created or entries in fresh) and os.path.isdir(top) and _yours(os.lstat(top)):
            os.chmod(top, 0o700)  # joblib made it with the umask's mode (775 under 002)
        for folder, subfolders, files in os.walk(top):
            for path in [folder] + [os.path.join(folder, name) for name in subfolders + files]:
                if os.path.islink(path):
                    raise ValueError(
                        f"memory={location!r} holds a symlink ({path}); the cache refuses "
                        "symlinked entries. Only you should write to the cache folder: its "
                        "pickles run code when loaded."
                    )
                info = _lstat(path)
                reason = reason or (None if info is None else _untrusted(path, info))
    if reason is not None:
        raise UntrustedCache(reason)
    return location


def _make_private(location):
    """Folders 700 and files 600 under the entry folders: entries readable by their owner only."""
    for entries in ENTRY_FOLDERS:
        top = os.path.join(location, entries)
        os.makedirs(top, mode=0o700, exist_ok=True)
        for folder, subfolders, files in os.walk(top):
            for path, mode in [(folder, 0o700)] + [
                (os.path.join(folder, name), 0o600) for name in files
            ]:
                info = _lstat(path)
                if info is None or stat.S_ISLNK(info.st_mode):
                    continue
                if stat.S_IMODE(info.st_mode) & 0o077:
                    try:
                        os.chmod(path, mode)
                    except FileNotFoundError:  # gone since: see _lstat
                        pass


def _lstat(path):
    """``os.lstat(path)``, or None where the path is gone: another process writing the same
    cache (a search with ``n_jobs``) renames its temporary files while this one walks it."""
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


class _UnreadableEntries(logging.Filter):
    """Keeps joblib's report of an entry it cannot load (a traceback holding the rows) quiet."""

    def __init__(self):
        super().__init__()
        self.seen = False

    def filter(self, record):
        if "Exception while loading results" in record.getMessage():
            self.seen = True
            return False
        return True


def _first_reason(exc):
    """The first line of what ``exc`` says first, at most 200 characters: joblib's hashing
    errors carry the whole argument tuple (the training rows among them) after it."""
    reason = exc
    while True:
        if isinstance(reason, BaseException) and reason.args:
            reason = reason.args[0]
        elif isinstance(reason, tuple) and reason:
            reason = reason[0]
        else:
            return (str(reason).splitlines() or [""])[0][:200]


def cached_call(memory, func, *args, valid=None):
    """Return ``func(*args)``, through ``memory`` (None, a path or a joblib.Memory).

    Entries are keyed by ``func``'s code, the arguments and the code of the
    estimators among them (see :func:`code_fingerprint`). A new folder is made
    private to its owner (mode 700) and entries readable by their owner only;
    a folder or entry that someone else owns or may write to is not used
    (computed without the cache, with a warning); symlinked entries are
    refused; a folder that cannot be written falls back to computing, with a
    warning, and so does an entry that cannot be read, or whose value
    ``valid`` (a predicate, None: any) rejects -- it is computed and written
    anew.

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
    if isinstance(memory, str) and not memory.strip():
        raise ValueError(
            "memory='' names no folder; pass a folder for the teacher cache, or None for none."
        )
    given = memory if isinstance(memory, (str, os.PathLike)) else None
    created = given is not None and not os.path.exists(given)  # by joblib, just below
    fresh = () if given is None else {  # entry folders joblib is about to make
        entries for entries in ENTRY_FOLDERS if not os.path.lexists(os.path.join(given, entries))
    }
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
        reason = _first_reason(exc)
        hint = (
            "A lambda, or a function defined inside another (e.g. a FunctionTransformer's "
            "func), cannot be pickled: define it with def at the top level of a module."
            if "lambda" in reason or "<locals>" in reason else
            "A teacher class defined in a script's __main__ cannot be hashed in worker "
            "processes: define it in an importable module."
        )
        warnings.warn(
            f"memory: the teacher or data cannot be hashed ({reason}); fitting without the "
            f"cache. {hint}",
            UserWarning,
        )
        return func(*args)
    location = str(memory.location)
    unreadable = _UnreadableEntries()
    try:
        location = _checked_location(memory, created, fresh)
        _make_private(location)
        lock = os.path.join(location, "skdistill-locks", f"{key}.lock")
        if os.path.isdir(lock):
            raise ValueError(f"memory={location!r}: the lock path {lock} is a folder; remove it.")
        logging.getLogger("joblib").addFilter(unreadable)
        with _file_lock(lock):
            cached = memory.cache(_call, ignore=["func"])
            result = cached(func, code, *args)
            rejected = valid is not None and not valid(result)
            if rejected:  # not what this call stores: computed and written anew
                result = cached.call(func, code, *args)[0]
        _make_private(location)
    except UntrustedCache as exc:
        warnings.warn(
            f"memory={location!r} is not used: {exc}. Its pickles would run code when loaded. "
            "Fitting the teacher without the cache; point memory= at a folder only you can "
            "write to, e.g. skdistill.user_cache_dir().",
            UserWarning,
        )
        return func(*args)
    except _FailedCall as failed:  # the teacher's own error: raised once, as without a cache
        raise failed.error from None
    except PermissionError as exc:
        warnings.warn(
            f"memory={location!r} cannot be written ({exc}); fitting the teacher without the "
            "cache.",
            UserWarning,
        )
        return func(*args)
    finally:
        logging.getLogger("joblib").removeFilter(unreadable)
    if unreadable.seen or rejected:
        warnings.warn(
            f"memory={location!r}: a cached teacher could not be read (a damaged entry, or "
            "one holding something else); it was fitted again and the entry written anew.",
            UserWarning,
        )
    return result


def _is_model(value):
    return hasattr(value, "model") or hasattr(value, "get_params")
