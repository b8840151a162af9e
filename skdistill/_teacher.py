"""Teacher adapters: turn what a fitted teacher says into logits aligned with our classes.

A scikit-learn classifier gives probabilities, not logits. Its logits are
``log(clip(p, eps))``, so the soft target at temperature ``T`` is proportional
to ``p ** (1 / T)``. (Applying ``softmax(p / T)`` to the probabilities, as many
recipes do, flattens every target towards uniform.) ``decision_function``
outputs are logits already; a binary one with a single column ``d`` means the
logits ``[0, d]``.

Columns are matched to the student's classes by label, never by position, so a
prefit teacher whose ``classes_`` come in another order or include extra labels
still works; the extra columns are dropped and the softmax renormalises over
the remaining ones.
"""

import numpy as np

__all__ = ["PROBA_EPS", "teacher_logits", "check_teacher_methods"]

PROBA_EPS = 1e-7
"""Probabilities are clipped to at least this before the log (forests often say exactly 0)."""


def _teacher_name(teacher):
    return type(teacher).__name__


def check_teacher_methods(teacher):
    """Raise TypeError unless ``teacher`` can be fitted and gives scores to distil.

    Called before the teacher is fitted, so a wrong teacher fails fast.
    """
    name = _teacher_name(teacher)
    if not hasattr(teacher, "fit"):
        raise TypeError(f"teacher must be a scikit-learn classifier with a fit method; got {name}.")
    if not (hasattr(teacher, "predict_proba") or hasattr(teacher, "decision_function")):
        raise TypeError(
            f"The teacher {name} has neither predict_proba nor decision_function, so it "
            "gives no soft targets to distil. Use a classifier that has one (e.g. "
            "SVC(probability=True) or any tree ensemble)."
        )


def _align_columns(scores, teacher_classes, classes, teacher):
    teacher_classes = np.asarray(teacher_classes)
    columns = []
    missing = []
    for label in classes:
        (hits,) = np.nonzero(teacher_classes == label)
        if hits.size == 0:
            missing.append(label)
        else:
            columns.append(hits[0])
    if missing:
        raise ValueError(
            f"The teacher {_teacher_name(teacher)} does not know the label(s) "
            f"{[m.item() if hasattr(m, 'item') else m for m in missing]} that appear in y; "
            f"its classes_ are {teacher_classes.tolist()}. Refit the teacher on data "
            "holding every label, or drop those rows."
        )
    return scores[:, columns]


def _check_scores(scores, n_rows, n_columns, method, teacher):
    name = _teacher_name(teacher)
    if scores.ndim != 2 or scores.shape != (n_rows, n_columns):
        raise ValueError(
            f"The teacher {name}.{method} returned an array of shape {scores.shape}; "
            f"expected ({n_rows}, {n_columns}), one column per class in its classes_."
        )
    if not np.isfinite(scores).all():
        raise ValueError(f"The teacher {name}.{method} returned NaN or infinite values.")


def teacher_logits(teacher, X, classes):
    """Return the fitted ``teacher``'s logits for ``X``, one column per entry of ``classes``.

    Parameters
    ----------
    teacher : fitted classifier
        Must have ``classes_`` and ``predict_proba`` or ``decision_function``
        (``predict_proba`` is preferred when both exist).
    X : array-like of shape (n_samples, n_features)
    classes : ndarray of shape (n_classes,)
        The labels the student predicts, in the student's column order.

    Returns
    -------
    logits : ndarray of shape (n_samples, n_classes), float32

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> teacher = DummyClassifier(strategy="prior").fit([[0]] * 4, ["b", "a", "a", "a"])
    >>> logits = teacher_logits(teacher, [[0]], classes=np.array(["b", "a"]))
    >>> np.round(np.exp(logits), 2)  # columns follow `classes`, not the teacher's order
    array([[0.25, 0.75]], dtype=float32)
    """
    teacher_classes = getattr(teacher, "classes_", None)
    if teacher_classes is None:
        raise TypeError(
            f"The teacher {_teacher_name(teacher)} has no classes_ after fitting; "
            "it must be a scikit-learn classifier."
        )
    n_rows = len(X) if not hasattr(X, "shape") else X.shape[0]
    n_teacher = len(teacher_classes)
    if hasattr(teacher, "predict_proba"):
        proba = np.asarray(teacher.predict_proba(X), dtype=np.float64)
        _check_scores(proba, n_rows, n_teacher, "predict_proba", teacher)
        if (proba < 0).any() or not np.allclose(proba.sum(axis=1), 1.0, atol=1e-3):
            raise ValueError(
                f"The teacher {_teacher_name(teacher)}.predict_proba returned rows that are "
                "not probability distributions (negative, or not summing to 1)."
            )
        logits = np.log(np.clip(proba, PROBA_EPS, None))
    elif hasattr(teacher, "decision_function"):
        scores = np.asarray(teacher.decision_function(X), dtype=np.float64)
        if scores.ndim == 1 and n_teacher == 2:
            scores = np.column_stack([np.zeros_like(scores), scores])
        _check_scores(scores, n_rows, n_teacher, "decision_function", teacher)
        logits = scores
    else:
        raise TypeError(
            f"The teacher {_teacher_name(teacher)} has neither predict_proba nor "
            "decision_function, so it gives no soft targets to distil. Use a classifier "
            "that has one (e.g. SVC(probability=True) or any tree ensemble)."
        )
    logits = _align_columns(logits, teacher_classes, classes, teacher)
    return logits.astype(np.float32)
