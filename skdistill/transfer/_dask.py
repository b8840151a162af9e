"""Dask collections: rows labelled on a cluster and streamed to the student.

With a dask array or dask DataFrame of rows, the teacher labels each partition
on the worker that holds it, and its outputs are persisted there (a few
numbers per row). Training then fetches one partition at a time -- the
student's rows, computed on the worker, and the persisted outputs -- through
:class:`~skdistill.training._stream.StreamedRows`, so the client holds a few partitions,
never the whole collection. Everything here goes through dask's default
scheduler: a ``distributed.Client`` (``LocalCluster`` or ``Client("tcp://...")``)
when one is active, otherwise dask's local threads.

Only what a worker needs travels: a :class:`~skdistill.teachers._labelling.RowReader` (the fitted
teacher adapter, the task, the fitted ``student_preprocessor``) enters the
graph once, under one key, however many partitions read it.
"""

import uuid

import numpy as np

from .._lean import lean_distiller
from ..training._stream import unlabelled_targets

__all__ = [
    "DaskPartition",
    "aligned_to",
    "is_dask_collection",
    "label_partitions",
    "partitions_of",
    "predict_lazily",
    "student_partitions",
    "vector_partitions",
]


def is_dask_collection(X):
    """True for a dask array, DataFrame or Series (anything with a dask graph).

    Examples
    --------
    >>> import numpy as np
    >>> is_dask_collection(np.zeros(3))
    False
    """
    graph = getattr(X, "__dask_graph__", None)
    return callable(graph) and graph() is not None


def _is_frame(X):
    """A dask DataFrame or Series (partitioned by index, not by array chunks)."""
    return hasattr(X, "map_partitions")


def partitions_of(X, name="X"):
    """The partitions of a dask collection of rows, as a list of ``Delayed`` (one per partition).

    A dask array is first made one block wide (its rows keep their chunks; the
    samples of an array of 3 or more axes are kept whole). Raises ValueError
    for a collection of fewer than two axes, or whose number of columns is unknown.
    """
    if _is_frame(X) and X.ndim == 2:
        return list(X.to_delayed())
    if not (is_dask_collection(X) and hasattr(X, "ndim")):
        raise TypeError(f"{name} must be a dask array or dask DataFrame; got {type(X).__name__}.")
    if X.ndim < 2:
        raise ValueError(f"{name} must be 2-d rows; got {X.ndim} dimension(s).")
    if np.isnan(X.shape[1:]).any():
        raise ValueError(
            f"{name} has an unknown number of columns (dask chunk sizes unknown along axis 1); "
            f"call {name}.compute_chunk_sizes() first."
        )
    whole = X.rechunk({axis: -1 for axis in range(1, X.ndim)})  # images: whole samples
    return list(whole.to_delayed().reshape(-1))


def aligned_to(values, X, name):
    """A dask array ``values`` rechunked to the row chunks of the dask array ``X``, when known.

    Anything else (a Series, a DataFrame ``X``, unknown chunk sizes) is returned
    as it is; its partitions are then matched to ``X``'s one by one.
    """
    if not (hasattr(values, "rechunk") and hasattr(X, "chunks") and not _is_frame(X)):
        return values
    if any(np.isnan(c) for c in X.chunks[0]) or any(np.isnan(c) for c in values.chunks[0]):
        return values
    if values.shape[0] != X.shape[0]:
        raise ValueError(
            f"X has {X.shape[0]} rows but {name} has {values.shape[0]}; they must match."
        )
    return values.rechunk({0: X.chunks[0]})


def vector_partitions(y, name="y"):
    """The partitions of a 1-d dask array or Series, as a list of ``Delayed``."""
    if not is_dask_collection(y):
        raise TypeError(f"{name} must be a dask array or Series; got {type(y).__name__}.")
    if getattr(y, "ndim", 1) != 1:
        raise ValueError(f"{name} must be one column (a dask Series or 1-d dask array).")
    return list(y.to_delayed())


class DaskPartition:
    """One partition for :class:`~skdistill.training._stream.StreamedRows`: loaded from the cluster.

    Parameters
    ----------
    rows : Delayed
        The student's rows of the partition (computed on a worker at each load).
    outputs : Delayed
        The teacher's outputs, persisted on the cluster.
    n_rows : int
    target : Delayed or None
        The labels of the partition; None marks every row unlabelled.
    encode : callable or None
        Labels to training targets (class indices, or standardised values).
    unlabelled_target : int or float
        The target of a row without label.
    """

    def __init__(self, rows, outputs, n_rows, target=None, encode=None, unlabelled_target=-1):
        self.rows = rows
        self.outputs = outputs
        self.n_rows = n_rows
        self.target = target
        self.encode = encode
        self.unlabelled_target = unlabelled_target

    def load(self):
        import dask

        if self.target is None:
            X, outputs = dask.compute(self.rows, self.outputs)
            target = unlabelled_targets(X.shape[0], self.unlabelled_target)
        else:
            X, outputs, labels = dask.compute(self.rows, self.outputs, self.target)
            if len(labels) != X.shape[0]:
                raise ValueError(
                    f"A partition of X holds {X.shape[0]} rows and the matching partition of "
                    f"y {len(labels)}; X and y must be partitioned alike."
                )
            target = self.encode(np.asarray(labels))
        return X, outputs, target, None


def label_partitions(parts, reader, given=None, kind=None):
    """Persist the teacher's outputs for every partition on the cluster.

    Returns ``(outputs, n_rows, shared)``: a list of persisted ``Delayed``, the
    row count of each partition, and the ``Delayed`` reader the graph shares
    (for :func:`student_partitions`). Raises what the teacher raised on any partition.
    ``given``: precomputed outputs (a list of ``Delayed`` partitions) of ``kind``.
    """
    import dask

    shared = dask.delayed(reader, name=f"skdistill-reader-{uuid.uuid4().hex}")
    if given is None:
        outputs = [
            dask.delayed(_call)(shared, "outputs", part, f"partition {i}")
            for i, part in enumerate(parts)
        ]
    else:
        outputs = [
            dask.delayed(_call)(shared, "given_outputs", part, f"partition {i}", kind)
            for i, part in enumerate(given)
        ]
    outputs = list(dask.persist(*outputs))
    n_rows = dask.compute(*[dask.delayed(len)(out) for out in outputs])
    return outputs, [int(n) for n in n_rows], shared


def student_partitions(parts, shared):
    """``Delayed`` student rows of each partition (computed when a partition is loaded)."""
    import dask

    return [
        dask.delayed(_call)(shared, "student_rows", part, f"partition {i}")
        for i, part in enumerate(parts)
    ]


def _call(reader, method, *args):
    return getattr(reader, method)(*args)


def predict_lazily(model, method, X, n_columns, dtype):
    """``model.<method>`` applied partition by partition to a dask collection, lazily.

    Returns a dask array with the rows of ``X`` (unknown chunk sizes for a
    DataFrame) and ``n_columns`` columns (None: one dimension). Only a copy
    of the model without its teacher travels to the workers.
    """
    import dask

    lean = dask.delayed(lean_distiller(model), name=f"skdistill-model-{uuid.uuid4().hex}")
    meta = np.empty((0,) if n_columns is None else (0, n_columns), dtype=dtype)
    if _is_frame(X):
        return X.map_partitions(_apply, lean, method, meta, meta=meta)
    if X.ndim == 1 and X.dtype.kind in "OSU":  # documents, one per row
        axes = {} if n_columns is None else {"new_axis": 1}
    else:
        partitions_of(X)  # the same checks as at fit
        X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})  # whole rows (or samples)
        axes = {"drop_axis": list(range(1 if n_columns is None else 2, X.ndim))}
    chunks = (X.chunks[0],) if n_columns is None else (X.chunks[0], (n_columns,))
    return X.map_blocks(_apply, lean, method, meta, meta=meta, chunks=chunks, **axes)


def _apply(part, model, method, empty):
    """``model.<method>(part)``; a partition without rows gives ``empty`` (no rows, typed).
    ``part``: rows of numbers (dense or sparse), documents or a DataFrame."""
    if part.shape[0] == 0:
        return empty
    return getattr(model, method)(part)
