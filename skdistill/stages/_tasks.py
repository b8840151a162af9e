"""Task objects: everything in a fit that differs between classification and regression.

A distiller builds one task per fit from its parameters
(:meth:`ClassificationTask.for_estimator`). The task encodes the targets, says
what the teacher is asked for and how its outputs become training targets,
weighs the classes, builds the criterion and the task's callbacks, and names
the fitted attributes it sets (``classes_``; ``target_mean_`` and
``target_scale_``). The rest of the fit is the same for both tasks and never
asks which one it runs.
"""

import copy

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from ..losses._settings import CLASSIFIER, REGRESSOR, LossSettings
from ..losses._soft import takes_sample_weight
from ..teachers._adapters import logits_from_proba
from ..teachers._outputs import LogitOutputs, PredictionOutputs
from ..training._callbacks import AgreementScoring, R2Scoring
from ._alpha import resolved_alpha
from ._targets import LabelCodes, Standardise, class_codes, labelled_rows, marks_missing

__all__ = [
    "ClassificationTask", "RegressionTask", "location_and_scale",
    "scale_outputs",
]


class _Task:
    """What both tasks share: the loss settings, and the criterion made of them."""

    loss_settings = None
    """The :class:`~skdistill.losses._settings.LossSettings` this task trains with."""

    @property
    def alpha(self):
        """The teacher term's weight this task trains with."""
        return self.loss_settings.alpha

    def criterion(self, **settings):
        """A new training criterion; ``settings`` (``T``, ``alpha``) override the task's."""
        return self.loss_settings.replace(**settings).criterion()

    def with_alpha(self, alpha):
        """A copy of this task that trains with ``alpha``."""
        task = copy.copy(self)
        task.loss_settings = self.loss_settings.replace(alpha=alpha)
        return task


class ClassificationTask(_Task):
    """Classification: labels become class indices; the teacher speaks in logits.

    Parameters
    ----------
    unlabeled_label : label or None
        The label that marks a row without one.
    class_weight : None, "balanced" or dict
    loss_settings : LossSettings
        ``T``, ``alpha``, ``loss`` and ``loss_params`` of the criterion.
    fitted_classes : ndarray or None
        The classes of the student a warm start continues (None: a cold fit).

    Examples
    --------
    >>> import numpy as np
    >>> task = ClassificationTask(None, None, LossSettings("classifier", alpha=0.5))
    >>> target, labelled = task.encode_targets(np.array(["b", "a", "b"]))
    >>> target, task.fitted_attributes()
    (array([1, 0, 1]), {'classes_': array(['a', 'b'], dtype='<U1')})
    """

    name = "classifier"
    unlabelled_target = -1
    y_finite = True
    precomputed_names = "teacher_proba=... or teacher_logits=..."
    multioutput_wrapper = "MultiOutputClassifier"

    def __init__(self, unlabeled_label, class_weight, loss_settings, fitted_classes=None):
        self.unlabeled_label = unlabeled_label
        self.class_weight = class_weight
        self.loss_settings = loss_settings
        self.fitted_classes = fitted_classes
        self.classes = None
        if marks_missing(unlabeled_label):  # the missing labels mark the unlabelled rows
            self.y_finite = "allow-nan"

    @classmethod
    def for_estimator(cls, estimator, previous=None):
        """The task of one fit of ``estimator`` (a :class:`~skdistill.DistilledClassifier`).

        ``previous``: the fitted attributes of the student it continues (a
        warm start), whose ``classes_`` and chosen ``alpha_`` it keeps.
        """
        previous = previous or {}
        task = cls(
            estimator.unlabeled_label,
            estimator.class_weight,
            LossSettings(
                CLASSIFIER, resolved_alpha(estimator.alpha, previous), T=estimator.T,
                loss=estimator.loss, loss_params=estimator._routed_params("loss"),
            ),
            previous.get("classes_"),
        )
        task.classes = task.fitted_classes
        return task

    # ---------------------------------------------------------------- targets
    def encode_targets(self, y, sample_weight=None):
        """``(class index per row, -1 when unlabelled; labelled mask)``; sets ``classes``."""
        labelled = labelled_rows(y, self.unlabeled_label)
        check_classification_targets(y[labelled])
        classes, index = class_codes(y[labelled])
        self._set_classes(classes)
        target = np.full(len(y), self.unlabelled_target, dtype=np.int64)
        target[labelled] = index
        return target, labelled

    def _set_classes(self, classes):
        if len(classes) < 2:
            what = f"({_plain(classes[0])!r})" if len(classes) else "(every row is unlabelled)"
            raise ValueError(
                f"y has only one class {what} among its labelled rows; a classifier needs "
                "at least two classes to learn from."
            )
        if self.fitted_classes is not None and not np.array_equal(classes, self.fitted_classes):
            raise ValueError(
                f"warm_start=True but y has classes {classes.tolist()} while the "
                f"fitted student predicts {self.fitted_classes.tolist()}."
            )
        self.classes = classes

    def dask_target_encoder(self, y):
        """Set ``classes`` from the labels of a dask y; return the per-partition encoder."""
        import dask
        import dask.array as da

        (labels,) = dask.compute(da.unique(y) if hasattr(y, "blocks") else y.unique())
        self.encode_targets(np.asarray(labels))  # sets classes (sorted, unlabelled dropped)
        return LabelCodes(self.classes, self.unlabeled_label)

    def fitted_attributes(self):
        """The estimator's fitted attributes that describe the targets."""
        return {"classes_": self.classes}

    def stratify(self, target):
        """What a validation split stratifies on: the class indices."""
        return target

    @staticmethod
    def continue_student(module):
        """A warm start's student needs nothing: logits do not depend on a target scale."""

    # ---------------------------------------------------------------- teacher
    @property
    def n_outputs(self):
        return len(self.classes)

    @property
    def asked(self):
        """What the teacher is asked for: :class:`~skdistill.teachers._outputs.LogitOutputs`."""
        return LogitOutputs(self.classes)

    output_scaling = (0.0, 1.0)
    """Teacher outputs are training targets as they are: ``(raw - 0) / 1``."""

    @staticmethod
    def precomputed_argument(teacher_proba=None, teacher_logits=None):
        """``(kind, values)`` of the teacher outputs passed to ``fit``, or None."""
        if teacher_proba is not None and teacher_logits is not None:
            raise ValueError("Pass teacher_proba or teacher_logits to fit, not both.")
        if teacher_proba is not None:
            return "proba", teacher_proba
        return None if teacher_logits is None else ("logits", teacher_logits)

    def precomputed_outputs(self, precomputed, n_rows):
        """Teacher logits (float64) from ``teacher_proba`` or ``teacher_logits`` given to fit."""
        kind, values = precomputed
        values = np.asarray(self._by_class(values, kind), dtype=np.float64)
        expected = (n_rows, len(self.classes))
        if values.shape != expected:
            raise ValueError(
                f"teacher_{kind} has shape {values.shape}; expected {expected}: one row per "
                f"row of X and one column per class of y, in the order {self.classes.tolist()}."
            )
        if not np.isfinite(values).all():
            raise ValueError(f"teacher_{kind} holds NaN or infinite values.")
        if kind == "proba":
            values = logits_from_proba(values, "teacher_proba")
        return values

    @staticmethod
    def unlabelled_rows(estimator, y):
        """Mask of the rows of labels ``y`` marked ``unlabeled_label`` (None without one)."""
        if estimator.unlabeled_label is None:
            return None
        return ~labelled_rows(y, estimator.unlabeled_label)

    def _by_class(self, values, kind):
        """A DataFrame of outputs with a column per class, in the order of the classes
        (matched by name, as a string); anything else as it is, read by position.

        A frame whose columns are named (not ``0 .. n - 1``) but not by the
        classes is a ValueError: its order cannot be read.
        """
        columns = getattr(values, "columns", None)
        if columns is None or not hasattr(values, "iloc"):
            return values
        names = [str(name) for name in columns]
        classes = [str(label) for label in self.classes]
        if sorted(names) == sorted(classes) and len(set(names)) == len(names):
            return values.iloc[:, [names.index(label) for label in classes]].to_numpy()
        if names == [str(at) for at in range(len(names))]:  # unnamed: by position
            return values
        raise ValueError(
            f"teacher_{kind} is a DataFrame whose columns {names} are not the classes of y "
            f"{classes}; name its columns by class, or pass an array whose columns follow "
            "that order."
        )

    # ---------------------------------------------------------------- weights
    def class_weights(self, target, labelled):
        """Per-row class weights (1 for unlabelled rows), or None without class_weight."""
        if self.class_weight is None:
            return None
        if isinstance(self.class_weight, dict):
            unknown = [label for label in self.class_weight if label not in set(self.classes)]
            if unknown:
                raise ValueError(
                    f"class_weight names the label(s) {unknown} that are not in y; its classes "
                    f"are {self.classes.tolist()}."
                )
            per_class = np.array(
                [self.class_weight.get(_plain(label), 1.0) for label in self.classes], dtype=float
            )
        else:
            per_class = compute_class_weight(
                self.class_weight, classes=np.arange(len(self.classes)), y=target[labelled]
            )
        if not (np.isfinite(per_class).all() and (per_class >= 0).all()):
            raise ValueError(f"class_weight must be finite and non-negative; got {per_class}.")
        weights = np.ones(len(target))
        weights[labelled] = per_class[target[labelled]]
        return weights

    def check_weighted_loss(self):
        """Refuse weighted rows for a soft loss that takes no ``sample_weight``."""
        loss = self.loss_settings.loss
        if not takes_sample_weight(loss):
            raise ValueError(
                f"loss={loss!r} does not accept a sample_weight keyword, so weighted rows "
                "(sample_weight or class_weight) cannot reach it; add `sample_weight=None` to "
                "its signature and weigh its per-row values by it."
            )

    # --------------------------------------------------------------- training

    @staticmethod
    def callbacks():
        """The task's own callbacks: the student's agreement with the teacher."""
        return [("agreement", AgreementScoring())]


class RegressionTask(_Task):
    """Regression: targets standardised for training; the teacher speaks in the targets' units.

    Parameters
    ----------
    alpha : float
        Weight of the teacher term.
    fitted_scaling : (float, float) or None
        ``(target_mean_, target_scale_)`` of the student a warm start continues
        (see :meth:`continue_student`).

    Examples
    --------
    >>> import numpy as np
    >>> task = RegressionTask(alpha=0.5)
    >>> target, labelled = task.encode_targets(np.array([1.0, 3.0, np.nan]))
    >>> target.tolist(), labelled.tolist(), task.output_scaling
    ([-1.0, 1.0, nan], [True, True, False], (2.0, 1.0))
    """

    name = "regressor"
    unlabelled_target = np.nan
    y_finite = "allow-nan"
    precomputed_names = "teacher_predictions=..."
    multioutput_wrapper = "MultiOutputRegressor"

    def __init__(self, alpha, fitted_scaling=None):
        self.loss_settings = LossSettings(REGRESSOR, alpha)
        self.fitted_scaling = fitted_scaling
        self.output_scaling = fitted_scaling  # until encode_targets standardises this fit's targets

    @classmethod
    def for_estimator(cls, estimator, previous=None):
        """The task of one fit of ``estimator`` (a :class:`~skdistill.DistilledRegressor`).

        ``previous``: the fitted attributes of the student it continues (a
        warm start), whose target scaling it carries over.
        """
        previous = previous or {}
        fitted = None
        if "target_mean_" in previous:
            fitted = (previous["target_mean_"], previous["target_scale_"])
        return cls(resolved_alpha(estimator.alpha, previous), fitted)

    # ---------------------------------------------------------------- targets
    @staticmethod
    def unlabelled_rows(estimator, y):
        """Mask of the rows of targets ``y`` that are NaN (None where y is not numeric)."""
        try:
            return np.isnan(np.asarray(y, dtype=np.float64)).reshape(len(y))
        except (TypeError, ValueError):  # the scorer says what is wrong with it
            return None

    def encode_targets(self, y, sample_weight=None):
        """``(standardised float32 targets, NaN when unlabelled; mask of labelled rows)``."""
        try:
            y = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"y must be numeric for a regressor: {exc}") from None
        if np.isinf(y).any():
            raise ValueError("Input y contains infinity; only NaN may mark an unlabelled row.")
        labelled = ~np.isnan(y)
        if not labelled.any():
            raise ValueError("Input y contains NaN only: there is no labelled row to learn from.")
        weights = None if sample_weight is None else sample_weight[labelled]
        if weights is not None and not weights.any():
            weights = None  # refused with a clear message once the weights are combined
        self.output_scaling = location_and_scale(y[labelled], weights)
        mean, scale = self.output_scaling
        return ((y - mean) / scale).astype(np.float32), labelled

    def dask_target_encoder(self, y):
        """Set the target scaling from a dask y (NaN: unlabelled); return the encoder."""
        import dask
        import dask.array as da

        values = y.to_dask_array(lengths=True) if hasattr(y, "to_dask_array") else y
        if np.isnan(values.shape[0]):  # chunk sizes unknown: the reductions below need them
            values = values.compute_chunk_sizes()
        values = values.astype(np.float64)
        labelled, infinite, mean = dask.compute(
            (~da.isnan(values)).sum(), da.isinf(values).any(), da.nanmean(values),
        )
        if infinite:
            raise ValueError("Input y contains infinity; only NaN may mark an unlabelled row.")
        if not labelled:
            raise ValueError("Input y contains NaN only: there is no labelled row to learn from.")
        (peak,) = dask.compute(da.nanmax(abs(values - mean)))
        (spread,) = dask.compute(da.nanmean(((values - mean) / peak) ** 2)) if peak else (0,)
        scale = float(peak * np.sqrt(spread))
        self.output_scaling = (float(mean), scale if scale > 0 else 1.0)
        return Standardise(*self.output_scaling)

    def fitted_attributes(self):
        """The estimator's fitted attributes that describe the targets."""
        mean, scale = self.output_scaling
        return {"target_mean_": mean, "target_scale_": scale}

    @staticmethod
    def stratify(target):
        """A regression split is not stratified."""
        return None

    def continue_student(self, module):
        """Carry a warm start's student over to this fit's target scaling.

        The targets are standardised anew at every fit. Where the student
        ends in a known ``Linear`` layer (:class:`~skdistill.MLPStudent`,
        :class:`~skdistill.TabularStudent`), that layer is rescaled so the
        student starts from the same predictions in the targets' units; any
        other student starts from its old standardised outputs.
        """
        if self.fitted_scaling is None or self.fitted_scaling == self.output_scaling:
            return
        last = _final_linear(module)
        if last is None:
            return
        (old_mean, old_scale), (mean, scale) = self.fitted_scaling, self.output_scaling
        with torch.no_grad():
            last.weight.mul_(old_scale / scale)
            last.bias.mul_(old_scale).add_(old_mean - mean).div_(scale)

    # ---------------------------------------------------------------- teacher
    n_outputs = 1
    asked = PredictionOutputs()
    """What the teacher is asked for: :class:`~skdistill.teachers._outputs.PredictionOutputs`."""

    @staticmethod
    def precomputed_argument(teacher_predictions=None):
        """``("predictions", values)`` of the teacher outputs passed to ``fit``, or None."""
        return None if teacher_predictions is None else ("predictions", teacher_predictions)

    @staticmethod
    def precomputed_outputs(precomputed, n_rows):
        """Teacher predictions (a float64 column) from ``teacher_predictions`` given to fit."""
        _, values = precomputed
        values = np.asarray(values, dtype=np.float64)
        if values.shape not in ((n_rows,), (n_rows, 1)):
            raise ValueError(
                f"teacher_predictions has shape {values.shape}; expected ({n_rows},): one "
                "prediction per row of X."
            )
        if not np.isfinite(values).all():
            raise ValueError("teacher_predictions holds NaN or infinite values.")
        return values.reshape(n_rows, 1)

    # ---------------------------------------------------------------- weights
    @staticmethod
    def class_weights(target, labelled):
        """Regression has no classes to weigh."""
        return None

    @staticmethod
    def check_weighted_loss():
        """The squared errors take weights."""

    # --------------------------------------------------------------- training
    @staticmethod
    def callbacks():
        """The task's own callbacks: the student's R2 on the held-out rows."""
        return [("r2", R2Scoring())]


def _final_linear(module):
    """The last ``Linear`` layer of a built-in student, or None."""
    from ..students._mlp import MLPStudent
    from ..students._tabular import TabularStudent

    if isinstance(module, TabularStudent):
        module = module.mlp
    if type(module) is MLPStudent and isinstance(module.layers[-1], torch.nn.Linear):
        return module.layers[-1]
    return None


def location_and_scale(values, weights=None):
    """``(mean, standard deviation)`` of finite ``values``, the latter 1.0 when they are constant.

    Computed on the values divided by their largest deviation, so that neither
    squares of 1e155 overflow nor squares of 1e-170 underflow.

    Examples
    --------
    >>> location_and_scale(np.array([1e200, 3e200]))
    (2e+200, 1e+200)
    >>> location_and_scale(np.array([1e-170, 3e-170]))
    (2e-170, 1e-170)
    >>> location_and_scale(np.array([5.0, 5.0]))
    (5.0, 1.0)
    """
    mean = float(np.average(values, weights=weights))
    centred = values - mean
    peak = float(np.abs(centred).max()) if len(centred) else 0.0
    if not peak > 0:
        return mean, 1.0
    scale = peak * float(np.sqrt(np.average((centred / peak) ** 2, weights=weights)))
    return mean, scale if scale > 0 else 1.0


def scale_outputs(outputs, scaling):
    """Raw teacher outputs as training targets, ``(raw - shift) / scale``, float32.

    Examples
    --------
    >>> scale_outputs(np.array([[3.0]]), (1.0, 2.0))
    array([[1.]], dtype=float32)
    """
    shift, scale = scaling
    if (shift, scale) == (0.0, 1.0):
        return np.asarray(outputs, dtype=np.float32)
    return ((np.asarray(outputs, dtype=np.float64) - shift) / scale).astype(np.float32)


def _plain(label):
    """A numpy scalar as the Python value it holds, for readable messages."""
    return label.item() if hasattr(label, "item") else label
