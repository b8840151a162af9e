"""DistilledClassifier: a small PyTorch student trained on a big teacher's soft outputs."""

from numbers import Real

import numpy as np
import torch
from sklearn.base import ClassifierMixin, MetaEstimatorMixin, _fit_context, clone
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets

from ._base import BaseDistiller
from ._losses import SOFT_LOSSES, DistillationLoss
from ._teacher import check_teacher_methods, teacher_logits

__all__ = ["DistilledClassifier"]


class DistilledClassifier(ClassifierMixin, MetaEstimatorMixin, BaseDistiller):
    """Knowledge distillation as a scikit-learn classifier.

    Fits ``teacher`` (or uses it as is, if frozen), then trains a small PyTorch
    ``student_module`` through skorch on a mix of the teacher's softened outputs
    and the true labels::

        loss = alpha * T**2 * KL(softmax(z_t / T) || softmax(z_s / T))
               + (1 - alpha) * CE(y, z_s)

    ``alpha`` is the weight of the **teacher** term: ``alpha=0`` is plain
    hard-label training of the student (the baseline distillation must beat),
    ``alpha=1`` pure imitation of the teacher. (Some libraries weigh the label
    term instead; this one does not.) A scikit-learn teacher's logits are
    ``log(clip(predict_proba, 1e-7))``, or ``decision_function`` when it has no
    ``predict_proba``; its columns are matched to ``classes_`` by label.

    Parameters
    ----------
    teacher : classifier
        An unfitted scikit-learn classifier, cloned and fitted on ``(X, y)`` in
        ``fit`` (``teacher_``); or a fitted one wrapped in
        ``sklearn.frozen.FrozenEstimator``, used as is and never refitted (also
        inside ``GridSearchCV``). A bare fitted classifier is refitted, like any
        scikit-learn meta-estimator does. It needs ``predict_proba`` or
        ``decision_function``; a frozen teacher may know more labels than ``y``
        holds, never fewer.
    student_module : None, torch.nn.Module subclass or instance, default=None
        The student; it maps float32 rows to logits. A class whose constructor
        takes ``n_features`` and/or ``n_classes`` gets them from the data; its
        other arguments are set as ``module__<name>=value``. An instance is
        deep-copied at fit. ``None`` is :class:`MLPStudent`, whose hidden sizes
        are ``module__hidden_layer_sizes`` (default ``(64,)``).
    T : float > 0, default=1.0
        Softmax temperature of the teacher term.
    alpha : float in [0, 1], default=0.5
        Weight of the teacher term (see above).
    loss : {"hinton"} or callable, default="hinton"
        The teacher term; a callable has the signature
        ``loss(student_logits, teacher_logits, target, *, T)`` and returns a
        scalar tensor (``target`` holds class indices, -1 for unlabelled rows).
    max_epochs : int, default=200
        Upper bound on training epochs.
    batch_size : int, default=64
    lr : float, default=1e-3
        Learning rate of ``optimizer``.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Its other arguments are set as ``optimizer__<name>=value``.
    validation_fraction : float in (0, 1) or None, default=0.1
        Share of rows held out (stratified) to log ``valid_acc``,
        ``valid_agreement`` and ``valid_loss`` each epoch and to stop early. None
        trains on every row without early stopping.
    n_iter_no_change : int or None, default=10
        Stop when ``valid_loss`` has not improved for this many epochs and
        restore the best epoch's weights. None trains ``max_epochs`` epochs.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Added to the net's callbacks (e.g. ``skorch.callbacks.ProgressBar()``).
    device : str or torch.device, default="cpu"
        Where the student trains and predicts, e.g. ``"cuda"``.
    warm_start : bool, default=False
        Continue training the fitted student on the next ``fit`` instead of
        starting afresh (the teacher is still refitted unless frozen).
    verbose : int, default=0
        skorch's per-epoch log when > 0.
    random_state : int, RandomState instance or None, default=None
        Seeds the student's initialisation, the validation split and the batch
        order: the same seed and data give identical predictions.
    **kwargs
        skorch-style routed parameters: ``module__*``, ``optimizer__*``,
        ``iterator_train__*``, ``iterator_valid__*``, ``callbacks__*``.

    Attributes
    ----------
    teacher_ : classifier
        The fitted teacher.
    student_ : skorch.NeuralNet
        The fitted student net; ``student_.module_`` is the torch module and
        ``student_.history`` the per-epoch log.
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined only when X has string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skdistill import DistilledClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(
    ...     StandardScaler(),
    ...     DistilledClassifier(RandomForestClassifier(50, random_state=0), T=2.0,
    ...                         alpha=0.5, module__hidden_layer_sizes=(16,), random_state=0),
    ... ).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    >>> clf.predict_proba(X[:2]).sum(axis=1).round(6)
    array([1., 1.])
    """

    _parameter_constraints = {
        **BaseDistiller._parameter_constraints,
        "T": [Interval(Real, 0, None, closed="neither")],
        "loss": [StrOptions(set(SOFT_LOSSES)), callable],
    }

    def __init__(
        self,
        teacher,
        student_module=None,
        *,
        T=1.0,
        alpha=0.5,
        loss="hinton",
        max_epochs=200,
        batch_size=64,
        lr=1e-3,
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
        self.T = T
        self.alpha = alpha
        self.loss = loss
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
    def fit(self, X, y):
        """Fit the teacher (unless frozen), then train the student on its soft targets.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels of any type scikit-learn accepts.

        Returns
        -------
        self : DistilledClassifier
        """
        self._check_extra_params()
        check_teacher_methods(self.teacher)
        with self._atomic_fit():
            X32, y, X_teacher = self._validate_fit_data(X, y)
            check_classification_targets(y)
            classes, y_index = np.unique(y, return_inverse=True)
            if len(classes) < 2:
                raise ValueError(
                    f"y has only one class ({classes[0]!r}); a classifier needs at least "
                    "two classes to learn from."
                )
            if self.warm_start and hasattr(self, "classes_"):
                if not np.array_equal(classes, self.classes_):
                    raise ValueError(
                        f"warm_start=True but y has classes {classes.tolist()} while the "
                        f"fitted student predicts {self.classes_.tolist()}."
                    )
            self.classes_ = classes
            self.teacher_ = _fit_teacher(self.teacher, X_teacher, y)
            logits = teacher_logits(self.teacher_, X_teacher, classes)
            criterion = DistillationLoss(T=self.T, alpha=self.alpha, loss=self.loss)
            self.student_ = self._train_student(
                X32,
                logits,
                y_index.astype(np.int64),
                criterion,
                n_outputs=len(classes),
                stratify=y_index,
            )
        return self

    def predict_proba(self, X):
        """Class probabilities of the student; columns follow ``classes_``, rows sum to 1.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float64
        """
        X32 = self._validate_predict_data(X)
        logits = torch.from_numpy(self._student_output(X32))
        return torch.softmax(logits, dim=1).numpy()

    def predict(self, X):
        """Predicted labels (values of ``classes_``).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


def _fit_teacher(teacher, X, y):
    """Clone and fit the teacher; a FrozenEstimator clones to itself and ignores fit."""
    fitted = clone(teacher)
    try:
        fitted.fit(X, y)
    except Exception as exc:
        exc.add_note(f"(raised while fitting the teacher {type(teacher).__name__} in DistilledClassifier.fit)")
        raise
    return fitted
