"""Teachers from libraries that bend scikit-learn's conventions, fitted as if they did not.

* XGBoost's classifiers read only the class codes 0, 1, ..., n - 1 as ``y``:
  :class:`IntegerLabels` fits such a classifier on the codes of the labels and
  reads and returns the labels themselves, so the fitted teacher scores and
  predicts on the caller's labels. A distiller wraps the teachers that need it
  (:func:`needs_class_codes`) when it fits them.
* CatBoost's constructor copies its list parameters (``cat_features``), which
  ``sklearn.base.clone`` refuses: :func:`fresh_copy` copies such a model.
"""

import copy

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone, is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, has_fit_parameter

__all__ = ["IntegerLabels", "fresh_copy", "needs_class_codes"]

CODES_ONLY_MODULES = ("xgboost",)
"""Libraries whose classifiers refuse labels other than 0, 1, ..., n_classes - 1."""


def fresh_copy(model):
    """An unfitted copy of ``model`` with the same parameters, as ``sklearn.base.clone`` makes.

    A constructor that copies a list parameter (CatBoost's ``cat_features``,
    ``monotone_constraints``, ``feature_weights``) fails ``clone``'s identity
    check; such a model (or one that holds it, as a Pipeline or a search does)
    is built afresh on copies of its parameters, the lists kept as lists
    (CatBoost refuses a tuple for some of them), and the copy clones itself the
    same way (``teacher_cv``'s folds clone it).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> fresh_copy(LogisticRegression(C=2.0)).get_params()["C"]
    2.0
    """
    try:
        return clone(model)
    except RuntimeError as exc:
        if "Cannot clone object" not in str(exc):
            raise
        return _rebuilt(model, str(exc))


def _rebuilt(model, reason):
    """``model``'s class built on copies of its parameters (:func:`_fresh_parameter`), where
    its constructor at most copies a list, dict or array; a TypeError where it changes a
    value."""
    given = {name: _fresh_parameter(value) for name, value in model.get_params(deep=False).items()}
    rebuilt = type(model)(**given)
    stored = rebuilt.get_params(deep=False)
    changed = [name for name, value in given.items()
               if stored[name] is not value and not _stored_copy(stored[name], value)]
    if changed:
        raise TypeError(
            f"The teacher {type(model).__name__} cannot be copied with fresh parameters: its "
            f"constructor changes {changed} ({reason}). Fit it yourself and pass "
            "sklearn.frozen.FrozenEstimator(teacher)."
        )
    rebuilt.__sklearn_clone__ = _CloneByRebuilding(rebuilt, reason)
    return rebuilt


def _fresh_parameter(value):
    """A copy of a parameter as ``clone(value, safe=False)`` makes it, but an estimator (also
    in a list or tuple, as a Pipeline's steps) copied by :func:`fresh_copy`."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        return fresh_copy(value)
    if type(value) in (list, tuple):
        return type(value)(_fresh_parameter(each) for each in value)
    return clone(value, safe=False)


def _stored_copy(stored, given):
    """Whether a constructor stored a copy of ``given``: a list, dict or array equal to it."""
    if type(stored) is not type(given) or not isinstance(given, (list, dict, np.ndarray)):
        return False
    if isinstance(given, np.ndarray):
        return given.shape == stored.shape and bool(np.array_equal(stored, given))
    try:
        return bool(stored == given)
    except (TypeError, ValueError):  # elements that do not compare as one bool
        return False


class _CloneByRebuilding:
    """The ``__sklearn_clone__`` of a rebuilt model: build it again from its parameters as
    they are now (``clone``'s identity check would refuse it)."""

    def __init__(self, model, reason):
        self.model, self.reason = model, reason

    def __call__(self):
        return _rebuilt(self.model, self.reason)


def _final_step(model):
    return model.steps[-1][1] if isinstance(model, Pipeline) else model


def needs_class_codes(model, y):
    """Whether ``model`` (or a Pipeline's last step) reads only class codes and ``y`` holds others.

    With ``y=None``, whether it reads only class codes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> needs_class_codes(LogisticRegression(), np.array(["a", "b"]))
    False
    """
    final = _final_step(model)
    library = {cls.__module__.split(".")[0] for cls in type(final).__mro__}  # subclasses too
    if not library & set(CODES_ONLY_MODULES) or not is_classifier(final):
        return False
    if y is None:  # any labels: cross-fitting folds may each miss a class
        return True
    classes = np.unique(y)
    return not (classes.dtype.kind in "iu" and np.array_equal(classes, np.arange(len(classes))))


def _estimator_has(method):
    return lambda self: hasattr(self.estimator, method)


class IntegerLabels(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A classifier fitted on the class codes 0, 1, ..., n - 1 that speaks the labels themselves.

    XGBoost's classifiers read only the codes ``0, 1, ..., n_classes - 1`` as
    ``y``. Wrapped, such a classifier is fitted on ``y``'s codes (the
    positions of its labels in the sorted ``classes_``); ``predict`` returns
    labels, and ``predict_proba`` and ``decision_function`` columns follow
    ``classes_``. A distiller wraps an XGBoost classifier (alone or ending a
    Pipeline) in it when ``y`` holds other labels, so its ``teacher_`` scores
    on the caller's labels; wrap a teacher yourself where it needs the same.

    Parameters
    ----------
    estimator : classifier
        Fitted on the codes; cloned, not changed.

    Attributes
    ----------
    estimator_ : classifier
        The fitted copy, whose own ``classes_`` are the codes.
    classes_ : ndarray of shape (n_classes,)
        The labels, sorted; code ``k`` stands for ``classes_[k]``.

    See Also
    --------
    DistilledClassifier : Wraps the teachers that need it when it fits them.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> names = load_iris().target_names[y]
    >>> teacher = IntegerLabels(DecisionTreeClassifier(max_depth=2)).fit(X, names)
    >>> teacher.predict(X[:2]).tolist(), teacher.estimator_.classes_.tolist()
    (['setosa', 'setosa'], [0, 1, 2])
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit a copy of the estimator on the codes of ``y``'s labels.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            The rows, as the estimator reads them.
        y : array-like of shape (n_samples,)
            Labels of any kind scikit-learn classifiers take.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to the estimator's ``fit`` when given.
        **fit_params : dict
            Passed to the estimator's ``fit``.

        Returns
        -------
        self : IntegerLabels
            Fitted.
        """
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if sample_weight is not None:
            if not has_fit_parameter(self.estimator, "sample_weight"):
                raise TypeError(
                    f"{type(self.estimator).__name__}.fit does not take sample_weight."
                )
            fit_params["sample_weight"] = sample_weight
        self.estimator_ = fresh_copy(self.estimator).fit(X, codes, **fit_params)
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, name):
                setattr(self, name, getattr(self.estimator_, name))
        return self

    def predict(self, X):
        """The labels the estimator predicts for ``X``.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            The rows, as the estimator reads them.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Entries of ``classes_``.
        """
        check_is_fitted(self)
        codes = np.asarray(self.estimator_.predict(X)).astype(np.intp).ravel()
        return self.classes_[codes]

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities, a column per entry of ``classes_``.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            The rows, as the estimator reads them.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows summing to 1.
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """The estimator's decision function, its columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            The rows, as the estimator reads them.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            One column for two classes (the score of ``classes_[1]``).
        """
        check_is_fitted(self)
        return self.estimator_.decision_function(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags = copy.deepcopy(inner.input_tags)
        return tags
