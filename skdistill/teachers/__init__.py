"""Teachers: one adapter per kind of teacher, the rows they label, and the cache of their fits.

A distiller accepts a scikit-learn estimator (fitted inside ``fit``, or frozen
with ``sklearn.frozen.FrozenEstimator``), a trained ``torch.nn.Module``, a
fitted skorch net, or ``"precomputed"`` outputs passed to ``fit``. Users need
only :func:`user_cache_dir`, a per-user folder for ``memory=``.
"""

from ._cache import user_cache_dir

__all__ = ["user_cache_dir"]
