"""Lean copies for shipping: a fitted distiller without its teacher or training state."""

import copy

from sklearn.pipeline import Pipeline

from .._lean import lean_distiller
from ..teachers._adapters import PRECOMPUTED, as_teacher
from ..teachers._other_libraries import fresh_copy
from ._export import final_distiller

__all__ = ["strip_teacher"]


def strip_teacher(model):
    """Return a copy of a fitted distiller (or of a Pipeline ending in one) fit only to predict.

    The copy holds no fitted teacher (``teacher_`` is None), no per-batch
    history, optimizer state or callbacks (early stopping keeps a copy of the
    best weights), no transfer set and no cache: only the student network, its
    input preprocessing, what prediction reads (``classes_``, target scaling,
    feature names) and the per-epoch history (``n_iter_``, ``loss_curve_``).
    It predicts exactly as the original; its pickle is about the size of the
    student's weights plus a few kilobytes. Its ``teacher`` parameter is an
    unfitted copy of a scikit-learn teacher that ``fit`` refits anyway (or
    ``"precomputed"``), so ``clone(stripped).fit(X, y)`` trains a new model
    as the original's parameters say (without its transfer set, callbacks or
    cache); a frozen teacher, a torch module or a skorch net is not kept
    (``teacher=None``): keep the full model to fit with those again.

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
    lean.teacher = _refittable_teacher(distiller.teacher)
    if not isinstance(model, Pipeline):
        return lean
    steps = [(name, copy.deepcopy(step)) for name, step in model.steps[:-1]]
    return Pipeline([*steps, (model.steps[-1][0], lean)], memory=None)


def _refittable_teacher(teacher):
    """The ``teacher`` parameter a stripped copy keeps: what ``fit`` would refit, unfitted.

    A scikit-learn teacher that ``fit`` clones and refits is kept as an unfitted
    copy with the same parameters, ``"precomputed"`` as it is; a frozen teacher,
    a torch module or a skorch net *is* its fitted weights, so it is not kept.
    """
    if isinstance(teacher, str) and teacher == PRECOMPUTED:
        return teacher
    if teacher is None or isinstance(teacher, str) or not as_teacher(teacher).refits:
        return None
    return fresh_copy(teacher)
