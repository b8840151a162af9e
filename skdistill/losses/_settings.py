"""The values a student's training loss is made of, as every engine reads them.

A fit's task builds one :class:`LossSettings`; the skorch net's criterion is
built from it, and the engines read it where they need a value -- which loss
early stopping watches, which closed-form gradient the numpy engine steps
with, the temperature and weight of each side-by-side candidate -- rather
than reading attributes off a criterion object.
"""

import dataclasses

from ._losses import DistillationLoss, RegressionDistillationLoss
from ._soft import check_loss_params, resolve_soft_loss

__all__ = ["CLASSIFIER", "LossSettings", "REGRESSOR"]

CLASSIFIER, REGRESSOR = "classifier", "regressor"


@dataclasses.dataclass(frozen=True)
class LossSettings:
    """``T``, ``alpha`` and the soft loss of one student's training, as values.

    Parameters
    ----------
    task : {"classifier", "regressor"}
        Which criterion: :class:`~skdistill.DistillationLoss` or
        :class:`~skdistill.RegressionDistillationLoss`.
    alpha : float
        Weight of the teacher term.
    T : float, default=1.0
        Temperature of a classifier's soft term.
    loss : str or callable, default="hinton"
        A classifier's soft term (a name of ``SOFT_LOSSES`` or a callable).
    loss_params : dict, default=None
        Extra keyword arguments of the soft term.

    Examples
    --------
    >>> settings = LossSettings("classifier", alpha=0.5, T=4.0)
    >>> settings.replace(alpha=0.0).alpha, settings.soft_loss.__name__
    (0.0, 'hinton_kd_loss')
    >>> type(settings.criterion()).__name__, settings.criterion().T
    ('DistillationLoss', 4.0)
    """

    task: str
    alpha: float
    T: float = 1.0
    loss: object = "hinton"
    loss_params: dict = None

    @property
    def classifies(self):
        return self.task == CLASSIFIER

    @property
    def soft_loss(self):
        """A classifier's soft-loss callable (None for a regressor)."""
        return resolve_soft_loss(self.loss) if self.classifies else None

    def replace(self, **changes):
        """These settings with ``changes`` (e.g. another ``T`` or ``alpha``)."""
        return dataclasses.replace(self, **changes)

    def criterion(self):
        """A new criterion (a torch module) computing this loss."""
        if not self.classifies:
            return RegressionDistillationLoss(alpha=self.alpha)
        check_loss_params(self.loss, self.loss_params or {})
        return DistillationLoss(self.T, self.alpha, self.loss, self.loss_params)
