"""Training steps without autograd for the built-in student and losses.

On thousands of rows a training step of a small network is all per-operation
overhead: autograd records a graph of a dozen nodes for a two-layer MLP and its
loss, and walks it back. For the built-in pieces the gradient has a closed
form, so a step here computes the forward pass, the loss and every gradient
directly (about half the operations, none of them recorded), and leaves the
update to the net's optimizer. The result is the same step to float rounding
(tested against autograd). On the CPU the arithmetic runs in numpy
(:mod:`skdistill.training._numpy._step`), and :meth:`ClosedFormStep.numpy_trainer` can
take the optimizer's update there too; on a GPU it runs in torch.

It applies when all of these hold, and the net falls back to autograd otherwise:

* the student is an :class:`~skdistill.MLPStudent` (the class itself, not a
  subclass) whose layers are ``Linear`` and ``ReLU`` only (no dropout), every
  parameter trainable and no hooks registered;
* the batch is dense;
* the criterion is a :class:`~skdistill.DistillationLoss` with the ``"hinton"``
  soft loss, or a :class:`~skdistill.RegressionDistillationLoss`.
"""

import torch
from torch import nn

from ...losses._losses import (
    DistillationLoss,
    RegressionDistillationLoss,
    hinton_kd_loss,
)
from ...students._mlp import MLPStudent
from ._adam import NumpyAdam
from ._step import (
    numpy_distillation_loss_and_gradient,
    numpy_ready,
    numpy_regression_loss_and_gradient,
    numpy_step,
)

__all__ = [
    "ClosedFormStep",
    "distillation_loss_and_gradient",
    "plain_relu_linears",
    "regression_loss_and_gradient",
]


class ClosedFormStep:
    """Forward, loss and gradients of one batch for a plain ReLU MLP, without autograd.

    Build it with :meth:`for_net`, which returns None where the closed form
    does not apply. The layers' weights may also carry a leading candidate
    axis (``(n_candidates, out, in)``, biases ``(n_candidates, out)``): then
    one call steps that many MLPs of one shape on the same batch, each with
    its own loss settings (see :mod:`skdistill.training._numpy._candidates`).

    Parameters
    ----------
    layers : list of (weight, bias) tensors
        The MLP's affine layers in order; a ReLU follows each but the last.
    loss_and_gradient : callable
        ``(outputs, teacher_outputs, target, sample_weight) -> (loss, d loss / d outputs)``.
    numpy_loss_and_gradient : callable or None, default=None
        The same on ndarrays (see :mod:`skdistill.training._numpy._step`); None: torch only.

    Examples
    --------
    >>> import torch
    >>> from skdistill import DistillationLoss, MLPStudent
    >>> student = MLPStudent(n_features=3, n_outputs=2, hidden_layer_sizes=(4,))
    >>> step = ClosedFormStep.for_net(student, DistillationLoss(T=2.0, alpha=0.5))
    >>> loss, logits = step(torch.ones(5, 3), torch.zeros(5, 2), torch.tensor([0, 1, 1, 0, -1]))
    >>> logits.shape, student.layers[0].weight.grad.shape
    (torch.Size([5, 2]), torch.Size([4, 3]))
    """

    def __init__(self, layers, loss_and_gradient, numpy_loss_and_gradient=None):
        self.layers = layers
        self.loss_and_gradient = loss_and_gradient
        self.numpy_loss_and_gradient = numpy_loss_and_gradient

    @classmethod
    def for_net(cls, module, criterion):
        """The closed-form step for ``module`` trained on ``criterion``, or None."""
        losses = _closed_form_losses(criterion)
        linears = plain_relu_linears(module)
        if losses is None or linears is None:
            return None
        return cls([(linear.weight, linear.bias) for linear in linears], *losses)

    def activations(self, X):
        """Every layer's input (``X`` first) and the outputs, without recording gradients."""
        with torch.no_grad():
            inputs = [X]
            for weight, bias in self.layers[:-1]:
                inputs.append(_affine(inputs[-1], weight, bias).relu_())
            return inputs, _affine(inputs[-1], *self.layers[-1])

    def __call__(self, X, teacher_outputs, target, sample_weight=None):
        """Set every parameter's ``.grad`` to this batch's gradient; return ``(loss, outputs)``.

        The gradients replace any earlier ones, as ``zero_grad`` followed by
        ``backward`` would leave them. On the CPU the step runs in numpy
        (:mod:`skdistill.training._numpy._step`), whose operations cost a fraction of
        torch's on small batches; on a GPU it runs in torch.
        """
        if X.device.type == "cpu" and self.runs_in_numpy():
            return self._numpy_call(X, teacher_outputs, target, sample_weight)
        inputs, outputs = self.activations(X)
        with torch.no_grad():
            loss, grad = self.loss_and_gradient(outputs, teacher_outputs, target, sample_weight)
            for depth in range(len(self.layers) - 1, -1, -1):
                (weight, bias), below = self.layers[depth], inputs[depth]
                weight.grad = grad.transpose(-1, -2).matmul(below)
                bias.grad = grad.sum(dim=-2)
                if depth:
                    grad = grad.matmul(weight).mul_(below > 0)
        return loss, outputs

    def numpy_trainer(self, optimizer):
        """Whole training steps in numpy, gradients and update, or None where they do not apply.

        Returns a :class:`NumpyTraining`: called on a batch's ``(X,
        teacher_outputs, target, sample_weight)`` tensors it updates the
        weights as ``self(...)`` followed by ``optimizer.step()`` would (see
        :class:`~skdistill.training._numpy._adam.NumpyAdam`) and returns the loss (a
        float, one per candidate for stacked layers); use it as a context
        manager, whose exit writes the optimizer's state. It leaves ``.grad``
        alone: use it only where nothing reads the gradients. It applies on
        the CPU, with a plain Adam or AdamW.
        """
        parameters = [parameter for layer in self.layers for parameter in layer]
        if not self.runs_in_numpy() or NumpyAdam.for_optimizer(optimizer, parameters) is None:
            return None
        return NumpyTraining(self, optimizer, parameters)

    def runs_in_numpy(self):
        """Whether the step runs in numpy: CPU float tensors and a numpy loss.

        Run such steps inside :data:`~skdistill.training._numpy._step.one_blas_thread`.
        """
        return self.numpy_loss_and_gradient is not None and all(
            numpy_ready(p) for layer in self.layers for p in layer
        )

    def _numpy_views(self):
        """The layers' ``(weight, bias)`` as numpy arrays sharing the tensors' memory."""
        return [(weight.detach().numpy(), bias.detach().numpy()) for weight, bias in self.layers]

    def _numpy_step(self, views, X, teacher_outputs, target, sample_weight):
        """:func:`~skdistill.training._numpy._step.numpy_step` on a batch's tensors."""
        return numpy_step(
            views,
            X.numpy(),
            self.numpy_loss_and_gradient,
            teacher_outputs.numpy(),
            target.numpy(),
            None if sample_weight is None else sample_weight.numpy(),
        )

    def _numpy_call(self, X, teacher_outputs, target, sample_weight):
        """``__call__`` through numpy views of the same tensors."""
        views = self._numpy_views()
        loss, outputs, gradients = self._numpy_step(
            views, X, teacher_outputs, target, sample_weight
        )
        for (weight, bias), view, gradient in zip(self.layers, views, gradients):
            for parameter, array, grad in zip((weight, bias), view, gradient):
                parameter.grad = torch.from_numpy(grad.astype(array.dtype, copy=False))
        predictions = torch.from_numpy(outputs)
        return torch.as_tensor(loss, dtype=predictions.dtype), predictions


class NumpyTraining:
    """Training steps in numpy for a :class:`ClosedFormStep`; see its ``numpy_trainer``.

    The optimizer's state is read at the first step and written back by
    :meth:`flush`, which the context manager's exit calls (also on an
    exception); flush before any other step touches the optimizer.
    """

    def __init__(self, step, optimizer, parameters):
        self.step = step
        self.optimizer = optimizer
        self.parameters = parameters
        self.views = step._numpy_views()
        self._adam = None

    def __call__(self, X, teacher_outputs, target, sample_weight):
        if self._adam is None:
            self._adam = NumpyAdam(self.optimizer, self.parameters)
        loss, _, gradients = self.step._numpy_step(
            self.views, X, teacher_outputs, target, sample_weight
        )
        self._adam.step([gradient for layer in gradients for gradient in layer])
        return loss

    def flush(self):
        """Write the optimizer's state; the next step reads it afresh."""
        if self._adam is not None:
            self._adam.flush()
            self._adam = None

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.flush()


def _affine(x, weight, bias):
    """``x @ weight.T + bias``; with stacked weights, one product per candidate."""
    if weight.dim() == 2:
        return torch.addmm(bias, x, weight.t())
    if x.dim() == 2:
        x = x.expand(weight.shape[0], *x.shape)
    return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))


def plain_relu_linears(module):
    """The ``Linear`` layers of a plain ReLU :class:`MLPStudent`, or None."""
    if type(module) is not MLPStudent or not all(p.requires_grad for p in module.parameters()):
        return None
    for sub in module.modules():
        if sub._forward_hooks or sub._forward_pre_hooks or sub._backward_hooks:
            return None
    layers = list(module.layers)
    linears = layers[::2]
    if not all(type(layer) is nn.Linear for layer in linears):
        return None
    if not all(type(layer) is nn.ReLU for layer in layers[1::2]) or len(layers) % 2 == 0:
        return None
    return linears


def _closed_form_losses(criterion):
    """``loss_and_gradient`` in torch and in numpy for a built-in criterion, or None."""
    if type(criterion) is DistillationLoss and criterion.soft_loss is hinton_kd_loss:
        settings = dict(T=float(criterion.T), alpha=float(criterion.alpha))
        engines = (distillation_loss_and_gradient, numpy_distillation_loss_and_gradient)
    elif type(criterion) is RegressionDistillationLoss:
        settings = dict(alpha=float(criterion.alpha))
        engines = (regression_loss_and_gradient, numpy_regression_loss_and_gradient)
    else:
        return None
    return tuple(_with_settings(engine, settings) for engine in engines)


def _with_settings(engine, settings):
    """``engine`` as ``(outputs, teacher_outputs, target, sample_weight) -> (loss, grad)``."""

    def loss_and_gradient(outputs, teacher_outputs, target, sample_weight):
        return engine(outputs, teacher_outputs, target, sample_weight=sample_weight, **settings)

    return loss_and_gradient


def _row_shares(sample_weight, mask, like):
    """Each row's share of a (weighted, masked) mean, ``w_i / sum(w)``; None: ``1 / n`` each.

    Without weights the denominator is floored at 1 (a batch without labelled
    rows adds 0), with weights at 1e-12, as :func:`~skdistill.hard_label_loss` does.
    """
    if sample_weight is None and mask is None:
        return None
    if sample_weight is None:
        rows, floor = mask.to(like.dtype), 1.0
    else:
        rows, floor = sample_weight.to(like.dtype), 1e-12
        if mask is not None:
            rows = rows * mask
    return rows / rows.sum().clamp(min=floor)


def distillation_loss_and_gradient(logits, teacher_logits, target, *, T, alpha,
                                   sample_weight=None):
    """:class:`~skdistill.DistillationLoss` with the ``"hinton"`` soft loss, and its gradient.

    ``alpha * T**2 * KL(softmax(teacher / T) || softmax(logits / T))`` plus
    ``(1 - alpha) * CE(target, logits)`` over the labelled rows (``target >= 0``),
    each a (weighted) mean over rows as in :func:`~skdistill.hinton_kd_loss` and
    :func:`~skdistill.hard_label_loss`. The gradient with respect to the logits
    is ``alpha * T * (softmax(logits / T) - softmax(teacher / T))`` plus
    ``(1 - alpha) * (softmax(logits) - onehot(target))``, row-scaled alike.

    ``logits`` may carry a leading candidate axis, ``(n_candidates, n, k)``,
    with ``T`` and ``alpha`` tensors of shape ``(n_candidates, 1, 1)``: each
    candidate's loss under its own settings, on the same rows.

    Returns
    -------
    loss : scalar tensor, or one per candidate
    grad : tensor shaped like ``logits``

    Examples
    --------
    >>> import torch
    >>> z = torch.zeros(1, 2)
    >>> loss, grad = distillation_loss_and_gradient(z, z, torch.tensor([1]), T=1.0, alpha=0.0)
    >>> round(loss.item(), 6), grad.tolist()  # ln 2; softmax - onehot
    (0.693147, [[0.5, -0.5]])
    """
    n_rows = logits.shape[-2]
    log_p = logits.log_softmax(dim=-1)
    p = log_p.exp()
    soft = hard = grad = None
    if _some(alpha > 0):
        plain = not torch.is_tensor(T) and T == 1
        log_p_T = log_p if plain else (logits / T).log_softmax(dim=-1)
        log_q = (teacher_logits if plain else teacher_logits / T).log_softmax(dim=-1)
        q = log_q.exp()
        kl = q * (log_q - log_p_T)
        share = _row_shares(sample_weight, None, logits)
        grad = (p if plain else log_p_T.exp()) - q
        if share is None:
            soft = kl.sum(dim=(-2, -1), keepdim=True) * (alpha * T * T / n_rows)
            grad.mul_(alpha * T / n_rows)
        else:
            share = share.unsqueeze(-1)
            soft = (kl.sum(dim=-1, keepdim=True) * share).sum(dim=-2, keepdim=True)
            soft = soft * (alpha * T * T)
            grad.mul_(share * (alpha * T))
    if _some(alpha < 1):
        index = target.clamp(min=0).unsqueeze(-1).expand(*logits.shape[:-1], 1)
        share = _row_shares(sample_weight, target >= 0, logits).unsqueeze(-1)
        hard = (log_p.gather(-1, index) * share).sum(dim=-2, keepdim=True) * (alpha - 1)
        p_minus_onehot = p.scatter_add_(-1, index, share.new_full(index.shape, -1.0))
        hard_grad = p_minus_onehot.mul_(share * (1 - alpha))
        grad = hard_grad if grad is None else grad.add_(hard_grad)
    loss = hard if soft is None else soft if hard is None else soft + hard
    return loss.reshape(logits.shape[:-2]), grad


def _some(condition):
    """``condition`` for a float, whether it holds for any candidate for a tensor."""
    return bool(condition.any()) if torch.is_tensor(condition) else condition


def regression_loss_and_gradient(outputs, teacher_outputs, target, *, alpha, sample_weight=None):
    """:class:`~skdistill.RegressionDistillationLoss` and its gradient.

    ``alpha * MSE(outputs, teacher)`` plus ``(1 - alpha) * MSE(outputs, target)``
    over the rows whose target is not NaN, each a (weighted) mean over rows.

    Returns
    -------
    loss : scalar tensor
    grad : tensor shaped like ``outputs``

    Examples
    --------
    >>> import torch
    >>> out = torch.tensor([[1.0], [1.0]])
    >>> loss, grad = regression_loss_and_gradient(
    ...     out, torch.tensor([[3.0], [1.0]]), torch.tensor([0.0, float("nan")]), alpha=0.25)
    >>> loss.item()  # 0.25 * mean([4, 0]) + 0.75 * 1 (the NaN row has no label)
    1.25
    >>> grad[:, 0].tolist()  # 0.25 * 2 * [-2, 0] / 2 + 0.75 * 2 * [1, 0]
    [1.0, 0.0]
    """
    column = outputs.reshape(len(target), -1)[:, 0]
    loss = column.new_zeros(())
    grad = torch.zeros_like(column)
    if alpha > 0:
        error = column - teacher_outputs.reshape(-1)
        share = _row_shares(sample_weight, None, column)
        if share is None:
            share = column.new_full(column.shape, 1.0 / len(column))
        loss = loss + alpha * (error * error).dot(share)
        grad.add_(error * share, alpha=2 * alpha)
    if alpha < 1:
        error = column - torch.nan_to_num(target)
        share = _row_shares(sample_weight, ~torch.isnan(target), column)
        loss = loss + (1 - alpha) * (error * error).dot(share)
        grad.add_(error * share, alpha=2 * (1 - alpha))
    return loss, grad.reshape(outputs.shape)
