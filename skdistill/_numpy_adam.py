"""torch's Adam and AdamW update, in numpy, on the optimizer's own state.

Where a whole training epoch runs in numpy (see ``DistillationNet.run_single_epoch``),
the update of a small student through ``optimizer.step()`` would cost more
than the rest of the step. :class:`NumpyAdam` applies the same update as
``torch.optim.Adam`` / ``AdamW`` (their single-tensor formulas) to numpy views
of the parameters and of the optimizer's ``state`` tensors, so the optimizer
holds the same ``step``, ``exp_avg`` and ``exp_avg_sq`` afterwards, its
``state_dict`` saves them and a later torch step continues from them.
"""

import math

import numpy as np
import torch
from torch.optim import optimizer as torch_optimizer

from ._numpy_step import numpy_ready

__all__ = ["NumpyAdam"]


class NumpyAdam:
    """``optimizer.step()`` for a plain Adam or AdamW on CPU tensors, in numpy.

    Build it with :meth:`for_optimizer`, which returns None where it does not
    apply: another optimizer class, ``amsgrad``, ``maximize``, ``capturable``,
    ``differentiable``, a tensor learning rate or betas, step hooks, parameters
    off the CPU or not in float32/float64.

    Parameters
    ----------
    optimizer : torch.optim.Adam or AdamW
    parameters : list of torch.nn.Parameter
        The parameters :meth:`step` receives gradients for, in that order.

    Examples
    --------
    >>> import torch
    >>> weight = torch.nn.Parameter(torch.ones(2))
    >>> adam = NumpyAdam.for_optimizer(torch.optim.Adam([weight], lr=0.1), [weight])
    >>> adam.step([np.array([1.0, -1.0], np.float32)])
    >>> [round(w, 4) for w in weight.tolist()]  # Adam's first step: lr against each sign
    [0.9, 1.1]
    """

    def __init__(self, optimizer, parameters):
        self.optimizer = optimizer
        self.parameters = parameters
        self._slots = []
        for parameter in parameters:
            state = optimizer.state[parameter]
            if not state:  # torch creates the state lazily, on the first step, just so
                state["step"] = torch.zeros((), dtype=torch.float32)
                state["exp_avg"] = torch.zeros_like(parameter, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(
                    parameter, memory_format=torch.preserve_format
                )
            self._slots.append((
                parameter.detach().numpy(),
                state["exp_avg"].numpy(),
                state["exp_avg_sq"].numpy(),
                state["step"].numpy(),  # a 0-d view: += 1 counts in the tensor itself
            ))
        group_of = {id(p): group for group in optimizer.param_groups for p in group["params"]}
        self._groups = [group_of[id(parameter)] for parameter in parameters]
        self._decoupled = [
            group.get("decoupled_weight_decay", isinstance(optimizer, torch.optim.AdamW))
            for group in self._groups
        ]

    @classmethod
    def for_optimizer(cls, optimizer, parameters):
        """The numpy update of ``optimizer`` for ``parameters``, or None where it does not apply."""
        if type(optimizer) not in (torch.optim.Adam, torch.optim.AdamW) or _has_step_hooks(
            optimizer
        ):
            return None
        grouped = {id(p): group for group in optimizer.param_groups for p in group["params"]}
        for parameter in parameters:
            group = grouped.get(id(parameter))
            if group is None or not _plain_group(group) or not numpy_ready(parameter):
                return None
            state = optimizer.state.get(parameter)
            if state and not all(
                torch.is_tensor(state[k]) and numpy_ready(state[k])
                for k in ("step", "exp_avg", "exp_avg_sq")
            ):
                return None
        return cls(optimizer, parameters)

    def step(self, gradients):
        """Apply one update, ``gradients`` (ndarrays) in the order of ``parameters``."""
        with np.errstate(all="ignore"):  # as in torch: no warning on overflow
            self._step(gradients)

    def _step(self, gradients):
        for (param, exp_avg, exp_avg_sq, step_t), grad, group, decoupled in zip(
            self._slots, gradients, self._groups, self._decoupled
        ):
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay = group["weight_decay"]
            step_t += 1
            if weight_decay:
                if decoupled:
                    param *= 1 - lr * weight_decay
                else:
                    grad = grad + weight_decay * param
            exp_avg += (grad - exp_avg) * (1 - beta1)
            exp_avg_sq *= beta2
            exp_avg_sq += grad * grad * (1 - beta2)
            step = float(step_t)
            # torch's lr / bc1 * exp_avg / (sqrt(exp_avg_sq) / sqrt(bc2) + eps), one division less
            root_bc2 = math.sqrt(1 - beta2**step)
            denom = np.sqrt(exp_avg_sq)
            denom += eps * root_bc2
            param -= exp_avg / denom * (lr * root_bc2 / (1 - beta1**step))


def _has_step_hooks(optimizer):
    """Whether a hook runs around ``optimizer.step()``: then it must be called."""
    return any(
        getattr(owner, name, None)
        for owner, name in (
            (optimizer, "_optimizer_step_pre_hooks"),
            (optimizer, "_optimizer_step_post_hooks"),
            (torch_optimizer, "_global_optimizer_pre_hooks"),
            (torch_optimizer, "_global_optimizer_post_hooks"),
        )
    )


def _plain_group(group):
    """A parameter group the single-tensor formula covers, with plain float settings."""
    flags = ("amsgrad", "maximize", "capturable", "differentiable")
    numbers = (group["lr"], *group["betas"], group["eps"], group["weight_decay"])
    return not any(group.get(flag) for flag in flags) and not any(map(torch.is_tensor, numbers))
