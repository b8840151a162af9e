"""A fit on dask collections: label the partitions on the cluster, stream them to the student.

:func:`fit_dask` fits a distiller whose ``X`` and ``y`` are dask
collections partitioned alike. The teacher must need no fitting; its outputs
are persisted on the cluster and every partition is read again each epoch
(see :mod:`skdistill.transfer._dask`). Whole partitions
(``validation_fraction`` of them, at least one) are held out for validation
and early stopping.
"""

import math
import time
import warnings

import numpy as np

from ..transfer._dask import (
    DaskPartition,
    aligned_to,
    is_dask_collection,
    label_partitions,
    partitions_of,
    student_partitions,
    vector_partitions,
)
from ..transfer._samplers import TransferSampler
from ._student import train_student
from ._times import fit_times
from ._split import fit_seed
from ._transfer import dask_transfer_chunks, row_reader

__all__ = ["fit_dask", "held_out_partitions"]


def fit_dask(params, task, teacher, X, y, precomputed, sample_weight, previous):
    """Fit a student on dask ``X`` and ``y``; return the fitted attributes.

    ``params``: the distiller (read, not changed); ``previous``: the fitted
    attributes a warm start continues (empty: none).
    """
    started = time.perf_counter()
    _check_dask_fit(params, teacher, X, y, sample_weight)
    X_parts, y_parts = partitions_of(X), vector_partitions(aligned_to(y, X, "y"))
    if len(X_parts) != len(y_parts):
        raise ValueError(
            f"X has {len(X_parts)} partitions and y {len(y_parts)}; X and y must be "
            "partitioned alike (one partition of y per partition of X)."
        )
    data = _described(X)  # rows read as given ("auto" too): nothing encoded, nothing filled
    encode = task.dask_target_encoder(y)
    fitted = {
        **data, **task.fitted_attributes(), "student_encoding_": None, "fills_missing_": False,
        "teacher_": None if precomputed is not None else teacher.model,
        "alpha_": task.alpha,  # one student: no choice
    }
    reader_data = {**data, "teacher_": fitted["teacher_"]}
    kind, given = _given_partitions(precomputed, X, len(X_parts))
    outputs, n_rows, shared = label_partitions(
        X_parts, row_reader(params, task, data, teacher), given, kind
    )
    rows = student_partitions(X_parts, shared)
    chunks = [
        DaskPartition(rows[i], outputs[i], n_rows[i], y_parts[i], encode,
                      task.unlabelled_target)
        for i in range(len(X_parts))
    ]
    seed = fit_seed(params.random_state)
    valid = held_out_partitions(len(chunks), params.validation_fraction, seed)
    train_chunks = [c for i, c in enumerate(chunks) if i not in valid]
    valid_chunks = [chunks[i] for i in sorted(valid)]
    labelled_at = time.perf_counter()
    if params.transfer_set is not None:
        train_chunks += dask_transfer_chunks(params, task, data, teacher, params.transfer_set)
    transferred_at = time.perf_counter()
    fitted.update(train_student(
        params, task, reader_data, None, None, None, seed, chunks=train_chunks,
        valid_chunks=valid_chunks, previous=previous.get("student_"),
    ))
    fitted["fit_times_"] = fit_times(started, labelled_at, transferred_at, train_chunks)
    return fitted


def _described(X):
    """The fitted attributes that describe dask rows read as given."""
    n_features = int(len(X.columns) if hasattr(X, "columns") else np.prod(X.shape[1:]))
    data = {"n_features_in_": n_features, "n_student_features_": n_features}
    if getattr(X, "ndim", 2) > 2:  # images, sequences
        data["input_shape_"] = tuple(int(n) for n in X.shape[1:])
    if hasattr(X, "columns") and all(isinstance(c, str) for c in X.columns):
        data["feature_names_in_"] = np.asarray([str(c) for c in X.columns], dtype=object)
    return data


def _check_dask_fit(params, teacher, X, y, sample_weight):
    if not (is_dask_collection(X) and is_dask_collection(y)):
        raise ValueError(
            "X and y must both be dask collections, or neither. To label dask rows "
            "without y, fit on in-memory X, y and pass the dask rows as transfer_set."
        )
    if teacher.refits:
        raise ValueError(
            "With a dask y the teacher must need no fitting, but "
            f"{type(params.teacher).__name__} "
            "would be fitted on every row. Pass a fitted estimator wrapped in "
            "sklearn.frozen.FrozenEstimator, a torch module, a fitted skorch net or "
            "teacher='precomputed'; or fit on in-memory X, y and pass the dask rows as "
            "transfer_set."
        )
    unsupported = {
        "sample_weight": sample_weight is not None,
        "class_weight": getattr(params, "class_weight", None) is not None,
        "student_preprocessor": params.student_preprocessor not in (None, "auto"),
        "a synthetic transfer_set": isinstance(params.transfer_set, TransferSampler),
    }
    named = [name for name, given in unsupported.items() if given]
    if named:
        raise ValueError(
            f"{', '.join(named)} cannot be used with dask X and y yet; fit on in-memory rows "
            "(and pass the dask rows as transfer_set) to use them."
        )


def _given_partitions(precomputed, X, n_partitions):
    """``(kind, partitions)`` of teacher outputs passed to fit as a dask array, or Nones."""
    if precomputed is None:
        return None, None
    kind, values = precomputed
    name = f"teacher_{kind}"
    values = aligned_to(values, X, name)
    if getattr(values, "ndim", 1) == 2:
        given = partitions_of(values, name)
    else:
        given = vector_partitions(values, name)
    if len(given) != n_partitions:
        raise ValueError(
            f"{name} has {len(given)} partitions and X {n_partitions}; they must be "
            "partitioned alike."
        )
    return kind, given


def held_out_partitions(n_partitions, validation_fraction, seed):
    """Indices of the partitions held out for validation (a set, maybe empty).

    Examples
    --------
    >>> sorted(held_out_partitions(10, 0.2, seed=0)), held_out_partitions(10, None, seed=0)
    ([2, 8], set())
    """
    if not validation_fraction:
        return set()
    if n_partitions < 2:
        warnings.warn(
            "X has a single partition, so no whole partition can be held out for "
            f"validation_fraction={validation_fraction}; training without a "
            "validation split or early stopping. Repartition X to validate.",
            UserWarning,
        )
        return set()
    n_valid = min(n_partitions - 1, math.ceil(validation_fraction * n_partitions))
    rng = np.random.RandomState(seed)
    return set(rng.choice(n_partitions, n_valid, replace=False).tolist())
