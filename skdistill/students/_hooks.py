"""Whether torch hooks watch a module, read from torch's hook registries.

Code that skips a module's ``__call__`` -- the numpy engine, which never calls
``forward``; :class:`~skdistill.MLPStudent`, which calls the ``forward`` of
the layers no hook watches directly -- must be sure that no hook would have run. torch has no
public way to list hooks: these checks read its registries
(``Module._forward_hooks`` and its kin, and the global ones). Where a torch
release no longer has one of them, the check cannot be made and the module
counts as watched.
"""

from torch import nn

__all__ = ["hooks_watch", "hooks_watch_every_module"]


def hooks_watch_every_module():
    """Whether a global hook is (or may be) registered: one that watches every module."""
    registries = nn.modules.module
    try:  # written out: asked on every forward pass of a student
        return bool(registries._global_forward_hooks or registries._global_forward_pre_hooks
                    or registries._global_backward_hooks
                    or registries._global_backward_pre_hooks)
    except AttributeError:
        return True


def hooks_watch(module):
    """Whether a hook is (or may be) registered on ``module`` itself (not its submodules).

    Examples
    --------
    >>> from torch import nn
    >>> layer = nn.Linear(2, 1)
    >>> hooks_watch(layer)
    False
    >>> handle = layer.register_forward_hook(lambda module, args, out: None)
    >>> hooks_watch(layer)
    True
    """
    try:  # written out: asked of every layer on every forward pass of a student
        return bool(module._forward_hooks or module._forward_pre_hooks
                    or module._backward_hooks or module._backward_pre_hooks)
    except AttributeError:
        return True
