"""DistilledRegressor: a small PyTorch student fitted to targets and a teacher's predictions."""

import numpy as np
import torch
from sklearn.base import MetaEstimatorMixin, RegressorMixin, _fit_context

from ..transfer._dask import is_dask_collection
from ._base import BaseDistiller, LabelledRowsScore
from ..stages._tasks import RegressionTask

__all__ = ["DistilledRegressor"]


class DistilledRegressor(LabelledRowsScore, RegressorMixin, MetaEstimatorMixin,
                         BaseDistiller):
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
    student_preprocessor : "auto", None or transformer, default="auto"
        Fitted on ``X`` in ``fit``; the student reads its output while the
        teacher reads ``X`` as given. ``"auto"`` chooses the student's encoding
        of a table (see :class:`DistilledClassifier`); ``None`` reads X as given.
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
    feature_distillation : None or FeatureDistillation, default=None
        Match named intermediate layers of a torch teacher (see
        :class:`DistilledClassifier`).
    memory : None, str or joblib.Memory, default=None
        Cache of the fitted teacher and its predictions (see
        :class:`DistilledClassifier`).
    max_epochs : int, default=200
        Upper bound on training epochs.
    batch_size : int or "auto", default="auto"
        Rows per training step. ``"auto"`` takes a sixteenth of the training
        rows, at least 32 and at most 256.
    lr : float, default=3e-3
        Learning rate of ``optimizer``.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Its other arguments are set as ``optimizer__<name>=value``.
    solver : {"auto", "numpy", "torch"}, default="auto"
        The engine that trains the student (``solver_`` says which ran):
        ``"numpy"`` computes each step of the built-in :class:`MLPStudent` in
        closed form on the CPU, ``"torch"`` runs skorch's loop through autograd
        for any student, ``"auto"`` takes numpy wherever it applies.
    validation_fraction : float in (0, 1) or None, default=0.1
        Share of labelled rows held out, at random (not stratified), to log
        ``valid_loss`` and ``valid_label_loss`` each epoch and to stop early.
        None trains on every row without early stopping.
    n_iter_no_change : int or None, default=10
        Stop when ``valid_label_loss``, the squared error against the held-out
        targets (without the teacher term), has not improved for this many
        epochs, and keep the mean of the best epoch's weights and those of
        the epochs after it (``callbacks__early_stopping__average=False``:
        the best epoch's alone); None trains ``max_epochs`` epochs.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Added to the net's callbacks (e.g. ``skorch.callbacks.ProgressBar()``).
    device : str or torch.device, default="cpu"
        Where the student trains and predicts, e.g. ``"cuda"``.
    warm_start : bool, default=False
        Continue training the fitted student on the next ``fit``, with the
        current settings, instead of starting afresh; the new targets are
        standardised anew and a built-in student's last layer rescaled so it
        starts from the same predictions. A failed warm fit leaves the model as
        it was.
    verbose : int, default=0
        Print skorch's per-epoch log when > 0.
    random_state : int, RandomState instance or None, default=None
        Seeds the student's initialisation, the validation split, the batch
        order and the transfer set (not the teacher): the same seed and data
        give identical predictions.
    **kwargs
        Routed parameters, as skorch spells them: ``module__*``,
        ``optimizer__*``, ``iterator_train__*``, ``iterator_valid__*``,
        ``callbacks__*``.

    Attributes
    ----------
    teacher_ : regressor or None
    student_ : skorch.NeuralNet
    student_preprocessor_ : transformer
        The fitted encoding (absent with ``student_preprocessor=None``).
    student_encoding_ : str or None
        What ``"auto"`` chose; ``student_encoding_losses_`` holds each one's
        loss, ``feature_kinds_`` the column kinds of a frame or ``object``
        array, checked at predict and by a warm fit.
    fills_missing_ : bool
        Whether predict fills a missing number with its column's fitted median
        (also in a column that had none in fit): True where fit read missing
        values (the ``"auto"`` encoding and a teacher that reads them: by its
        tags, or by its finite outputs for rows of ``X`` that held one); else
        predict refuses them, as fit does. Kept by :func:`~skdistill.strip_teacher`.
    n_iter_ : int
        Epochs the student has been trained for (summed over warm starts).
    loss_curve_ : list of float
        The training loss of each of those epochs, as ``MLPRegressor``'s
        (read from ``student_.history``, which holds every per-epoch figure).
    validation_scores_ : list of float or None
        The R2 on the held-out rows after each epoch, as ``MLPRegressor``'s (NaN
        for the epochs of a fit that held none out); None where no fit held any out.
    alpha_ : float
        The teacher's weight the student trained with (``alpha``).
    solver_ : {"numpy", "torch"}
        The engine that trained the student in the last fit.
    fit_times_ : dict
        Seconds spent on ``"teacher"``, ``"transfer_set"`` and ``"student"``.
    n_student_features_ : int
    target_mean_, target_scale_ : float
        The standardisation of the targets used in training (weighted by
        ``sample_weight`` when given).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
    input_shape_ : tuple of int
        The shape of one sample of images or sequences (see :class:`DistilledClassifier`).

    See Also
    --------
    DistilledClassifier : The same for classification.
    DistillerGridSearchCV : Searches ``alpha`` and the student's width side by side.
    MLPStudent : The default student.

    Notes
    -----
    Rows whose target is NaN are unlabelled: they contribute the teacher term
    only, the teacher is not fitted on them, and they are never held out.
    ``sample_weight`` works as in :class:`DistilledClassifier`.

    References
    ----------
    .. [1] C. Bucilua, R. Caruana, A. Niculescu-Mizil. "Model Compression". KDD 2006.

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

    _task_class = RegressionTask
    _validation_score = "valid_r2"
    _routed_prefixes = ("module", "optimizer", "iterator_train", "iterator_valid", "callbacks")

    def __init__(
        self,
        teacher,
        student_module=None,
        *,
        student_preprocessor="auto",
        alpha=0.5,
        teacher_cv=None,
        transfer_set=None,
        pruning=None,
        feature_distillation=None,
        memory=None,
        max_epochs=200,
        batch_size="auto",
        lr=3e-3,
        optimizer=torch.optim.Adam,
        solver="auto",
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
        self.feature_distillation = feature_distillation
        self.memory = memory
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.solver = solver
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
            Training rows; with a ``student_preprocessor``, anything it and the
            teacher accept.
        y : array-like of shape (n_samples,)
            Targets; NaN marks an unlabelled row.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights of both loss terms and the teacher's fit.
        teacher_predictions : array-like of shape (n_samples,), default=None
            With ``teacher="precomputed"``: the teacher's prediction for each row.

        Returns
        -------
        self : DistilledRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, teacher_predictions=teacher_predictions)

    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The rows to predict, as ``fit`` took them.

        Returns
        -------
        y : ndarray of shape (n_samples,), float64
            The student's predictions, in the targets' units.
        """
        if is_dask_collection(X):
            return self._lazily("predict", X, None, np.float64)
        rows = self._validate_predict_data(X)
        out = self._student_output(rows).reshape(rows.shape[0], -1)[:, 0]
        return out * self.target_scale_ + self.target_mean_
