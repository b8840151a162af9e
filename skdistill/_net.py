"""The skorch net that trains a student on the distillation criterion.

Batches arrive as ``({"X": rows, "teacher_logits": logits}, y)``: the soft
targets travel inside X, aligned row by row with the data, so any split skorch
or scikit-learn makes keeps them together. The module sees only ``X``; the
criterion sees the student's logits, the teacher's logits and ``y``.
"""

from collections.abc import Mapping

from skorch import NeuralNet
from skorch.utils import to_tensor

__all__ = ["DistillationNet"]


class DistillationNet(NeuralNet):
    """A ``skorch.NeuralNet`` whose criterion receives the teacher's logits.

    The criterion is called as ``criterion(student_logits, teacher_logits, y)``
    (see :class:`skdistill.DistillationLoss`). Everything else — callbacks,
    history, optimizers, ``module__``/``optimizer__``/``iterator_train__``
    parameters, devices — is skorch's.
    """

    def infer(self, x, **fit_params):
        """Run the module on the feature rows of a batch (a dict or a plain tensor)."""
        if isinstance(x, Mapping):
            x = x["X"]
        return self.module_(to_tensor(x, device=self.device), **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Return ``criterion(student_logits, teacher_logits, y)`` for one batch."""
        teacher_logits = to_tensor(X["teacher_logits"], device=self.device)
        y_true = to_tensor(y_true, device=self.device)
        return self.criterion_(y_pred, teacher_logits, y_true)
