"""Teacher adapters: one small class per kind of teacher.

Each adapter owns three things about its kind of teacher: whether and how it is
fitted, what input it reads, and how its outputs become numbers for the
student. :func:`as_teacher` picks the adapter once; nothing else in the package
asks what kind of teacher it holds.

========================  ==========================  ==================================
kind                      adapter                     fitted in ``fit``?
========================  ==========================  ==================================
scikit-learn estimator    :class:`EstimatorTeacher`   cloned and fitted (weights passed
                                                      on when its ``fit`` takes them)
``FrozenEstimator``       :class:`EstimatorTeacher`   never (used as it is)
``torch.nn.Module``       :class:`ModuleTeacher`      never; outputs are logits
fitted skorch net         :class:`SkorchTeacher`      never
``"precomputed"``         :class:`PrecomputedTeacher` never; outputs are given to ``fit``
========================  ==========================  ==================================

A classifier's logits: a scikit-learn classifier gives probabilities, not
logits. Its logits are ``log(clip(p, eps))``, so the soft target at
temperature ``T`` is proportional to ``p ** (1 / T)``. (Applying
``softmax(p / T)`` to the probabilities, as many recipes do, flattens every
target towards uniform.) ``decision_function`` outputs are logits already; a
binary one with a single column ``d`` means the logits ``[0, d]``. Columns are
matched to the student's classes by label, never by position; a teacher's
extra classes are dropped and the softmax renormalises over the rest.

A scikit-learn teacher reads ``X`` exactly as the caller passed it to ``fit``
(a DataFrame, sparse matrix or documents included); torch and skorch teachers
read float32 rows, densified a chunk at a time when ``X`` is sparse.
"""

import abc
import warnings

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted, has_fit_parameter
from skorch import NeuralNet

from .._inputs import DENSE_CHUNK_ELEMENTS, is_shaped
from ._other_libraries import IntegerLabels, fresh_copy, needs_class_codes
from ._estimator_outputs import (
    PROBA_EPS,
    check_gives_numbers,
    check_gives_scores,
    check_one_column_per_class,
    last_step,
    scores_method,
)
from ._cross_fit import cross_fitted
from ._fit_notes import add_fit_notes

__all__ = [
    "PRECOMPUTED",
    "PROBA_EPS",
    "EstimatorTeacher",
    "ModuleTeacher",
    "PrecomputedTeacher",
    "SkorchTeacher",
    "as_teacher",
    "flattened",
    "logits_from_proba",
    "teacher_logits",
]

PRECOMPUTED = "precomputed"


def _name(model):
    return type(model).__name__


def _n_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


# --------------------------------------------------------------- the kinds
class Teacher(abc.ABC):
    """What every adapter offers; by default a teacher used as it is.

    Attributes
    ----------
    model : object
        The teacher as the user gave it (fitted, after :meth:`fit`).
    refits : bool
        True when :meth:`fit` trains a new model (so it can be cached and cross-fitted).
    """

    refits = False

    def __init__(self, model):
        self.model = model

    def check(self, task):
        """Raise TypeError unless this teacher can teach a ``task`` student (before any fit)."""

    def fit(self, X, y, sample_weight=None):
        """Return the fitted adapter: this one, for a teacher used as it is."""
        return self

    @abc.abstractmethod
    def logits(self, X, classes):
        """Logits for ``X``, one float64 column per entry of ``classes`` (the student's order)."""

    @abc.abstractmethod
    def predictions(self, X):
        """Regression predictions for ``X`` as a float64 ``(n, 1)`` column."""


class EstimatorTeacher(Teacher):
    """A scikit-learn estimator: cloned and fitted, unless it is a ``FrozenEstimator``.

    Images and sequences (X of 3 or more axes) reach it flattened, a sample per
    row, as scikit-learn estimators take them.
    """

    def __init__(self, model):
        super().__init__(model)
        self.refits = not isinstance(model, FrozenEstimator)

    def check(self, task):
        name = _name(self.model)
        if task == "classifier":
            check_gives_scores(self.model, fitted=False)
        elif not hasattr(self.model, "predict") and not hasattr(last_step(self.model), "predict"):
            # judged, unfitted, by what gives its outputs: a stack's predict appears once fitted
            raise TypeError(f"The teacher {name} has no predict method.")
        else:
            check_gives_numbers(self.model)

    def takes_sample_weight(self):
        """True when the teacher's ``fit`` accepts ``sample_weight`` (through IntegerLabels too)."""
        model = self.model.estimator if isinstance(self.model, IntegerLabels) else self.model
        return has_fit_parameter(model, "sample_weight")

    def fit(self, X, y, sample_weight=None):
        if not self.refits:
            return self
        fitted = self._fresh_model(y)
        method = scores_method(self.model, fitted=False)
        if method == "decision_function":  # before a fit that may be long
            check_one_column_per_class(self.model, method, len(np.unique(y)))
        try:
            fitted.fit(flattened(X), y, **self._weight_params(sample_weight))
        except Exception as exc:
            add_fit_notes(exc, X, _name(self.model))
            raise
        return EstimatorTeacher(fitted)

    def _fresh_model(self, y, folds=False):
        """An unfitted copy of the teacher to fit on labels ``y`` (wrapped where it reads codes;
        with ``folds``, wherever it reads codes, as a fold may miss a class)."""
        fresh = fresh_copy(self.model)
        return IntegerLabels(fresh) if needs_class_codes(fresh, None if folds else y) else fresh

    def _weight_params(self, sample_weight):
        if sample_weight is None:
            return {}
        if self.takes_sample_weight():
            return {"sample_weight": sample_weight}
        warnings.warn(
            f"The teacher {_name(self.model)}'s fit does not take sample_weight, so it is "
            "fitted unweighted; the student's loss is still weighted row by row.",
            UserWarning,
        )
        return {}

    def logits(self, X, classes):
        model, name, X = self.model, _name(self.model), flattened(X)
        teacher_classes = _classes_of(model)
        method = check_gives_scores(model)  # fitted: what it has now
        check_one_column_per_class(model, method, len(teacher_classes))
        if method == "predict_proba":
            proba = np.asarray(model.predict_proba(X), dtype=np.float64)
            _check_scores(proba, _n_rows(X), len(teacher_classes), f"{name}.predict_proba")
            logits = logits_from_proba(proba, f"{name}.predict_proba")
        else:
            logits = _binary_as_two_columns(np.asarray(model.decision_function(X), np.float64))
            _check_scores(logits, _n_rows(X), len(teacher_classes), f"{name}.decision_function")
        return _align_columns(logits, teacher_classes, classes, model)

    def predictions(self, X):
        X = flattened(X)
        return _check_predictions(np.asarray(self.model.predict(X), np.float64), X, self.model)

    def out_of_fold_logits(self, X, y, classes, cv, sample_weight=None):
        """Cross-fitted logits: each row scored by a clone fitted on the other folds."""
        method = scores_method(self.model, fitted=False)
        check_one_column_per_class(self.model, method, len(classes))
        scores = self._cross_val_predict(X, y, cv, method, sample_weight)
        what = f"{_name(self.model)}.{method} (out of fold)"
        if method == "predict_proba":
            logits = logits_from_proba(scores, what)
        else:
            logits = _binary_as_two_columns(scores)
        _check_scores(logits, len(y), len(classes), what)
        return logits

    def out_of_fold_predictions(self, X, y, cv, sample_weight=None):
        """Cross-fitted regression predictions, as a float64 column."""
        pred = self._cross_val_predict(X, y, cv, "predict", sample_weight)
        return np.asarray(pred, dtype=np.float64).reshape(len(y), 1)

    def _cross_val_predict(self, X, y, cv, method, sample_weight):
        estimator = self._fresh_model(y, folds=True)
        params = self._weight_params(sample_weight)  # only for a fit that takes sample_weight
        return cross_fitted(estimator, flattened(X), y, cv, method, params)


class ModuleTeacher(Teacher):
    """A trained ``torch.nn.Module``: its outputs are logits (or predictions), used as they are."""

    def logits(self, X, classes):
        logits = self._outputs(X)
        _check_scores(logits, _n_rows(X), len(classes), f"module {_name(self.model)} output")
        return logits

    def predictions(self, X):
        return _check_predictions(self._outputs(X), X, self.model)

    def _outputs(self, X):
        module = self.model
        params = next(module.parameters(), None)
        device = params.device if params is not None else torch.device("cpu")
        dtype = params.dtype if params is not None and params.is_floating_point() else None
        was_training = module.training
        module.eval()
        try:
            with torch.inference_mode():
                return np.concatenate(
                    [self._forward(torch.as_tensor(chunk, device=device, dtype=dtype))
                     for chunk in _float32_chunks(X)]
                )
        finally:
            module.train(was_training)

    def _forward(self, rows):
        """The module's float64 outputs for a chunk of rows, its failures told as the teacher's."""
        name = _name(self.model)
        try:
            out = self.model(rows)
        except (RuntimeError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(
                f"The teacher module {name} failed on a batch of shape {tuple(rows.shape)} "
                f"({rows.dtype}): {type(exc).__name__}: {exc}. It must take X's samples as "
                "given to fit (float32) and return one tensor of logits (or predictions)."
            ) from exc
        if not isinstance(out, torch.Tensor):
            raise ValueError(
                f"The teacher module {name} returned a {type(out).__name__}; it must return one "
                "tensor of logits (or predictions)."
            )
        if not out.is_floating_point():
            raise ValueError(
                f"The teacher module {name} returned {out.dtype} outputs; they must be floating "
                "point logits (or predictions)."
            )
        return out.double().cpu().numpy()


class SkorchTeacher(Teacher):
    """A fitted skorch net: its logits when its criterion takes logits, else log(predict_proba)."""

    def logits(self, X, classes):
        net, name = self.model, _name(self.model)
        teacher_classes = _classes_of(net)
        if isinstance(getattr(net, "criterion_", None), torch.nn.CrossEntropyLoss):
            logits = np.concatenate(
                [net.forward(chunk).double().numpy() for chunk in _float32_chunks(X)]
            )
        else:
            proba = np.concatenate([net.predict_proba(chunk) for chunk in _float32_chunks(X)])
            logits = logits_from_proba(proba, f"{name}.predict_proba")
        _check_scores(logits, _n_rows(X), len(teacher_classes), f"{name} output")
        return _align_columns(logits, teacher_classes, classes, net)

    def predictions(self, X):
        pred = np.concatenate([self.model.predict(chunk) for chunk in _float32_chunks(X)])
        return _check_predictions(np.asarray(pred, np.float64), X, self.model)


class PrecomputedTeacher(Teacher):
    """``"precomputed"``: the outputs are passed to ``fit``; it cannot label new rows."""

    def logits(self, X, classes):
        raise ValueError("teacher='precomputed' cannot label new rows.")

    def predictions(self, X):
        raise ValueError("teacher='precomputed' cannot label new rows.")


def as_teacher(teacher):
    """Return the adapter for ``teacher``; TypeError/ValueError for what cannot teach.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.frozen import FrozenEstimator
    >>> as_teacher(RandomForestClassifier()).refits
    True
    >>> type(as_teacher("precomputed")).__name__
    'PrecomputedTeacher'
    """
    if isinstance(teacher, str):
        if teacher != PRECOMPUTED:
            raise ValueError(f"teacher={teacher!r}: the only string accepted is 'precomputed'.")
        return PrecomputedTeacher(teacher)
    if isinstance(teacher, torch.nn.Module):
        return ModuleTeacher(teacher)
    if isinstance(teacher, NeuralNet):
        return SkorchTeacher(teacher)
    if hasattr(teacher, "fit"):
        return EstimatorTeacher(teacher)
    raise TypeError(
        "teacher must be a scikit-learn estimator with a fit method, a torch.nn.Module, a "
        f"fitted skorch net or 'precomputed'; got {_name(teacher)}."
    )


# ----------------------------------------------------------------- helpers
def _classes_of(model):
    classes = getattr(model, "classes_", None)
    if classes is not None:
        return classes
    if isinstance(model, BaseEstimator):  # an unfitted estimator: say so, not "a classifier?"
        try:
            check_is_fitted(model)
        except NotFittedError:
            wrapped = getattr(model, "estimator", None)
            frozen = (
                f"; FrozenEstimator never fits the {_name(wrapped)} it wraps: fit that first"
                if isinstance(model, FrozenEstimator) else ""
            )
            raise NotFittedError(
                f"The teacher {_name(model)} is not fitted, so it has no classes_{frozen}."
            ) from None
    raise TypeError(
        f"The teacher {_name(model)} has no classes_ after fitting; is it a classifier?"
    )


def flattened(X):
    """Images or sequences (an array of 3 or more axes) as rows: ``(n, values per sample)``."""
    if is_shaped(X):
        X = np.asarray(X)
        return X.reshape(X.shape[0], -1)
    return X


def _float32_chunks(X):
    """Yield float32 ndarray chunks of ``X``'s rows (of at most DENSE_CHUNK_ELEMENTS values).

    Sparse rows are densified per chunk; a chunk is writable (a copy where
    ``X`` is read-only), as torch reads it.
    """
    if not sp.issparse(X):
        try:
            X = np.asarray(X, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            columns = [name for name, dtype in getattr(X, "dtypes", {}).items()
                       if getattr(dtype, "kind", "O") not in "biuf"]
            raise ValueError(
                "A torch module or skorch teacher reads rows of numbers, but "
                + (f"X's columns {columns} are not numbers" if columns
                   else "X cannot be read as numbers")
                + f" ({exc}). Encode them for the teacher (the student reads them as they "
                "are), or give the teacher's outputs instead: teacher='precomputed'."
            ) from None
        step = max(1, DENSE_CHUNK_ELEMENTS // max(1, int(np.prod(X.shape[1:]))))
        for start in range(0, max(1, X.shape[0]), step):
            chunk = X[start:start + step]
            yield chunk if chunk.flags.writeable else chunk.copy()
        return
    step = max(1, DENSE_CHUNK_ELEMENTS // max(1, X.shape[1]))
    X = sp.csr_matrix(X)
    for start in range(0, max(1, X.shape[0]), step):
        yield X[start:start + step].toarray().astype(np.float32, copy=False)


def _binary_as_two_columns(scores):
    return scores if scores.ndim == 2 else np.column_stack([np.zeros_like(scores), scores])


def _check_scores(scores, n_rows, n_columns, what):
    if scores.ndim != 2 or scores.shape != (n_rows, n_columns):
        raise ValueError(
            f"The teacher {what} has shape {scores.shape}; expected ({n_rows}, {n_columns}), "
            "one column per class."
        )
    if not np.isfinite(scores).all():
        raise ValueError(f"The teacher {what} holds NaN or infinite values.")


def _check_predictions(pred, X, model):
    n_rows = _n_rows(X)
    pred = pred.reshape(n_rows, -1) if pred.size == n_rows else pred
    if pred.shape != (n_rows, 1):
        raise ValueError(
            f"The teacher {_name(model)} predicted an array of shape {pred.shape}; "
            f"expected ({n_rows},) or ({n_rows}, 1)."
        )
    if not np.isfinite(pred).all():
        raise ValueError(f"The teacher {_name(model)} predicted NaN or infinite values.")
    return pred


def logits_from_proba(proba, what="predict_proba"):
    """``log(clip(proba, PROBA_EPS))`` after checking the rows are distributions."""
    proba = np.asarray(proba, dtype=np.float64)
    if (proba < 0).any() or not np.allclose(proba.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(
            f"The teacher {what} has rows that are not probability distributions "
            "(negative, or not summing to 1). A one-vs-rest objective gives such rows "
            "(LightGBM's objective='multiclassova', CatBoost's loss_function="
            "'MultiClassOneVsAll'): train the teacher with its softmax objective, or pass its "
            "rows divided by their sums as teacher_proba."
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
        codes = np.arange(len(teacher_classes))
        hint = (
            " It was fitted on the class codes 0, 1, ...: pass y as the same codes, or fit "
            "it on the labels wrapped in skdistill.IntegerLabels."
            if np.array_equal(teacher_classes, codes) and len(classes) == len(codes) else ""
        )
        raise ValueError(
            f"The teacher {_name(teacher)} does not know the label(s) {missing} that appear "
            f"in y; its classes_ are {teacher_classes.tolist()}. Refit the teacher on data "
            f"holding every label, or drop those rows.{hint}"
        )
    return logits[:, columns]


def teacher_logits(teacher, X, classes):
    """Return a fitted ``teacher``'s logits for ``X``, one float32 column per entry of ``classes``.

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
    if isinstance(teacher, (torch.nn.Module, NeuralNet)):
        adapter = as_teacher(teacher)
    else:  # any fitted classifier, with or without a fit method
        adapter = EstimatorTeacher(teacher)
    return adapter.logits(X, classes).astype(np.float32)
