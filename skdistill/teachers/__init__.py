"""Teachers: one adapter per kind of teacher, the rows they label, and the cache of their fits.

A distiller accepts a scikit-learn estimator (fitted inside ``fit``, or frozen
with ``sklearn.frozen.FrozenEstimator``), a trained ``torch.nn.Module``, a
fitted skorch net, or ``"precomputed"`` outputs passed to ``fit``. Users need
only :func:`user_cache_dir`, a per-user folder for ``memory=``, and
:class:`IntegerLabels`, which fits a classifier that reads only class codes
(XGBoost's) on the codes of any labels.
"""

from ._cache import user_cache_dir
from ._other_libraries import IntegerLabels

__all__ = ["IntegerLabels", "user_cache_dir"]
