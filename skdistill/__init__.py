"""skdistill: knowledge distillation as a scikit-learn estimator.

Hand :class:`DistilledClassifier` a big, accurate model and get back a small
PyTorch network, trained through skorch on the teacher's softened outputs mixed
with the true labels.
"""

from ._classifier import DistilledClassifier
from ._losses import SOFT_LOSSES, DistillationLoss, hard_label_loss, hinton_kd_loss
from ._student import MLPStudent

__all__ = [
    "SOFT_LOSSES",
    "DistillationLoss",
    "DistilledClassifier",
    "MLPStudent",
    "hard_label_loss",
    "hinton_kd_loss",
]

__version__ = "0.1.0"
