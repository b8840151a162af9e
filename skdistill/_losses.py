"""Distillation losses: the soft (teacher) terms and the mixed criterion.

Every soft loss has the signature ``loss(student_logits, teacher_logits, target, *, T)``
and returns a scalar tensor averaged over the rows of the batch:

* ``student_logits`` -- ``(n, k)`` raw student outputs,
* ``teacher_logits`` -- ``(n, k)`` teacher logits, columns aligned with the student's,
* ``target`` -- ``(n,)`` class indices, ``-1`` for rows without a label,
* ``T`` -- the softmax temperature.

:class:`DistillationLoss` mixes one of them with the hard-label cross-entropy::

    loss = alpha * soft(student, teacher) + (1 - alpha) * CE(target, student)

so ``alpha = 0`` is plain supervised training and ``alpha = 1`` is pure imitation.
"""

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "SOFT_LOSSES",
    "DistillationLoss",
    "hard_label_loss",
    "hinton_kd_loss",
    "resolve_soft_loss",
]


def hinton_kd_loss(student_logits, teacher_logits, target, *, T):
    """Hinton et al. (2015) knowledge-distillation loss.

    ``T**2 * KL(softmax(teacher / T) || softmax(student / T))`` with
    ``reduction="batchmean"``; the ``T**2`` factor keeps the gradient size
    comparable across temperatures. ``target`` is not used.

    Examples
    --------
    >>> import torch
    >>> s = torch.tensor([[0.0, 0.0]])
    >>> t = torch.log(torch.tensor([[0.75, 0.25]]))
    >>> round(hinton_kd_loss(s, t, None, T=1.0).item(), 6)  # 0.75 ln 1.5 + 0.25 ln 0.5
    0.130812
    """
    log_p_student = F.log_softmax(student_logits / T, dim=-1)
    log_p_teacher = F.log_softmax(teacher_logits / T, dim=-1)
    kl = F.kl_div(log_p_student, log_p_teacher, reduction="batchmean", log_target=True)
    return kl * (T * T)


def hard_label_loss(student_logits, target):
    """Cross-entropy against the true labels, ignoring rows whose target is -1.

    The mean is taken over the labelled rows; a batch with no labelled row
    contributes 0 (never NaN).

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([[0.0, 0.0], [5.0, 0.0]])
    >>> round(hard_label_loss(z, torch.tensor([0, -1])).item(), 6)  # ln 2
    0.693147
    """
    labelled = target >= 0
    per_row = F.cross_entropy(student_logits, target.clamp(min=0), reduction="none")
    return (per_row * labelled).sum() / labelled.sum().clamp(min=1)


SOFT_LOSSES = {"hinton": hinton_kd_loss}
"""The built-in soft losses, by the name accepted by the ``loss`` parameter."""


def resolve_soft_loss(loss):
    """Return the soft-loss callable named by ``loss`` (a key of SOFT_LOSSES or a callable)."""
    if callable(loss):
        return loss
    try:
        return SOFT_LOSSES[loss]
    except (KeyError, TypeError):
        raise ValueError(
            f"loss={loss!r} is not a known distillation loss; use one of "
            f"{sorted(SOFT_LOSSES)} or a callable "
            "loss(student_logits, teacher_logits, target, *, T)."
        ) from None


class DistillationLoss(nn.Module):
    """The training criterion: ``alpha * soft + (1 - alpha) * hard``.

    Parameters
    ----------
    T : float
        Softmax temperature of the soft term.
    alpha : float in [0, 1]
        Weight of the teacher (soft) term; ``0`` is hard-label training only.
    loss : str or callable, default="hinton"
        The soft term, see :data:`SOFT_LOSSES`.

    Examples
    --------
    >>> import torch
    >>> criterion = DistillationLoss(T=1.0, alpha=0.0)
    >>> z = torch.tensor([[0.0, 0.0]])
    >>> round(criterion(z, torch.tensor([[9.0, 0.0]]), torch.tensor([1])).item(), 6)
    0.693147
    """

    def __init__(self, T=1.0, alpha=0.5, loss="hinton"):
        super().__init__()
        self.T = T
        self.alpha = alpha
        self.soft_loss = resolve_soft_loss(loss)

    def forward(self, student_logits, teacher_logits, target):
        """Return the mixed loss of one batch."""
        loss = student_logits.new_zeros(())
        if self.alpha > 0:
            soft = self.soft_loss(student_logits, teacher_logits, target, T=self.T)
            loss = loss + self.alpha * soft
        if self.alpha < 1:
            loss = loss + (1 - self.alpha) * hard_label_loss(student_logits, target)
        return loss
