"""Reading rows in the caller's space: the teacher's targets and the student's features.

A :class:`RowReader` holds what it takes to turn rows that arrive after the
fit's checks -- a transfer set in memory, a partition on a dask worker, a copy
of synthetic rows drawn during training -- into what the student trains on:
it checks their columns against the training columns, asks the fitted teacher
for its outputs (scaled as training targets, refused when not finite) and
makes the student's float32 rows (through the fitted ``student_preprocessor``).
It is small and picklable, so it can travel to dask workers.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples, check_array

from .._inputs import (
    ACCEPTED_SPARSE,
    as_student_rows,
    preprocessed_rows,
    read_only_view,
)
from ..students._encoding_module import encode_in_chunks
from ..students._fitted_encoder import encodable_rows

__all__ = ["LABEL_CHUNK_ROWS", "RowReader"]

LABEL_CHUNK_ROWS = 65536
"""Rows the teacher labels at a time when rows are held in memory."""


class RowReader:
    """Rows in the caller's space to the teacher's training targets and the student's rows.

    Parameters
    ----------
    teacher : skdistill.teachers._adapters.Teacher or None
        The fitted adapter (None when the outputs are given).
    asked : LogitOutputs or PredictionOutputs
        What the teacher is asked for (see :mod:`skdistill.teachers._outputs`).
    shift, scale : float
        Raw teacher outputs become training targets as ``(raw - shift) / scale``.
    preprocessor : fitted transformer or None
        The fitted ``student_preprocessor``; None gives the student the rows as numbers.
    columns : list of str or None
        The training columns (``feature_names_in_``); DataFrame rows must have them.
    n_features : int or None
        The number of training columns (None: not checked, e.g. for documents).
    n_outputs : int
        Columns of the teacher's outputs: the number of classes, or 1.
    n_student_features : int or None
        Width of the student's rows (for a partition without rows).
    dense_preprocessor : bool, default=False
        The preprocessor was fitted on dense rows: sparse rows are densified
        for it, a chunk at a time.
    input_shape : tuple of int or None, default=None
        The shape of one sample of images or sequences (rows must have it);
        None for tables.

    In messages, ``where`` names the rows read, e.g. ``"partition 3 of X"``.
    """

    def __init__(self, teacher, asked, shift, scale, preprocessor, columns, n_features, n_outputs,
                 n_student_features=None, dense_preprocessor=False, input_shape=None):
        self.teacher = teacher
        self.asked = asked
        self.shift = shift
        self.scale = scale
        self.preprocessor = preprocessor
        self.columns = columns
        self.n_features = n_features
        self.n_outputs = n_outputs
        self.n_student_features = n_student_features
        self.dense_preprocessor = dense_preprocessor
        self.input_shape = None if input_shape is None else tuple(input_shape)

    def check(self, part, where):
        """Raise ValueError when the rows ``part`` do not have the training columns."""
        if self.columns is not None and self.preprocessor is not None and not hasattr(
                part, "columns"):  # the encoding reads the frame's columns by name
            raise ValueError(
                f"The rows of {where} are not a DataFrame, but the model was fitted on one, "
                f"with the columns {list(self.columns)}: pass them as a DataFrame with those "
                "columns, e.g. pd.DataFrame(rows, columns=X.columns)."
            )
        if hasattr(part, "columns") and self.columns is not None:
            found = [str(c) for c in part.columns]
            if found != list(self.columns):
                raise ValueError(
                    f"The rows of {where} have the columns {found}; the model was fitted on "
                    f"{list(self.columns)}. They must have the training columns, in the same "
                    "order."
                )
        shape = tuple(getattr(part, "shape", ()))
        if self.input_shape is not None:
            if shape[1:] != self.input_shape:
                raise ValueError(
                    f"The samples of {where} have the shape {shape[1:]}; the model was "
                    f"fitted on samples of shape {self.input_shape}."
                )
        elif len(shape) == 2 and self.n_features is not None and shape[1] != self.n_features:
            raise ValueError(
                f"The rows of {where} have {shape[1]} columns; the model was fitted on "
                f"{self.n_features}."
            )

    def outputs(self, part, where):
        """The teacher's training targets for the rows ``part`` (float32, finite).

        An empty part (a dask partition without rows) has no outputs; the
        teacher is not asked.
        """
        self.check(part, where)
        if _num_samples(part) == 0:
            return np.empty((0, self.n_outputs), dtype=np.float32)
        return self._targets(self.asked.outputs(self.teacher, part), where, "the teacher's outputs")

    def given_outputs(self, values, where, kind):
        """Teacher outputs given as a dask array: logits from ``kind`` ("proba", "logits" ...)."""
        from ._adapters import logits_from_proba

        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 1:
            values = values.reshape(-1, 1 if self.n_outputs == 1 or len(values) else self.n_outputs)
        if values.shape[1] != self.n_outputs:
            raise ValueError(
                f"teacher_{kind} has {values.shape[1]} columns in {where}; expected "
                f"{self.n_outputs} (one per class, in the order of classes_)."
            )
        if kind == "proba":
            values = logits_from_proba(values, "teacher_proba")
        return self._targets(values, where, f"teacher_{kind}")

    def _targets(self, raw, where, what):
        raw = np.asarray(raw, dtype=np.float64)
        out = raw if (self.shift, self.scale) == (0.0, 1.0) else (raw - self.shift) / self.scale
        out = out.astype(np.float32)
        if not np.isfinite(out).all():
            raise ValueError(f"{what} for {where} hold NaN or infinite values.")
        return out

    def student_rows(self, part, where, dense=True):
        """The student's float32 rows for ``part`` (CSR only when ``dense`` is False)."""
        self.check(part, where)
        if _num_samples(part) == 0 and self.n_student_features is not None:
            shape = self.input_shape or (self.n_student_features,)
            return np.empty((0, *shape), dtype=np.float32)  # a partition of none
        if self.preprocessor is None:
            rows = as_student_rows(check_array(
                part, dtype=(np.float64, np.float32), accept_sparse=ACCEPTED_SPARSE,
                allow_nd=self.input_shape is not None,
            ))
        else:
            if self.dense_preprocessor and sp.issparse(part):
                part = part.toarray()
            encoding, numbers = encodable_rows(self.preprocessor, part)
            if encoding is not None:  # as the student's training rows are encoded
                rows = encode_in_chunks(encoding, numbers)
            else:
                out = self.preprocessor.transform(read_only_view(part))
                rows = preprocessed_rows(out, self.preprocessor, _num_samples(part))
        return rows.toarray() if dense and sp.issparse(rows) else rows

    def label_in_chunks(self, rows, where, targets=None):
        """``(teacher targets, student rows)`` for in-memory ``rows``, read a chunk at a time.

        ``targets``, when the teacher's targets for ``rows`` are already known
        (the same rows for another student encoding), are returned as they
        are: only the student rows are made.
        """
        n = _num_samples(rows)
        labels, student = [], []
        for start in range(0, n, LABEL_CHUNK_ROWS):
            part = _safe_indexing(rows, slice(start, start + LABEL_CHUNK_ROWS))
            if targets is None:
                labels.append(self.outputs(part, where))
            student.append(self.student_rows(part, where, dense=False))
        if not student:
            raise ValueError(f"{where} holds no rows.")
        stack = sp.vstack if sp.issparse(student[0]) else np.concatenate
        return (np.concatenate(labels) if targets is None else targets), stack(student)
