"""Many students of one shape trained as one model: a grid's candidates side by side.

Candidates of a grid over ``T`` and ``alpha`` share the data, the batch order
and (with one seed) the initial weights; only the loss differs. Stacking
their weights on a leading axis turns one step of each into one step of all:
the same number of operations, each on ``n_candidates`` times the numbers.
Adam and AdamW update element by element, so a stacked update is each
candidate's own update. Early stopping is kept per candidate exactly as
one net keeps it (:class:`~skdistill.training._early_stopping.StackedEarlyStopping`),
the weights from the best epoch on averaged; a candidate that has stopped trains
on with the others, but its kept weights are fixed by then.

Two engines step the stack, as they train one student
(:mod:`skdistill.training._solver`): ``"numpy"``, the closed-form gradients of
the ``"hinton"`` loss on the CPU; ``"torch"``, autograd of each candidate's own
criterion (any loss) on the weights' device, a GPU included.
"""

import contextlib

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from ..losses._calibrated import calibrated_label_loss
from ._data import TensorBatchLoader
from ._early_stopping import StackedEarlyStopping, monitored_loss
from ._numpy._closed_form import ClosedFormStep
from ._numpy._step import (
    numpy_distillation_loss_and_gradient,
    numpy_regression_loss_and_gradient,
)
from ._solver import plain_relu_linears

__all__ = ["train_side_by_side"]


def train_side_by_side(modules, loss_settings, train, valid, *, max_epochs, batch_size,
                       optimizer, seed, patience, solver="numpy"):
    """Train plain ReLU MLP students of one shape as one stacked model.

    Parameters
    ----------
    modules : list of MLPStudent
        The candidates' initial students, all of one shape; trained in place.
    loss_settings : list of LossSettings
        Each candidate's loss (its own ``T`` and ``alpha``; the ``"hinton"``
        loss for ``solver="numpy"``), all of one task.
    train, valid : DistillationDataset or Subset of one; valid may be None
    max_epochs, batch_size : int
    optimizer : callable
        ``optimizer(params)`` builds the optimizer of the stacked weights (an
        element-wise one such as Adam, so stacking changes nothing).
    seed : int
        Seed of the batch order, as the single fit's ``iterator_train__seed``.
    patience : int or None
        Early stopping patience on the validation rows' hard-label loss; None trains ``max_epochs``.
    solver : {"numpy", "torch"}, default="numpy"
        The engine of the steps: ``"numpy"`` (CPU, the ``"hinton"`` loss; see
        :func:`~skdistill.training._solver.numpy_obstacle`) or ``"torch"``
        (autograd of each candidate's criterion, on the students' device; the
        rows must be there too).

    Returns
    -------
    epochs : ndarray of int
        The epochs each candidate trained before it stopped.
    held_out_losses : ndarray of float
        Each candidate's held-out label loss as a single fit would compare it:
        with early stopping that of the mean of its weights it keeps (the
        lowest of its epochs where it trained none after its best); without,
        the last epoch's (inf without validation rows); NaN for a candidate
        that diverged (its
        weights or held-out loss stopped being finite: it stopped there, where
        a single fit stops with an error).

    Examples
    --------
    >>> import torch
    >>> from skdistill import MLPStudent
    >>> from skdistill.losses._settings import LossSettings
    >>> from skdistill.training._data import DistillationDataset
    >>> labels = torch.randint(0, 2, (40,))
    >>> data = DistillationDataset(torch.randn(40, 3), torch.randn(40, 2), labels)
    >>> students = [MLPStudent(3, 2, (4,)) for _ in range(2)]
    >>> settings = [LossSettings("classifier", 0.5), LossSettings("classifier", 0.9, T=4.0)]
    >>> epochs, losses = train_side_by_side(
    ...     students, settings, data, None, max_epochs=2, batch_size=16,
    ...     optimizer=torch.optim.Adam, seed=0, patience=None)
    >>> epochs, losses
    (array([2, 2]), array([inf, inf]))
    """
    linears = [plain_relu_linears(module) for module in modules]
    layers = [
        tuple(
            torch.stack([getattr(own[depth], name).detach() for own in linears]).requires_grad_()
            for name in ("weight", "bias")
        )
        for depth in range(len(linears[0]))
    ]
    weights = [tensor for pair in layers for tensor in pair]
    update = optimizer(weights)
    if solver == "numpy":
        step = _stacked_step(layers, loss_settings)
    else:
        device = layers[0][0].device
        step = AutogradStackedStep(layers, [each.criterion().to(device) for each in loss_settings])
    batches = TensorBatchLoader(train, batch_size, shuffle=True, seed=seed)
    stopping = StackedEarlyStopping(len(modules), patience if valid is not None else None, weights)
    with threadpool_limits(limits=1, user_api="blas"):
        epoch = _train_epochs(
            step, loss_settings, update, batches, stopping, valid, max_epochs, batch_size
        )
    stopping.epochs[stopping.running] = epoch
    final = weights
    if stopping.patience is not None:
        final = _kept_weights(step, loss_settings, valid, batch_size, stopping)
    elif valid is not None:
        last = _validation_loss(step, loss_settings, valid, batch_size)
        stopping.lowest = np.where(np.isfinite(last), last, np.inf)
    stopping.lowest[stopping.diverged] = np.nan
    with torch.no_grad():
        for candidate, own in enumerate(linears):
            for depth, linear in enumerate(own):
                linear.weight.copy_(final[2 * depth][candidate])
                linear.bias.copy_(final[2 * depth + 1][candidate])
    return stopping.epochs, stopping.lowest


def _kept_weights(step, loss_settings, valid, batch_size, stopping):
    """The weights each candidate keeps, as a single fit keeps them: the mean of its best
    epoch's weights and those after it; a candidate averaged so is scored on ``valid`` and
    its loss replaces ``stopping.lowest``
    (:func:`~skdistill.training._early_stopping.score_the_average`)."""
    kept, averaged = stopping.averaged()
    if not averaged.any():
        return kept
    with torch.no_grad():  # the step reads the stacked weights: score the means there
        for tensor, mean in zip((w for layer in step.layers for w in layer), kept):
            tensor.copy_(mean)
    losses = _validation_loss(step, loss_settings, valid, batch_size)
    stopping.lowest[averaged] = np.where(np.isfinite(losses), losses, np.inf)[averaged]
    return kept


def _train_epochs(step, loss_settings, update, batches, stopping, valid, max_epochs,
                  batch_size):
    """Train until every candidate has stopped or ``max_epochs``; return the last epoch."""
    train_in_numpy = step.numpy_trainer(update)
    weights = [tensor for layer in step.layers for tensor in layer]
    for epoch in range(1, max_epochs + 1):
        with train_in_numpy or contextlib.nullcontext():
            for features, target in batches:
                batch = (features["X"], features["teacher_logits"], target,
                         features.get("sample_weight"))
                if train_in_numpy is not None:
                    train_in_numpy(*batch)
                else:  # the step sets the gradients: no zero_grad needed
                    step(*batch)
                    update.step()
        finite = _finite_candidates(weights)
        if stopping.patience is not None:
            losses = _validation_loss(step, loss_settings, valid, batch_size)
            stopping.stop_diverged(epoch, finite & np.isfinite(losses))
            stopping.epoch_end(epoch, losses, weights)
        else:
            stopping.stop_diverged(epoch, finite)
        if not stopping.running.any():
            break
    return epoch


def _finite_candidates(weights):
    """Per candidate, whether every one of its stacked weights is finite."""
    finite = [torch.isfinite(tensor.detach()).flatten(1).all(dim=1) for tensor in weights]
    return torch.stack(finite).all(dim=0).cpu().numpy()


def _stacked_step(layers, loss_settings):
    """The numpy step of stacked layers, each candidate with its own ``T`` and ``alpha``."""

    def stacked(values):
        return np.asarray(values, dtype=np.float32).reshape(-1, 1, 1)

    if loss_settings[0].classifies:
        engine = numpy_distillation_loss_and_gradient
        settings = {"T": stacked([float(each.T) for each in loss_settings])}
    else:
        engine, settings = numpy_regression_loss_and_gradient, {}
    settings["alpha"] = stacked([float(each.alpha) for each in loss_settings])

    def loss_and_gradient(outputs, teacher_outputs, target, sample_weight):
        return engine(outputs, teacher_outputs, target, sample_weight=sample_weight, **settings)

    return ClosedFormStep(layers, loss_and_gradient)


class AutogradStackedStep:
    """One step of stacked ReLU MLP candidates through torch's autograd, each with its criterion.

    The torch engine's counterpart of the numpy engine's stacked
    :class:`~skdistill.training._numpy._closed_form.ClosedFormStep`, with the
    same interface: ``layers`` (the stacked ``(weight, bias)`` tensors,
    candidates first), ``step(X, teacher_outputs, target, sample_weight)``
    (sets every weight's ``.grad``; returns the candidates' losses and outputs),
    ``outputs(X)`` and ``numpy_trainer`` (None: the optimizer steps in torch).
    It runs where the weights are, a GPU included, and takes any criterion.

    Examples
    --------
    >>> import torch
    >>> from skdistill.losses._settings import LossSettings
    >>> def zeros(*shape):
    ...     return torch.zeros(*shape, requires_grad=True)
    >>> layers = [(zeros(2, 4, 3), zeros(2, 4)), (zeros(2, 2, 4), zeros(2, 2))]
    >>> criteria = [LossSettings("classifier", alpha, T=2.0).criterion() for alpha in (0.0, 1.0)]
    >>> step = AutogradStackedStep(layers, criteria)
    >>> labels = torch.zeros(5, dtype=torch.long)
    >>> losses, outputs = step(torch.ones(5, 3), torch.zeros(5, 2), labels)
    >>> losses.shape, outputs.shape, layers[1][1].grad.shape
    (torch.Size([2]), torch.Size([2, 5, 2]), torch.Size([2, 2]))
    """

    def __init__(self, layers, criteria):
        self.layers = layers
        self.criteria = criteria

    def _forward(self, X):
        hidden = X if X.dim() == 2 else X.reshape(X.shape[0], -1)  # images: flattened
        for depth, (weight, bias) in enumerate(self.layers):
            if depth:
                hidden = torch.relu(hidden)
            hidden = torch.matmul(hidden, weight.transpose(-1, -2)) + bias[:, None, :]
        return hidden

    def outputs(self, X):
        """Each candidate's outputs for a batch's rows, ``(n_candidates, n_rows, n_outputs)``."""
        with torch.no_grad():
            return self._forward(X)

    def __call__(self, X, teacher_outputs, target, sample_weight=None):
        for layer in self.layers:
            for weight in layer:
                weight.grad = None
        outputs = self._forward(X)
        losses = torch.stack([
            criterion(out, teacher_outputs, target, sample_weight)
            for criterion, out in zip(self.criteria, outputs)
        ])
        losses.sum().backward()  # the candidates share no weight: each gets its own gradient
        return losses.detach(), outputs.detach()

    def numpy_trainer(self, optimizer):
        """None: the optimizer's update runs in torch."""
        return None


def _validation_loss(step, loss_settings, valid, batch_size):
    """Each candidate's monitored loss as a single fit logs it.

    ``valid_label_loss`` (batch losses averaged by rows), or at ``T != 1``
    ``valid_calibrated_loss`` (on all the validation outputs at once); see
    :func:`~skdistill.training._early_stopping.monitored_loss`.
    """
    calibrated = [monitored_loss(each) == "valid_calibrated_loss" for each in loss_settings]
    label_loss = loss_settings[0].criterion().label_loss
    total, rows, outputs, targets, weights = 0.0, 0, [], [], []
    for features, target in TensorBatchLoader(valid, batch_size):
        batch_outputs = step.outputs(features["X"])
        weight = features.get("sample_weight")
        with torch.no_grad():
            losses = [
                label_loss(out, target, weight).item() for out in batch_outputs
            ]
        total = total + np.array(losses) * len(target)
        rows += len(target)
        if any(calibrated):  # kept for the calibrated loss, made from all the rows at once
            outputs.append(np.stack([out.detach().float().cpu().numpy() for out in batch_outputs]))
            targets.append(target.cpu().numpy())
            weights.append(None if weight is None else weight.cpu().numpy())
    losses = total / rows
    if any(calibrated):
        logits, target = np.concatenate(outputs, axis=1), np.concatenate(targets)
        weight = None if weights[0] is None else np.concatenate(weights)
        for candidate in np.flatnonzero(calibrated):
            losses[candidate] = calibrated_label_loss(logits[candidate], target, weight)
    return losses
