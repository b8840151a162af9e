"""DistilledRegressor: a small PyTorch student fitted to a mix of targets and a teacher's predictions."""

import numpy as np
import torch
from sklearn.base import MetaEstimatorMixin, RegressorMixin, _fit_context

from ..losses._losses import RegressionDistillationLoss
from ..transfer._dask import is_dask_collection
from ._base import BaseDistiller
from ._tasks import RegressionTask

__all__ = ["DistilledRegressor"]


class DistilledRegressor(RegressorMixin, MetaEstimatorMixin, BaseDistiller):
    """Knowledge distillation for regression, as a scikit-learn regressor.

    The student minimises::

        alpha * MSE(student, teacher) + (1 - alpha) * MSE(student, y)

    ``alpha`` weighs the teacher term: ``alpha=0`` is plain training on the
    targets, ``alpha=1`` pure imitation. Targets and teacher predictions are
    standardised with the labelled targets' mean and standard deviation while
    training (as ``TransformedTargetRegressor`` would), and predictions are
    mapped back, so the student needs no scaling of its own.

    Parameters
    ----------
    teacher : regressor, torch.nn.Module, fitted skorch net or "precomputed"
        An unfitted scikit-learn regressor is cloned and fitted on the labelled
        rows; ``FrozenEstimator(fitted)`` is used as is; a trained module or
        skorch net is used as is (one output column). ``"precomputed"``: pass
        ``teacher_predictions`` to ``fit``.
    student_module : None, torch.nn.Module subclass or instance, default=None
        Maps float32 rows to ``(n, 1)`` or ``(n,)`` predictions. A class taking
        ``n_features``/``n_outputs`` gets them from the data; ``module__<name>``
        sets the rest. ``None`` is :class:`MLPStudent`.
    student_preprocessor : None or transformer, default=None
        Fitted on ``X`` in ``fit``; the student reads its output while the
        teacher reads ``X`` as given (see :class:`DistilledClassifier`).
    alpha : float in [0, 1], default=0.5
        Weight of the teacher term.
    teacher_cv : None, int or cross-validation splitter, default=None
        Cross-fitted teacher predictions for the labelled rows (see
        :class:`DistilledClassifier`).
    transfer_set : None, TransferSampler, array-like, DataFrame or dask collection, default=None
        Rows labelled by the teacher only: synthetic (``Munge``, ``Spunge``,
        ``Mixup``), unlabelled rows, or a dask collection streamed from a cluster (see
        :class:`DistilledClassifier`; dask ``X`` and ``y`` work as there, and
        ``predict`` of a dask collection is lazy).
    pruning : None or Pruning, default=None
        Structured pruning after training (see :class:`DistilledClassifier`).
    memory : None, str or joblib.Memory, default=None
        Cache of the fitted teacher and its predictions (see
        :class:`DistilledClassifier`).
    max_epochs, batch_size, lr, optimizer, validation_fraction, n_iter_no_change, \
callbacks, device, warm_start, verbose, random_state, **kwargs
        As in :class:`DistilledClassifier`. The validation split is random (not
        stratified) and holds labelled rows only; early stopping watches
        ``valid_label_loss``, the squared error against its targets.

    Attributes
    ----------
    teacher_ : regressor or None
    student_ : skorch.NeuralNet
    student_preprocessor_ : transformer
        Only when a ``student_preprocessor`` is given.
    n_iter_ : int
        Epochs the student has been trained for (summed over warm starts).
    fit_times_ : dict
        Seconds spent on ``"teacher"``, ``"transfer_set"`` and ``"student"``.
    n_student_features_ : int
    target_mean_, target_scale_ : float
        The standardisation of the targets used in training (weighted by
        ``sample_weight`` when given).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Notes
    -----
    Rows whose target is NaN are unlabelled: they contribute the teacher term
    only, the teacher is not fitted on them, and they are never held out.
    ``sample_weight`` works as in :class:`DistilledClassifier`.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from skdistill import DistilledRegressor
    >>> X, y = make_friedman1(n_samples=300, random_state=0)
    >>> reg = DistilledRegressor(RandomForestRegressor(50, random_state=0), alpha=0.5,
    ...                          random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.7
    True
    """

    _task = "regressor"
    _y_finite = "allow-nan"
    _unlabelled_target = np.nan
    _precomputed_names = "teacher_predictions=..."
    _routed_prefixes = ("module", "optimizer", "iterator_train", "iterator_valid", "callbacks")

    def __init__(
        self,
        teacher,
        student_module=None,
        *,
        student_preprocessor=None,
        alpha=0.5,
        teacher_cv=None,
        transfer_set=None,
        pruning=None,
        memory=None,
        max_epochs=200,
        batch_size="auto",
        lr=3e-3,
        optimizer=torch.optim.Adam,
        validation_fraction=0.1,
        n_iter_no_change=10,
        callbacks=None,
        device="cpu",
        warm_start=False,
        verbose=0,
        random_state=None,
        **kwargs,
    ):
        self.teacher = teacher
        self.student_module = student_module
        self.student_preprocessor = student_preprocessor
        self.alpha = alpha
        self.teacher_cv = teacher_cv
        self.transfer_set = transfer_set
        self.pruning = pruning
        self.memory = memory
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.device = device
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state
        self._store_extra_params(kwargs)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, teacher_predictions=None):
        """Fit the teacher (unless frozen), then train the student.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Targets; NaN marks an unlabelled row.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights of both loss terms and the teacher's fit.
        teacher_predictions : array-like of shape (n_samples,), default=None
            With ``teacher="precomputed"``: the teacher's prediction for each row.

        Returns
        -------
        self : DistilledRegressor
        """
        precomputed = None if teacher_predictions is None else ("predictions", teacher_predictions)
        return self._fit(X, y, precomputed, sample_weight)

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,), float64
        """
        if is_dask_collection(X):
            return self._lazily("predict", X, None, np.float64)
        rows = self._validate_predict_data(X)
        out = self._student_output(rows).reshape(rows.shape[0], -1)[:, 0]
        return out * self.target_scale_ + self.target_mean_

    # ---------------------------------------------------- hooks of the fit
    def _encode_targets(self, y, sample_weight=None):
        try:
            y = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"y must be numeric for a regressor: {exc}") from None
        if np.isinf(y).any():
            raise ValueError("Input y contains infinity; only NaN may mark an unlabelled row.")
        labelled = ~np.isnan(y)
        if not labelled.any():
            raise ValueError("Input y contains NaN only: there is no labelled row to learn from.")
        if not (self.warm_start and hasattr(self, "target_mean_")):
            weights = None if sample_weight is None else sample_weight[labelled]
            if weights is not None and not weights.any():
                weights = None  # refused with a clear message once the weights are combined
            self.target_mean_ = float(np.average(y[labelled], weights=weights))
            variance = np.average((y[labelled] - self.target_mean_) ** 2, weights=weights)
            scale = float(np.sqrt(variance))
            self.target_scale_ = scale if scale > 0 else 1.0
        return ((y - self.target_mean_) / self.target_scale_).astype(np.float32), labelled

    def _task_object(self):
        return RegressionTask()

    def _class_weights(self, target, labelled):
        return None

    def _check_weighted_loss(self):
        pass

    def _output_scaling(self):
        return self.target_mean_, self.target_scale_

    def _n_outputs(self):
        return 1

    def _dask_target_encoder(self, y):
        """Set the target scaling from a dask y (NaN: unlabelled); return the encoder."""
        import dask
        import dask.array as da

        values = y.to_dask_array() if hasattr(y, "to_dask_array") else y
        values = values.astype(np.float64)
        labelled, infinite, mean, std = dask.compute(
            (~da.isnan(values)).sum(), da.isinf(values).any(), da.nanmean(values),
            da.nanstd(values),
        )
        if infinite:
            raise ValueError("Input y contains infinity; only NaN may mark an unlabelled row.")
        if not labelled:
            raise ValueError("Input y contains NaN only: there is no labelled row to learn from.")
        if not (self.warm_start and hasattr(self, "target_mean_")):
            self.target_mean_ = float(mean)
            self.target_scale_ = float(std) if std > 0 else 1.0
        return Standardise(self.target_mean_, self.target_scale_)

    def _precomputed_outputs(self, precomputed, n_rows):
        _, values = precomputed
        values = np.asarray(values, dtype=np.float64)
        if values.shape not in ((n_rows,), (n_rows, 1)):
            raise ValueError(
                f"teacher_predictions has shape {values.shape}; expected ({n_rows},): one "
                "prediction per row of X."
            )
        if not np.isfinite(values).all():
            raise ValueError("teacher_predictions holds NaN or infinite values.")
        return self._scale_outputs(values.reshape(n_rows, 1))

    def _criterion(self):
        return RegressionDistillationLoss(alpha=self.alpha)

    def _callbacks(self):
        return []


class Standardise:
    """Targets of one partition to the standardised scale the student trains on.

    Examples
    --------
    >>> import numpy as np
    >>> Standardise(10.0, 2.0)(np.array([12.0, np.nan]))
    array([ 1., nan], dtype=float32)
    """

    def __init__(self, mean, scale):
        self.mean = mean
        self.scale = scale

    def __call__(self, values):
        values = np.asarray(values, dtype=np.float64)
        if np.isinf(values).any():
            raise ValueError("Input y contains infinity; only NaN may mark an unlabelled row.")
        return ((values - self.mean) / self.scale).astype(np.float32)
