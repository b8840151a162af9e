"""What every distiller shares: its parameters, ``fit`` and the one place its state is set.

:class:`BaseDistiller` checks its parameters, builds the task of a fit (what
differs between the classifier and the regressor, :mod:`skdistill.stages._tasks`),
hands the rows to the stages of a fit (:mod:`skdistill.stages._fit`, or
:mod:`skdistill.stages._dask` for dask collections), which return the fitted
attributes, and assigns them together (:meth:`BaseDistiller._set_fitted`).
Prediction lives in :mod:`._prediction`.
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._inputs import frame_locked
from ..losses._features import FeatureDistillation
from ..stages._blank import blank_copy, fitted_attributes
from ..stages._dask import fit_dask
from ..stages._data import check_precomputed_usage
from ..stages._auto import AUTO, is_auto
from ..stages._encoding import candidate_encoders
from ..stages._fit import fit_in_memory
from ..stages._student import UNCONVERGED, engine_for, initialized, make_net
from ..stages._training_set import training_set
from ..teachers._adapters import PRECOMPUTED, as_teacher
from ..training._pruning import Pruning
from ..training._solver import SOLVERS
from ..transfer._dask import is_dask_collection
from ..transfer._samplers import TransferSampler
from ._params import PrefixedParamsMixin
from ._prediction import PredictionMixin

__all__ = ["BaseDistiller", "LabelledRowsScore"]


class LabelledRowsScore:
    """``score`` on the rows that carry a label; placed before scikit-learn's
    ``ClassifierMixin`` / ``RegressorMixin``, whose ``score`` it calls."""

    def score(self, X, y, sample_weight=None):
        """Accuracy (a classifier's) or R2 (a regressor's) on the labelled rows of ``X``.

        Rows marked unlabelled -- a classifier's ``unlabeled_label``, a
        regressor's NaN target, as in ``fit`` -- are left out: ``fit`` learns
        from them through the teacher alone.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The rows to score, as ``fit`` took them.
        y : array-like of shape (n_samples,)
            Their labels or targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the score.

        Returns
        -------
        score : float
            ``accuracy_score`` or ``r2_score`` on the rows with a label.
        """
        return super().score(*self._labelled_only(X, y, sample_weight))


class BaseDistiller(PredictionMixin, PrefixedParamsMixin, BaseEstimator):
    """Shared machinery of the distilled estimators; not for direct use.

    A subclass sets ``_task_class``, whose ``for_estimator(self)`` builds the
    task object of one fit (see :mod:`skdistill.stages._tasks`).
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
        previous = fitted_attributes(self) if self._continues() else {}
        _check_same_columns(previous, X)
        task, teacher, precomputed = self._fit_setup(teacher_outputs, previous)
        if is_dask_collection(X) or is_dask_collection(y):
            fitted = fit_dask(self, task, teacher, X, y, precomputed, sample_weight, previous)
        else:
            with frame_locked(X), frame_locked(self.transfer_set):  # the caller's rows stay
                fitted = fit_in_memory(
                    self, task, teacher, X, y, precomputed, sample_weight, previous
                )
        unconverged = fitted.pop(UNCONVERGED, None)  # of the kept student alone
        if unconverged is not None:
            warnings.warn(unconverged, ConvergenceWarning)
        self._set_fitted(fitted, n_iter=len(fitted["student_"].history))
        return self

    def _fit_setup(self, teacher_outputs, previous):
        """``(task, teacher adapter, precomputed outputs)`` of a fit, the three checked."""
        task = self._task_class.for_estimator(self, previous)
        precomputed = task.precomputed_argument(**teacher_outputs)
        teacher = as_teacher(self.teacher)
        teacher.check(task.name)
        check_precomputed_usage(self, task, precomputed)
        return task, teacher, precomputed

    def _set_fitted(self, fitted, n_iter):
        """The one place a distiller's fitted attributes are assigned.

        ``fitted`` (with ``n_iter_`` = ``n_iter``) replaces every fitted
        attribute of a fit before: nothing of an earlier fit stays beside it.
        """
        for name in fitted_attributes(self):
            delattr(self, name)
        vars(self).update(fitted, n_iter_=n_iter)

    def fit_teacher(self, X, y, **fit_params):
        """Check the data and fit the teacher as ``fit`` does; train no student.

        The seam for search strategies that train many students on one
        teacher (:class:`~skdistill.DistillerGridSearchCV` trains its
        candidates through it). This estimator is left as it is: the fitted
        teacher and encoding go to the returned
        :class:`~skdistill.TrainingSet`, with the rows, split and seed a
        ``fit`` would train its student on.
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
        task, teacher, precomputed = self._fit_setup(fit_params, previous={})
        if is_dask_collection(X) or is_dask_collection(y):
            raise ValueError("fit_teacher takes rows in memory; fit reads dask collections.")
        params = blank_copy(self)  # the parameters as they are now, whatever set_params does next
        X, encoders = candidate_encoders(params, X)
        with frame_locked(X):
            return training_set(
                params, task, teacher, X, y, precomputed, sample_weight, encoders, previous={}
            )

    def with_student(self, module, n_iter=0):
        """A copy of this fitted estimator whose student is ``module`` as it is.

        ``module`` (its weights are used, not copied) reads the rows this
        estimator's student reads; the copy predicts, scores, exports and
        pickles like a fitted estimator, with ``n_iter_`` set to ``n_iter``.
        For a student trained on a :meth:`fit_teacher` training set, use
        :meth:`TrainingSet.with_student <skdistill.TrainingSet.with_student>`.
        """
        check_is_fitted(self)
        return self._fitted_with(
            fitted_attributes(self), module, n_iter, batch_size=self.student_.batch_size,
            # the rows' kind is not kept: where the fit ran torch, sparse rows may be why
            sparse_input=self.solver_ == "torch",
        )

    def _fitted_with(self, fitted, module, n_iter, batch_size, sparse_input):
        """A copy of this estimator fitted as ``fitted`` says, its student ``module``.

        The figures of a fit the student did not come from (``alpha_scores_``,
        ``student_encoding_losses_``, ``fit_times_``, ``pruning_``) are left out.
        The net's ``batch_size`` is ``batch_size`` (the one its rows resolve to),
        and ``solver_`` the engine a fit would run for ``module``
        (:func:`~skdistill.stages._student.engine_for`; ``sparse_input``: whether
        the rows are a sparse matrix).
        """
        task = self._task_class.for_estimator(self, fitted)
        net = initialized(self, make_net(self, task, module, seed=0, has_valid=False))
        net.batch_size = batch_size
        net.solver = engine_for(self, task, net, sparse_input)
        own = {"student_": net, "solver_": net.solver, "alpha_": task.alpha}
        dropped = ("alpha_scores_", "student_encoding_losses_", "fit_times_", "pruning_")
        model = copy.copy(self)
        model._set_fitted(
            {**{k: v for k, v in fitted.items() if k not in dropped}, **own}, n_iter=n_iter
        )
        return model

    def _labelled_only(self, X, y, sample_weight):
        """``(X, y, sample_weight)`` of the rows of ``y`` that hold a label: a score reads
        those (fit learns from the others through the teacher alone)."""
        if is_dask_collection(X):
            return X, y, sample_weight
        if not hasattr(y, "iloc"):  # a pandas extension array (strings, Int64): as numpy
            y = np.asarray(y)
        unlabelled = self._task_class.unlabelled_rows(self, y)
        if unlabelled is None or not unlabelled.any():
            return X, y, sample_weight
        if unlabelled.all():
            raise ValueError("y marks every row unlabelled; a score needs labelled rows.")
        kept = np.flatnonzero(~unlabelled)
        weights = None if sample_weight is None else _safe_indexing(sample_weight, kept)
        return _safe_indexing(X, kept), _safe_indexing(y, kept), weights

    def __sklearn_is_fitted__(self):
        return "student_" in vars(self)

    @property
    def loss_curve_(self):
        """The student's training loss of each epoch, over warm starts too (``train_loss``)."""
        check_is_fitted(self)
        return [float(epoch["train_loss"]) for epoch in self.student_.history
                if "train_loss" in epoch]

    @property
    def validation_scores_(self):
        """The held-out score after each epoch (accuracy, or R2 for a regressor), one per entry
        of ``loss_curve_`` (NaN for an epoch of a warm start that held nothing out); None with
        nothing held out."""
        check_is_fitted(self)
        key = self._validation_score
        epochs = [epoch for epoch in self.student_.history if "train_loss" in epoch]
        if not any(key in epoch for epoch in epochs):
            return None
        return [float(epoch.get(key, np.nan)) for epoch in epochs]

    def _continues(self):
        """True when this fit continues training the fitted student (warm start)."""
        return self.warm_start and "student_" in vars(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._reads_missing_values()
        tags.input_tags.sparse = True
        return tags

    def _reads_missing_values(self):
        """Whether fit takes NaN: the "auto" encoding reads it, and so must the teacher."""
        if not is_auto(self.student_preprocessor):
            return False
        if isinstance(self.teacher, str):  # precomputed: the teacher reads nothing
            return True
        try:
            return bool(get_tags(self.teacher).input_tags.allow_nan)
        except (AttributeError, TypeError, ValueError):  # a torch module, or no tags
            return False


def _check_same_columns(previous, X):
    """ValueError where a warm start's X does not have the columns, in their order, of the fit
    it continues (``previous``: its fitted attributes): the student reads them by position."""
    names = previous.get("feature_names_in_")
    columns = getattr(X, "columns", None)
    if names is None or columns is None:
        return
    given = [str(name) for name in columns]
    if given != [str(name) for name in names]:
        raise ValueError(
            f"warm_start continues a model fitted on the columns {list(names)}, but X has "
            f"{given}; pass them in that order, or set warm_start=False to fit afresh."
        )
