"""Distillation losses: the soft (teacher) terms, the hard-label term and the mixed criteria.

Every soft loss has the signature ``loss(student_logits, teacher_logits, target, *, T,
sample_weight=None)``. :class:`DistillationLoss` mixes one of them with the
cross-entropy on the labels; :class:`RegressionDistillationLoss` mixes two squared
errors. :func:`register_soft_loss` adds a named soft loss that the ``loss``
parameter of :class:`~skdistill.DistilledClassifier` then accepts.
:class:`FeatureDistillation` adds terms on intermediate layers of a torch teacher
(FitNets hints, attention transfer).
"""

from ._features import FeatureDistillation
from ._losses import DistillationLoss, RegressionDistillationLoss
from ._soft import (
    SOFT_LOSSES,
    decoupled_kd_loss,
    hard_label_loss,
    hinton_kd_loss,
    logit_matching_loss,
    register_soft_loss,
)

__all__ = [
    "SOFT_LOSSES",
    "DistillationLoss",
    "FeatureDistillation",
    "RegressionDistillationLoss",
    "decoupled_kd_loss",
    "hard_label_loss",
    "hinton_kd_loss",
    "logit_matching_loss",
    "register_soft_loss",
]
