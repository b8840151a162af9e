"""The rows a student trains on, with what a search needs to train students of its own.

``fit_teacher`` returns a :class:`TrainingSet`:
the checked rows, the teacher's training targets, the validation split and the
seed of one fit, factories for the student, its optimizer and its criterion
exactly as ``fit`` would build them, and :meth:`TrainingSet.with_student`, which
makes a student trained on them a fitted estimator. It is the seam that
:class:`~skdistill.DistillerGridSearchCV` trains its candidates through, and
that any other search strategy can use.
"""

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.validation import _check_sample_weight

from ..students._column_reading import missing_columns
from ..training._net import STUDENT_TRAINING
from ._data import checked_data, student_rows
from ._encoding import feature_kinds
from ._split import fit_seed, split_rows
from ._student import auto_batch_size, build_module, check_device, optimizer_for
from ._tasks import scale_outputs
from ._teacher import (
    labels_only_accuracy,
    row_weights,
    teacher_outputs,
    warn_if_teacher_at_chance,
)

__all__ = ["TrainingSet", "training_set"]


class TrainingSet:
    """One fit's student rows, split and seed, and the parts ``fit`` would train on them.

    Returned by ``fit_teacher`` (of either
    distiller); not built directly. It holds the fitted attributes of the
    teacher and the encoding (``fitted``), with which :meth:`with_student`
    makes fitted estimators.

    Parameters
    ----------
    params : DistilledClassifier or DistilledRegressor
        The estimator whose parameters the fit reads (it is not changed).
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
    fitted : dict
        As the attribute below.

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
        The teacher's accuracy (or R2) on the labelled rows, and its name; None
        where the fit already warned that it is no better than chance.
    labels_only : float or None
        For a teacher that is not refitted, the held-out accuracy a linear
        model reaches on the student's rows and the labels alone (None
        otherwise).
    encodings : list
        The candidate encodings of ``student_preprocessor="auto"``, the first
        in use (``[None]`` for any other); see :meth:`encode_with`.
    encoder : transformer or None
        The fitted encoding ``X`` was read through (None: as given).
    fitted : dict
        The fitted attributes that describe the data, the targets and the
        teacher (``n_features_in_``, ``classes_``, ``teacher_``, ...), as a
        fitted estimator holds them.

    See Also
    --------
    DistillerGridSearchCV : Trains its candidates side by side on a training set.

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

    def __init__(self, params, task, teacher, X_teacher, rows, train_idx, valid_idx, seed,
                 batch_size, fitted):
        self._params = params
        self.task = task
        self.teacher = teacher
        self.X_teacher = X_teacher
        self.X, self.teacher_outputs, self.target, self.sample_weight = rows
        self.train_idx = train_idx
        self.valid_idx = valid_idx
        self.seed = seed
        self.batch_size = batch_size
        self.fitted = fitted
        self.teacher_score = None
        self.labels_only = None  # a linear model's held-out accuracy on the labels alone
        self.encoders = {None: None}
        self.encoder_kept = None  # the rows an encoding is fitted on (None: all)
        self.previous = {}  # the fitted attributes a warm start continues

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
        self.X, data = student_rows(
            self._params, self.X_teacher, self.target, self.encoders[name], self.encoder_kept,
            self.seed, self.previous,
        )
        earlier = ("n_features_in_", "feature_names_in_")  # the new encoder's, if it has them
        kept = {k: v for k, v in self.fitted.items() if k not in earlier}
        self.fitted = {**kept, **data, "student_encoding_": name}

    @property
    def encoder(self):
        return self.fitted.get("student_preprocessor_")

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
        device = check_device(self._params)
        with STUDENT_TRAINING, torch.random.fork_rng(
            devices=[device] if device.type == "cuda" else []
        ):
            torch.manual_seed(self.seed)
            return build_module(self._params, self.task, self.fitted, module_params).to(device)

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
        return optimizer_for(self._params, parameters)

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
        return self._params._fitted_with(
            self.fitted, module, n_iter, batch_size=self.batch_size,
            sparse_input=sp.issparse(self.X),
        )


def training_set(params, task, teacher, X, y, precomputed, sample_weight, encoders, previous):
    """Check the data, fit the teacher and return the student's labelled rows, split and seed.

    The data and teacher stages of a fit: the rows are read through the
    first of the candidate ``encoders`` (``{name: transformer}``; ``{None:
    None}``: as given). Returns a :class:`TrainingSet` whose ``fitted`` holds
    the fitted attributes that describe the data, the targets and the
    teacher; no student is trained. ``previous``: the fitted attributes a
    warm start continues (empty: none).
    """
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        if not (sample_weight > 0).any():  # before an encoding is fitted on the weighted rows
            raise ValueError(
                "sample_weight is zero for every row; at least one non-zero weight is needed."
            )
    encoder_kept = None if sample_weight is None else sample_weight > 0
    seed = fit_seed(params.random_state)  # one draw: the encoding's sample, the split, the student
    name = next(iter(encoders))
    X_teacher, X_student, y, data = checked_data(
        params, task, X, y, encoders[name], encoder_kept, seed, previous
    )
    target, labelled = task.encode_targets(y, sample_weight)
    fitted = {
        **data, **task.fitted_attributes(), "student_encoding_": name,
        "fills_missing_": params._reads_missing_values(),  # the teacher may go: kept here
    }
    if name is not None:
        fitted["feature_kinds_"] = feature_kinds(X)  # checked at predict time
    weights, student_weights = row_weights(task, sample_weight, target, labelled)
    if precomputed is not None:
        fitted["teacher_"] = None
        given = task.precomputed_outputs(precomputed, len(y))
        outputs = scale_outputs(given, task.output_scaling)
    else:
        teacher, outputs = teacher_outputs(params, task, teacher, X_teacher, y, labelled, weights)
        fitted["teacher_"] = teacher.model
        if name is not None and not fitted["fills_missing_"] and missing_columns(X_teacher):
            # its tags aside (a Pipeline's are its first step's), the teacher has just given
            # finite outputs for rows with missing values: predict fills them as fit did
            fitted["fills_missing_"] = True
    teacher_score = warn_if_teacher_at_chance(task, outputs, target, labelled)
    kept = None if student_weights is None else student_weights > 0  # zero weight: absent
    train_idx, valid_idx = split_rows(
        labelled, task.stratify(target), params.validation_fraction, seed, kept=kept
    )
    training = TrainingSet(
        params, task, teacher, X_teacher, (X_student, outputs, target, student_weights),
        train_idx, valid_idx, seed, auto_batch_size(params.batch_size, len(train_idx)), fitted,
    )
    training.teacher_score = teacher_score
    training.encoder_kept = encoder_kept
    training.encoders = encoders
    training.previous = previous
    if not teacher.refits and precomputed is None and task.asked.classes is not None:
        # a prefit teacher may read other features than it was trained on: compare it
        # with what the labels alone reach
        training.labels_only = labels_only_accuracy(
            X_student, target, train_idx, valid_idx, seed
        )
    return training
