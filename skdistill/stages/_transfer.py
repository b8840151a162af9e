"""The transfer stage of a fit: rows the student learns through the teacher term only.

:func:`with_transfer_set` labels the transfer set with the fitted teacher
(:class:`~skdistill.teachers._labelling.RowReader`) and adds it to the
student's training rows: synthetic rows drawn once, fresh copies drawn each
epoch, unlabelled rows in memory, or dask rows labelled on the cluster.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.utils import _safe_indexing

from ..teachers._labelling import RowReader
from ..transfer._dask import (
    DaskPartition,
    is_dask_collection,
    label_partitions,
    partitions_of,
    student_partitions,
)
from ..transfer._samplers import TransferSampler
from ._auto import is_auto

__all__ = ["dask_transfer_chunks", "row_reader", "with_transfer_set"]


def row_reader(params, task, data, teacher):
    """How the fitted teacher labels new rows and the student reads them."""
    columns = data.get("feature_names_in_")
    return RowReader(
        teacher, task.asked, *task.output_scaling, data.get("student_preprocessor_"),
        None if columns is None else [str(c) for c in columns],
        data.get("n_features_in_"), task.n_outputs, data.get("n_student_features_"),
        # "auto"'s encoding of dense rows (a sparse X's is a Pipeline): it reads them dense
        dense_preprocessor=is_auto(params.student_preprocessor) and isinstance(
            data.get("student_preprocessor_"), ColumnTransformer
        ),
        input_shape=data.get("input_shape_"),
    )


def dask_transfer_chunks(params, task, data, teacher, rows):
    """Unlabelled dask rows: labelled on the cluster, one stream chunk per partition.

    ``data``: the fitted attributes that describe the student's rows.
    """
    reader = row_reader(params, task, data, teacher)
    reader.check(rows, "transfer_set")  # its declared columns, before any work
    parts = partitions_of(rows, "transfer_set")
    outputs, n_rows, shared = label_partitions(parts, reader)
    student = student_partitions(parts, shared)
    return [
        DaskPartition(student[i], outputs[i], n_rows[i],
                      unlabelled_target=task.unlabelled_target)
        for i in range(len(parts))
    ]


def with_transfer_set(params, task, data, teacher, X_teacher, rows, train_idx, seed,
                      labelled=None):
    """Add the transfer set's rows, which the student learns through the teacher term only.

    Returns ``(rows, chunks)``. Synthetic rows (``Munge``, ``Spunge``,
    ``Mixup``, ``Gibbs``) are drawn from the training rows (never the
    held-out ones) and, like unlabelled rows given as an array or
    DataFrame, labelled by the teacher in chunks and added to ``rows`` (dense
    rows as a block beside the training rows, which are not copied);
    with ``fresh_each_epoch`` they are drawn anew each epoch instead, as
    ``chunks``. They are read in the caller's space (the teacher's input)
    and only then turned into the student's features (``data``: the fitted
    attributes that describe them). Dask rows are labelled on the cluster
    and streamed: they come back as ``chunks`` for
    :class:`~skdistill.training._stream.StreamedRows`, and ``rows`` is unchanged.

    ``labelled`` (a dict, empty at first) keeps the in-memory transfer rows
    and the teacher's targets for them between calls of one fit, so that a
    second student encoding reads the same rows without the teacher
    labelling them again.
    """
    transfer_set = params.transfer_set
    if transfer_set is None:
        return rows, []
    if is_dask_collection(transfer_set):
        return rows, dask_transfer_chunks(params, task, data, teacher, transfer_set)
    reader = row_reader(params, task, data, teacher)
    labelled = {} if labelled is None else labelled
    extra = transfer_set
    if "rows" in labelled:
        extra = labelled["rows"]
    elif isinstance(extra, TransferSampler):
        train_rows = _safe_indexing(X_teacher, train_idx)
        if extra.fresh_each_epoch:
            return rows, extra.fresh_copies(train_rows, reader, seed, task.unlabelled_target)
        extra = extra.generate(train_rows, random_state=seed)
    labels, extra_rows = reader.label_in_chunks(extra, "transfer_set", labelled.get("targets"))
    labelled.update(rows=extra, targets=labels)
    X_student, outputs, target, weights = rows
    if sp.issparse(X_student) or sp.issparse(extra_rows):
        stacked = sp.vstack([X_student, extra_rows], format="csr")
    else:  # dense blocks, read side by side: the training rows are not copied
        stacked = [X_student, extra_rows]
    n_new = extra_rows.shape[0]
    unlabelled = np.full(n_new, task.unlabelled_target, dtype=target.dtype)
    return (
        stacked,
        np.concatenate([outputs, labels]),
        np.concatenate([target, unlabelled]),
        None if weights is None else np.concatenate([weights, np.ones(n_new)]),
    ), []
