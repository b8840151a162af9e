"""What a scikit-learn teacher's methods give: a classifier's scores, a regressor's numbers.

A classifier teacher's soft targets come from ``predict_proba``, else
``decision_function``, one column per class.
scikit-learn offers some of these methods only in some fitted states: an
unfitted ``StackingClassifier`` with its default final estimator has no
``predict_proba`` until ``fit`` makes that estimator. So an unfitted teacher is
judged on what its class (a Pipeline's: its last step's class) defines, and a
fitted one on what it has.
"""

import warnings

from sklearn.ensemble import StackingClassifier, StackingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection._search import BaseSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags

__all__ = ["PROBA_EPS", "SCORE_METHODS", "check_gives_numbers", "check_gives_scores",
           "check_one_column_per_class", "last_step", "scores_method"]

SCORE_METHODS = ("predict_proba", "decision_function")
"""The methods a classifier teacher's scores come from, in order of preference."""

PROBA_EPS = 1e-7
"""Probabilities are clipped to at least this before the log (forests often say exactly 0)."""


def check_gives_scores(model, fitted=True):
    """Return :func:`scores_method`'s method; TypeError where there is none."""
    method = scores_method(model, fitted)
    if method is None:
        raise TypeError(
            f"The teacher {type(model).__name__} has neither predict_proba nor "
            "decision_function, so it gives no soft targets to distil. Use a classifier that "
            "has one (e.g. SVC(probability=True) or any tree ensemble)."
        )
    return method


def check_gives_numbers(model):
    """TypeError where ``model``'s ``predict`` gives labels: a classifier, clusterer or outlier
    detector (scikit-learn's ``estimator_type`` tag) cannot teach a regressor's student.

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> check_gives_numbers(KMeans())
    Traceback (most recent call last):
    ...
    TypeError: The teacher KMeans is a clusterer: its predict gives labels, ...
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kind = get_tags(model).estimator_type
    except Exception:  # noqa: BLE001 (no tags: any object with the methods may teach)
        return
    if kind in _LABELLERS:
        raise TypeError(
            f"The teacher {type(model).__name__} is {_LABELLERS[kind]}: its predict gives "
            "labels, not the numbers a regressor's student learns. Use a regressor as the "
            "teacher, or DistilledClassifier to distil a classifier."
        )


_LABELLERS = {"classifier": "a classifier", "clusterer": "a clusterer",
              "outlier_detector": "an outlier detector"}


def scores_method(model, fitted=True):
    """The method that gives ``model``'s scores (see :data:`SCORE_METHODS`), or None.

    ``fitted=False``: the method ``model`` will have once fitted -- its own, or
    where it has none yet, that of the estimator that will give its outputs
    (:func:`last_step`: a stack's final estimator, LogisticRegression by default).

    Examples
    --------
    >>> from sklearn.ensemble import StackingClassifier, VotingClassifier
    >>> from sklearn.linear_model import LogisticRegression, Ridge
    >>> stack = StackingClassifier([("lr", LogisticRegression())])
    >>> scores_method(stack), scores_method(stack, fitted=False)
    (None, 'predict_proba')
    >>> scores_method(VotingClassifier([("lr", LogisticRegression())]), fitted=False) is None
    True
    """
    for method in SCORE_METHODS:
        if hasattr(model, method):
            return method
    final = None if fitted else last_step(model)
    if final is None or final is model:
        return None
    return scores_method(final, fitted=False)


def last_step(model):
    """The estimator that gives ``model``'s outputs, each wrapper unwrapped in turn: a
    Pipeline's last step, the estimator of a ``FrozenEstimator``, ``IntegerLabels`` or a
    search (its best one once fitted), a stack's final estimator (an unfitted one's default,
    ``LogisticRegression()`` or ``RidgeCV()``)."""
    from ._other_libraries import IntegerLabels

    while True:
        if isinstance(model, Pipeline):
            model = model.steps[-1][1]
        elif isinstance(model, (FrozenEstimator, IntegerLabels)):
            model = model.estimator
        elif isinstance(model, BaseSearchCV):
            model = getattr(model, "best_estimator_", model.estimator)
        elif isinstance(model, (StackingClassifier, StackingRegressor)):
            fitted = getattr(model, "final_estimator_", None)
            model = _final_estimator(model) if fitted is None else fitted
        else:
            return model


def _final_estimator(stack):
    """A stack's given final estimator, or scikit-learn's default for it."""
    if stack.final_estimator is not None:
        return stack.final_estimator
    return LogisticRegression() if isinstance(stack, StackingClassifier) else RidgeCV()


def check_one_column_per_class(model, method, n_classes):
    """ValueError where ``model``'s ``method`` scores pairs of classes, not classes.

    An SVC with ``decision_function_shape="ovo"`` gives a column per pair of
    classes: three columns for three classes, which read as one per class
    would be wrong soft targets.

    Examples
    --------
    >>> from sklearn.svm import SVC
    >>> check_one_column_per_class(SVC(decision_function_shape="ovo"), "decision_function", 3)
    Traceback (most recent call last):
    ...
    ValueError: The teacher SVC gives one-vs-one decision values ...
    """
    final = last_step(model)
    if (method == "decision_function" and n_classes > 2
            and getattr(final, "decision_function_shape", None) == "ovo"):
        raise ValueError(
            f"The teacher {type(final).__name__} gives one-vs-one decision values "
            "(decision_function_shape='ovo'): a column per pair of classes, not per class. "
            "Use decision_function_shape='ovr' (the default) or probability=True."
        )
