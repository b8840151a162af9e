"""One OpenMP thread for the calling thread, for a few rows' forward pass.

torch runs its intra-op parallel work through OpenMP. A small product (one
row padded to 16) can be split over those threads, and on a machine whose
cores are busy with other work a thread that waits for a core stalls the
whole call for milliseconds (``benchmarks/busy_row.py`` measures the
padded forward pass beside a process that keeps the cores busy, on torch's
threads and on one). :func:`one_openmp_thread` lowers the calling thread's
OpenMP thread count to one for the duration of a ``with`` block, through the
OpenMP runtimes loaded in the process (found once, by threadpoolctl).
OpenMP keeps that count per thread, so other threads are untouched; the
outputs are the same bits (the products do not depend on the split).
"""

import ctypes
import threading

from threadpoolctl import threadpool_info

__all__ = ["one_openmp_thread"]

_RUNTIMES = None
_FOUND = threading.Lock()


def _runtimes():
    """``(omp_get_max_threads, omp_set_num_threads)`` of each OpenMP runtime loaded now."""
    global _RUNTIMES
    if _RUNTIMES is not None:
        return _RUNTIMES
    with _FOUND:
        if _RUNTIMES is None:
            found = []
            try:
                libraries = threadpool_info()
            except Exception:  # noqa: BLE001 (no runtime found is no limit, never a failed call)
                libraries = []
            for library in libraries:
                filepath = library.get("filepath")
                if library.get("user_api") != "openmp" or not filepath:
                    continue
                try:
                    handle = ctypes.CDLL(filepath)
                    found.append((handle.omp_get_max_threads, handle.omp_set_num_threads))
                except (OSError, AttributeError):  # not loadable by name, or another API
                    continue
            _RUNTIMES = tuple(found)
    return _RUNTIMES


class one_openmp_thread:  # noqa: N801 (used as a function: ``with one_openmp_thread():``)
    """Within the block, this thread's OpenMP runtimes use one thread; then as before.

    A class rather than a generator: a few rows' call pays a microsecond for it.

    Examples
    --------
    >>> import torch
    >>> with one_openmp_thread():
    ...     inside = torch.get_num_threads()
    >>> inside
    1
    """

    __slots__ = ("_restore",)

    def __enter__(self):
        # a runtime already on one thread is left alone: two foreign calls fewer per block
        self._restore = [(set_threads, count) for get, set_threads in _runtimes()
                         if (count := get()) != 1]
        for set_threads, _ in self._restore:
            set_threads(1)
        return self

    def __exit__(self, *exception):
        for set_threads, count in self._restore:
            set_threads(count)
