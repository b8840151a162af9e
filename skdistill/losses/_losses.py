"""The mixed training criteria: a soft term beside the labels' term.

:class:`DistillationLoss` mixes a soft loss (:mod:`._soft`) with the hard-label
cross-entropy::

    loss = alpha * soft(student, teacher) + (1 - alpha) * CE(target, student)

so ``alpha = 0`` is plain supervised training and ``alpha = 1`` is pure imitation;
:class:`RegressionDistillationLoss` does the same with two squared errors.
"""

import torch
from torch import nn

from ._soft import _row_mean, hard_label_loss, resolve_soft_loss

__all__ = ["DistillationLoss", "RegressionDistillationLoss"]


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
    loss_params : dict, default=None
        Extra keyword arguments of the soft term (e.g. ``nckd_weight`` for "dkd").

    See Also
    --------
    DistilledClassifier : Trains with this criterion.
    hinton_kd_loss, logit_matching_loss, decoupled_kd_loss : The soft terms.
    hard_label_loss : The hard-label term.

    Examples
    --------
    >>> import torch
    >>> criterion = DistillationLoss(T=1.0, alpha=0.0)
    >>> z = torch.tensor([[0.0, 0.0]])
    >>> round(criterion(z, torch.tensor([[9.0, 0.0]]), torch.tensor([1])).item(), 6)
    0.693147
    """

    def __init__(self, T=1.0, alpha=0.5, loss="hinton", loss_params=None):
        super().__init__()
        self.T = T
        self.alpha = alpha
        self.soft_loss = resolve_soft_loss(loss)
        self.loss_params = dict(loss_params or {})

    def forward(self, student_logits, teacher_logits, target, sample_weight=None):
        """Return the mixed loss of one batch.

        Parameters
        ----------
        student_logits : torch.Tensor of shape (n_samples, n_classes)
            The student's raw outputs.
        teacher_logits : torch.Tensor of shape (n_samples, n_classes)
            The teacher's logits, columns aligned with the student's.
        target : torch.Tensor of shape (n_samples,)
            Class indices, ``-1`` for rows without a label.
        sample_weight : torch.Tensor of shape (n_samples,), default=None
            Row weights of both terms.

        Returns
        -------
        loss : torch.Tensor
            A scalar.
        """
        loss = student_logits.new_zeros(())
        weights = {} if sample_weight is None else {"sample_weight": sample_weight}
        if self.alpha > 0:
            soft = self.soft_loss(
                student_logits, teacher_logits, target, T=self.T, **self.loss_params, **weights
            )
            _check_soft_term(soft, self.soft_loss, student_logits)
            loss = loss + self.alpha * soft
        if self.alpha < 1:
            loss = loss + (1 - self.alpha) * self.label_loss(student_logits, target, sample_weight)
        return loss

    def label_loss(self, student_logits, target, sample_weight=None):
        """The hard-label term alone, whatever ``alpha``: what early stopping watches.

        Parameters
        ----------
        student_logits : torch.Tensor of shape (n_samples, n_classes)
            The student's raw outputs.
        target : torch.Tensor of shape (n_samples,)
            Class indices, ``-1`` for rows without a label.
        sample_weight : torch.Tensor of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        loss : torch.Tensor
            A scalar.

        Examples
        --------
        >>> import torch
        >>> z = torch.tensor([[0.0, 0.0]])
        >>> round(DistillationLoss(alpha=1.0).label_loss(z, torch.tensor([1])).item(), 6)
        0.693147
        """
        return hard_label_loss(student_logits, target, sample_weight)


def _check_soft_term(soft, loss, student_logits):
    """ValueError where a soft loss did not return what training can use: a scalar tensor
    through which the student's logits get a gradient."""
    name = getattr(loss, "__name__", repr(loss))
    if not (isinstance(soft, torch.Tensor) and soft.ndim == 0):
        shape = tuple(soft.shape) if isinstance(soft, torch.Tensor) else type(soft).__name__
        raise ValueError(
            f"The soft loss {name} returned {shape}; it must return a scalar torch tensor "
            "(e.g. the mean of its per-row values)."
        )
    if student_logits.requires_grad and not soft.requires_grad:
        raise ValueError(
            f"The soft loss {name} returned a tensor that does not depend on student_logits "
            "through torch (numpy or .item() inside it?), so it would not train the student; "
            "compute it with torch operations."
        )


class RegressionDistillationLoss(nn.Module):
    """``alpha * MSE(student, teacher) + (1 - alpha) * MSE(student, y)``.

    Rows whose target is NaN (unlabelled) contribute the teacher term only;
    ``sample_weight`` weighs the rows of both terms.

    Parameters
    ----------
    alpha : float in [0, 1], default=0.5
        Weight of the teacher term.

    See Also
    --------
    DistilledRegressor : Trains with this criterion.
    DistillationLoss : The classification criterion.

    Examples
    --------
    >>> import torch
    >>> criterion = RegressionDistillationLoss(alpha=0.25)
    >>> s, t = torch.tensor([[1.0], [1.0]]), torch.tensor([[3.0], [1.0]])
    >>> criterion(s, t, torch.tensor([0.0, float("nan")])).item()  # 0.25 * 2 + 0.75 * 1
    1.25
    """

    def __init__(self, alpha=0.5):
        super().__init__()
        self.alpha = alpha

    def forward(self, student_out, teacher_out, target, sample_weight=None):
        """Return the mixed loss of one batch.

        Parameters
        ----------
        student_out : torch.Tensor of shape (n_samples, 1) or (n_samples,)
            The student's predictions (standardised targets).
        teacher_out : torch.Tensor of shape (n_samples,)
            The teacher's predictions, standardised as the targets.
        target : torch.Tensor of shape (n_samples,)
            Standardised targets, NaN for rows without one.
        sample_weight : torch.Tensor of shape (n_samples,), default=None
            Row weights of both terms.

        Returns
        -------
        loss : torch.Tensor
            A scalar.
        """
        student_out = student_out.reshape(len(target), -1)[:, 0]
        loss = student_out.new_zeros(())
        if self.alpha > 0:
            squared = (student_out - teacher_out.reshape(-1)) ** 2
            loss = loss + self.alpha * _row_mean(squared, sample_weight)
        if self.alpha < 1:
            loss = loss + (1 - self.alpha) * self.label_loss(student_out, target, sample_weight)
        return loss

    def label_loss(self, student_out, target, sample_weight=None):
        """The squared error against the labelled targets alone, whatever ``alpha``.

        Early stopping watches it. Rows whose target is NaN are left out.

        Parameters
        ----------
        student_out : torch.Tensor of shape (n_samples, 1) or (n_samples,)
            The student's predictions.
        target : torch.Tensor of shape (n_samples,)
            Targets, NaN for rows without one.
        sample_weight : torch.Tensor of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        loss : torch.Tensor
            A scalar.

        Examples
        --------
        >>> import torch
        >>> criterion = RegressionDistillationLoss(alpha=1.0)
        >>> criterion.label_loss(torch.tensor([[1.0], [5.0]]), torch.tensor([3.0, float("nan")]))
        tensor(4.)
        """
        student_out = student_out.reshape(len(target), -1)[:, 0]
        labelled = ~torch.isnan(target)
        squared = (student_out - torch.nan_to_num(target)) ** 2
        if sample_weight is None:
            return (squared * labelled).sum() / labelled.sum().clamp(min=1)
        return _row_mean(squared, labelled * sample_weight)
