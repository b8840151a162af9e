"""Fitting on dask collections: label the partitions on the cluster, stream them to the student.

:class:`DaskFitMixin` fits a distiller whose ``X`` and ``y`` are dask
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

__all__ = ["DaskFitMixin", "held_out_partitions"]


class DaskFitMixin:
    """The fit of a distiller on dask ``X`` and ``y``."""

    def _fit_dask(self, task, teacher, X, y, precomputed, sample_weight):
        started = time.perf_counter()
        self._check_dask_fit(teacher, X, y, sample_weight)
        X_parts, y_parts = partitions_of(X), vector_partitions(aligned_to(y, X, "y"))
        if len(X_parts) != len(y_parts):
            raise ValueError(
                f"X has {len(X_parts)} partitions and y {len(y_parts)}; X and y must be "
                "partitioned alike (one partition of y per partition of X)."
            )
        self.n_features_in_ = int(
            len(X.columns) if hasattr(X, "columns") else np.prod(X.shape[1:])
        )
        if getattr(X, "ndim", 2) > 2:  # images, sequences
            self.input_shape_ = tuple(int(n) for n in X.shape[1:])
        else:
            self.__dict__.pop("input_shape_", None)
        columns = [str(c) for c in X.columns] if hasattr(X, "columns") else None
        if columns is not None and all(isinstance(c, str) for c in X.columns):
            self.feature_names_in_ = np.asarray(columns, dtype=object)
        else:
            self.__dict__.pop("feature_names_in_", None)
            columns = None
        self.__dict__.pop("student_preprocessor_", None)  # "auto" too: dask rows are read as given
        for name in ("student_encoding_losses_", "feature_kinds_", "alpha_scores_"):
            self.__dict__.pop(name, None)
        self.n_student_features_, self.student_encoding_ = self.n_features_in_, None
        self.fills_missing_ = False  # rows read as given: nothing is filled
        encode = task.dask_target_encoder(y)
        vars(self).update(task.fitted_attributes())
        self.teacher_ = None if precomputed is not None else teacher.model
        reader = self._row_reader(task, teacher, None, columns)
        kind, given = _given_partitions(precomputed, X, len(X_parts))
        outputs, n_rows, shared = label_partitions(X_parts, reader, given, kind)
        rows = student_partitions(X_parts, shared)
        chunks = [
            DaskPartition(rows[i], outputs[i], n_rows[i], y_parts[i], encode,
                          task.unlabelled_target)
            for i in range(len(X_parts))
        ]
        seed = self._seed()
        valid = held_out_partitions(len(chunks), self.validation_fraction, seed)
        train_chunks = [c for i, c in enumerate(chunks) if i not in valid]
        valid_chunks = [chunks[i] for i in sorted(valid)]
        labelled_at = time.perf_counter()
        if self.transfer_set is not None:
            train_chunks += self._dask_transfer_chunks(task, teacher, self.transfer_set, columns)
        self.__dict__.pop("pruning_", None)
        transferred_at = time.perf_counter()
        self.student_ = self._train_student(
            task, None, None, None, seed, chunks=train_chunks, valid_chunks=valid_chunks,
        )
        self._record_fit_times(started, labelled_at, transferred_at, train_chunks)
        return self

    def _check_dask_fit(self, teacher, X, y, sample_weight):
        if not (is_dask_collection(X) and is_dask_collection(y)):
            raise ValueError(
                "X and y must both be dask collections, or neither. To label dask rows "
                "without y, fit on in-memory X, y and pass the dask rows as transfer_set."
            )
        if teacher.refits:
            raise ValueError(
                "With a dask y the teacher must need no fitting, but "
                f"{type(self.teacher).__name__} "
                "would be fitted on every row. Pass a fitted estimator wrapped in "
                "sklearn.frozen.FrozenEstimator, a torch module, a fitted skorch net or "
                "teacher='precomputed'; or fit on in-memory X, y and pass the dask rows as "
                "transfer_set."
            )
        unsupported = {
            "sample_weight": sample_weight is not None,
            "class_weight": getattr(self, "class_weight", None) is not None,
            "student_preprocessor": self.student_preprocessor not in (None, "auto"),
            "a synthetic transfer_set": isinstance(self.transfer_set, TransferSampler),
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
