"""Adding a transfer set to a fit: rows the student learns through the teacher term only.

:class:`TransferRowsMixin` labels the transfer set with the fitted teacher
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

__all__ = ["TransferRowsMixin"]


class TransferRowsMixin:
    """Labels a distiller's ``transfer_set`` and adds it to the training rows."""

    def _row_reader(self, task, teacher, preprocessor, columns):
        return RowReader(
            teacher, task.asked, *task.output_scaling, preprocessor,
            None if columns is None else [str(c) for c in columns],
            getattr(self, "n_features_in_", None), task.n_outputs,
            getattr(self, "n_student_features_", None),
            # "auto"'s encoding of dense rows (a sparse X's is a Pipeline): it reads them dense
            dense_preprocessor=isinstance(self.student_preprocessor, str) and isinstance(
                preprocessor, ColumnTransformer
            ),
            input_shape=getattr(self, "input_shape_", None),
        )

    def _dask_transfer_chunks(self, task, teacher, rows, columns):
        """Unlabelled dask rows: labelled on the cluster, one stream chunk per partition."""
        reader = self._row_reader(
            task, teacher, getattr(self, "student_preprocessor_", None), columns
        )
        reader.check(rows, "transfer_set")  # its declared columns, before any work
        parts = partitions_of(rows, "transfer_set")
        outputs, n_rows, shared = label_partitions(parts, reader)
        student = student_partitions(parts, shared)
        return [
            DaskPartition(student[i], outputs[i], n_rows[i],
                          unlabelled_target=task.unlabelled_target)
            for i in range(len(parts))
        ]

    def _add_transfer_set(self, task, teacher, X_teacher, rows, train_idx, seed, labelled=None):
        """Add the transfer set's rows, which the student learns through the teacher term only.

        Returns ``(rows, chunks)``. Synthetic rows (``Munge``, ``Spunge``,
        ``Mixup``, ``Gibbs``) are drawn from the training rows (never the
        held-out ones) and, like unlabelled rows given as an array or
        DataFrame, labelled by the teacher in chunks and added to ``rows`` (dense
        rows as a block beside the training rows, which are not copied);
        with ``fresh_each_epoch`` they are drawn anew each epoch instead, as
        ``chunks``. They are read in the caller's space (the teacher's input)
        and only then turned into the student's features. Dask rows are
        labelled on the cluster and streamed: they come back as ``chunks`` for
        :class:`~skdistill.training._stream.StreamedRows`, and ``rows`` is unchanged.

        ``labelled`` (a dict, empty at first) keeps the in-memory transfer rows
        and the teacher's targets for them between calls of one fit, so that a
        second student encoding reads the same rows without the teacher
        labelling them again.
        """
        if self.transfer_set is None:
            return rows, []
        columns = getattr(self, "feature_names_in_", None)
        if is_dask_collection(self.transfer_set):
            return rows, self._dask_transfer_chunks(task, teacher, self.transfer_set, columns)
        reader = self._row_reader(
            task, teacher, getattr(self, "student_preprocessor_", None), columns
        )
        labelled = {} if labelled is None else labelled
        extra = self.transfer_set
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
