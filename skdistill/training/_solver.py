"""Which engine trains the student: ``solver="auto"``, ``"numpy"`` or ``"torch"``.

Two engines train a student, as ``MLPClassifier``'s ``solver`` names its own:

* ``"torch"`` -- skorch's loop through autograd: any student, loss, optimizer,
  device or callback.
* ``"numpy"`` -- closed-form gradients of the built-in pieces computed in numpy
  (:mod:`skdistill.training._numpy`), with the optimizer's update in numpy too
  where nothing reads the gradients. On a small student, where a step costs
  per operation rather than per number, it is several times faster on the CPU
  (``benchmarks/epoch_speed.py``) and takes the same steps to float rounding.

:func:`numpy_obstacle` is the one place that says whether the numpy engine
can train a student; ``"auto"`` picks it wherever it can.

The numpy engine skips ``forward``, so it must be sure that no hook watches
the student (:mod:`skdistill.students._hooks`) or its optimizer
(``Optimizer._optimizer_step_pre_hooks`` and its kin, read the same way). Where
a check cannot be made, the numpy engine does not apply: ``"auto"`` trains
through torch and ``"numpy"`` says why.
"""

import torch
from torch import nn
from torch.optim import optimizer as torch_optimizer

from ..losses._soft import hinton_kd_loss
from ..students._hooks import hooks_watch, hooks_watch_every_module

__all__ = ["SOLVERS", "choose_solver", "numpy_obstacle", "plain_relu_linears",
           "stacking_obstacle"]

SOLVERS = ("auto", "numpy", "torch")
"""The values of the ``solver`` parameter."""

_OPTIMIZER_HOOKS = ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks")
_GLOBAL_OPTIMIZER_HOOKS = ("_global_optimizer_pre_hooks", "_global_optimizer_post_hooks")


def _registries_hold_hooks(owner, names):
    """True when a hook registry of ``owner`` is non-empty, or missing (cannot be checked)."""
    return any(getattr(owner, name, True) for name in names)


def module_hooked(module):
    """Whether a hook is (or may be) registered on ``module``, a submodule, or every module."""
    return hooks_watch_every_module() or any(hooks_watch(sub) for sub in module.modules())


def optimizer_hooked(optimizer):
    """Whether a hook runs (or may run) around ``optimizer.step()``: then it must be called."""
    return _registries_hold_hooks(optimizer, _OPTIMIZER_HOOKS) or _registries_hold_hooks(
        torch_optimizer, _GLOBAL_OPTIMIZER_HOOKS
    )


def plain_relu_linears(module):
    """The ``Linear`` layers of a plain ReLU :class:`~skdistill.MLPStudent`, or None.

    Plain: the class itself (not a subclass), ``Linear`` and ``ReLU`` layers
    only (no dropout), every parameter trained.
    """
    from ..students._mlp import MLPStudent

    if type(module) is not MLPStudent or not all(p.requires_grad for p in module.parameters()):
        return None
    layers = list(module.layers)
    linears = layers[::2]
    if len(layers) % 2 == 0 or not all(type(layer) is nn.Linear for layer in linears):
        return None
    if not all(type(layer) is nn.ReLU for layer in layers[1::2]):
        return None
    return linears


def numpy_obstacle(module, loss_settings, optimizer, sparse_input):
    """Why the numpy engine cannot train ``module`` with ``loss_settings`` (a phrase), or None.

    Parameters
    ----------
    module : torch.nn.Module
        The initialised student.
    loss_settings : LossSettings
        The training loss.
    optimizer : torch.optim.Optimizer
        The initialised optimizer.
    sparse_input : bool
        Whether the student's rows are a sparse matrix.

    Examples
    --------
    >>> import torch
    >>> from skdistill import MLPStudent
    >>> from skdistill.losses._settings import LossSettings
    >>> student = MLPStudent(4, 3, (8,))
    >>> adam = torch.optim.Adam(student.parameters())
    >>> hinton = LossSettings("classifier", alpha=0.5)
    >>> numpy_obstacle(student, hinton, adam, sparse_input=False) is None
    True
    >>> numpy_obstacle(student, hinton.replace(loss="dkd"), adam, sparse_input=False)
    "the soft loss 'decoupled_kd_loss' (numpy gradients exist for 'hinton' only)"
    """
    parameters = list(module.parameters())
    if any(p.device.type != "cpu" for p in parameters):
        return "a student on a GPU (the numpy engine runs on the CPU)"
    if sparse_input:
        return "sparse rows (the numpy engine reads dense rows)"
    if any(p.dtype not in (torch.float32, torch.float64) for p in parameters):
        return "parameters that are not float32 or float64"
    soft_loss = loss_settings.soft_loss
    if loss_settings.classifies and soft_loss is not hinton_kd_loss:
        name = getattr(soft_loss, "__name__", repr(soft_loss))
        return f"the soft loss {name!r} (numpy gradients exist for 'hinton' only)"
    if plain_relu_linears(module) is None:
        return (
            f"the student {type(module).__name__} (the numpy engine trains a plain MLPStudent: "
            "Linear and ReLU layers, no dropout, every parameter trained)"
        )
    if module_hooked(module):
        return "hooks registered on the student (the numpy engine does not call forward)"
    if isinstance(optimizer, torch.optim.LBFGS):
        return "LBFGS, which steps through a loss closure"
    return None


def stacking_obstacle(module, sparse_input):
    """Why candidates shaped as ``module`` cannot train side by side as one stacked model, or None.

    Either engine stacks a plain :class:`~skdistill.MLPStudent` (see
    :mod:`skdistill.training._candidates`) and, like the numpy engine, skips
    its ``forward``; the stacked step reads dense rows.

    Examples
    --------
    >>> from skdistill import MLPStudent, TabularStudent
    >>> stacking_obstacle(MLPStudent(4, 3, (8,)), sparse_input=False) is None
    True
    >>> stacking_obstacle(TabularStudent(4, 3, (8,)), sparse_input=False).split(" (")[0]
    'the student TabularStudent'
    """
    if sparse_input:
        return "sparse rows (the stacked candidates read dense rows)"
    if plain_relu_linears(module) is None:
        return (
            f"the student {type(module).__name__} (side by side stacks a plain MLPStudent: "
            "Linear and ReLU layers, no dropout, every parameter trained)"
        )
    if module_hooked(module):
        return "hooks registered on the student (the stacked candidates do not call forward)"
    return None


def choose_solver(solver, obstacle):
    """The engine that runs, ``"numpy"`` or ``"torch"``, for the ``solver`` parameter.

    ``obstacle`` is :func:`numpy_obstacle`'s answer. ``"numpy"`` where it cannot
    apply is an error that says why.

    Examples
    --------
    >>> choose_solver("auto", None), choose_solver("auto", "sparse rows")
    ('numpy', 'torch')
    >>> choose_solver("numpy", "sparse rows")
    Traceback (most recent call last):
    ...
    ValueError: solver='numpy' cannot train this student: sparse rows. Use solver='auto' ...
    """
    if solver == "torch":
        return "torch"
    if obstacle is None:
        return "numpy"
    if solver == "numpy":
        raise ValueError(
            f"solver='numpy' cannot train this student: {obstacle}. Use solver='auto' "
            "(numpy where it applies, else torch) or solver='torch'."
        )
    return "torch"
