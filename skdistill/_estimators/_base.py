"""What every distiller shares: its parameters and the order of a fit.

:class:`BaseDistiller` runs the steps common to the classifier and the
regressor -- check the data, fit the teacher on the labelled rows, collect its
outputs (cross-fitted if asked), add a transfer set, train the student. What
depends on the task (how targets are encoded, what the teacher is asked for,
the criterion) comes from one task object per fit (:mod:`._tasks`); each step
lives in its own module: the data (:mod:`._fit_data`), the transfer set
(:mod:`._transfer_rows`), the dask fit (:mod:`._dask_fit`), training
(:mod:`._training`) and prediction (:mod:`._prediction`).
"""

import contextlib
import copy
import time
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from .._inputs import frame_locked
from ..losses._features import FeatureDistillation
from ..teachers._adapters import PRECOMPUTED, as_teacher
from ..training._early_stopping import kept_held_out_loss
from ..training._pruning import Pruning
from ..training._solver import SOLVERS
from ..transfer._dask import is_dask_collection
from ..transfer._samplers import TransferSampler
from ._auto_alpha import AUTO_ALPHA, LABELS_ONLY_ALPHA, held_out_accuracy, resolved_alpha
from ._auto_encoding import AUTO, candidate_encoders, feature_kinds
from ._dask_fit import DaskFitMixin
from ._fit_data import (
    FitDataMixin,
    labels_only_accuracy,
    row_weights,
    warn_if_teacher_at_chance,
    warn_if_teacher_far_below,
)
from ._params import PrefixedParamsMixin
from ._prediction import PredictionMixin
from ._split import split_rows
from ._tasks import scale_outputs
from ._training import StudentTrainingMixin, auto_batch_size
from ._training_set import TrainingSet
from ._transfer_rows import TransferRowsMixin

__all__ = ["BaseDistiller"]


class BaseDistiller(
    PredictionMixin,
    StudentTrainingMixin,
    DaskFitMixin,
    TransferRowsMixin,
    FitDataMixin,
    PrefixedParamsMixin,
    BaseEstimator,
):
    """Shared machinery of the distilled estimators; not for direct use.

    A subclass sets ``_task_class``, whose ``for_estimator(self)`` builds the
    task object of one fit (see :mod:`skdistill._estimators._tasks`).
    """

    _parameter_constraints = {
        "teacher": [HasMethods(["fit"]), torch.nn.Module, StrOptions({PRECOMPUTED})],
        "student_module": "no_validation",
        "student_preprocessor": [
            None, StrOptions({AUTO}), HasMethods(["fit_transform", "transform"])
        ],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "teacher_cv": [None, "cv_object"],
        "transfer_set": [
            None, TransferSampler, "array-like", "sparse matrix", HasMethods(["__dask_graph__"])
        ],
        "pruning": [None, Pruning],
        "feature_distillation": [None, FeatureDistillation],
        "memory": [None, str, HasMethods(["cache"])],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [callable],
        "solver": [StrOptions(set(SOLVERS))],
        "validation_fraction": [None, Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [None, Interval(Integral, 1, None, closed="left")],
        "callbacks": [None, list],
        "device": [str, torch.device],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def _fit(self, X, y, sample_weight=None, **teacher_outputs):
        """Fit teacher and student; ``teacher_outputs`` are those given to fit (precomputed)."""
        self._check_extra_params()
        task = self._task_class.for_estimator(self)
        precomputed = task.precomputed_argument(**teacher_outputs)
        teacher = as_teacher(self.teacher)
        teacher.check(task.name)
        self._check_precomputed_usage(task, precomputed)
        with self._atomic_fit():
            if is_dask_collection(X) or is_dask_collection(y):
                continued = self._continues()
                self._fit_dask(task, teacher, X, y, precomputed, sample_weight)
                self.alpha_ = resolved_alpha(self, continued)  # one student: no choice
            else:
                with frame_locked(X), frame_locked(self.transfer_set):  # the caller's rows stay
                    self._fit_in_memory(task, teacher, X, y, precomputed, sample_weight)
            self.n_iter_ = len(self.student_.history)
        return self

    def fit_teacher(self, X, y, **fit_params):
        """Check the data and fit the teacher as ``fit`` does; train no student.

        The seam for search strategies that train many students on one
        teacher (:class:`~skdistill.DistilledClassifierCV` trains its
        candidates through it). This estimator is left as it is: the checks,
        the teacher and the encoding are fitted on a copy of it, which the
        returned :class:`~skdistill.TrainingSet` holds with the rows, split
        and seed a ``fit`` would train its student on.
        :meth:`TrainingSet.with_student <skdistill.TrainingSet.with_student>`
        turns a student trained on them into a fitted estimator.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            In memory (not a dask collection).
        y : array-like of shape (n_samples,)
        **fit_params : dict
            ``sample_weight`` and the teacher outputs that ``fit`` takes.

        Returns
        -------
        training_set : TrainingSet

        Examples
        --------
        >>> import numpy as np
        >>> from skdistill import DistilledClassifier
        >>> X = np.random.RandomState(0).normal(size=(60, 3))
        >>> y = (X[:, 0] > 0).astype(int)
        >>> clf = DistilledClassifier("precomputed", random_state=0)
        >>> training = clf.fit_teacher(X, y, teacher_proba=np.eye(2)[y] * 0.8 + 0.1)
        >>> len(training.train_idx), len(training.valid_idx), hasattr(clf, "teacher_")
        (54, 6, False)
        """
        self._validate_params()
        self._check_extra_params()
        sample_weight = fit_params.pop("sample_weight", None)
        task = self._task_class.for_estimator(self)
        precomputed = task.precomputed_argument(**fit_params)
        teacher = as_teacher(self.teacher)
        teacher.check(task.name)
        self._check_precomputed_usage(task, precomputed)
        if is_dask_collection(X) or is_dask_collection(y):
            raise ValueError("fit_teacher takes rows in memory; fit reads dask collections.")
        model = copy.copy(self)  # fitted from scratch; this estimator stays as it is
        model._restore_fitted_state({})
        X, encoders = candidate_encoders(model, X)
        model.student_encoding_ = next(iter(encoders))  # the first: nothing to choose on here
        if model.student_encoding_ is not None:
            model.feature_kinds_ = feature_kinds(X)
        with frame_locked(X):
            training = model._training_set(
                task, teacher, X, y, precomputed, sample_weight, encoders[model.student_encoding_]
            )
        training.encoders = encoders
        return training

    def with_student(self, module, n_iter=0):
        """A copy of this fitted estimator whose student is ``module`` as it is.

        ``module`` (its weights are used, not copied) reads the rows this
        estimator's student reads; the copy predicts, scores, exports and
        pickles like a fitted estimator, with ``n_iter_`` set to ``n_iter``.
        For a student trained on a :meth:`fit_teacher` training set, use
        :meth:`TrainingSet.with_student <skdistill.TrainingSet.with_student>`.
        """
        task = self._task_class.for_estimator(self, fitted=True)
        model = copy.copy(self)
        net = self._initialize(self._make_net(task, module, seed=0, has_valid=False))
        net.solver = model.solver_ = "numpy" if net.solver == "numpy" else self.solver
        model.student_, model.n_iter_ = net, n_iter
        model.alpha_ = net.criterion_.alpha
        for name in ("alpha_scores_", "student_encoding_losses_", "fit_times_", "pruning_"):
            model.__dict__.pop(name, None)  # figures of a fit this student did not come from
        return model

    def __sklearn_is_fitted__(self):
        return "student_" in vars(self)

    @property
    def loss_curve_(self):
        """The student's training loss of each epoch, over warm starts too (``train_loss``)."""
        check_is_fitted(self)
        return [float(epoch["train_loss"]) for epoch in self.student_.history
                if "train_loss" in epoch]

    def _fit_in_memory(self, task, teacher, X, y, precomputed, sample_weight):
        """Fit the teacher once, then a student per candidate encoding; keep the best.

        With ``student_preprocessor="auto"`` each candidate encoding
        (:mod:`._auto_encoding`) trains a student on the same teacher outputs,
        split and seed, and the one whose kept weights have the lowest
        held-out label loss is kept; otherwise there is one candidate. Ctrl-C
        ends the choice: the students trained so far (the interrupted one with
        its completed epochs) compete, and none is lost.
        """
        started = time.perf_counter()
        continued = self._continued_encoding()
        self.__dict__.pop("student_encoding_losses_", None)
        if continued is None:  # a warm fit checks the rows against the kinds it keeps
            self.__dict__.pop("feature_kinds_", None)
        X, encoders = candidate_encoders(self, X, continued)
        names = list(encoders)
        training = self._training_set(
            task, teacher, X, y, precomputed, sample_weight, encoders[names[0]]
        )
        training.encoders = encoders
        labelled_at = time.perf_counter()
        if training.valid_idx is None:
            names = names[:1]  # nothing held out to choose on
        epochs_before = len(self.student_.history) if self._continues() else 0
        fits, transfer_seconds, labelled = [], 0.0, {}
        encoded, interrupted = names[0], False  # the encoding training.X holds; Ctrl-C
        for name in names:
            try:
                if fits:  # the next encoding of the same rows
                    encoded = name
                    training.encode_with(name)
                net, chunks, seconds = self._train_on(task, training, labelled)
            except KeyboardInterrupt:
                if not fits:
                    raise
                warnings.warn(f"Interrupted before the {name!r} encoding's student had "
                              "completed an epoch; choosing among those trained.", UserWarning)
                interrupted = True
                break
            best_restored = bool(self.n_iter_no_change) and self.pruning is None
            loss = kept_held_out_loss(net, epochs_before, best_restored and not net.interrupted_)
            fits.append((loss, name, net, self._fitted_state(), chunks))
            transfer_seconds += seconds
            if net.interrupted_:
                interrupted = True
                break
        _, name, net, state, chunks = min(fits, key=lambda fit: fit[0])  # a tie: the first
        self._restore_fitted_state(state)
        self.student_, self.student_encoding_ = net, name
        if name is not None:
            self.student_encoding_losses_ = {fit[1]: fit[0] for fit in fits}
            self.feature_kinds_ = feature_kinds(X)  # checked at predict time
        self.alpha_ = resolved_alpha(self, continued=epochs_before > 0)
        self.__dict__.pop("alpha_scores_", None)
        if not interrupted and self._chooses_alpha(training, continued=epochs_before > 0):
            self._labels_only_student(task, training, labelled, encoded)
        warn_if_teacher_far_below(training.teacher_score, self.student_, training.labels_only)
        self._record_fit_times(started, labelled_at, labelled_at + transfer_seconds, chunks)

    def _chooses_alpha(self, training, continued):
        """Whether this fit also trains its student on the labels alone (``alpha="auto"``).

        Not with feature distillation (its terms would still teach the twin), a
        transfer set or unlabelled rows (rows the student learns from through
        the teacher alone).
        """
        auto = isinstance(self.alpha, str) and self.alpha == AUTO_ALPHA
        teacher_only_rows = self.transfer_set is not None or bool(np.any(training.target < 0))
        return (auto and training.valid_idx is not None and not continued
                and self.feature_distillation is None and not teacher_only_rows)

    def _labels_only_student(self, task, training, labelled, encoded):
        """Train the kept student's twin on the labels alone; keep it if it does better.

        The same encoding (refitted as it was if another was ``encoded`` last),
        split and seed, ``alpha=0``; kept where its held-out accuracy at its kept
        epoch is higher than the distilled student's (``alpha_scores_`` holds
        both). Ctrl-C keeps the distilled student (with a warning).
        """
        restored = bool(self.n_iter_no_change) and self.pruning is None
        distilled = held_out_accuracy(self.student_, best_restored=restored)
        kept = self._fitted_state()
        labels_task = copy.copy(task)
        labels_task.criterion_params = {**task.criterion_params, "alpha": LABELS_ONLY_ALPHA}
        try:
            del self.student_  # a fresh student, not a warm start of the distilled one
            if self.student_encoding_ != encoded:
                training.encode_with(self.student_encoding_)
            net, _, _ = self._train_on(labels_task, training, labelled)
        except KeyboardInterrupt:
            net = None
        if net is None or net.interrupted_:  # Ctrl-C: the distilled student stays
            self._restore_fitted_state(kept)
            warnings.warn("Interrupted while training the labels-only student of "
                          "alpha='auto'; keeping the distilled one (alpha_=0.5).", UserWarning)
            return
        labels_only = held_out_accuracy(net, best_restored=restored)
        scores = {self.alpha_: distilled, LABELS_ONLY_ALPHA: labels_only}
        if labels_only > distilled:
            self.student_, self.alpha_ = net, LABELS_ONLY_ALPHA
        else:
            self._restore_fitted_state(kept)
        self.alpha_scores_ = scores

    def _train_on(self, task, training, labelled):
        """Add the transfer set to a training set's rows and train a student on them.

        ``labelled`` carries the transfer rows the teacher has labelled from one
        candidate encoding to the next. Returns ``(net, streamed chunks,
        seconds spent on the transfer set)``.
        """
        started = time.perf_counter()
        rows, chunks = self._add_transfer_set(
            task, training.teacher, training.X_teacher, training.rows, training.train_idx,
            training.seed, labelled,
        )
        n_rows = len(training.target)
        train_idx = np.concatenate([training.train_idx, np.arange(n_rows, len(rows[2]))])
        seconds = time.perf_counter() - started
        self.__dict__.pop("pruning_", None)
        net = self._train_student(
            task, rows, train_idx, training.valid_idx, training.seed, chunks=chunks
        )
        return net, chunks, seconds

    def _continued_encoding(self):
        """The encoding a warm start continues (None: choose, or none to continue)."""
        return getattr(self, "student_encoding_", None) if self._continues() else None

    def _fitted_state(self):
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def _restore_fitted_state(self, state):
        for name in [k for k in self._fitted_state() if k not in state]:
            delattr(self, name)
        vars(self).update(state)

    def _training_set(self, task, teacher, X, y, precomputed, sample_weight, preprocessor):
        """Check the data, fit the teacher and return the student's labelled rows.

        Sets the fitted attributes that describe the data and the teacher
        (``classes_``, ``n_features_in_``, ``teacher_``, ...); the student is
        not trained. ``preprocessor`` encodes the student's rows (None: as
        given). Returns a :class:`TrainingSet`.
        """
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        encoder_kept = None if sample_weight is None else sample_weight > 0
        seed = self._seed()  # one draw: the encoding's sample, the split, the student
        X_teacher, X_student, y = self._validate_fit_data(
            task, X, y, preprocessor, encoder_kept, seed
        )
        target, labelled = task.encode_targets(y, sample_weight)
        vars(self).update(task.fitted_attributes())
        self.fills_missing_ = self._reads_missing_values()  # the teacher may go: kept here
        weights, student_weights = row_weights(task, sample_weight, target, labelled)
        if precomputed is not None:
            self.teacher_ = None
            given = task.precomputed_outputs(precomputed, len(y))
            outputs = scale_outputs(given, task.output_scaling)
        else:
            teacher, outputs = self._fit_teacher_outputs(
                task, teacher, X_teacher, y, labelled, weights
            )
        teacher_score = warn_if_teacher_at_chance(task, outputs, target, labelled)
        kept = None if student_weights is None else student_weights > 0  # zero weight: absent
        train_idx, valid_idx = split_rows(
            labelled, task.stratify(target), self.validation_fraction, seed, kept=kept
        )
        training = TrainingSet(
            self, task, teacher, X_teacher, (X_student, outputs, target, student_weights),
            train_idx, valid_idx, seed, auto_batch_size(self.batch_size, len(train_idx)),
        )
        training.teacher_score = teacher_score
        training.encoder_kept = encoder_kept
        if not teacher.refits and precomputed is None and task.asked.classes is not None:
            # a prefit teacher may read other features than it was trained on: compare it
            # with what the labels alone reach
            training.labels_only = labels_only_accuracy(
                X_student, target, train_idx, valid_idx, seed
            )
        return training

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

    @contextlib.contextmanager
    def _atomic_fit(self):
        """Restore the previous fitted state if fitting fails, so no half-fitted model remains."""
        before = self._fitted_state()
        try:
            yield
        except BaseException:
            self._restore_fitted_state(before)
            raise

    def _seed(self):
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._reads_missing_values()
        tags.input_tags.sparse = True
        return tags

    def _reads_missing_values(self):
        """Whether fit takes NaN: the "auto" encoding reads it, and so must the teacher."""
        if not (isinstance(self.student_preprocessor, str) and self.student_preprocessor == AUTO):
            return False
        if isinstance(self.teacher, str):  # precomputed: the teacher reads nothing
            return True
        try:
            return bool(get_tags(self.teacher).input_tags.allow_nan)
        except (AttributeError, TypeError, ValueError):  # a torch module, or no tags
            return False
