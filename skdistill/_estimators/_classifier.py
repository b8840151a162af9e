"""DistilledClassifier: a small PyTorch student trained on a big teacher's soft outputs."""

from numbers import Real

import numpy as np
import torch
from sklearn.base import ClassifierMixin, MetaEstimatorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ..losses._soft import RegisteredLossName
from ..transfer._dask import is_dask_collection
from ..stages._auto import AUTO
from ._base import BaseDistiller, LabelledRowsScore
from ..stages._tasks import ClassificationTask

__all__ = ["DistilledClassifier"]


class DistilledClassifier(LabelledRowsScore, ClassifierMixin, MetaEstimatorMixin,
                          BaseDistiller):
    """Knowledge distillation as a scikit-learn classifier.

    Fits ``teacher`` (or uses it as is, if frozen), then trains a small PyTorch
    ``student_module`` through skorch on a mix of the teacher's softened outputs
    and the true labels::

        loss = alpha * T**2 * KL(softmax(z_t / T) || softmax(z_s / T))
               + (1 - alpha) * CE(y, z_s)

    ``alpha`` is the weight of the **teacher** term: ``alpha=0`` is plain
    hard-label training of the student (the baseline distillation must beat),
    ``alpha=1`` pure imitation (some libraries weigh the label term instead).
    A scikit-learn teacher's logits are ``log(clip(predict_proba, 1e-7))``, or
    ``decision_function`` without ``predict_proba``; columns match ``classes_``
    by label.

    Parameters
    ----------
    teacher : classifier, torch.nn.Module, fitted skorch net or "precomputed"
        An unfitted scikit-learn classifier is cloned and fitted on the
        labelled rows in ``fit`` (``teacher_``). A fitted one wrapped in
        ``sklearn.frozen.FrozenEstimator`` is used as is and never refitted
        (also inside ``GridSearchCV``); a bare fitted classifier is refitted,
        as scikit-learn meta-estimators do. It needs ``predict_proba`` or
        ``decision_function``; a frozen teacher may know more labels than ``y``
        holds, never fewer. A trained ``torch.nn.Module`` or fitted skorch net
        is used as is; a module's output columns are the logits of the sorted
        labels. ``"precomputed"``: the teacher's outputs are passed to ``fit``
        as ``teacher_proba`` or ``teacher_logits`` (for a teacher behind an API).
    student_module : None, torch.nn.Module subclass or instance, default=None
        The student; it maps float32 rows to logits. A class whose constructor
        takes ``n_features``, ``n_classes`` and/or ``n_outputs`` gets them from
        the data; its other arguments are set as ``module__<name>=value``. An
        instance is deep-copied at fit. ``None`` is :class:`MLPStudent` (hidden
        sizes ``module__hidden_layer_sizes``), for images :class:`ConvStudent`.
        With sparse ``X`` a student receives dense float32 batches, one at a
        time, unless its class sets ``accepts_sparse = True`` (as
        :class:`MLPStudent` does): then ``torch.sparse_coo_tensor`` batches.
    student_preprocessor : "auto", None or transformer, default="auto"
        The student's encoding of ``X`` (numbers out), fitted in ``fit``
        (``student_preprocessor_``); the teacher reads ``X`` as given.
        ``"auto"``: :func:`~skdistill.make_student_encoder` for a table (frames
        with strings and missing values too; fitted on at most 100,000 rows),
        numeric columns read ``"both"`` or ``"scale"``, whichever student has
        the lower held-out label loss (``student_encoding_``; the ``"scale"``
        student races the first and stops once, at its recent pace, it could
        not catch it); dask rows and arrays of other shapes are read as given.
        Above 100,000 training rows (no ``transfer_set``) this choice and
        ``alpha``'s are made (and scored) by students of a random 100,000 rows
        and held-out rows in proportion; only the kept one trains on all.
        The encoding runs in torch on the student's device (a frame read once
        into numbers and category codes; many rows encoded a batch at a time,
        never as a whole encoded copy; an array's encoding is also the first
        nodes of the exported ONNX graph), in float32: fit warns of a column
        whose values differ only past the seventh significant digit
        (timestamps in seconds); shift it first.
        ``None``: as given. A transformer (cloned): yours, e.g.
        ``TfidfVectorizer()`` for documents.
    T : float > 0, default=1.0
        Softmax temperature of the teacher term. Tree-ensemble probabilities are
        already smooth; higher temperatures mostly flatten them.
    alpha : float in [0, 1] or "auto", default="auto"
        Weight of the teacher term (see above). ``"auto"``: 0.5, and where
        rows are held out the same student also on the labels alone (same
        encoding, split, seed); the higher unweighted held-out accuracy wins,
        a tie keeps 0.5 (``alpha_``, ``alpha_scores_``). A second student,
        against a teacher that knows less than the labels teach: over 32
        set-and-teacher pairs x 10 seeds (``benchmarks/default_alpha.py``) it
        lost at most 0.38 points to the labels-only student, a fixed 0.5 up
        to 0.82, for about the same mean gain. Warm starts continue at
        ``alpha_``; many rows: see ``student_preprocessor``; dask fits, a
        ``transfer_set``, unlabelled rows, ``feature_distillation`` and the
        side-by-side candidates of :class:`DistillerGridSearchCV` (grid
        without alpha) use 0.5.
    loss : {"hinton", "logit_matching", "dkd"} or callable, default="hinton"
        The teacher term: Hinton KD, Ba & Caruana logit matching (MSE to the
        row-centred teacher logits), or decoupled KD (weights
        ``loss__tckd_weight=1.0``, ``loss__nckd_weight=8.0``). A callable has
        the signature ``loss(student_logits, teacher_logits, target, *, T,
        **loss_params)`` and returns a scalar tensor (``target`` holds class
        indices, -1 for unlabelled rows). ``loss__<name>`` parameters reach it.
    teacher_cv : None, int or cross-validation splitter, default=None
        If set, the soft targets of the labelled rows come out of fold, as
        from ``cross_val_predict`` (the teacher speaks about rows it has not
        memorised); ``teacher_`` is still fitted on all labelled rows. Ignored,
        with a warning, for frozen, torch and skorch teachers, which are not
        refitted.
    transfer_set : None, TransferSampler, array-like, sparse matrix, DataFrame or dask \
collection, default=None
        Rows the student learns from through the teacher term only (never
        validation rows): a sampler (``Munge(n_copies=5)``, ``Spunge``,
        ``Mixup``) draws them from the training rows; unlabelled rows read like
        ``X`` (an array, sparse matrix or DataFrame with the training columns)
        are labelled by the teacher a chunk at a time; a dask array or DataFrame
        is labelled partition by partition on the cluster and streamed, so it
        may hold more rows than memory (see Notes).
    pruning : None or Pruning, default=None
        After training, remove the weakest hidden units structurally (the
        layers become smaller dense layers) and fine-tune under the same loss,
        e.g. ``Pruning(amount=0.75)``; ``pruning_`` records the widths,
        parameters, weight bytes and one-row latency before and after. Needs
        a student whose Linear layers form one ``nn.Sequential`` with
        elementwise layers between them, as :class:`MLPStudent`.
    feature_distillation : None or FeatureDistillation, default=None
        Also match named intermediate layers of a torch teacher: FitNets hints
        through a learned projection, or attention transfer, weighted beside
        the logit terms, e.g. ``FeatureDistillation([("features.3",
        "features.3")])``; ``GridSearchCV`` searches ``feature_distillation__weight``.
    memory : None, str or joblib.Memory, default=None
        Cache of the fitted teacher and its outputs (path or ``joblib.Memory``,
        as ``Pipeline`` takes). A ``GridSearchCV`` over ``T`` x ``alpha`` then
        fits the teacher once per training fold, also with ``n_jobs=2``.
        Entries are keyed by the teacher's parameters, the rows, the labels and
        its code (the user guide's Reliability page lists what is covered);
        frozen and prefit teachers are never refitted, so not cached. A folder
        someone else owns or may write to is not used (with a warning): use
        one only you can write to, e.g. :func:`user_cache_dir`.
    class_weight : None, "balanced" or dict, default=None
        Weights of the classes in both loss terms (and in the teacher's fit,
        multiplied into ``sample_weight``), as scikit-learn's classifiers define
        them: ``"balanced"`` is ``n_samples / (n_classes * np.bincount(y))``
        over the labelled rows; a dict maps labels to weights (missing labels
        weigh 1). Unlabelled and synthetic rows weigh 1.
    unlabeled_label : None or label, default=None
        Rows whose label equals this value have no label: they contribute the
        teacher term only, are not held out for validation and the teacher is
        not fitted on them. scikit-learn's semi-supervised convention is ``-1``,
        not the default, as ``-1`` is a real class in many binary problems.
        String labels take a string marker (e.g. ``"?"``). A missing value
        (``np.nan``, ``pd.NA``) marks the missing labels, which scikit-learn's
        splitters refuse (``cross_val_score``, ``GridSearchCV``) and
        :class:`DistillerGridSearchCV` takes.
    max_epochs : int, default=200
        Upper bound on training epochs.
    batch_size : int or "auto", default="auto"
        Rows per training step. ``"auto"`` takes a sixteenth of the training
        rows, at least 32 and at most 256: 256 from about 4,000 rows on.
        The fitted net's ``batch_size`` holds the value used.
    lr : float, default=3e-3
        Learning rate of ``optimizer``. Batches of up to 256 at 3e-3 fit small
        tabular data about three times faster than 64 at 1e-3, at the same
        accuracy (``benchmarks/defaults.py``).
    optimizer : torch optimizer class, default=torch.optim.Adam
        Its other arguments are set as ``optimizer__<name>=value``.
    solver : {"auto", "numpy", "torch"}, default="auto"
        The engine that trains the student (``solver_`` says which ran).
        ``"torch"`` is skorch's loop through autograd, for any student, loss,
        optimizer, device and callback. ``"numpy"`` computes each step of the
        built-in :class:`MLPStudent` (Linear and ReLU layers, no dropout) in
        closed form in numpy on the CPU, with the ``"hinton"`` loss (or the
        regressor's squared errors), dense rows and any optimizer but LBFGS:
        several times faster for small students, the same steps to float
        rounding; batches while a callback freezes a parameter (``Freezer``)
        step through autograd. ``"auto"`` takes numpy wherever it applies;
        ``"numpy"`` where it cannot apply is an error that says why.
    validation_fraction : float in (0, 1) or None, default=0.1
        Share of labelled rows held out (stratified) to log ``valid_acc``,
        ``valid_agreement``, ``valid_loss`` and ``valid_label_loss`` each epoch
        and to stop early. None trains on every row without early stopping.
    n_iter_no_change : int or None, default=10
        Stop when the cross-entropy against the held-out labels (without the
        teacher term; at ``T != 1`` after temperature scaling, logged as
        ``valid_calibrated_loss``) has not improved for this many epochs, and
        keep the mean of the best epoch's weights and those of the epochs
        after it (``callbacks__early_stopping__average=False``: the best
        epoch's alone); None trains ``max_epochs`` epochs.
        The teacher was fitted on the held-out rows too, so its term there
        rewards copying what it memorised; the labels judge generalisation
        (at any ``alpha``: for imitation that ignores the labels, pass None).
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Added to the net's callbacks (e.g. ``skorch.callbacks.ProgressBar()``).
    device : str or torch.device, default="cpu"
        Where the student trains and predicts, e.g. ``"cuda"``.
    warm_start : bool, default=False
        Continue training the fitted student on the next ``fit`` instead of
        starting afresh (the teacher is still refitted unless frozen). The
        warm fit uses the current settings (``batch_size``, ``lr``,
        ``optimizer`` and ``optimizer__*``, ``callbacks``, ``n_iter_no_change``,
        ``iterator_*__*``) on a copy of the fitted weights, history and, for an
        unchanged optimizer class, its state; if it fails, the model is left
        exactly as it was.
    verbose : int, default=0
        Print skorch's per-epoch log when > 0.
    random_state : int, RandomState instance or None, default=None
        Seeds the student's initialisation, the validation split, the batch
        order and the transfer set: the same seed and data give identical
        predictions. It seeds neither the teacher nor a ``teacher_cv``
        splitter: give them their own (an int ``teacher_cv`` is an unshuffled,
        deterministic ``StratifiedKFold``). Students of one process train one
        at a time (torch's random generator is global), so seeded fits in
        threads reproduce too; use processes for parallel fits.
    **kwargs
        Routed parameters, as skorch spells them: ``module__*``, ``optimizer__*``,
        ``iterator_train__*``, ``iterator_valid__*``, ``callbacks__*``,
        ``loss__*``.

    Attributes
    ----------
    teacher_ : classifier or None
        The fitted teacher (None when ``teacher="precomputed"``).
    student_ : skorch.NeuralNet
        The fitted student net; ``student_.module_`` is the torch module and
        ``student_.history`` the per-epoch log.
    student_preprocessor_ : transformer
        The fitted encoding (absent with ``student_preprocessor=None``).
    student_encoding_ : str or None
        What ``"auto"`` chose (``student_encoding_losses_``: each one's loss,
        of the weights it kept when it stopped; on many rows, a sample's);
        ``feature_kinds_`` holds the column kinds of a frame or ``object``
        array, checked at predict and by a warm fit.
    fills_missing_ : bool
        Whether predict fills a missing number with its column's fitted median
        (also in a column that had none in fit): True where fit read missing
        values (the ``"auto"`` encoding and a teacher that reads them: by its
        tags, or by its finite outputs for rows of ``X`` that held one); else
        predict refuses them, as fit does. Kept by :func:`~skdistill.strip_teacher`.
    classes_ : ndarray of shape (n_classes,)
    n_iter_ : int
        Epochs the student has been trained for (summed over warm starts).
    loss_curve_ : list of float
        The training loss of each of those epochs, as ``MLPClassifier``'s
        (read from ``student_.history``, which holds every per-epoch figure).
    validation_scores_ : list of float or None
        The accuracy on the held-out rows after each epoch, as ``MLPClassifier``'s (NaN
        for the epochs of a fit that held none out); None where no fit held any out.
    alpha_ : float
        The teacher's weight the kept student trained with (see ``alpha``).
    alpha_scores_ : dict
        With ``alpha="auto"`` and held-out rows: the held-out accuracy of the
        distilled (0.5) and the labels-only (0.0) student, by alpha (on many
        rows, of a sample's students: see ``student_preprocessor``).
    solver_ : {"numpy", "torch"}
        The engine that trained the student in the last fit (see ``solver``).
    fit_times_ : dict
        Seconds the last fit spent on ``"teacher"`` (checks, fitting it and
        its outputs for the training rows), ``"transfer_set"`` (drawing and
        labelling it) and ``"student"`` (training, pruning included).
    n_student_features_ : int
        Width of the student's input.
    n_features_in_ : int
        Defined unless a ``student_preprocessor`` that does not report it is given.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined only when X has string column names.
    input_shape_ : tuple of int
        The shape of one sample of images or sequences (X of 3 or more axes;
        ``n_features_in_`` is then its number of values); checked at predict.

    See Also
    --------
    DistilledRegressor : The same for regression.
    DistillerGridSearchCV : Searches ``T``, ``alpha`` and the width side by side.
    MLPStudent : The default student for tables.
    ConvStudent : The default student for images.
    report : The teacher and the student side by side.
    export_onnx : Ship the student and its encoding as one ONNX file.

    Notes
    -----
    ``fit(X, y, sample_weight=w)`` weighs the rows of both loss terms and of
    the validation loss (normalised to mean 1, so their scale does not matter)
    and is passed to the teacher's ``fit`` when it takes one (a warning says
    when it does not). Rows of weight 0 are dropped before training, as if
    absent. With metadata routing on, request it with
    ``set_fit_request(sample_weight=True)``.

    **Dask collections.** A dask ``transfer_set`` is labelled on the workers
    and streamed to the student a partition at a time. ``X`` and ``y`` may be
    dask collections too when the teacher needs no fitting (whole partitions
    are held out for validation; ``sample_weight``, ``class_weight`` and
    ``student_preprocessor`` are refused), and prediction of a dask collection
    returns a lazy dask array, as dask-ml's ``ParallelPostFit`` does. The user
    guide's page "Scale: many rows, dask clusters, GPUs" says how each works.

    References
    ----------
    .. [1] G. Hinton, O. Vinyals, J. Dean. "Distilling the Knowledge in a Neural
       Network". 2015.
    .. [2] J. Ba, R. Caruana. "Do Deep Nets Really Need to be Deep?" NeurIPS 2014.
    .. [3] B. Zhao, Q. Cui, R. Song, Y. Qiu, J. Liang. "Decoupled Knowledge
       Distillation". CVPR 2022.
    .. [4] C. Bucilua, R. Caruana, A. Niculescu-Mizil. "Model Compression". KDD 2006.
    .. [5] Y. Gorishniy, I. Rubachev, A. Babenko. "On Embeddings for Numerical
       Features in Tabular Deep Learning". NeurIPS 2022.
    .. [6] R. Fakoor, J. Mueller, N. Erickson, P. Chaudhari, A. Smola. "Fast,
       Accurate, and Simple Models for Tabular Data via Augmented Distillation".
       NeurIPS 2020.

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

    _task_class = ClassificationTask
    _validation_score = "valid_acc"

    _parameter_constraints = {
        **BaseDistiller._parameter_constraints,
        "T": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="both"), StrOptions({AUTO})],
        "loss": [RegisteredLossName(), callable],
        "class_weight": [None, StrOptions({"balanced"}), dict],
        "unlabeled_label": "no_validation",
    }

    def __init__(
        self,
        teacher,
        student_module=None,
        *,
        student_preprocessor="auto",
        T=1.0,
        alpha="auto",
        loss="hinton",
        teacher_cv=None,
        transfer_set=None,
        pruning=None,
        feature_distillation=None,
        memory=None,
        class_weight=None,
        unlabeled_label=None,
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
        self.T = T
        self.alpha = alpha
        self.loss = loss
        self.teacher_cv = teacher_cv
        self.transfer_set = transfer_set
        self.pruning = pruning
        self.feature_distillation = feature_distillation
        self.memory = memory
        self.class_weight = class_weight
        self.unlabeled_label = unlabeled_label
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
    def fit(self, X, y, sample_weight=None, teacher_proba=None, teacher_logits=None):
        """Fit the teacher (unless frozen), then train the student on its soft targets.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            With a ``student_preprocessor``, anything it and the teacher accept.
        y : array-like of shape (n_samples,)
            Class labels of any type scikit-learn accepts; ``unlabeled_label``
            marks rows without a label.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights (see Notes).
        teacher_proba, teacher_logits : array-like of shape (n_samples, n_classes), default=None
            With ``teacher="precomputed"``, exactly one of them: the teacher's
            probabilities or logits for each row of X, columns in the order of
            ``np.unique`` of the labels (a DataFrame's columns named by class are
            matched to the classes by name). Sample-aligned, so GridSearchCV splits
            them with the rows (request them with
            ``set_fit_request(teacher_proba=True)`` when metadata routing is on).

        Returns
        -------
        self : DistilledClassifier
            The fitted estimator.
        """
        return self._fit(
            X, y, sample_weight, teacher_proba=teacher_proba, teacher_logits=teacher_logits
        )

    def decision_function(self, X):
        """The student's logits: one column per class, or for two classes one value.

        For a binary problem the value is ``z[:, 1] - z[:, 0]``: positive means
        ``classes_[1]``, as ``LogisticRegression.decision_function``.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            The rows to predict, as ``fit`` took them.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes), float64
            The student's logits (their difference for two classes).
        """
        if is_dask_collection(X):
            n_columns = None if len(self.classes_) == 2 else len(self.classes_)
            return self._lazily("decision_function", X, n_columns, np.float64)
        logits = self._student_output(self._validate_predict_data(X))
        return logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits

    def predict_log_proba(self, X):
        """Log of the class probabilities (a log-softmax, finite where a probability underflows).

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            The rows to predict, as ``fit`` took them.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes), float64
            Log-probabilities, columns in the order of ``classes_``.
        """
        if is_dask_collection(X):
            return self._lazily("predict_log_proba", X, len(self.classes_), np.float64)
        rows = self._validate_predict_data(X)
        return self._student_output(rows, transform=lambda logits: torch.log_softmax(logits, 1))

    def predict_proba(self, X):
        """Class probabilities of the student; columns follow ``classes_``, rows sum to 1.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The rows to predict, as ``fit`` took them.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float64
            Probabilities, columns in the order of ``classes_``.
        """
        if is_dask_collection(X):
            return self._lazily("predict_proba", X, len(self.classes_), np.float64)
        rows = self._validate_predict_data(X)
        return self._student_output(rows, transform=lambda logits: torch.softmax(logits, 1))

    def predict(self, X):
        """Predicted labels (values of ``classes_``).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The rows to predict, as ``fit`` took them.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            The most probable class of each row.
        """
        if is_dask_collection(X):
            return self._lazily("predict", X, None, self.classes_.dtype)
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]
