"""The lean copy of a fitted distiller: the student and what prediction reads, nothing else.

Used by :func:`skdistill.strip_teacher` (for shipping) and by lazy prediction
on dask collections (the copy is what travels to the workers).
"""

import copy

from skorch.history import History

from .teachers._adapters import PRECOMPUTED
from .training._optimizer import build_optimizer

__all__ = ["EPOCH_FIGURES", "lean_distiller"]

EPOCH_FIGURES = ("epoch", "train_loss", "valid_loss", "valid_label_loss", "valid_calibrated_loss",
                 "valid_acc", "valid_r2", "valid_agreement")
"""What a lean copy keeps of each epoch's history: the figures ``loss_curve_``,
``validation_scores_`` and :func:`skdistill.plot_history` read, about a hundred bytes an epoch."""


def lean_distiller(distiller):
    """A copy of a fitted distiller with only what prediction reads (see ``strip_teacher``)."""
    lean = copy.copy(distiller)
    lean.__dict__ = {
        name: copy.deepcopy(value)
        for name, value in vars(distiller).items()
        if name not in ("teacher", "teacher_", "student_", "transfer_set", "memory", "callbacks")
    }
    lean.teacher = PRECOMPUTED  # fitted again, it takes the teacher's outputs as fit arguments
    lean.teacher_cv = None  # the teacher's setting, which outputs given to fit cannot take
    lean.feature_distillation = None  # reads the teacher module's features, gone here
    lean.teacher_ = None
    lean.transfer_set = None
    lean.memory = None
    lean.callbacks = None
    lean.student_ = _lean_net(distiller.student_)
    return lean


def _lean_net(net):
    """A copy of the skorch net with the module and its per-epoch figures (``EPOCH_FIGURES``),
    nothing else of its training (no per-batch entries, optimizer state or callbacks)."""
    lean = copy.copy(net)
    lean.__dict__ = dict(vars(net))
    module = copy.deepcopy(net.module_).cpu().eval()
    lean.module = lean.module_ = module
    lean.criterion = lean.criterion_ = copy.deepcopy(net.criterion_).cpu()
    lean.optimizer_ = build_optimizer(net.optimizer, module.parameters(), lr=net.lr)  # empty
    lean.callbacks = lean.callbacks_ = []
    lean.history = History(
        [{key: epoch[key] for key in EPOCH_FIGURES if key in epoch} for epoch in net.history]
    )
    lean.device = "cpu"
    return lean
