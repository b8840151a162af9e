"""Teacher adapters: fit a teacher and turn what it says into outputs aligned with the student.

Four kinds of teacher are accepted:

* a scikit-learn estimator: cloned and fitted on the labelled rows; a
  ``FrozenEstimator`` clones to itself and ignores ``fit``, so a prefit teacher
  is used as is;
* a ``torch.nn.Module`` (already trained): its outputs are the logits (or the
  predictions, for a regressor), columns in the sorted order of the labels;
* a fitted skorch net: used as is; its logits when its criterion takes logits,
  else the log of its ``predict_proba``;
* ``"precomputed"``: the outputs are passed to ``fit`` (``teacher_proba``,
  ``teacher_logits`` or ``teacher_predictions``), aligned with the rows of X.

A classifier's logits: a scikit-learn classifier gives probabilities, not
logits. Its logits are ``log(clip(p, eps))``, so the soft target at
temperature ``T`` is proportional to ``p ** (1 / T)``. (Applying
``softmax(p / T)`` to the probabilities, as many recipes do, flattens every
target towards uniform.) ``decision_function`` outputs are logits already; a
binary one with a single column ``d`` means the logits ``[0, d]``. Columns are
matched to the student's classes by label, never by position; a teacher's
extra classes are dropped and the softmax renormalises over the rest.
"""

import numpy as np
import torch
from sklearn.base import clone
from sklearn.model_selection import cross_val_predict
from sklearn.utils import _safe_indexing
from skorch import NeuralNet

__all__ = [
    "PRECOMPUTED",
    "PROBA_EPS",
    "check_teacher",
    "fit_and_score",
    "fit_teacher",
    "teacher_outputs",
    "teacher_logits",
    "teacher_predictions",
    "out_of_fold_logits",
    "out_of_fold_predictions",
    "logits_from_proba",
]

PROBA_EPS = 1e-7
"""Probabilities are clipped to at least this before the log (forests often say exactly 0)."""

PRECOMPUTED = "precomputed"


def _name(teacher):
    return type(teacher).__name__


def is_prefit(teacher):
    """True for teachers used as they are: torch modules and skorch nets."""
    return isinstance(teacher, (torch.nn.Module, NeuralNet))


def check_teacher(teacher, task):
    """Raise TypeError unless ``teacher`` can teach a ``task`` ("classifier"/"regressor") student.

    Called before anything is fitted, so a wrong teacher fails fast.
    """
    if isinstance(teacher, str):
        if teacher != PRECOMPUTED:
            raise ValueError(f"teacher={teacher!r}: the only string accepted is 'precomputed'.")
        return
    if isinstance(teacher, torch.nn.Module):
        return
    name = _name(teacher)
    if not hasattr(teacher, "fit"):
        raise TypeError(
            f"teacher must be a scikit-learn {task} with a fit method, a torch.nn.Module, a "
            f"fitted skorch net or 'precomputed'; got {name}."
        )
    if task == "classifier" and not _scores_method(teacher):
        raise TypeError(
            f"The teacher {name} has neither predict_proba nor decision_function, so it "
            "gives no soft targets to distil. Use a classifier that has one (e.g. "
            "SVC(probability=True) or any tree ensemble)."
        )
    if task == "regressor" and not hasattr(teacher, "predict"):
        raise TypeError(f"The teacher {name} has no predict method.")


def _scores_method(teacher):
    for method in ("predict_proba", "decision_function"):
        if hasattr(teacher, method):
            return method
    return None


def fit_teacher(teacher, X, y):
    """Return the fitted teacher: a clone fitted on (X, y), or a prefit teacher as it is."""
    if isinstance(teacher, str) or is_prefit(teacher):
        return teacher
    fitted = clone(teacher)
    try:
        fitted.fit(X, y)
    except Exception as exc:
        exc.add_note(f"(raised while fitting the teacher {_name(teacher)})")
        raise
    return fitted


def _module_outputs(module, X):
    params = next(module.parameters(), None)
    device = params.device if params is not None else torch.device("cpu")
    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode():
            out = module(torch.as_tensor(np.asarray(X, dtype=np.float32), device=device))
    finally:
        module.train(was_training)
    return out.double().cpu().numpy()


def _check_scores(scores, n_rows, n_columns, what):
    if scores.ndim != 2 or scores.shape != (n_rows, n_columns):
        raise ValueError(
            f"The teacher {what} has shape {scores.shape}; expected ({n_rows}, {n_columns}), "
            "one column per class."
        )
    if not np.isfinite(scores).all():
        raise ValueError(f"The teacher {what} holds NaN or infinite values.")


def logits_from_proba(proba, what="predict_proba"):
    """``log(clip(proba, PROBA_EPS))`` after checking the rows are distributions."""
    proba = np.asarray(proba, dtype=np.float64)
    if (proba < 0).any() or not np.allclose(proba.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(
            f"The teacher {what} has rows that are not probability distributions "
            "(negative, or not summing to 1)."
        )
    return np.log(np.clip(proba, PROBA_EPS, None))


def _align_columns(logits, teacher_classes, classes, teacher):
    teacher_classes = np.asarray(teacher_classes)
    columns, missing = [], []
    for label in classes:
        (hits,) = np.nonzero(teacher_classes == label)
        if hits.size == 0:
            missing.append(label.item() if hasattr(label, "item") else label)
        else:
            columns.append(hits[0])
    if missing:
        raise ValueError(
            f"The teacher {_name(teacher)} does not know the label(s) {missing} that appear "
            f"in y; its classes_ are {teacher_classes.tolist()}. Refit the teacher on data "
            "holding every label, or drop those rows."
        )
    return logits[:, columns]


def _skorch_logits(net, X):
    X = np.asarray(X, dtype=np.float32)
    if isinstance(getattr(net, "criterion_", None), torch.nn.CrossEntropyLoss):
        return net.forward(X).double().numpy()
    return logits_from_proba(net.predict_proba(X), f"{_name(net)}.predict_proba")


def teacher_logits(teacher, X, classes):
    """Return the fitted ``teacher``'s logits for ``X``, one column per entry of ``classes``.

    Parameters
    ----------
    teacher : fitted classifier, torch.nn.Module or fitted skorch net
        A scikit-learn classifier needs ``classes_`` and ``predict_proba`` or
        ``decision_function`` (``predict_proba`` is preferred when both exist).
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
    n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
    name = _name(teacher)
    if isinstance(teacher, torch.nn.Module):
        logits = _module_outputs(teacher, X)
        _check_scores(logits, n_rows, len(classes), f"module {name} output")
        return logits.astype(np.float32)
    teacher_classes = getattr(teacher, "classes_", None)
    if teacher_classes is None:
        raise TypeError(f"The teacher {name} has no classes_ after fitting; is it a classifier?")
    n_teacher = len(teacher_classes)
    if isinstance(teacher, NeuralNet):
        logits = _skorch_logits(teacher, X)
        _check_scores(logits, n_rows, n_teacher, f"{name} output")
    elif _scores_method(teacher) == "predict_proba":
        proba = np.asarray(teacher.predict_proba(X), dtype=np.float64)
        _check_scores(proba, n_rows, n_teacher, f"{name}.predict_proba")
        logits = logits_from_proba(proba, f"{name}.predict_proba")
    else:
        scores = np.asarray(teacher.decision_function(X), dtype=np.float64)
        if scores.ndim == 1 and n_teacher == 2:
            scores = np.column_stack([np.zeros_like(scores), scores])
        _check_scores(scores, n_rows, n_teacher, f"{name}.decision_function")
        logits = scores
    return _align_columns(logits, teacher_classes, classes, teacher).astype(np.float32)


def teacher_predictions(teacher, X):
    """Return a fitted regression teacher's predictions for ``X`` as a float32 column."""
    n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
    if isinstance(teacher, torch.nn.Module):
        pred = _module_outputs(teacher, X)
    else:
        if isinstance(teacher, NeuralNet):
            X = np.asarray(X, dtype=np.float32)
        pred = np.asarray(teacher.predict(X), dtype=np.float64)
    pred = pred.reshape(n_rows, -1) if pred.size == n_rows else pred
    if pred.shape != (n_rows, 1):
        raise ValueError(
            f"The teacher {_name(teacher)} predicted an array of shape {pred.shape}; "
            f"expected ({n_rows},) or ({n_rows}, 1)."
        )
    if not np.isfinite(pred).all():
        raise ValueError(f"The teacher {_name(teacher)} predicted NaN or infinite values.")
    return pred.astype(np.float32)


def out_of_fold_logits(teacher, X, y, classes, cv):
    """Cross-fitted logits: each row scored by a teacher that did not see it (y sorted-label order)."""
    method = _scores_method(teacher)
    scores = cross_val_predict(clone(teacher), X, y, cv=cv, method=method)
    what = f"{_name(teacher)}.{method} (out of fold)"
    if method == "predict_proba":
        logits = logits_from_proba(scores, what)
    else:
        logits = scores if scores.ndim == 2 else np.column_stack([np.zeros_like(scores), scores])
    _check_scores(logits, len(y), len(classes), what)
    return logits.astype(np.float32)


def out_of_fold_predictions(teacher, X, y, cv):
    """Cross-fitted regression predictions, as a float32 column."""
    pred = cross_val_predict(clone(teacher), X, y, cv=cv, method="predict")
    return np.asarray(pred, dtype=np.float32).reshape(len(y), 1)


def teacher_outputs(task, teacher, X, classes=None):
    """A fitted teacher's outputs for ``X``: logits (classifier) or a prediction column."""
    if task == "classifier":
        return teacher_logits(teacher, X, classes)
    return teacher_predictions(teacher, X)


def fit_and_score(task, teacher, X, y, labelled, classes, cv):
    """Fit ``teacher`` on the labelled rows and return ``(fitted, outputs for every row)``.

    With ``cv`` set, the labelled rows' outputs are cross-fitted (out of fold).
    A module-level function of hashable arguments, so ``joblib.Memory`` can cache it.
    """
    rows = np.flatnonzero(labelled)
    X_lab = _safe_indexing(X, rows) if len(rows) < len(y) else X
    y_lab = y[rows]
    fitted = fit_teacher(teacher, X_lab, y_lab)
    outputs = teacher_outputs(task, fitted, X, classes)
    if cv is not None:
        if task == "classifier":
            outputs[rows] = out_of_fold_logits(teacher, X_lab, y_lab, classes, cv)
        else:
            outputs[rows] = out_of_fold_predictions(teacher, X_lab, y_lab, cv)
    return fitted, outputs
