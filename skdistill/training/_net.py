"""The skorch net that trains a student on the distillation criterion.

Batches arrive as ``({"X": rows, "teacher_logits": logits}, y)`` (plus
``"sample_weight"`` when rows are weighted): the soft
targets travel inside X, aligned row by row with the data, so any split skorch
or scikit-learn makes keeps them together. The module sees only ``X``; the
criterion sees the student's logits, the teacher's logits and ``y``.
"""

import contextlib
import threading
import warnings
from collections.abc import Mapping

import numpy as np
import torch
from sklearn.utils import ClassifierTags
from skorch import NeuralNet
from skorch.callbacks import Callback, PassthroughScoring, PrintLog
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator, to_numpy, to_tensor
from threadpoolctl import threadpool_limits

from ..losses._calibrated import calibrated_label_loss
from ._callbacks import print_plain
from ._early_stopping import StoppedEarly, monitored_loss
from ._numpy._closed_form import ClosedFormStep
from ._optimizer import build_optimizer

__all__ = ["STUDENT_TRAINING", "DistillationNet", "InterruptedBeforeFirstEpoch"]

STUDENT_TRAINING = threading.RLock()
"""Held while a student is built or trains: torch's global random generator is shared by threads.

Two seeded fits in threads of one process would draw from each other's
stream; one at a time, each reproduces.
"""


class InterruptedBeforeFirstEpoch(BaseException):
    """Ctrl-C arrived before any epoch completed: there is no model to keep."""


class DistillationNet(NeuralNet):
    """A ``skorch.NeuralNet`` whose criterion receives the teacher's logits.

    The criterion is called as ``criterion(student_logits, teacher_logits, y)``
    (see :class:`skdistill.DistillationLoss`). Everything else — callbacks,
    history, optimizers, ``module__``/``optimizer__``/``iterator_train__``
    parameters, devices — is skorch's.

    A KeyboardInterrupt (Ctrl-C) during training leaves the weights of the
    last completed epoch (kept by the ``guard`` callback), and the net usable
    and ready for ``warm_start``; one before any epoch completed aborts the fit.
    Early stopping raises its own subclass (``StoppedEarly``), so it is never
    taken for Ctrl-C, even when Ctrl-C arrives in a callback at an epoch's end.

    ``solver`` names the engine (see :mod:`skdistill.training._solver`):
    ``"numpy"`` computes each step's gradients in closed form, in numpy
    (:mod:`skdistill.training._numpy`), and where no callback reads training
    batches the optimizer's update too; callbacks that do read them see the
    same ``.grad`` as under autograd. ``"torch"`` is skorch's own step. The
    distiller checks that the numpy engine applies before it asks for it; while a
    callback has frozen a parameter (skorch's ``Freezer``), the batches step through
    autograd, which leaves it as it is.
    """

    _closed_form = None
    """The numpy engine's step during a fit (None: autograd); set by ``fit_loop``."""

    _batch_listeners = None
    """Per-batch hook name -> the callbacks that implement it, during a fit; see ``notify``."""

    def __init__(self, module, criterion, *, loss_settings, solver="torch", classes=None,
                 **kwargs):
        super().__init__(module, criterion, **kwargs)
        self.loss_settings = loss_settings
        self.solver = solver
        self.classes = classes

    @property
    def classes_(self):
        """A classifier's class positions, ``0`` to ``n_classes - 1`` (what :meth:`predict`
        gives); a regressor's net has none."""
        classes = getattr(self, "classes", None)
        if classes is None:
            raise AttributeError("A regressor's net has no classes_.")
        return classes

    def __sklearn_tags__(self):
        """skorch's tags; a classifier's net is a classifier to scikit-learn's scorers."""
        tags = super().__sklearn_tags__()
        if getattr(self, "classes", None) is not None:
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags()
        return tags

    def notify(self, method_name, **cb_kwargs):
        """skorch's notify; during a fit, per-batch hooks skip callbacks that do not define them.

        Three hooks run on every batch, each through every callback; most
        callbacks inherit them as skorch's no-ops, and a small student's step
        is short enough for those calls to show.
        """
        listeners = self._batch_listeners
        if listeners is None or method_name not in listeners:
            return super().notify(method_name, **cb_kwargs)
        getattr(self, method_name)(self, **cb_kwargs)
        for callback in listeners[method_name]:
            getattr(callback, method_name)(self, **cb_kwargs)

    def initialize(self):
        """skorch's initialize; the module and criterion instances pickle device-aware too.

        They are passed as instances, so the ``module`` and ``criterion`` parameters
        hold the very objects that become ``module_`` and ``criterion_`` (on the GPU
        when trained there). skorch maps only the latter to the CPU when a pickle
        is loaded on a machine without CUDA; listing the parameters too lets a
        GPU-trained model load anywhere.
        """
        super().initialize()
        extra = [
            name
            for name in ("module", "criterion")
            if name not in self.cuda_dependent_attributes_
        ]
        self.cuda_dependent_attributes_ = [*self.cuda_dependent_attributes_, *extra]
        return self

    def initialize_optimizer(self, triggered_directly=None):
        """skorch's ``initialize_optimizer``, built without importing ``torch._dynamo``
        (:func:`~skdistill.training._optimizer.build_optimizer`)."""
        if triggered_directly is not None:  # skorch's own deprecation
            return super().initialize_optimizer(triggered_directly)
        args, kwargs = self.get_params_for_optimizer(
            "optimizer", self.get_all_learnable_params()
        )
        self.optimizer_ = build_optimizer(self.optimizer, *args, **kwargs)
        return self

    def get_default_callbacks(self):
        """skorch's defaults, with ``valid_label_loss`` and a log that prints plain text in files.

        With ``verbose=0`` there is no log (skorch would build each epoch's
        table only to drop it), unless ``callbacks__print_log__*`` sets it up.
        """
        wants_log = self.verbose or self.get_params_for("callbacks__print_log")
        callbacks = [
            (name, PrintLog(sink=print_plain) if wants_log else None)
            if name == "print_log" else (name, callback)
            for name, callback in super().get_default_callbacks()
        ]
        at = [name for name, _ in callbacks].index("valid_loss") + 1
        label_loss = PassthroughScoring(name="valid_label_loss")
        return [*callbacks[:at], ("valid_label_loss", label_loss), *callbacks[at:]]

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """skorch's loop; with ``solver="numpy"``, numpy steps and BLAS on one thread.

        A step's products are small, so BLAS threads gain nothing there, and
        by default they spin beside torch's own threads on the same cores.
        """
        numpy_engine = self.solver == "numpy"
        self._closed_form = ClosedFormStep.for_net(self.module_, self.loss_settings) if (
            numpy_engine
        ) else None
        self._batch_listeners = _batch_listeners(self.callbacks_)
        blas = threadpool_limits(limits=1, user_api="blas") if numpy_engine else None
        try:
            with blas or contextlib.nullcontext():
                return self._guarded_fit_loop(X, y, epochs, **fit_params)
        finally:
            del self._closed_form, self._batch_listeners

    def _guarded_fit_loop(self, X, y, epochs, **fit_params):
        """skorch's loop, falling back to the last completed epoch on an interrupt."""
        completed = len(self.history)
        try:
            return super().fit_loop(X, y, epochs, **fit_params)
        except StoppedEarly:
            raise  # skorch's partial_fit ends training there
        except KeyboardInterrupt:
            guard = dict(self.callbacks_).get("guard")
            if guard is not None:
                guard.restore_last_completed_epoch(self)
            self.interrupted_ = True  # the distiller then runs nothing more (no pruning)
            if len(self.history) == completed:
                raise InterruptedBeforeFirstEpoch() from None
            warnings.warn(
                f"Training interrupted; the student holds the weights of epoch "
                f"{self.history[-1, 'epoch']}, the last completed one. Fit again with "
                "warm_start=True to continue from it.",
                UserWarning,
            )
            raise  # skorch's partial_fit ends training and keeps the model

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's epoch; a training epoch that no callback watches batch by batch runs quietly.

        Where no callback reads training batches (``on_batch_begin``,
        ``on_batch_end``, ``on_grad_computed``), the epoch skips those
        notifications and, where :meth:`ClosedFormStep.numpy_trainer` applies,
        trains each batch entirely in numpy, the optimizer's update included.
        The history records the same batch losses and sizes either way.
        """
        if not training:
            return self._validation_epoch(iterator, prefix, step_fn, **fit_params)
        listeners = self._batch_listeners
        if iterator is None or listeners is None or _watch_training_batches(listeners):
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        train_in_numpy = None
        if self._closed_form is not None and not fit_params and self._trains_every_parameter():
            train_in_numpy = self._closed_form.numpy_trainer(self.optimizer_)
        self.module_.train()
        batch_count = 0
        with train_in_numpy or contextlib.nullcontext():  # its exit writes the optimizer's state
            for batch in iterator:
                self.on_batch_begin(self, batch=batch, training=True)  # the net's: a history row
                arguments = None if train_in_numpy is None else _dense_batch(batch)
                if arguments is not None:
                    loss = train_in_numpy(*arguments)
                else:
                    if train_in_numpy is not None:
                        train_in_numpy.flush()  # the optimizer steps next: give it its state
                    loss = step_fn(batch, **fit_params)["loss"].item()
                self.history.record_batch(prefix + "_loss", loss)
                self.history.record_batch(prefix + "_batch_size", len(batch[1]))  # rows of y
                batch_count += 1
        self.history.record(prefix + "_batch_count", batch_count)

    def _validation_epoch(self, iterator, prefix, step_fn, **fit_params):
        """skorch's validation epoch; at T != 1 it also records ``valid_calibrated_loss``.

        That is the held-out labels' cross-entropy after temperature scaling
        (:func:`~skdistill.losses._calibrated.calibrated_label_loss`), computed
        on the epoch's validation outputs, which :meth:`validation_step` keeps.
        """
        calibrates = iterator is not None and monitored_loss(self.loss_settings) == (
            "valid_calibrated_loss"
        )
        self._valid_outputs = [] if calibrates else None
        try:
            super().run_single_epoch(iterator, False, prefix, step_fn, **fit_params)
            if calibrates and self._valid_outputs:
                loss = _calibrated_loss(self._valid_outputs)
                earlier = [e["valid_calibrated_loss"] for e in self.history[:-1]
                           if "valid_calibrated_loss" in e]
                self.history.record("valid_calibrated_loss", loss)
                self.history.record(  # as skorch's scores: for a Checkpoint's monitor
                    "valid_calibrated_loss_best", bool(loss < min(earlier, default=np.inf))
                )
        finally:
            self._valid_outputs = None

    def train_step(self, batch, **fit_params):
        """One training step: closed-form gradients where they apply, else skorch's step.

        A closed-form step sets every gradient itself and the optimizer needs
        no closure, so the step is: gradients, ``on_grad_computed`` (callbacks
        see and may change ``.grad``, as in skorch), ``optimizer.step()``.
        """
        arguments = self._closed_form_arguments(batch, fit_params)
        if arguments is None:
            return super().train_step(batch, **fit_params)
        if not self.module_.training:  # skorch sets it every batch; the walk costs a step's worth
            self.module_.train()
        loss, y_pred = self._closed_form(*arguments)
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        self.optimizer_.step()
        return {"loss": loss, "y_pred": y_pred}

    def validation_step(self, batch, **fit_params):
        """skorch's validation step, also logging the batch's loss on the labels alone.

        ``valid_label_loss`` (the criterion's ``label_loss``: cross-entropy, or
        squared error, against the true labels) is what early stopping
        watches (at ``T != 1``, ``valid_calibrated_loss``, made from the same
        outputs). The mixed ``valid_loss`` would also reward imitating the
        teacher on rows it was fitted on, where it has memorised its labels.

        Where the numpy engine trains, it computes the held-out batch too
        (:meth:`ClosedFormStep.evaluate`): the same losses and outputs to
        float rounding, the module's ``forward`` not called.
        """
        arguments = self._closed_form_arguments(batch, fit_params)
        Xi, yi = unpack_data(batch)
        weights = Xi.get("sample_weight") if isinstance(Xi, Mapping) else None
        if arguments is not None:  # the numpy engine's forward pass and losses
            loss, label_loss, y_pred = self._closed_form.evaluate(*arguments)
            _check_student_output(self.module_, y_pred, arguments[1].shape, training=False)
            step = {"loss": torch.tensor(loss, dtype=y_pred.dtype), "y_pred": y_pred}
        else:
            step = super().validation_step(batch, **fit_params)
            with torch.no_grad():
                label_loss = self.criterion_.label_loss(
                    step["y_pred"],
                    to_tensor(yi, device=self.device),
                    None if weights is None else to_tensor(weights, device=self.device),
                ).item()
        self.history.record_batch("valid_label_loss", label_loss)
        if getattr(self, "_valid_outputs", None) is not None:
            self._valid_outputs.append(_batch_outputs(step["y_pred"], yi, weights))
        return step

    def held_out_figures(self, dataset):
        """The held-out figures an epoch logs, for the module's weights as they are now.

        ``valid_label_loss`` (batch losses averaged by rows), for a classifier
        ``valid_acc`` and, at ``T != 1``, ``valid_calibrated_loss``: computed as
        :meth:`validation_step` and the scoring callbacks compute them each
        epoch, on ``dataset``'s batches, by the module's forward pass.
        """
        calibrates = monitored_loss(self.loss_settings) == "valid_calibrated_loss"
        total = correct = rows = 0
        outputs = []
        self.module_.eval()
        with torch.no_grad():
            for batch in self.get_iterator(dataset, training=False):
                Xi, yi = unpack_data(batch)
                y_pred = self.infer(Xi)
                y = to_tensor(yi, device=self.device)
                weights = Xi.get("sample_weight") if isinstance(Xi, Mapping) else None
                weights = None if weights is None else to_tensor(weights, device=self.device)
                total += self.criterion_.label_loss(y_pred, y, weights).item() * len(yi)
                rows += len(yi)
                if self.loss_settings.classifies:
                    correct += int((y_pred.argmax(dim=1) == y).sum())
                if calibrates:
                    outputs.append(_batch_outputs(y_pred, yi, weights))
        figures = {"valid_label_loss": total / rows}
        if self.loss_settings.classifies:
            figures["valid_acc"] = correct / rows
        if calibrates:
            figures["valid_calibrated_loss"] = _calibrated_loss(outputs)
        return figures

    def _trains_every_parameter(self):
        """Whether every parameter of the student trains now: the closed-form step updates
        them all, so while a callback (skorch's ``Freezer``) has frozen one, autograd steps."""
        return all(parameter.requires_grad for parameter in self.module_.parameters())

    def _closed_form_arguments(self, batch, fit_params):
        """``(X, teacher_logits, y, sample_weight)`` tensors for the closed-form step, or None."""
        if self._closed_form is None or fit_params or not self._trains_every_parameter():
            return None
        Xi, yi = unpack_data(batch)
        if not isinstance(Xi, Mapping):
            return None
        X = to_tensor(Xi["X"], device=self.device)
        if X.layout != torch.strided:
            return None
        weights = Xi.get("sample_weight")
        return (
            X,
            to_tensor(Xi["teacher_logits"], device=self.device),
            to_tensor(yi, device=self.device),
            None if weights is None else to_tensor(weights, device=self.device),
        )

    def predict_proba(self, X):
        """A classifier's probabilities (the softmax of the logits); a regressor's outputs.

        What skorch's scoring callbacks read, e.g. ``EpochScoring("neg_log_loss")``:
        they score the held-out rows against the targets the net trains on, a
        classifier's class positions (``0`` to ``n_classes - 1``) and a
        regressor's standardised targets (so ``"r2"`` is the distiller's, and
        errors are in units of the target's standard deviation).
        """
        outputs = self.forward(X, training=False)
        if self.loss_settings.classifies:
            outputs = torch.softmax(outputs, dim=1)
        return to_numpy(outputs)

    def predict(self, X):
        """A classifier's class positions (the largest logit's); a regressor's outputs.

        What ``EpochScoring("accuracy")`` and the like read; see :meth:`predict_proba`.
        """
        outputs = self.predict_proba(X)
        return outputs.argmax(axis=1) if self.loss_settings.classifies else outputs

    def infer(self, x, **fit_params):
        """Run the module on the feature rows of a batch (a dict or a plain tensor)."""
        if isinstance(x, Mapping):
            x = x["X"]
        return self.module_(to_tensor(x, device=self.device), **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """``criterion(student_logits, teacher_logits, y[, sample_weight])`` for one batch.

        With feature distillation (``feature_matcher``, set for one fit), a
        training batch adds the feature term, logged as ``train_feature_loss``.
        """
        teacher_logits = to_tensor(X["teacher_logits"], device=self.device)
        _check_student_output(self.module_, y_pred, teacher_logits.shape, training)
        y_true = to_tensor(y_true, device=self.device)
        if "sample_weight" in X:
            weights = to_tensor(X["sample_weight"], device=self.device)
            loss = self.criterion_(y_pred, teacher_logits, y_true, sample_weight=weights)
        else:
            loss = self.criterion_(y_pred, teacher_logits, y_true)
        matcher = getattr(self, "feature_matcher", None)
        if matcher is not None and training:  # feature distillation: its term, logged apart
            features = matcher.loss(to_tensor(X["X"], device=self.device))
            self.history.record_batch("train_feature_loss", features.item())
            loss = loss + features
        return loss


BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_grad_computed")


def _batch_outputs(y_pred, y, weights):
    """A held-out batch's ``(logits, targets, weights)`` as arrays, kept for the calibrated
    loss."""
    return (to_numpy(y_pred.detach().float()), _as_numpy(y),
            None if weights is None else _as_numpy(weights))


def _calibrated_loss(batches):
    """``valid_calibrated_loss`` of held-out batches kept by :func:`_batch_outputs`."""
    logits, target, weights = (
        np.concatenate(part) if part[0] is not None else None for part in zip(*batches)
    )
    return calibrated_label_loss(logits, target, weights)


def _as_numpy(values):
    """A batch's targets or weights (a tensor, on any device, or an array) as an ndarray."""
    return to_numpy(values) if isinstance(values, torch.Tensor) else np.asarray(values)


def _batch_listeners(callbacks):
    """For each per-batch hook, the callbacks whose hook is not skorch's inherited no-op."""
    return {
        hook: [
            callback
            for _, callback in callbacks
            if hook in vars(callback)
            or getattr(type(callback), hook) is not getattr(Callback, hook)
        ]
        for hook in BATCH_HOOKS
    }


def _dense_batch(batch):
    """``(X, teacher_logits, y, sample_weight)`` of a batch of ours with dense rows, or None."""
    features, target = batch
    X = features.get("X") if isinstance(features, dict) else None
    if not isinstance(X, torch.Tensor) or X.layout != torch.strided:
        return None
    return X, features["teacher_logits"], target, features.get("sample_weight")


def _watch_training_batches(listeners):
    """Whether a callback in ``_batch_listeners``' answer reads training batches."""
    return any(
        getattr(callback, "reads_training_batches", True)
        for callbacks in listeners.values()
        for callback in callbacks
    )


def _check_student_output(module, out, expected, training):
    """ValueError naming the student when a batch's output cannot enter the loss."""
    name = type(module).__name__
    mode = "training" if training else "validation"
    if not isinstance(out, torch.Tensor):
        raise ValueError(
            f"The student_module {name} returned a {type(out).__name__} in {mode}; it must "
            "return one tensor (logits, or predictions for a regressor)."
        )
    if not out.is_floating_point():
        raise ValueError(
            f"The student_module {name} returned {out.dtype} outputs in {mode}; they must be "
            "floating point (no argmax or rounding inside forward) so gradients can flow."
        )
    rows, columns = expected
    if out.ndim > 2 or out.shape[0] != rows or out.numel() != rows * columns:
        raise ValueError(
            f"The student_module {name} returned outputs of shape {tuple(out.shape)} for a "
            f"{mode} batch of {rows} rows; expected ({rows}, {columns})."
        )
