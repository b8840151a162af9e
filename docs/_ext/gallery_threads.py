"""Each gallery example runs with one torch thread and one thread per native pool.

The examples train small networks and small ensembles, which gain little from a second
thread; on a busy two-core machine, threads that wait for a core spin and slow a build down
many times over. One thread each keeps the build's time near its time on an idle machine.
"""

from threadpoolctl import threadpool_limits


def one_thread(gallery_conf, fname):
    """Sphinx-Gallery ``reset_modules`` hook, called before each example."""
    import torch

    torch.set_num_threads(1)
    threadpool_limits(1)
