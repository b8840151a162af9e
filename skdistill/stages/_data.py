"""The data stage of a fit: ``X`` and ``y`` checked, the student's rows read.

:func:`checked_data` checks ``X`` and ``y`` (the teacher reads ``X`` as given,
the student its own rows, through ``student_preprocessor`` when one is set)
and returns them with the fitted attributes that describe them
(``n_features_in_``, ``feature_names_in_``, ``input_shape_``,
``n_student_features_``, ``student_preprocessor_``). scikit-learn's checks
record a table's width and column names on an estimator: they record them on
a blank copy of the distiller, never on the distiller itself.
"""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning
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
    is_shaped,
    preprocessed_rows,
    read_only_view,
)
from ..students._student_encoder import leave_out_empty
from ._auto import is_auto
from ._blank import blank_copy
from ._encoding import (
    check_encoded_input,
    encoded_student_rows,
    encoder_sample,
    encoding_width,
    reads_own_encoding,
    warn_left_out_now_filled,
)
from ._shaped_input import check_shaped

__all__ = ["DATA_ATTRIBUTES", "check_precomputed_usage", "checked_data",
           "student_rows"]

DATA_ATTRIBUTES = (
    "n_features_in_", "feature_names_in_", "input_shape_", "n_student_features_",
    "student_preprocessor_",
)
"""The fitted attributes that describe the data (those a fit's data stage sets)."""


def _recorded(blank):
    return {name: vars(blank)[name] for name in DATA_ATTRIBUTES if name in vars(blank)}


def check_precomputed_usage(params, task, precomputed):
    """ValueError where teacher outputs given to fit and ``teacher`` disagree."""
    if isinstance(params.teacher, str) and precomputed is None:
        raise ValueError(
            "teacher='precomputed' needs the teacher's outputs passed to fit, e.g. "
            f"fit(X, y, {task.precomputed_names})."
        )
    if precomputed is not None and not isinstance(params.teacher, str):
        raise ValueError(
            "Teacher outputs were passed to fit but teacher is not 'precomputed'; set "
            "teacher='precomputed' to use them."
        )
    if isinstance(params.teacher, str) and params.transfer_set is not None:
        raise ValueError(
            "transfer_set needs a teacher that can label new rows; with "
            "teacher='precomputed' set transfer_set=None."
        )
    if isinstance(params.teacher, str) and params.teacher_cv is not None:
        raise ValueError(
            "teacher_cv refits the teacher on folds; with teacher='precomputed' there is "
            "no teacher to refit, so set teacher_cv=None."
        )


def checked_data(params, task, X, y, preprocessor, kept, seed, previous):
    """Check X and y; return ``(X for the teacher, float32 X for the student, y, data)``.

    ``data``: the fitted attributes that describe them (:data:`DATA_ATTRIBUTES`).
    Without a ``preprocessor`` both read the same numbers (a DataFrame is
    given to the teacher as it is). With one (a transformer, cloned and
    fitted here), the teacher reads ``X`` as the caller gave it and the
    student reads the preprocessor's output (:func:`student_rows`).
    ``params``: the distiller (read, not changed); ``kept``, ``seed`` and
    ``previous`` as :func:`student_rows` takes them.
    """
    blank = blank_copy(params)
    if preprocessor is None and is_shaped(X):  # images, sequences: as they are
        X_teacher = X_checked = check_shaped(blank, X, reset=True)
        y = _checked_y(params, task, y)
        check_consistent_length(X_checked, y)
        X_student = as_student_rows(X_checked)
        blank.n_student_features_ = blank.n_features_in_
    elif preprocessor is None:
        X_checked, y = validate_data(
            blank,
            X,
            y,
            validate_separately=(
                {"dtype": (np.float64, np.float32), "accept_sparse": ACCEPTED_SPARSE},
                {"ensure_2d": False, "dtype": None, "ensure_all_finite": task.y_finite},
            ),
        )
        X_teacher = X if hasattr(X, "columns") else X_checked
        X_student = as_student_rows(X_checked)
        blank.n_student_features_ = X_student.shape[1]
    else:
        y = _checked_y(params, task, y)
        X_teacher = X
        X_student, data = student_rows(params, read_only_view(X), y, preprocessor, kept, seed,
                                       previous)
        vars(blank).update(data)
    y = _check_y_shape(task, y, X_student.shape[0])
    return read_only_view(X_teacher), X_student, y, _recorded(blank)


def student_rows(params, X, y, preprocessor, kept, seed, previous):
    """Fit a clone of ``preprocessor`` on X; return ``(the student's float32 rows, data)``.

    ``data``: ``student_preprocessor_``, ``n_student_features_`` and, as a
    Pipeline reports them, the preprocessor's ``n_features_in_`` and
    ``feature_names_in_``. ``X`` is a read-only view of the caller's rows:
    an in-place step copies them. ``"auto"``'s encoding is fitted on the
    ``kept`` rows (a mask; None: all), at most
    :data:`~skdistill.stages._encoding.ENCODER_FIT_ROWS` of them drawn with
    ``seed``, and read lazily when large
    (:func:`~skdistill.stages._encoding.encoded_student_rows`); a warm start (``previous``:
    the fitted attributes it continues) reads the encoding it continues.
    """
    try:
        n_rows = _num_samples(X)
    except TypeError as exc:
        raise TypeError(f"X cannot be read as rows: {exc}") from None
    if n_rows != _num_samples(y):
        raise ValueError(f"X has {n_rows} rows but y has {_num_samples(y)}; they must match.")
    fitted = previous.get("student_preprocessor_")
    if (
        is_auto(params.student_preprocessor) and fitted is not None
        and reads_own_encoding(previous)
        and getattr(fitted, "n_features_in_", None) == _num_features(X)
    ):
        encoder = fitted  # a warm start: the student goes on reading the same encoding,
        check_encoded_input(  # so the rows are checked as predict checks them
            X, previous.get("feature_kinds_"), previous["student_encoding_"], encoder
        )
        warn_left_out_now_filled(encoder, X)
        rows = encoded_student_rows(encoder, X, n_rows)
    elif not isinstance(params.student_preprocessor, str):  # the user's own: as given
        encoder = clone(preprocessor)
        rows = preprocessed_rows(encoder.fit_transform(X, y), encoder, n_rows)
    else:  # the package's own encoding
        encoder = clone(preprocessor)
        sample = encoder_sample(n_rows, seed, kept, encoding_width(encoder))
        fitted_on = _safe_indexing(X, sample)
        encoder = leave_out_empty(encoder, fitted_on)  # empty in the rows it is fitted on
        encoder.fit(fitted_on, _safe_indexing(y, sample))
        rows = encoded_student_rows(encoder, X, n_rows)
    data = {"student_preprocessor_": encoder, "n_student_features_": rows.shape[1]}
    for name in ("n_features_in_", "feature_names_in_"):  # as Pipeline reports them
        if hasattr(encoder, name):
            data[name] = getattr(encoder, name)
    return rows, data


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
