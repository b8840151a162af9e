"""The numpy engine's training step for the built-in student and losses.

On thousands of rows a training step of a small network is all per-operation
overhead: autograd records a graph of a dozen nodes for a two-layer MLP and
its loss, and walks it back, each node a few microseconds of torch. For the
built-in pieces the gradient has a closed form, so a step here computes the
forward pass, the loss and every gradient directly in numpy
(:mod:`._step`), on views of the weights' own memory. The result is the same
step as autograd's to float rounding (tested). :meth:`ClosedFormStep.numpy_trainer`
takes the optimizer's update into numpy too (:mod:`._adam`).

Where it applies is decided in one place,
:func:`skdistill.training._solver.numpy_obstacle`.
"""

import torch

from .._solver import plain_relu_linears
from ._adam import NumpyAdam
from ._step import (
    numpy_distillation_loss_and_gradient,
    numpy_forward,
    numpy_regression_loss_and_gradient,
    numpy_step,
)

__all__ = ["ClosedFormStep", "NumpyTraining"]


class ClosedFormStep:
    """Forward, loss and gradients of one batch for a plain ReLU MLP, in numpy.

    Build it with :meth:`for_net`. The layers' weights may also carry a leading
    candidate axis (``(n_candidates, out, in)``, biases ``(n_candidates, out)``):
    then one call steps that many MLPs of one shape on the same batch, each
    with its own loss settings (see :mod:`skdistill.training._candidates`).

    Parameters
    ----------
    layers : list of (weight, bias) tensors
        The MLP's affine layers in order (CPU, float32 or float64); a ReLU
        follows each but the last.
    loss_and_gradient : callable
        ``(outputs, teacher_outputs, target, sample_weight) -> (loss, d loss / d outputs)``
        on ndarrays (see :mod:`._step`).
    label_loss_and_gradient : callable, optional
        The same for the labels' term alone (the criterion's ``label_loss``),
        which :meth:`evaluate` needs.

    Examples
    --------
    >>> import torch
    >>> from skdistill import MLPStudent
    >>> from skdistill.losses._settings import LossSettings
    >>> student = MLPStudent(n_features=3, n_outputs=2, hidden_layer_sizes=(4,))
    >>> step = ClosedFormStep.for_net(student, LossSettings("classifier", alpha=0.5, T=2.0))
    >>> loss, logits = step(torch.ones(5, 3), torch.zeros(5, 2), torch.tensor([0, 1, 1, 0, -1]))
    >>> logits.shape, student.layers[0].weight.grad.shape
    (torch.Size([5, 2]), torch.Size([4, 3]))
    """

    def __init__(self, layers, loss_and_gradient, label_loss_and_gradient=None):
        self.layers = layers
        self.loss_and_gradient = loss_and_gradient
        self.label_loss_and_gradient = label_loss_and_gradient

    @classmethod
    def for_net(cls, module, loss_settings):
        """The step for ``module`` trained with ``loss_settings`` (where ``numpy_obstacle`` is
        None)."""
        linears = plain_relu_linears(module)
        layers = [(linear.weight, linear.bias) for linear in linears]
        if loss_settings.classifies:
            settings = dict(T=float(loss_settings.T), alpha=float(loss_settings.alpha))
            engine = numpy_distillation_loss_and_gradient
        else:
            settings = dict(alpha=float(loss_settings.alpha))
            engine = numpy_regression_loss_and_gradient

        def loss_and_gradient(outputs, teacher_outputs, target, sample_weight):
            return engine(outputs, teacher_outputs, target, sample_weight=sample_weight,
                          **settings)

        def labels_term(outputs, teacher_outputs, target, sample_weight):
            # the labels' term alone (the criterion's label_loss): alpha 0, at any T
            return engine(outputs, teacher_outputs, target, sample_weight=sample_weight,
                          **{**settings, "alpha": 0.0})

        # at alpha 0 the loss is the labels' term: the same function, computed once
        return cls(layers, loss_and_gradient,
                   loss_and_gradient if settings["alpha"] == 0.0 else labels_term)

    def views(self):
        """The layers' ``(weight, bias)`` as numpy arrays sharing the tensors' memory."""
        return [(weight.detach().numpy(), bias.detach().numpy()) for weight, bias in self.layers]

    def outputs(self, X):
        """The network's outputs for a batch's rows (a tensor), without recording gradients."""
        return torch.from_numpy(numpy_forward(self.views(), X.numpy())[-1])

    def evaluate(self, X, teacher_outputs, target, sample_weight=None):
        """A held-out batch's ``(loss, label loss, outputs)``: the criterion and its
        ``label_loss`` as floats, the outputs a tensor, all computed in numpy.

        What skorch's validation step and the criterion's ``label_loss`` give
        through torch, to float rounding, at a fraction of their cost per batch.
        """
        outputs = numpy_forward(self.views(), X.numpy())[-1]
        arrays = (teacher_outputs.numpy(), target.numpy(),
                  None if sample_weight is None else sample_weight.numpy())
        loss, _ = self.loss_and_gradient(outputs, *arrays)
        label_loss = loss if self.label_loss_and_gradient is self.loss_and_gradient else (
            self.label_loss_and_gradient(outputs, *arrays)[0])
        return loss, label_loss, torch.from_numpy(outputs)

    def __call__(self, X, teacher_outputs, target, sample_weight=None):
        """Set every parameter's ``.grad`` to this batch's gradient; return ``(loss, outputs)``.

        The gradients replace any earlier ones, as ``zero_grad`` followed by
        ``backward`` would leave them.
        """
        views = self.views()
        loss, outputs, gradients = self.numpy_step(
            views, X, teacher_outputs, target, sample_weight
        )
        for (weight, bias), view, gradient in zip(self.layers, views, gradients):
            for parameter, array, grad in zip((weight, bias), view, gradient):
                parameter.grad = torch.from_numpy(grad.astype(array.dtype, copy=False))
        predictions = torch.from_numpy(outputs)
        return torch.as_tensor(loss, dtype=predictions.dtype), predictions

    def numpy_step(self, views, X, teacher_outputs, target, sample_weight):
        """:func:`~._step.numpy_step` on a batch's tensors."""
        return numpy_step(
            views,
            X.numpy(),
            self.loss_and_gradient,
            teacher_outputs.numpy(),
            target.numpy(),
            None if sample_weight is None else sample_weight.numpy(),
        )

    def numpy_trainer(self, optimizer):
        """Whole training steps in numpy, gradients and update, or None where they do not apply.

        Returns a :class:`NumpyTraining`: called on a batch's ``(X,
        teacher_outputs, target, sample_weight)`` tensors it updates the
        weights as ``self(...)`` followed by ``optimizer.step()`` would (see
        :class:`~._adam.NumpyAdam`) and returns the loss (a float, one per
        candidate for stacked layers); use it as a context manager, whose exit
        writes the optimizer's state. It leaves ``.grad`` alone: use it only
        where nothing reads the gradients. It applies to a plain Adam or AdamW.
        """
        parameters = [parameter for layer in self.layers for parameter in layer]
        if NumpyAdam.for_optimizer(optimizer, parameters) is None:
            return None
        return NumpyTraining(self, optimizer, parameters)


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
        self.views = step.views()
        self._adam = None

    def __call__(self, X, teacher_outputs, target, sample_weight):
        if self._adam is None:
            self._adam = NumpyAdam(self.optimizer, self.parameters)
        loss, _, gradients = self.step.numpy_step(
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
