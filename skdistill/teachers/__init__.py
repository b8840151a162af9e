"""Teachers: one adapter per kind of teacher, the rows they label, and the cache of their fits.

A distiller accepts a scikit-learn estimator (fitted inside ``fit``, or frozen
with ``sklearn.frozen.FrozenEstimator``), a trained ``torch.nn.Module``, a
fitted skorch net, or ``"precomputed"`` outputs passed to ``fit``. Nothing
here needs to be imported by users.
"""

__all__ = []
