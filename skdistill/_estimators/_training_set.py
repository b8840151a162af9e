"""The rows a student trains on, with what a search needs to train students of its own.

``fit_teacher`` returns a :class:`TrainingSet`:
the checked rows, the teacher's training targets, the validation split and the
seed of one fit, factories for the student, its optimizer and its criterion
exactly as ``fit`` would build them, and :meth:`TrainingSet.with_student`, which
makes a student trained on them a fitted estimator. It is the seam that
:class:`~skdistill.DistilledClassifierCV` trains its candidates through, and
that any other search strategy can use.
"""

import torch

from ..training._net import STUDENT_TRAINING

__all__ = ["TrainingSet"]


class TrainingSet:
    """One fit's student rows, split and seed, and the parts ``fit`` would train on them.

    Returned by ``fit_teacher`` (of either
    distiller); not built directly. It holds a copy of the estimator with the
    teacher and the encoding fitted, from which :meth:`with_student` makes
    fitted estimators.

    Parameters
    ----------
    estimator : DistilledClassifier or DistilledRegressor
        The copy whose teacher and encoding are fitted.
    task : object
        The fit's task (how targets are encoded, the criterion).
    teacher : object
        The fitted teacher's adapter.
    X_teacher : array-like
        The rows as the teacher reads them (for transfer sets).
    rows : tuple
        ``(X, teacher_outputs, target, sample_weight)``, as the attributes below.
    train_idx, valid_idx : ndarray or None
        As the attributes below.
    seed, batch_size : int
        As the attributes below.

    Attributes
    ----------
    X : ndarray or CSR matrix of shape (n_rows, n_student_features)
        The student's float32 rows (after ``student_preprocessor``), one per
        row of the fit's ``X``: the caller's own array, read-only, where it
        already is C-ordered float32.
    teacher_outputs : ndarray of shape (n_rows, n_outputs)
        The training targets the teacher gives each row: logits, or for a
        regressor standardised predictions.
    target : ndarray of shape (n_rows,)
        Class indices (-1: unlabelled), or standardised targets (NaN: unlabelled).
    sample_weight : ndarray of shape (n_rows,) or None
        Row weights normalised to mean 1 (None: all equal).
    train_idx, valid_idx : ndarray
        The rows that train and those held out for early stopping (None: no
        split); rows of weight zero are in neither.
    seed : int
        Seeds the student's initial weights and batch order.
    batch_size : int
        Rows per training step (``batch_size="auto"`` resolved).
    teacher_score : (float, str) or None
        The teacher's accuracy (or R2) on the labelled rows, and its name.
    labels_only : float or None
        For a teacher that is not refitted, the held-out accuracy a linear
        model reaches on the student's rows and the labels alone (None
        otherwise).
    encodings : list
        The candidate encodings of ``student_preprocessor="auto"``, the first
        in use (``[None]`` for any other); see :meth:`encode_with`.
    encoder : transformer or None
        The fitted encoding ``X`` was read through (None: as given).

    See Also
    --------
    DistilledClassifierCV : Trains its candidates side by side on a training set.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill import DistilledClassifier
    >>> X = np.random.RandomState(0).normal(size=(80, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> training = DistilledClassifier("precomputed", max_epochs=5, random_state=0).fit_teacher(
    ...     X, y, teacher_proba=np.eye(2)[y] * 0.8 + 0.1)
    >>> student = training.new_student()  # train it any way you like, then:
    >>> model = training.with_student(student.eval())
    >>> model.predict_proba(X[:2]).shape
    (2, 2)
    """

    def __init__(self, estimator, task, teacher, X_teacher, rows, train_idx, valid_idx, seed,
                 batch_size):
        self._estimator = estimator
        self.task = task
        self.teacher = teacher
        self.X_teacher = X_teacher
        self.X, self.teacher_outputs, self.target, self.sample_weight = rows
        self.train_idx = train_idx
        self.valid_idx = valid_idx
        self.seed = seed
        self.batch_size = batch_size
        self.teacher_score = None
        self.labels_only = None  # a linear model's held-out accuracy on the labels alone
        self.encoders = {None: None}
        self.encoder_kept = None  # the rows an encoding is fitted on (None: all)

    @property
    def encodings(self):
        return list(self.encoders)

    def encode_with(self, name):
        """Read the student's rows through the candidate encoding ``name`` instead.

        Fits that encoding as ``fit`` does for each candidate (on the same
        rows, drawn with the same seed) and replaces ``X`` and
        ``encoder``; students made by :meth:`with_student` afterwards read
        rows through it.

        Parameters
        ----------
        name : str
            One of ``encodings``.
        """
        self.X = self._estimator._fit_preprocessor(
            self.X_teacher, self.target, self.encoders[name], self.encoder_kept, self.seed
        )
        self._estimator.student_encoding_ = name

    @property
    def encoder(self):
        return getattr(self._estimator, "student_preprocessor_", None)

    @property
    def rows(self):
        """``(X, teacher_outputs, target, sample_weight)``."""
        return self.X, self.teacher_outputs, self.target, self.sample_weight

    def new_student(self, **module_params):
        """A new student module, initialised as ``fit`` initialises it (from ``seed``).

        Parameters
        ----------
        **module_params : dict
            Override the estimator's ``module__*`` parameters.

        Returns
        -------
        module : torch.nn.Module
            On the estimator's device.
        """
        estimator = self._estimator
        device = estimator._check_device()
        with STUDENT_TRAINING, torch.random.fork_rng(
            devices=[device] if device.type == "cuda" else []
        ):
            torch.manual_seed(self.seed)
            return estimator._build_module(self.task, module_params).to(device)

    def new_optimizer(self, parameters):
        """The estimator's optimizer (its ``lr`` and ``optimizer__*``) over ``parameters``.

        Parameters
        ----------
        parameters : iterable of torch.Tensor
            The weights it updates.

        Returns
        -------
        optimizer : torch.optim.Optimizer
            A new optimizer, as the estimator's ``fit`` builds it.
        """
        return self._estimator._optimizer_for(parameters)

    def criterion(self, **settings):
        """The training criterion ``fit`` would use.

        Parameters
        ----------
        **settings : dict
            ``T``, ``alpha``: override the estimator's.

        Returns
        -------
        criterion : DistillationLoss or RegressionDistillationLoss
            A new criterion, the task's loss with these settings.
        """
        return self.task.criterion(**settings)

    def with_student(self, module, n_iter=0):
        """A fitted estimator whose student is ``module``, trained on these rows, as it is.

        The student joins the teacher and the encoding fitted here; the
        estimator predicts, scores, exports and pickles like one ``fit``
        returns. Each call returns a new estimator.

        Parameters
        ----------
        module : torch.nn.Module
            Built by :meth:`new_student` (or of the same shape) and trained;
            its weights are used, not copied.
        n_iter : int, default=0
            The estimator's ``n_iter_``: epochs the student trained.

        Returns
        -------
        estimator : DistilledClassifier or DistilledRegressor
            A new fitted estimator of the kind that made this training set.
        """
        return self._estimator.with_student(module, n_iter)
