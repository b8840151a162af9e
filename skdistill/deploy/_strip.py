"""Lean copies for shipping: a fitted distiller without its teacher or training state."""

import copy

from sklearn.pipeline import Pipeline

from .._lean import lean_distiller
from ._export import final_distiller

__all__ = ["strip_teacher"]


def strip_teacher(model):
    """Return a copy of a fitted distiller (or of a Pipeline ending in one) fit only to predict.

    The copy holds no teacher (neither ``teacher_`` nor the ``teacher``
    parameter, which becomes ``"precomputed"``, so unpickling it never needs
    the teacher's library), no per-batch history, optimizer state or callbacks (early
    stopping keeps a copy of the best weights), no transfer set and no cache:
    only the student network, its input preprocessing, what prediction reads
    (``classes_``, target scaling, feature names) and the per-epoch figures of
    its history (so ``n_iter_``, ``loss_curve_`` and ``plot_history`` agree with
    the original). It predicts exactly as the original; its pickle is about the
    size of the student's weights plus a few kilobytes and about a hundred
    bytes per epoch. ``clone(stripped).fit`` trains it again on teacher
    outputs given to ``fit`` (``teacher_proba=...``; without them ``fit``
    says so), as any ``"precomputed"`` distiller; keep the full model to
    refit its teacher too.

    Parameters
    ----------
    model : DistilledClassifier, DistilledRegressor or Pipeline ending with one
        The fitted model; it is not changed.

    Returns
    -------
    stripped : object
        A copy of the same kind that only predicts.

    See Also
    --------
    export_onnx : The artefact to ship where onnxruntime runs.

    Examples
    --------
    >>> import pickle
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill import DistilledClassifier, strip_teacher
    >>> X, y = load_iris(return_X_y=True)
    >>> full = DistilledClassifier(RandomForestClassifier(100, random_state=0), max_epochs=5,
    ...                            random_state=0).fit(X, y)
    >>> lean = strip_teacher(full)
    >>> bool((lean.predict_proba(X) == full.predict_proba(X)).all()), lean.teacher_ is None
    (True, True)
    >>> len(pickle.dumps(lean)) < len(pickle.dumps(full)) / 5
    True
    """
    distiller = final_distiller(model)
    lean = lean_distiller(distiller)
    if not isinstance(model, Pipeline):
        return lean
    steps = [(name, copy.deepcopy(step)) for name, step in model.steps[:-1]]
    return Pipeline([*steps, (model.steps[-1][0], lean)], memory=None)
