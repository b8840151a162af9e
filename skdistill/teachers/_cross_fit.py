"""``teacher_cv``: each row scored by a copy of the teacher fitted on the other folds.

scikit-learn's ``cross_val_predict`` gives a classifier the codes ``0, 1, ...``
of the labels to fit on, so a teacher whose parameters name the labels
(``class_weight={"spam": 5}``) fails inside it, and it asks an unfitted teacher
for ``predict``, which some have only once fitted (a stack with its default
final estimator). :func:`cross_fitted` fits each fold's copy on the labels
themselves, as the teacher's full fit is, and reads its columns by label.
"""

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils.metaestimators import _safe_split

from ._estimator_outputs import PROBA_EPS

__all__ = ["cross_fitted"]


def cross_fitted(estimator, X, y, cv, method, params):
    """``method``'s output for every row of ``X``, from a copy of ``estimator`` fitted on the
    other folds of ``cv`` (as ``cross_val_predict`` splits: stratified for a classifier).

    ``params`` (e.g. ``{"sample_weight": w}``, one value per row) go to each
    fold's ``fit``, sliced to its rows: a router routes them on by its own
    requests, and a teacher that is not a scikit-learn estimator (CatBoost) is
    asked for none. A classifier's scores have a column per class of ``y``, in
    sorted order, matched by label; where a fold's copy never saw a class, the
    class gets probability 0, or a decision value far below the row's lowest.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = np.arange(8.0).reshape(-1, 1), np.array(["lo"] * 4 + ["hi"] * 4)
    >>> teacher = LogisticRegression(class_weight={"lo": 1.0, "hi": 2.0})
    >>> cross_fitted(teacher, X, y, 2, "predict_proba", {}).shape
    (8, 2)
    """
    classifier = is_classifier(estimator)
    classes = np.unique(y) if classifier and method != "predict" else None
    folds = list(check_cv(cv, y, classifier=classifier).split(X, y))
    scored = np.zeros(len(y), dtype=int)
    for _, test in folds:
        scored[test] += 1
    if not (scored == 1).all():  # before any fit
        raise ValueError(f"teacher_cv={cv!r} must score every row once (a partition of the "
                         "rows into folds), as cross_val_predict needs.")
    out = None
    for train, test in folds:
        fold = clone(estimator)
        X_train, y_train = _safe_split(estimator, X, y, train)
        fold.fit(X_train, y_train, **{name: value[train] for name, value in params.items()})
        X_test, _ = _safe_split(estimator, X, y, test, train)
        scores = np.asarray(getattr(fold, method)(X_test), dtype=np.float64)
        if classes is not None:
            scores = _every_class(scores, np.asarray(fold.classes_), classes, method)
        if out is None:
            out = np.empty((len(y), *scores.shape[1:]), dtype=np.float64)
        out[test] = scores
    return out


def _every_class(scores, seen, classes, method):
    """A fold's scores with a column per class of ``classes``, matched by label (``seen``: the
    fold's ``classes_``; columns of labels not in ``classes`` are left out)."""
    column = {label: position for position, label in enumerate(seen.tolist())}
    wanted = [column.get(label) for label in classes.tolist()]
    if scores.ndim == 1:  # a binary decision_function: positive for seen[1]
        if sorted(column) != classes.tolist():
            raise ValueError(
                f"A fold of teacher_cv holds only the classes {seen.tolist()} of "
                f"{classes.tolist()}; {method} cannot score the others. Use fewer folds, or "
                "a teacher with predict_proba."
            )
        return scores if wanted[1] == 1 else -scores
    if all(position is None for position in wanted):
        raise ValueError(f"The classes_ {seen.tolist()} of a fold's teacher are none of the "
                         f"labels {classes.tolist()} it was fitted on.")
    if method == "predict_proba":
        filler = np.zeros(len(scores))
    else:  # as far below the row's lowest as a probability of PROBA_EPS in a log
        filler = scores.min(axis=1) + np.log(PROBA_EPS)
    return np.column_stack([filler if position is None else scores[:, position]
                            for position in wanted])
