"""The lean copy of a fitted distiller: the student and what prediction reads, nothing else.

Used by :func:`skdistill.strip_teacher` (for shipping) and by lazy prediction
on dask collections (the copy is what travels to the workers).
"""

import copy

from skorch.history import History

__all__ = ["lean_distiller"]


def lean_distiller(distiller):
    """A copy of a fitted distiller with only what prediction reads (see ``strip_teacher``)."""
    lean = copy.copy(distiller)
    lean.__dict__ = {
        name: copy.deepcopy(value)
        for name, value in vars(distiller).items()
        if name not in ("teacher", "teacher_", "student_", "transfer_set", "memory", "callbacks")
    }
    lean.teacher = None
    lean.teacher_ = None
    lean.transfer_set = None
    lean.memory = None
    lean.callbacks = None
    lean.student_ = _lean_net(distiller.student_)
    return lean


def _lean_net(net):
    """A copy of the skorch net with the module and nothing of its training."""
    lean = copy.copy(net)
    lean.__dict__ = dict(vars(net))
    module = copy.deepcopy(net.module_).cpu().eval()
    lean.module = lean.module_ = module
    lean.criterion = lean.criterion_ = copy.deepcopy(net.criterion_).cpu()
    lean.optimizer_ = net.optimizer(module.parameters(), lr=net.lr)  # empty state
    lean.callbacks = lean.callbacks_ = []
    lean.history = History()
    lean.device = "cpu"
    return lean
