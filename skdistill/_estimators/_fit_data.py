"""Preparing a fit's data: input checks, the student's rows, weights, teacher outputs, the split.

:class:`FitDataMixin` checks ``X`` and ``y`` (the teacher reads ``X`` as given,
the student its own rows, through ``student_preprocessor`` when one is set),
combines ``sample_weight`` with the class weights, fits the teacher (through
the cache) and reads its outputs.
"""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import (
    _num_features,
    _num_samples,
    check_array,
    check_consistent_length,
    validate_data,
)

from .._inputs import (
    ACCEPTED_SPARSE,
    as_student_rows,
    encoded_rows,
    is_shaped,
    preprocessed_rows,
    read_only_view,
)
from ..teachers._adapters import Teacher
from ..teachers._cache import cached_call
from ..teachers._outputs import fit_and_score
from ._auto_encoding import (
    check_encoded_input,
    encoder_sample,
    encoding_width,
    transform_of,
)
from ._shaped_input import check_shaped
from ._tasks import scale_outputs

__all__ = [
    "FitDataMixin", "labels_only_accuracy", "row_weights", "warn_if_teacher_at_chance",
    "warn_if_teacher_far_below",
]


class FitDataMixin:
    """Checks a fit's data and collects the teacher's outputs for it."""

    def _check_precomputed_usage(self, task, precomputed):
        if isinstance(self.teacher, str) and precomputed is None:
            raise ValueError(
                "teacher='precomputed' needs the teacher's outputs passed to fit, e.g. "
                f"fit(X, y, {task.precomputed_names})."
            )
        if precomputed is not None and not isinstance(self.teacher, str):
            raise ValueError(
                "Teacher outputs were passed to fit but teacher is not 'precomputed'; set "
                "teacher='precomputed' to use them."
            )
        if isinstance(self.teacher, str) and self.transfer_set is not None:
            raise ValueError(
                "transfer_set needs a teacher that can label new rows; with "
                "teacher='precomputed' set transfer_set=None."
            )
        if isinstance(self.teacher, str) and self.teacher_cv is not None:
            raise ValueError(
                "teacher_cv refits the teacher on folds; with teacher='precomputed' there is "
                "no teacher to refit, so set teacher_cv=None."
            )

    def _validate_fit_data(self, task, X, y, preprocessor, kept=None, seed=None):
        """Check X and y; return (X for the teacher, float32 X for the student, y).

        Without a ``preprocessor`` both read the same numbers (a DataFrame is
        given to the teacher as it is). With one (a transformer, cloned and
        fitted here), the teacher reads ``X`` as the caller gave it and the
        student reads the preprocessor's output. ``kept``: a mask of the rows
        that count (``sample_weight`` > 0), the only ones ``"auto"`` fits on;
        ``seed`` draws its sample of them (None: from ``random_state``).
        """
        self.__dict__.pop("input_shape_", None)  # set again for images and sequences
        if preprocessor is None:
            self.__dict__.pop("student_preprocessor_", None)
        if preprocessor is None and is_shaped(X):  # images, sequences: as they are
            X_teacher = X_checked = check_shaped(self, X, reset=True)
            y = _checked_y(self, task, y)
            check_consistent_length(X_checked, y)
            X_student = as_student_rows(X_checked)
            self.n_student_features_ = self.n_features_in_
        elif preprocessor is None:
            X_checked, y = validate_data(
                self,
                X,
                y,
                validate_separately=(
                    {"dtype": (np.float64, np.float32), "accept_sparse": ACCEPTED_SPARSE},
                    {"ensure_2d": False, "dtype": None, "ensure_all_finite": task.y_finite},
                ),
            )
            X_teacher = X if hasattr(X, "columns") else X_checked
            X_student = as_student_rows(X_checked)
            self.n_student_features_ = X_student.shape[1]
        else:
            y = _checked_y(self, task, y)
            X_teacher = X
            X_student = self._fit_preprocessor(read_only_view(X), y, preprocessor, kept, seed)
        y = _check_y_shape(task, y, X_student.shape[0])
        return read_only_view(X_teacher), X_student, y

    def _fit_preprocessor(self, X, y, preprocessor, kept=None, seed=None):
        """Fit a clone of ``preprocessor`` on X; return the student's float32 rows.

        Sets ``student_preprocessor_`` and ``n_student_features_``. ``X`` is a
        read-only view of the caller's rows: an in-place step copies them.
        ``"auto"``'s encoding is fitted on the ``kept`` rows (a mask; None:
        all), at most :data:`ENCODER_FIT_ROWS` of them drawn with ``seed``
        (None: from ``random_state``), and read lazily when large
        (:func:`~skdistill._inputs.encoded_rows`).
        """
        try:
            n_rows = _num_samples(X)
        except TypeError as exc:
            raise TypeError(f"X cannot be read as rows: {exc}") from None
        if n_rows != _num_samples(y):
            raise ValueError(f"X has {n_rows} rows but y has {_num_samples(y)}; they must match.")
        previous = self.__dict__.get("student_preprocessor_")
        if (
            isinstance(self.student_preprocessor, str) and self._continues()
            and previous is not None and self.__dict__.get("student_encoding_") is not None
            and getattr(previous, "n_features_in_", None) == _num_features(X)
        ):
            encoder = previous  # a warm start: the student goes on reading the same encoding,
            check_encoded_input(  # so the rows are checked as predict checks them
                X, self.__dict__.get("feature_kinds_"), self.student_encoding_
            )
            rows = encoded_rows(X, encoder, n_rows, transform=transform_of(encoder, X))
        elif not isinstance(self.student_preprocessor, str):  # the user's own: as given
            self.student_preprocessor_ = encoder = clone(preprocessor)
            rows = preprocessed_rows(encoder.fit_transform(X, y), encoder, n_rows)
        else:  # the package's own encoding
            self.student_preprocessor_ = encoder = clone(preprocessor)
            seed = self._seed() if seed is None else seed
            sample = encoder_sample(n_rows, seed, kept, encoding_width(encoder))
            encoder.fit(_safe_indexing(X, sample), _safe_indexing(y, sample))
            rows = encoded_rows(X, encoder, n_rows, transform=transform_of(encoder, X))
        for name in ("n_features_in_", "feature_names_in_"):  # as Pipeline reports them
            if hasattr(encoder, name):
                setattr(self, name, getattr(encoder, name))
            else:
                self.__dict__.pop(name, None)
        self.n_student_features_ = rows.shape[1]
        return rows

    def _fit_teacher_outputs(self, task, teacher, X_teacher, y, labelled, weights):
        """Set ``teacher_``; return the fitted adapter and its training targets for every row."""
        call = (task.asked, teacher, X_teacher, y, labelled, weights, self.teacher_cv)
        if teacher.refits:
            fitted, outputs = cached_call(
                self.memory, fit_and_score, *call, valid=lambda entry: _is_fit(entry, len(y))
            )
        else:  # frozen or prefit: nothing to fit, cross-fit or cache
            fitted, outputs = fit_and_score(*call)
        self.teacher_ = fitted.model
        return fitted, scale_outputs(outputs, task.output_scaling)


def _is_fit(entry, n_rows):
    """Whether a cache entry holds what :func:`fit_and_score` returns for ``n_rows`` rows."""
    return (
        isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], Teacher)
        and isinstance(entry[1], np.ndarray) and entry[1].shape[:1] == (n_rows,)
    )


def row_weights(task, sample_weight, target, labelled):
    """Return (weights for the teacher's fit, normalised weights for the student).

    Each is None when every row weighs the same. The teacher gets
    ``sample_weight`` times the class weights, as given; the student's
    weights are the same rescaled to mean 1 over the rows, so that their
    scale does not matter and synthetic rows (weight 1) keep their share.
    """
    weights = sample_weight
    class_weights = task.class_weights(target, labelled)
    if class_weights is not None:
        weights = class_weights if weights is None else weights * class_weights
    if weights is None:
        return None, None
    if not (weights > 0).any():
        raise ValueError(
            "sample_weight and class_weight leave every row with weight zero; at least "
            "one row needs a non-zero weight."
        )
    task.check_weighted_loss()
    if np.all(weights == weights[0]):
        return weights, None
    return weights, weights / weights[weights > 0].mean()


def warn_if_teacher_at_chance(task, outputs, target, labelled):
    """Warn when the teacher does no better than chance on the labelled training rows.

    Returns ``(score, metric)`` of the teacher on those rows (None with fewer than two).
    """
    rows = np.flatnonzero(labelled)
    if len(rows) < 2:
        return None
    score, chance, metric = task.asked.teacher_score(outputs[rows], target[rows])
    if score <= chance:
        warnings.warn(
            f"The teacher's {metric} on the labelled training rows is {score:.3g}, no better "
            f"than chance ({chance:.3g}). It may be reading other features than it was "
            "trained on, e.g. a prefit teacher behind a scaler in a Pipeline: give it the "
            "raw X and put the student's preprocessing in student_preprocessor instead.",
            UserWarning,
        )
    return score, metric


FAR_BELOW = 0.2
"""How far (in accuracy) the teacher may fall below the student before a warning."""


def warn_if_teacher_far_below(teacher_score, net, labels_only=None):
    """Warn when the teacher is far less accurate on its training rows than the labels allow.

    A teacher is at its best on rows it was fitted on. When the student, or
    ``labels_only`` (:func:`labels_only_accuracy`: a linear model on the labels
    alone), beats it on rows they never trained on by ``FAR_BELOW`` or more,
    the teacher most likely reads other features than it was trained on
    (above chance, so the first check stays silent) -- or is too weak to
    teach this student. A student that imitates such a teacher closely
    (a high ``alpha``) falls with it, which is why the labels-only reference
    is there.
    """
    if teacher_score is None or teacher_score[1] != "accuracy":
        return
    scores = [(row["valid_acc"], "the student") for row in net.history if "valid_acc" in row]
    if labels_only is not None:
        scores.append((labels_only, "a linear model on the labels alone"))
    if not scores:
        return
    best, whose = max(scores, key=lambda score: score[0])
    if best - teacher_score[0] >= FAR_BELOW:
        warnings.warn(
            f"The teacher's accuracy on the training rows is {teacher_score[0]:.3g}, far below "
            f"the {best:.3g} {whose} reaches on held-out rows. The teacher may read other "
            "features than it was trained on (e.g. a prefit teacher behind a scaler in a "
            "Pipeline: give it the raw X and put the student's preprocessing in "
            "student_preprocessor), or be too weak to teach this student.",
            UserWarning,
        )


LABELS_ONLY_ROWS = 2000
"""Most training (and held-out) rows the labels-only reference reads."""


def labels_only_accuracy(rows, target, train_idx, valid_idx, seed):
    """Held-out accuracy of a logistic regression on the student's rows and the labels alone.

    What the labels reach without the teacher, cheaply: at most
    :data:`LABELS_ONLY_ROWS` training and held-out rows (drawn with ``seed``),
    images and sequences flattened. None without held-out rows or with
    fewer than two classes among the training rows.
    """
    if valid_idx is None or len(valid_idx) == 0:
        return None
    draw = np.random.RandomState(seed)
    train, valid = (
        np.sort(draw.choice(idx, LABELS_ONLY_ROWS, replace=False))
        if len(idx) > LABELS_ONLY_ROWS else idx
        for idx in (train_idx[target[train_idx] >= 0], valid_idx[target[valid_idx] >= 0])
    )
    if len(valid) == 0 or len(np.unique(target[train])) < 2:
        return None
    X_train, X_valid = (_flat(rows[idx]) for idx in (train, valid))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few iterations suffice for a reference
        model = LogisticRegression(max_iter=100).fit(X_train, target[train])
    return float(model.score(X_valid, target[valid]))


def _flat(rows):
    return rows if rows.ndim == 2 else np.asarray(rows).reshape(len(rows), -1)


def _check_y_shape(task, y, n_rows):
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; it is raveled.",
            DataConversionWarning,
        )
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"y must be 1-dimensional; got shape {y.shape}. For several targets wrap the "
            f"distiller in sklearn.multioutput.{task.multioutput_wrapper}, which fits one per "
            "column."
        )
    if len(y) != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {len(y)}; they must match.")
    return y


def _checked_y(estimator, task, y):
    """``y`` checked on its own (X is checked apart): present, finite where the task needs it."""
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None."
        )
    return check_array(
        y, ensure_2d=False, dtype=None, ensure_all_finite=task.y_finite, input_name="y"
    )
