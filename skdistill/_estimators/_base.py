"""What every distiller shares: parameters, the fit flow, the skorch net and inference.

:class:`BaseDistiller` runs the steps common to the classifier and the
regressor -- check the data, fit the teacher on the labelled rows, collect its
outputs (cross-fitted if asked), add a synthetic transfer set, train the
student -- and leaves to each estimator what depends on the task: how targets
are encoded, what the teacher's outputs are, and the training criterion.
"""

import contextlib
import copy
import math
import threading
import time
import warnings
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_array,
    check_is_fitted,
    validate_data,
)
from skorch.helper import predefined_split

from .._inputs import (
    ACCEPTED_SPARSE,
    DENSE_CHUNK_ELEMENTS,
    ROW_TILE,
    as_student_rows,
    pad_rows,
    preprocessed_rows,
    teacher_view,
)
from ..students._mlp import build_student
from ..teachers._adapters import PRECOMPUTED, as_teacher
from ..teachers._cache import cached_call
from ..teachers._labelling import RowReader
from ..training._callbacks import StopEarly, TrainingGuard
from ..training._data import (
    DistillationDataset,
    TensorBatchLoader,
    sparse_batch,
    student_reads_sparse,
)
from ..training._net import DistillationNet, InterruptedBeforeFirstEpoch
from ..training._pruning import (
    Pruning,
    hidden_widths,
    module_figures,
    prune_hidden_units,
)
from ..training._stream import StreamedRows
from ..transfer._dask import (
    DaskPartition,
    aligned_to,
    is_dask_collection,
    label_partitions,
    partitions_of,
    predict_lazily,
    student_partitions,
    vector_partitions,
)
from ..transfer._samplers import TransferSampler
from ._params import PrefixedParamsMixin
from ._tasks import fit_and_score

__all__ = ["BaseDistiller", "StudentTrainingSet"]

AUTO_BATCH_ROWS = (32, 256)
"""Smallest and largest batch of ``batch_size="auto"``."""

PREDICT_CHUNK_ROWS = 65536
"""Rows per forward pass at prediction time (bounds the memory of one call)."""

_STUDENT_TRAINING = threading.RLock()
"""Held while a student trains: torch's global random generator is shared by threads."""



class StudentTrainingSet(NamedTuple):
    """The labelled rows a student trains on, as ``BaseDistiller._student_training_set`` gives them.

    ``rows`` is ``(X_student, teacher_outputs, target, weights)``; ``train_idx``
    and ``valid_idx`` (None without validation) index them; ``seed`` seeds the
    student's initialisation and batch order; ``teacher`` is the fitted teacher
    adapter and ``X_teacher`` the rows it reads (for a transfer set).
    """

    teacher: object
    X_teacher: object
    rows: tuple
    train_idx: np.ndarray
    valid_idx: object
    seed: int
    n_outputs: int


class BaseDistiller(PrefixedParamsMixin, BaseEstimator):
    """Shared machinery of the distilled estimators; not for direct use.

    Subclasses define ``_task`` ("classifier" or "regressor"),
    ``_unlabelled_target`` and the hooks ``_encode_targets`` (and
    ``_dask_target_encoder`` for a dask y), ``_task_object`` (what the student
    asks of the teacher), ``_output_scaling`` (raw teacher outputs to training
    targets: ``(raw - shift) / scale``), ``_n_outputs``, ``_precomputed_outputs``,
    ``_class_weights``, ``_check_weighted_loss``, ``_criterion`` and ``_callbacks``.
    """

    _parameter_constraints = {
        "teacher": [HasMethods(["fit"]), torch.nn.Module, StrOptions({PRECOMPUTED})],
        "student_module": "no_validation",
        "student_preprocessor": [None, HasMethods(["fit_transform", "transform"])],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "teacher_cv": [None, "cv_object"],
        "transfer_set": [
            None, TransferSampler, "array-like", "sparse matrix", HasMethods(["__dask_graph__"])
        ],
        "pruning": [None, Pruning],
        "memory": [None, str, HasMethods(["cache"])],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [callable],
        "validation_fraction": [None, Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [None, Interval(Integral, 1, None, closed="left")],
        "callbacks": [None, list],
        "device": [str, torch.device],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    # --------------------------------------------------------------- the fit
    def _fit(self, X, y, precomputed=None, sample_weight=None):
        """Fit teacher and student. ``precomputed``: teacher outputs given to fit, or None."""
        self._check_extra_params()
        teacher = as_teacher(self.teacher)
        teacher.check(self._task)
        self._check_precomputed_usage(precomputed)
        if is_dask_collection(X) or is_dask_collection(y):
            with self._atomic_fit():
                return self._fit_dask(teacher, X, y, precomputed, sample_weight)
        with self._atomic_fit():
            started = time.perf_counter()
            training = self._student_training_set(teacher, X, y, precomputed, sample_weight)
            labelled_at = time.perf_counter()
            rows, chunks = self._add_transfer_set(
                training.teacher, training.X_teacher, training.rows, training.train_idx,
                training.seed,
            )
            n_rows = len(training.rows[2])
            train_idx = np.concatenate([training.train_idx, np.arange(n_rows, len(rows[2]))])
            self.__dict__.pop("pruning_", None)
            transferred_at = time.perf_counter()
            self.student_ = self._train_student(
                rows, train_idx, training.valid_idx, training.seed, training.n_outputs,
                chunks=chunks,
            )
            self.n_iter_ = len(self.student_.history)
            self._record_fit_times(started, labelled_at, transferred_at, chunks)
        return self

    def _student_training_set(self, teacher, X, y, precomputed, sample_weight):
        """Check the data, fit the teacher and return the student's labelled rows.

        Sets the fitted attributes that describe the data and the teacher
        (``classes_``, ``n_features_in_``, ``teacher_``, ...); the student is
        not trained. Returns a :class:`StudentTrainingSet`.
        """
        X_teacher, X_student, y = self._validate_fit_data(X, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X_student, dtype=np.float64, ensure_non_negative=True
            )
        target, labelled = self._encode_targets(y, sample_weight)
        weights, student_weights = self._row_weights(sample_weight, target, labelled)
        if precomputed is not None:
            self.teacher_ = None
            outputs = self._precomputed_outputs(precomputed, len(y))
        else:
            teacher, outputs = self._fit_teacher_outputs(teacher, X_teacher, y, labelled, weights)
        self._warn_if_teacher_at_chance(outputs, target, labelled)
        kept = None if student_weights is None else np.flatnonzero(student_weights > 0)
        if kept is not None and len(kept) < len(y):  # zero weight: as if the row were absent
            X_teacher, X_student = _safe_indexing(X_teacher, kept), X_student[kept]
            target, labelled = target[kept], labelled[kept]
            outputs, student_weights = outputs[kept], student_weights[kept]
        seed = self._seed()
        train_idx, valid_idx = self._split_rows(labelled, target, seed)
        return StudentTrainingSet(
            teacher, X_teacher, (X_student, outputs, target, student_weights), train_idx,
            valid_idx, seed, outputs.shape[1],
        )

    def _record_fit_times(self, started, labelled_at, transferred_at, chunks):
        """Set ``fit_times_``: seconds spent on the teacher, the transfer set and the student.

        Chunks labelled during training (fresh synthetic copies) add their
        labelling time to ``"transfer_set"``; it overlapped ``"student"``.
        """
        during_training = sum(getattr(chunk, "labelling_seconds", 0.0) for chunk in chunks)
        self.fit_times_ = {
            "teacher": labelled_at - started,
            "transfer_set": transferred_at - labelled_at + during_training,
            "student": time.perf_counter() - transferred_at,
        }

    def _fit_dask(self, teacher, X, y, precomputed, sample_weight):
        """Fit on dask collections: label the partitions on the cluster, stream them to the student.

        The teacher must need no fitting; its outputs are persisted on the
        cluster and every partition is read again each epoch (see ``_dask``).
        Whole partitions (``validation_fraction`` of them, at least one) are
        held out for validation and early stopping.
        """
        started = time.perf_counter()
        self._check_dask_fit(teacher, X, y, sample_weight)
        X_parts, y_parts = partitions_of(X), vector_partitions(aligned_to(y, X, "y"))
        if len(X_parts) != len(y_parts):
            raise ValueError(
                f"X has {len(X_parts)} partitions and y {len(y_parts)}; X and y must be "
                "partitioned alike (one partition of y per partition of X)."
            )
        self.n_features_in_ = int(len(X.columns) if hasattr(X, "columns") else X.shape[1])
        columns = [str(c) for c in X.columns] if hasattr(X, "columns") else None
        if columns is not None and all(isinstance(c, str) for c in X.columns):
            self.feature_names_in_ = np.asarray(columns, dtype=object)
        else:
            self.__dict__.pop("feature_names_in_", None)
            columns = None
        self.__dict__.pop("student_preprocessor_", None)
        self.n_student_features_ = self.n_features_in_
        encode = self._dask_target_encoder(y)
        self.teacher_ = None if precomputed is not None else teacher.model
        reader = self._row_reader(teacher, None, columns)
        kind, given = self._given_partitions(precomputed, X, len(X_parts))
        outputs, n_rows, shared = label_partitions(X_parts, reader, given, kind)
        rows = student_partitions(X_parts, shared)
        chunks = [
            DaskPartition(rows[i], outputs[i], n_rows[i], y_parts[i], encode,
                          self._unlabelled_target)
            for i in range(len(X_parts))
        ]
        seed = self._seed()
        valid = self._held_out_partitions(len(chunks), seed)
        train_chunks = [c for i, c in enumerate(chunks) if i not in valid]
        valid_chunks = [chunks[i] for i in sorted(valid)]
        labelled_at = time.perf_counter()
        if self.transfer_set is not None:
            train_chunks += self._dask_transfer_chunks(teacher, self.transfer_set, columns)
        self.__dict__.pop("pruning_", None)
        transferred_at = time.perf_counter()
        self.student_ = self._train_student(
            None, None, None, seed, self._n_outputs(), chunks=train_chunks,
            valid_chunks=valid_chunks,
        )
        self.n_iter_ = len(self.student_.history)
        self._record_fit_times(started, labelled_at, transferred_at, train_chunks)
        return self

    @staticmethod
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
            "student_preprocessor": self.student_preprocessor is not None,
            "a synthetic transfer_set": isinstance(self.transfer_set, TransferSampler),
        }
        named = [name for name, given in unsupported.items() if given]
        if named:
            raise ValueError(
                f"{', '.join(named)} cannot be used with dask X and y yet; fit on in-memory rows "
                "(and pass the dask rows as transfer_set) to use them."
            )

    def _held_out_partitions(self, n_partitions, seed):
        """Indices of the partitions held out for validation (a set, maybe empty)."""
        if not self.validation_fraction:
            return set()
        if n_partitions < 2:
            warnings.warn(
                "X has a single partition, so no whole partition can be held out for "
                f"validation_fraction={self.validation_fraction}; training without a "
                "validation split or early stopping. Repartition X to validate.",
                UserWarning,
            )
            return set()
        n_valid = min(n_partitions - 1, math.ceil(self.validation_fraction * n_partitions))
        rng = np.random.RandomState(seed)
        return set(rng.choice(n_partitions, n_valid, replace=False).tolist())

    def _row_reader(self, teacher, preprocessor, columns):
        shift, scale = self._output_scaling()
        return RowReader(
            teacher, self._task_object(), shift, scale, preprocessor,
            None if columns is None else [str(c) for c in columns],
            getattr(self, "n_features_in_", None), self._n_outputs(),
        )

    def _dask_transfer_chunks(self, teacher, rows, columns):
        """Unlabelled dask rows: labelled on the cluster, one stream chunk per partition."""
        reader = self._row_reader(
            teacher, getattr(self, "student_preprocessor_", None), columns
        )
        reader.check(rows, "transfer_set")  # its declared columns, before any work
        parts = partitions_of(rows, "transfer_set")
        outputs, n_rows, shared = label_partitions(parts, reader)
        student = student_partitions(parts, shared)
        return [
            DaskPartition(student[i], outputs[i], n_rows[i],
                          unlabelled_target=self._unlabelled_target)
            for i in range(len(parts))
        ]

    def _check_precomputed_usage(self, precomputed):
        if isinstance(self.teacher, str) and precomputed is None:
            raise ValueError(
                "teacher='precomputed' needs the teacher's outputs passed to fit, e.g. "
                f"fit(X, y, {self._precomputed_names})."
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

    def _validate_fit_data(self, X, y):
        """Check X and y; return (X for the teacher, float32 X for the student, y).

        Without a ``student_preprocessor`` both read the same numbers (a DataFrame
        is given to the teacher as it is). With one, the teacher reads ``X`` as
        the caller gave it and the student reads the preprocessor's output.
        """
        if self.student_preprocessor is None:
            self.__dict__.pop("student_preprocessor_", None)
            X_checked, y = validate_data(
                self,
                X,
                y,
                validate_separately=(
                    {"dtype": (np.float64, np.float32), "accept_sparse": ACCEPTED_SPARSE},
                    {"ensure_2d": False, "dtype": None, "ensure_all_finite": self._y_finite},
                ),
            )
            X_teacher = X if hasattr(X, "columns") else X_checked
            X_student = as_student_rows(X_checked)
        else:
            y = check_array(
                y, ensure_2d=False, dtype=None, ensure_all_finite=self._y_finite, input_name="y"
            )
            X_teacher = X
            X_student = self._fit_preprocessor(X, y)
        y = self._check_y_shape(y, X_student.shape[0])
        self.n_student_features_ = X_student.shape[1]
        return teacher_view(X_teacher), X_student, y

    def _fit_preprocessor(self, X, y):
        """Fit a clone of ``student_preprocessor`` on X; return the student's float32 rows."""
        try:
            n_rows = _num_samples(X)
        except TypeError as exc:
            raise TypeError(f"X cannot be read as rows: {exc}") from None
        if n_rows != _num_samples(y):
            raise ValueError(f"X has {n_rows} rows but y has {_num_samples(y)}; they must match.")
        self.student_preprocessor_ = clone(self.student_preprocessor)
        out = self.student_preprocessor_.fit_transform(X, y)
        for name in ("n_features_in_", "feature_names_in_"):  # as Pipeline reports them
            if hasattr(self.student_preprocessor_, name):
                setattr(self, name, getattr(self.student_preprocessor_, name))
            else:
                self.__dict__.pop(name, None)
        return preprocessed_rows(out, self.student_preprocessor_, n_rows)

    def _check_y_shape(self, y, n_rows):
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it is raveled.",
                DataConversionWarning,
            )
            y = y.ravel()
        if y.ndim != 1:
            wrapper = f"MultiOutput{'Classifier' if self._task == 'classifier' else 'Regressor'}"
            raise ValueError(
                f"y must be 1-dimensional; got shape {y.shape}. For several targets wrap the "
                f"distiller in sklearn.multioutput.{wrapper}, which fits one per column."
            )
        if len(y) != n_rows:
            raise ValueError(f"X has {n_rows} rows but y has {len(y)}; they must match.")
        return y

    def _row_weights(self, sample_weight, target, labelled):
        """Return (weights for the teacher's fit, normalised weights for the student).

        Each is None when every row weighs the same. The teacher gets
        ``sample_weight`` times the class weights, as given; the student's
        weights are the same rescaled to mean 1 over the rows, so that their
        scale does not matter and synthetic rows (weight 1) keep their share.
        """
        weights = sample_weight
        class_weights = self._class_weights(target, labelled)
        if class_weights is not None:
            weights = class_weights if weights is None else weights * class_weights
        if weights is None:
            return None, None
        if not (weights > 0).any():
            raise ValueError(
                "sample_weight and class_weight leave every row with weight zero; at least "
                "one row needs a non-zero weight."
            )
        self._check_weighted_loss()
        if np.all(weights == weights[0]):
            return weights, None
        return weights, weights / weights[weights > 0].mean()

    def _fit_teacher_outputs(self, teacher, X_teacher, y, labelled, weights):
        """Set ``teacher_``; return the fitted adapter and its outputs for every row (float32)."""
        task = self._task_object()
        call = (task, teacher, X_teacher, y, labelled, weights, self.teacher_cv)
        if teacher.refits:
            fitted, outputs = cached_call(self.memory, fit_and_score, *call)
        else:  # frozen or prefit: nothing to fit, cross-fit or cache
            fitted, outputs = fit_and_score(*call)
        self.teacher_ = fitted.model
        return fitted, self._scale_outputs(outputs)

    def _warn_if_teacher_at_chance(self, outputs, target, labelled):
        """Warn when the teacher does no better than chance on the labelled training rows."""
        rows = np.flatnonzero(labelled)
        if len(rows) < 2:
            return
        score, chance, metric = self._task_object().teacher_score(outputs[rows], target[rows])
        if score <= chance:
            warnings.warn(
                f"The teacher's {metric} on the labelled training rows is {score:.3g}, no better "
                f"than chance ({chance:.3g}). It may be reading other features than it was "
                "trained on, e.g. a prefit teacher behind a scaler in a Pipeline: give it the "
                "raw X and put the student's preprocessing in student_preprocessor instead.",
                UserWarning,
            )

    def _add_transfer_set(self, teacher, X_teacher, rows, train_idx, seed):
        """Add the transfer set's rows, which the student learns through the teacher term only.

        Returns ``(rows, chunks)``. Synthetic rows (``Munge``, ``Spunge``,
        ``Mixup``) are drawn from the training rows (never the held-out ones)
        and, like unlabelled rows given as an array or DataFrame, labelled by
        the teacher in chunks and appended to ``rows``; with
        ``fresh_each_epoch`` they are drawn anew each epoch instead, as
        ``chunks``. They are read in the caller's space (the teacher's input)
        and only then turned into the student's features.
        Dask rows are labelled on the cluster and streamed: they come back as
        ``chunks`` for :class:`StreamedRows`, and ``rows`` is unchanged.
        """
        if self.transfer_set is None:
            return rows, []
        columns = getattr(self, "feature_names_in_", None)
        if is_dask_collection(self.transfer_set):
            return rows, self._dask_transfer_chunks(teacher, self.transfer_set, columns)
        reader = self._row_reader(
            teacher, getattr(self, "student_preprocessor_", None), columns
        )
        extra = self.transfer_set
        if isinstance(extra, TransferSampler):
            train_rows = _safe_indexing(X_teacher, train_idx)
            if extra.fresh_each_epoch:
                return rows, extra.fresh_copies(train_rows, reader, seed, self._unlabelled_target)
            extra = extra.generate(train_rows, random_state=seed)
        labels, extra_rows = reader.label_in_chunks(extra, "transfer_set")
        X_student, outputs, target, weights = rows
        if sp.issparse(X_student) or sp.issparse(extra_rows):
            stacked = sp.vstack([X_student, extra_rows], format="csr")
        else:
            stacked = np.concatenate([X_student, extra_rows])
        n_new = extra_rows.shape[0]
        return (
            stacked,
            np.concatenate([outputs, labels]),
            np.concatenate([target, np.full(n_new, self._unlabelled_target, dtype=target.dtype)]),
            None if weights is None else np.concatenate([weights, np.ones(n_new)]),
        ), []

    def _continues(self):
        """True when this fit continues training the fitted student (warm start)."""
        return self.warm_start and getattr(self, "student_", None) is not None

    def _warn_if_not_converged(self, net, epochs_run):
        """ConvergenceWarning when max_epochs ended a fit whose monitored loss was still falling."""
        if epochs_run < self.max_epochs:
            return  # stopped early, or interrupted
        history = net.history[-epochs_run:]
        key = "valid_label_loss" if "valid_label_loss" in history[-1] else "train_loss"
        losses = [row[key] for row in history]
        patience = min(self.n_iter_no_change or 10, len(losses))
        if int(np.argmin(losses)) >= len(losses) - patience:
            warnings.warn(
                f"max_epochs={self.max_epochs} ended the fit while {key} was still improving "
                f"(best in epoch {int(np.argmin(losses)) + 1} of {len(losses)}). Raise "
                "max_epochs or lr, or fit again with warm_start=True.",
                ConvergenceWarning,
            )

    @contextlib.contextmanager
    def _atomic_fit(self):
        """Restore the previous fitted state if fitting fails, so no half-fitted model remains."""
        before = {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}
        try:
            yield
        except BaseException:
            for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
                delattr(self, name)
            vars(self).update(before)
            raise

    def _seed(self):
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _split_rows(self, labelled, target, seed):
        """Return (train, valid) row indices; only labelled real rows are held out."""
        rows = np.arange(len(labelled))
        labelled_rows = rows[labelled]
        if not self.validation_fraction:
            return rows, None
        n_valid = math.ceil(self.validation_fraction * len(labelled_rows))
        if n_valid >= len(labelled_rows):
            warnings.warn(
                f"Too few labelled rows ({len(labelled_rows)}) to hold out "
                f"validation_fraction={self.validation_fraction}; training without a "
                "validation split or early stopping.",
                UserWarning,
            )
            return rows, None
        stratify = target[labelled_rows] if self._task == "classifier" else None
        if stratify is not None:
            _, counts = np.unique(stratify, return_counts=True)
            n_train = len(labelled_rows) - n_valid
            if counts.min() < 2 or n_valid < len(counts) or n_train < len(counts):
                stratify = None
        _, valid = train_test_split(
            labelled_rows, test_size=n_valid, random_state=seed, stratify=stratify
        )
        valid = np.sort(valid)
        return np.setdiff1d(rows, valid), valid

    # ----------------------------------------------------------- the student
    def _check_device(self):
        device = torch.device(self.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} but CUDA is not available on this machine; "
                "use device='cpu'."
            )
        return device

    def _make_net(self, module, seed, has_valid):
        callbacks = [("guard", TrainingGuard()), *self._callbacks()]
        if has_valid and self.n_iter_no_change:
            stopping = StopEarly(
                monitor="valid_label_loss", patience=self.n_iter_no_change, load_best=True
            )
            callbacks.append(("early_stopping", stopping))
        callbacks += copy.deepcopy(self.callbacks or [])
        routed = {
            f"{prefix}__{name}": value
            for prefix in ("iterator_train", "iterator_valid", "optimizer", "callbacks")
            for name, value in self._routed_params(prefix).items()
        }
        return DistillationNet(
            module=module,
            criterion=self._criterion(),
            optimizer=self.optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=TensorBatchLoader,
            iterator_valid=TensorBatchLoader,
            train_split=None,
            callbacks=callbacks,
            verbose=self.verbose,
            device=self.device,
            **{
                "iterator_train__shuffle": True,
                "iterator_train__seed": seed,
                **self._fused_optimizer(),
                **routed,
            },
        )

    def _fused_optimizer(self):
        """``{"optimizer__fused": True}`` for Adam or AdamW on a CPU or GPU, else ``{}``.

        The fused update is one kernel for all parameters instead of a dozen
        operations per tensor: on a small student it halves the step's cost.
        A user's ``optimizer__fused`` or ``optimizer__foreach`` wins.
        """
        chosen = self._routed_params("optimizer")
        if (
            self.optimizer in (torch.optim.Adam, torch.optim.AdamW)
            and not {"fused", "foreach"} & chosen.keys()
            and torch.device(self.device).type in ("cpu", "cuda")
        ):
            return {"optimizer__fused": True}
        return {}

    def _initialize(self, net):
        """``net.initialize()``, its failures told as the setting to change."""
        try:
            return net.initialize()
        except (TypeError, ValueError) as exc:
            if hasattr(net, "criterion_") and not hasattr(net, "optimizer_"):
                settings = {"lr": self.lr, **self._routed_params("optimizer")}
                raise ValueError(
                    f"The optimizer {getattr(self.optimizer, '__name__', self.optimizer)} "
                    f"rejects the settings {settings}: {exc} Change optimizer__<name> or lr."
                ) from exc
            raise ValueError(f"The student's skorch net cannot be set up: {exc}") from exc

    def _student_net(self, n_outputs, seed, has_valid, sparse_input):
        """A new net holding a new student, or -- with warm_start -- a copy of the fitted one.

        A warm start takes the current settings (batch size, optimizer and its
        parameters, callbacks, early stopping, iterator parameters) into a new
        net and carries over a copy of the weights, the history and, when the
        optimizer class is the same, its state (with the current
        hyperparameters). The fitted net is never changed, so a failed warm
        fit leaves the model exactly as it was.
        """
        if not self._continues():
            module = build_student(
                self.student_module, self._routed_params("module"), self.n_student_features_,
                n_outputs, self._task, sparse_input=sparse_input,
            )
            return self._initialize(self._make_net(module, seed, has_valid))
        previous = self.student_
        net = self._initialize(self._make_net(copy.deepcopy(previous.module_), seed, has_valid))
        net.history = copy.deepcopy(previous.history)
        if type(net.optimizer_) is type(previous.optimizer_):
            state = copy.deepcopy(previous.optimizer_.state_dict())
            state["param_groups"] = net.optimizer_.state_dict()["param_groups"]
            net.optimizer_.load_state_dict(state)
        return net

    def _batch_size(self, n_train):
        """Rows per training batch: ``batch_size``, or for ``"auto"`` n_train / 16 within [32, 256].

        256 rows per step fit thousands of rows about three times faster than
        64 at the same accuracy (``benchmarks/defaults.py``); on a few hundred
        rows such batches would leave one or two steps per epoch, so smaller
        sets get at least 16 steps (batches of at least 32 rows).
        """
        if self.batch_size == "auto":
            return int(min(AUTO_BATCH_ROWS[1], max(AUTO_BATCH_ROWS[0], n_train // 16)))
        return self.batch_size

    def _check_training_steps(self, module, n_train, batch_size):
        """Refuse settings that leave no training step, or a step BatchNorm cannot take."""
        drop_last = self._routed_params("iterator_train").get("drop_last", False)
        if drop_last and batch_size > n_train:
            raise ValueError(
                f"iterator_train__drop_last=True with batch_size={batch_size} above the "
                f"{n_train} training rows leaves no training step. Lower batch_size or set "
                "iterator_train__drop_last=False."
            )
        last_batch = n_train % batch_size
        batchnorm = torch.nn.modules.batchnorm._BatchNorm
        has_batchnorm = any(isinstance(m, batchnorm) for m in module.modules())
        if has_batchnorm and not drop_last and (last_batch == 1 or n_train == 1):
            raise ValueError(
                f"The student_module {type(module).__name__} has BatchNorm layers, and with "
                f"{n_train} training rows and batch_size={batch_size} its last training "
                "batch would hold one row, on which BatchNorm cannot train. Set "
                "iterator_train__drop_last=True or another batch_size."
            )

    def _train_student(self, rows, train_idx, valid_idx, seed, n_outputs, chunks=(),
                       valid_chunks=()):
        """Fit (or, with warm_start, continue fitting) a student net and return it.

        ``rows``: the in-memory ``(X, outputs, target, weights)`` (or None), of
        which ``train_idx`` train and ``valid_idx`` validate. ``chunks`` and
        ``valid_chunks`` are streamed (see :class:`StreamedRows`); the training
        chunks are mixed with the in-memory training rows.

        Student training holds a process-wide lock: torch's random generator is
        global, so two fits in threads of one process would draw from each
        other's stream; one at a time, each seeded fit reproduces.
        """
        device = self._check_device()
        forked = [device] if device.type == "cuda" else []
        sparse_input = rows is not None and sp.issparse(rows[0])
        has_valid = valid_idx is not None or bool(valid_chunks)
        with _STUDENT_TRAINING, torch.random.fork_rng(devices=forked):
            torch.manual_seed(seed)
            net = self._student_net(n_outputs, seed, has_valid, sparse_input)
            as_sparse = student_reads_sparse(net.module_)
            train, valid = self._datasets(
                rows, train_idx, valid_idx, chunks, valid_chunks, device, as_sparse
            )
            net.batch_size = self._batch_size(len(train))
            self._check_training_steps(net.module_, len(train), net.batch_size)
            if self.pruning is not None:  # what cannot be pruned: say so before training
                self.pruning.widths(hidden_widths(net.module_), self.pruning.steps)
            net.train_split = None if valid is None else predefined_split(valid)
            epochs_before = len(net.history)
            try:
                net.partial_fit(train)
                self._warn_if_not_converged(net, len(net.history) - epochs_before)
                if self.pruning is not None:
                    self._prune(net, train)
            except InterruptedBeforeFirstEpoch:
                message = "fit interrupted before its first epoch completed"
                raise KeyboardInterrupt(message) from None
            finally:
                net.train_split = None  # hold no data in the fitted model
                for epoch in net.history:  # keep one batch record per epoch (skorch's
                    del epoch.get("batches", [])[:-1]  # last_batch): not rows / batch_size
        return net

    @staticmethod
    def _datasets(rows, train_idx, valid_idx, chunks, valid_chunks, device, as_sparse):
        """The training and validation datasets (the latter None without validation)."""
        resident = None
        if rows is not None:
            X, outputs, target, weights = rows
            resident = DistillationDataset(
                X if sp.issparse(X) else torch.from_numpy(X),
                torch.from_numpy(outputs),
                torch.from_numpy(target),
                None if weights is None else torch.from_numpy(weights.astype(np.float32)),
                sparse_as_tensor=as_sparse,
            ).to(device)
        if chunks:
            own = None if resident is None else resident.subset(torch.as_tensor(train_idx))
            train = StreamedRows(chunks, own, device, as_sparse)
        else:
            train = torch.utils.data.Subset(resident, train_idx)
        if valid_chunks:
            valid = StreamedRows(valid_chunks, None, device, as_sparse)
        elif valid_idx is not None:
            valid = torch.utils.data.Subset(resident, valid_idx)
        else:
            valid = None
        return train, valid

    def _prune(self, net, train):
        """Cut the trained student's hidden layers step by step, fine-tuning after each.

        Sets ``pruning_``: hidden widths, parameters, bytes of the weights and
        one-row forward latency (ms, measured here) before and after.
        """
        original = hidden_widths(net.module_)
        before = module_figures(net.module_, self.n_student_features_)
        for step in range(1, self.pruning.steps + 1):
            prune_hidden_units(net.module_, self.pruning.widths(original, step))
            net.module = net.module_
            net.initialize_optimizer()
            if self.pruning.fine_tune_epochs:
                net.partial_fit(train, epochs=self.pruning.fine_tune_epochs)
        after = module_figures(net.module_, self.n_student_features_)
        self.pruning_ = {"hidden_before": original, "hidden_after": hidden_widths(net.module_)}
        names = ("parameters", "bytes", "latency_ms")
        for name, value_before, value_after in zip(names, before, after):
            self.pruning_[f"{name}_before"] = value_before
            self.pruning_[f"{name}_after"] = value_after

    # ------------------------------------------------------------- inference
    def _validate_predict_data(self, X):
        """The student's float32 rows (dense or CSR) for X, checked as at fit."""
        rows = self._plain_rows(X)
        if rows is not None:
            return rows
        check_is_fitted(self)
        if getattr(self, "student_preprocessor_", None) is None:
            X = validate_data(
                self, X, reset=False, dtype=(np.float64, np.float32), accept_sparse=ACCEPTED_SPARSE
            )
            return as_student_rows(X)
        rows = self._student_rows(X)
        if rows.shape[1] != self.n_student_features_:
            raise ValueError(
                f"The student_preprocessor made {rows.shape[1]} features from X; the student "
                f"was trained on {self.n_student_features_}."
            )
        return rows

    def _lazily(self, method, X, n_columns, dtype):
        """``method`` over a dask collection, partition by partition, as a lazy dask array."""
        check_is_fitted(self)
        return predict_lazily(self, method, X, n_columns, dtype)

    def _scale_outputs(self, outputs):
        """Raw teacher outputs as training targets (see ``_output_scaling``), float32."""
        shift, scale = self._output_scaling()
        if (shift, scale) == (0.0, 1.0):
            return np.asarray(outputs, dtype=np.float32)
        return ((np.asarray(outputs, dtype=np.float64) - shift) / scale).astype(np.float32)

    def _plain_rows(self, X):
        """Fast path for the common case, or None: a finite float ndarray of the fitted width.

        scikit-learn's input checks cost several times a small network's forward
        pass on one row. For a 2-d float32/float64 ndarray of the fitted width,
        to a model fitted without feature names or a preprocessor, the checks
        that matter (fitted, width, finite in float32) are done here directly;
        anything else -- and any failure, for its message -- takes the full path.
        """
        if not (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in (np.float32, np.float64)
            and X.shape[0] > 0
            and "student_" in self.__dict__
            and "feature_names_in_" not in self.__dict__
            and self.__dict__.get("student_preprocessor_") is None
            and X.shape[1] == self.__dict__.get("n_features_in_")
        ):
            return None
        with np.errstate(over="ignore"):
            rows = np.array(X, dtype=np.float32, order="C")
        return rows if np.isfinite(rows).all() else None

    def _student_rows(self, X):
        """X (in the caller's space) as the student's float32 rows."""
        preprocessor = getattr(self, "student_preprocessor_", None)
        if preprocessor is None:
            return as_student_rows(check_array(X, dtype=(np.float64, np.float32)))
        return preprocessed_rows(preprocessor.transform(X), preprocessor, _num_samples(X))

    def _student_output(self, X):
        """Raw student outputs for float32 rows (dense or CSR), as a float64 ndarray."""
        net = self.student_
        module = net.module_
        if module.training:
            module.eval()
        as_sparse = student_reads_sparse(module)
        step = PREDICT_CHUNK_ROWS
        if sp.issparse(X) and not as_sparse:
            step = max(1, min(step, DENSE_CHUNK_ELEMENTS // max(1, X.shape[1])))
        device = torch.device(net.device)
        outputs = []
        with torch.inference_mode():
            for start in range(0, X.shape[0], step):
                rows = X[start : start + step]
                if sp.issparse(rows):
                    chunk = sparse_batch(rows, device, as_sparse)
                else:
                    chunk = torch.from_numpy(pad_rows(rows, ROW_TILE))
                    chunk = chunk if device.type == "cpu" else chunk.to(device)
                outputs.append(module(chunk)[: rows.shape[0]].double().cpu())
        out = (outputs[0] if len(outputs) == 1 else torch.cat(outputs)).numpy()
        if not np.isfinite(out).all():
            bad = np.flatnonzero(~np.isfinite(out).reshape(len(out), -1).all(axis=1))
            largest = abs(X[bad]).max()
            raise ValueError(
                f"The student's outputs are not finite for {len(bad)} of {len(out)} rows "
                f"(first: row {bad[0]}); their features lie far outside the range it was "
                f"trained on (largest |x| among them: {largest:.3g}). Scale or "
                "clip the inputs as in training."
            )
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        return tags
