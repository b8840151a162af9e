"""The search's earlier names, kept with a ``FutureWarning`` until 0.2."""

from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils import deprecated

from ._classifier import DistilledClassifier
from ._cv import DistillerGridSearchCV
from ._regressor import DistilledRegressor

__all__ = ["DistilledClassifierCV", "DistilledRegressorCV"]

_RENAMED = (
    "{old} is renamed DistillerGridSearchCV (one search for every distiller, as GridSearchCV "
    "is one for every estimator), with the same parameters; {old} will be removed in 0.2."
)


_DEPRECATED_DOC = """Deprecated: :class:`DistillerGridSearchCV` over a :class:`{distiller}`.

    Parameters
    ----------
    estimator : {distiller} or Pipeline ending in one
        The settings every candidate shares.
    param_grid : dict
        Lists of values for the searched parameters.
    scoring : str, callable or None, default=None
        One metric, as in ``GridSearchCV``.
    cv : int, cross-validation generator or iterable, default=3
        As in ``GridSearchCV``.
    n_jobs : int or None, default=None
        Folds trained in parallel.

    See Also
    --------
    DistillerGridSearchCV : The same search under its new name.

    Examples
    --------
    >>> import warnings
    >>> from skdistill import {distiller}, {old}
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     search = {old}({distiller}("precomputed"), {{"alpha": [0.5]}})
    >>> caught[0].category.__name__
    'FutureWarning'
    """


@deprecated(_RENAMED.format(old="DistilledClassifierCV"))
class DistilledClassifierCV(ClassifierMixin, DistillerGridSearchCV):
    __doc__ = _DEPRECATED_DOC.format(distiller="DistilledClassifier", old="DistilledClassifierCV")
    _distiller = DistilledClassifier
    score = DistillerGridSearchCV.score  # the search's scoring, not ClassifierMixin's accuracy


@deprecated(_RENAMED.format(old="DistilledRegressorCV"))
class DistilledRegressorCV(RegressorMixin, DistillerGridSearchCV):
    __doc__ = _DEPRECATED_DOC.format(distiller="DistilledRegressor", old="DistilledRegressorCV")
    _distiller = DistilledRegressor
    score = DistillerGridSearchCV.score  # the search's scoring, not RegressorMixin's R2
