"""The rows a student trains on, with what a search needs to train students of its own.

:meth:`~skdistill.DistilledClassifier.fit_teacher` returns a :class:`TrainingSet`:
the checked rows, the teacher's training targets, the validation split and the
seed of one fit, and factories for the student, its optimizer and its
criterion exactly as ``fit`` would build them. It is the seam that
:class:`~skdistill.DistilledClassifierCV` trains its candidates through, and
that any other search strategy can use.
"""

import torch

from ..training._net import STUDENT_TRAINING

__all__ = ["TrainingSet"]


class TrainingSet:
    """One fit's student rows, split and seed, and the parts ``fit`` would train on them.

    Returned by ``fit_teacher``; not built directly.

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

        Fits that encoding on the estimator (``student_preprocessor_``,
        ``n_student_features_``, ``student_encoding_``), as ``fit`` does for
        each candidate (on the same rows, drawn with the same seed), and
        replaces :attr:`X`.
        """
        self.X = self._estimator._fit_preprocessor(
            self.X_teacher, self.target, self.encoders[name], self.encoder_kept, self.seed
        )
        self._estimator.student_encoding_ = name

    @property
    def rows(self):
        """``(X, teacher_outputs, target, sample_weight)``."""
        return self.X, self.teacher_outputs, self.target, self.sample_weight

    def new_student(self, **module_params):
        """A new student module, initialised as ``fit`` initialises it (from ``seed``).

        ``module_params`` override the estimator's ``module__*`` parameters.
        """
        estimator = self._estimator
        device = estimator._check_device()
        with STUDENT_TRAINING, torch.random.fork_rng(
            devices=[device] if device.type == "cuda" else []
        ):
            torch.manual_seed(self.seed)
            return estimator._build_module(self.task, module_params).to(device)

    def new_optimizer(self, parameters):
        """The estimator's optimizer (its ``lr`` and ``optimizer__*``) over ``parameters``."""
        return self._estimator._optimizer_for(parameters)

    def criterion(self, **settings):
        """The training criterion; ``settings`` (``T``, ``alpha``) override the estimator's."""
        return self.task.criterion(**settings)
