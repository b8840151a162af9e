"""Build a torch optimizer without importing ``torch._dynamo``.

``Optimizer.__init__`` adds its parameter groups through ``add_param_group``,
which torch wraps in ``torch._disable_dynamo``: the first call of the wrapper
in a process imports ``torch._dynamo`` (about a second on a CPU machine), only
to mark the method as never compiled. A fit that the numpy engine trains calls
no other wrapped method, so that import would be the largest single cost of a
script's first fit (``benchmarks/defaults.py --fresh``).

:func:`build_optimizer` constructs the optimizer with the unwrapped method
bound on the instance for the constructor's duration. Outside a compiled
region, which a fit never is, the wrapper only delegates, so the optimizer
is the same object torch would build; later calls of ``add_param_group`` go
through torch's wrapper as usual.
"""

import functools
import types

import torch
from torch.optim import Optimizer

__all__ = ["build_optimizer"]


def unwrapped_add_param_group():
    """``Optimizer.add_param_group`` without ``_disable_dynamo``'s wrapper, or None.

    None where this torch does not wrap it so (the wrapper is recognised by
    its code, not by name). Read from the method as it is now, so a patched
    method is seen.
    """
    return _unwrapped(Optimizer.add_param_group)


@functools.lru_cache(maxsize=4)
def _unwrapped(method):
    wrapped = getattr(method, "__wrapped__", None)
    decorator = getattr(torch, "_disable_dynamo", None)
    if wrapped is None or decorator is None:
        return None
    if getattr(method, "__code__", None) is not getattr(decorator(len), "__code__", False):
        return None
    return wrapped


def build_optimizer(optimizer_class, *args, **kwargs):
    """``optimizer_class(*args, **kwargs)``, without importing ``torch._dynamo``.

    Only a plain subclass of ``Optimizer`` (no metaclass, ``__new__`` or
    ``add_param_group`` of its own) is built quietly; anything else, a
    factory function included, is called as given.

    Examples
    --------
    >>> import torch
    >>> weight = torch.nn.Parameter(torch.zeros(3))
    >>> optimizer = build_optimizer(torch.optim.Adam, [weight], lr=0.1)
    >>> type(optimizer).__name__, optimizer.param_groups[0]["lr"]
    ('Adam', 0.1)
    >>> "add_param_group" in vars(optimizer)  # the class's method again afterwards
    False
    """
    add_param_group = unwrapped_add_param_group()
    if add_param_group is None or not _plain_optimizer_class(optimizer_class):
        return optimizer_class(*args, **kwargs)
    optimizer = object.__new__(optimizer_class)
    optimizer.add_param_group = types.MethodType(add_param_group, optimizer)
    try:
        optimizer_class.__init__(optimizer, *args, **kwargs)
    finally:
        vars(optimizer).pop("add_param_group", None)
    return optimizer


def _plain_optimizer_class(optimizer_class):
    """Whether calling ``optimizer_class`` is ``object.__new__`` then its ``__init__``, which
    adds parameter groups through ``Optimizer.add_param_group``."""
    return (
        type(optimizer_class) is type
        and issubclass(optimizer_class, Optimizer)
        and optimizer_class.__new__ is object.__new__
        and optimizer_class.add_param_group is Optimizer.add_param_group
    )
