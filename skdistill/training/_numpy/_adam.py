"""torch's Adam and AdamW update, in numpy, kept in the optimizer's own state.

Where a whole training epoch runs in numpy (see ``DistillationNet.run_single_epoch``),
the update of a small student through ``optimizer.step()`` would cost more
than the rest of the step. :class:`NumpyAdam` applies the same update as
``torch.optim.Adam`` / ``AdamW`` (their single-tensor formulas), element for
element, to numpy views of the parameters. It keeps each parameter group's
moments in one flat array, so that an update is a dozen operations for the
whole student rather than a dozen per tensor, and :meth:`NumpyAdam.flush`
writes them back to the optimizer's ``state``: afterwards the optimizer holds
the same ``step``, ``exp_avg`` and ``exp_avg_sq`` as after torch's steps, its
``state_dict`` saves them and a later torch step continues from them.
"""

import math

import numpy as np
import torch

from .._solver import optimizer_hooked
from ._step import numpy_ready

__all__ = ["NumpyAdam"]

MOMENTS = ("exp_avg", "exp_avg_sq")


class NumpyAdam:
    """``optimizer.step()`` for a plain Adam or AdamW on CPU tensors, in numpy.

    Build it with :meth:`for_optimizer`, which returns None where it does not
    apply: another optimizer class, ``amsgrad``, ``maximize``, ``capturable``,
    ``differentiable``, a tensor learning rate or betas, step hooks, parameters
    off the CPU or not in float32/float64. The weights change at every
    :meth:`step`; the optimizer's state only at :meth:`flush`.

    Parameters
    ----------
    optimizer : torch.optim.Adam or AdamW
    parameters : list of torch.nn.Parameter
        The parameters :meth:`step` receives gradients for, in that order.

    Examples
    --------
    >>> import torch
    >>> weight = torch.nn.Parameter(torch.ones(2))
    >>> optimizer = torch.optim.Adam([weight], lr=0.1)
    >>> adam = NumpyAdam.for_optimizer(optimizer, [weight])
    >>> adam.step([np.array([1.0, -1.0], np.float32)])
    >>> [round(w, 4) for w in weight.tolist()]  # Adam's first step: lr against each sign
    [0.9, 1.1]
    >>> adam.flush()
    >>> optimizer.state[weight]["step"].item(), optimizer.state[weight]["exp_avg"].tolist()
    (1.0, [0.10000000149011612, -0.10000000149011612])
    """

    def __init__(self, optimizer, parameters):
        self.optimizer = optimizer
        self.parameters = parameters
        group_of = {id(p): group for group in optimizer.param_groups for p in group["params"]}
        members = {}
        for position, parameter in enumerate(parameters):
            members.setdefault(id(group_of[id(parameter)]), []).append(position)
        decoupled = isinstance(optimizer, torch.optim.AdamW)
        self._groups = [
            _Group(optimizer, [parameters[i] for i in positions],
                   group_of[id(parameters[positions[0]])], positions, decoupled)
            for positions in members.values()
        ]

    @classmethod
    def for_optimizer(cls, optimizer, parameters):
        """The numpy update of ``optimizer`` for ``parameters``, or None where it does not apply."""
        adam = type(optimizer) in (torch.optim.Adam, torch.optim.AdamW)
        if not adam or optimizer_hooked(optimizer):
            return None
        grouped = {id(p): group for group in optimizer.param_groups for p in group["params"]}
        steps = {}  # group -> the step counts of its parameters (None: no state yet)
        for parameter in parameters:
            group = grouped.get(id(parameter))
            if group is None or not _plain_group(group) or not numpy_ready(parameter):
                return None
            state = optimizer.state.get(parameter)
            if state and not all(
                torch.is_tensor(state[key]) and numpy_ready(state[key])
                for key in ("step", *MOMENTS)
            ):
                return None
            steps.setdefault(id(group), set()).add(float(state["step"]) if state else None)
        if any(len(counts) > 1 for counts in steps.values()):
            return None  # one update per group needs one step count per group
        return cls(optimizer, parameters)

    def step(self, gradients):
        """Apply one update, ``gradients`` (ndarrays) in the order of ``parameters``."""
        with np.errstate(all="ignore"):  # as in torch: no warning on overflow
            for group in self._groups:
                group.step([gradients[i] for i in group.positions])

    def flush(self):
        """Write the moments and step counts back to the optimizer's ``state``."""
        for group in self._groups:
            group.flush()


class _Group:
    """The parameters of one parameter group, their moments in one flat array each."""

    def __init__(self, optimizer, parameters, settings, positions, decoupled):
        self.settings = settings
        self.positions = positions
        self.decoupled = settings.get("decoupled_weight_decay", decoupled)
        self.states = [optimizer.state[parameter] for parameter in parameters]
        for state, parameter in zip(self.states, parameters):
            if not state:  # torch creates the state lazily, on the first step, just so
                state["step"] = torch.zeros((), dtype=torch.float32)
                for key in MOMENTS:
                    state[key] = torch.zeros_like(parameter, memory_format=torch.preserve_format)
        self.params = [parameter.detach().numpy() for parameter in parameters]
        self.moments = {
            key: _flat([state[key].numpy() for state in self.states]) for key in MOMENTS
        }
        self.count = float(self.states[0]["step"])  # the same for all (see for_optimizer)

    def step(self, gradients):
        lr, (beta1, beta2), eps = (self.settings[k] for k in ("lr", "betas", "eps"))
        weight_decay = self.settings["weight_decay"]
        self.count += 1
        step = self.count
        grad = _flat(gradients)
        if weight_decay:
            if self.decoupled:
                for param in self.params:
                    param *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * _flat(self.params)
        exp_avg, exp_avg_sq = self.moments["exp_avg"], self.moments["exp_avg_sq"]
        exp_avg += (grad - exp_avg) * (1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += grad * grad * (1 - beta2)
        # torch's lr / bc1 * exp_avg / (sqrt(exp_avg_sq) / sqrt(bc2) + eps), one division less
        root_bc2 = math.sqrt(1 - beta2**step)
        denom = np.sqrt(exp_avg_sq)
        denom += eps * root_bc2
        update = exp_avg / denom
        update *= lr * root_bc2 / (1 - beta1**step)
        for param, piece in zip(self.params, _pieces(update, self.params)):
            param -= piece

    def flush(self):
        for state in self.states:
            state["step"].fill_(self.count)
        for key, flat in self.moments.items():
            for state, piece in zip(self.states, _pieces(flat, self.params)):
                state[key].numpy()[...] = piece


def _flat(arrays):
    """The arrays' numbers in one 1-d array, a copy (the caller updates it on its own)."""
    return np.concatenate([array.reshape(-1) for array in arrays])


def _pieces(flat, like):
    """``flat`` cut back into arrays shaped as ``like``."""
    start = 0
    for array in like:
        yield flat[start:start + array.size].reshape(array.shape)
        start += array.size


def _plain_group(group):
    """A parameter group the single-tensor formula covers, with plain float settings."""
    flags = ("amsgrad", "maximize", "capturable", "differentiable")
    numbers = (group["lr"], *group["betas"], group["eps"], group["weight_decay"])
    return not any(group.get(flag) for flag in flags) and not any(map(torch.is_tensor, numbers))
