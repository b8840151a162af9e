"""The closed-form training step in numpy, for small batches on the CPU.

A small student's step on the CPU is dominated by the fixed cost of each
operation: a few microseconds per torch call against about one for numpy on
arrays of a few thousand numbers, which is how ``MLPClassifier`` steps fast.
This module computes the same forward pass, loss and gradients as
:class:`~skdistill.training._numpy._closed_form.ClosedFormStep` on numpy views of the same
memory (no copies of the weights), for one student or a stack of
candidates, and returns the gradients as arrays: the step hands them to the
net's torch optimizer as ``.grad``, or, where nothing reads them, straight to
:class:`~skdistill.training._numpy._adam.NumpyAdam`. The losses are those of
:class:`~skdistill.DistillationLoss` (``"hinton"``) and
:class:`~skdistill.RegressionDistillationLoss`, their gradients written out by hand
(tested equal to torch's autograd of them).
"""

import numpy as np
import torch

__all__ = [
    "numpy_distillation_loss_and_gradient",
    "numpy_forward",
    "numpy_ready",
    "numpy_regression_loss_and_gradient",
    "numpy_step",
]


def numpy_ready(tensor):
    """Whether ``tensor`` is a dense CPU float tensor that numpy can view without a copy."""
    return (
        tensor.device.type == "cpu"
        and tensor.layout == torch.strided
        and tensor.dtype in (torch.float32, torch.float64)
    )


def numpy_forward(weights, X):
    """Every layer's input (``X`` first) and, last, the outputs of a plain ReLU MLP, in numpy.

    ``weights`` as in :func:`numpy_step` (with or without a candidate axis).

    Examples
    --------
    >>> W, b = np.array([[1.0, -1.0]], np.float32), np.zeros(1, np.float32)
    >>> numpy_forward([(W, b), (np.ones((1, 1), np.float32), b)], np.ones((2, 2), np.float32))[-1]
    array([[0.],
           [0.]], dtype=float32)
    """
    with np.errstate(all="ignore"):
        inputs = [X if X.ndim == 2 else X.reshape(X.shape[0], -1)]  # images: flattened
        for W, b in weights[:-1]:
            hidden = inputs[-1] @ W.swapaxes(-1, -2)
            hidden += b[..., None, :]
            inputs.append(np.maximum(hidden, 0, out=hidden))
        W, b = weights[-1]
        outputs = inputs[-1] @ W.swapaxes(-1, -2)
        outputs += b[..., None, :]
    return [*inputs, outputs]


def numpy_step(weights, X, loss_and_gradient, teacher_outputs, target, sample_weight):
    """Forward, loss and gradients of one batch through a plain ReLU MLP, in numpy.

    Parameters
    ----------
    weights : list of (W, b) ndarrays
        The affine layers in order (``W`` shaped ``(out, in)``); a ReLU follows each but the
        last. With a leading candidate axis (``W`` shaped ``(n_candidates, out, in)``, ``b``
        ``(n_candidates, out)``) one call steps that many MLPs on the same batch.
    X : ndarray of shape (n_rows, n_features)
    loss_and_gradient : callable
        ``(outputs, teacher_outputs, target, sample_weight) -> (loss, d loss / d outputs)``
        on ndarrays.
    teacher_outputs, target, sample_weight : ndarray (sample_weight may be None)

    Returns
    -------
    loss : float, or ndarray of one per candidate
    outputs : ndarray of shape ([n_candidates,] n_rows, n_outputs)
    gradients : list of (dW, db) ndarrays, one per layer, shaped like the weights

    Examples
    --------
    >>> def half_and_half(out, teacher, y, w):
    ...     return numpy_regression_loss_and_gradient(out, teacher, y, alpha=0.5)
    >>> W, b = np.ones((1, 3), np.float32), np.zeros(1, np.float32)
    >>> loss, out, grads = numpy_step([(W, b)], np.ones((4, 3), np.float32), half_and_half,
    ...                               np.ones((4, 1), np.float32), np.full(4, 3.0), None)
    >>> loss, grads[0][0].tolist()  # outputs 3 = the labels; 2 above the teacher's
    (2.0, [[2.0, 2.0, 2.0]])
    """
    with np.errstate(all="ignore"):  # as in torch: a diverging fit meets the training guard
        *inputs, outputs = numpy_forward(weights, X)
        loss, grad = loss_and_gradient(outputs, teacher_outputs, target, sample_weight)
        gradients = []
        for depth in range(len(weights) - 1, -1, -1):
            below = inputs[depth]
            gradients.append((grad.swapaxes(-1, -2) @ below, grad.sum(axis=-2)))
            if depth:
                grad = grad @ weights[depth][0]
                grad *= below > 0
        return loss, outputs, gradients[::-1]


def _softmax(shifted):
    """``(softmax, log-softmax)`` of rows already shifted so that their maximum is at most 0."""
    exp = np.exp(shifted)
    total = exp.sum(axis=-1, keepdims=True)
    exp /= total
    return exp, shifted - np.log(total)


def _shifted(z):
    """``z`` less each row's maximum (the same softmax, and no overflow in ``exp``)."""
    return z - z.max(axis=-1, keepdims=True)


def _total(terms):
    """The sum over rows and columns: a scalar, or one per candidate (kept as (n, 1, 1))."""
    return terms.sum() if terms.ndim == 2 else terms.sum(axis=(-2, -1), keepdims=True)


def _row_shares(sample_weight, mask, n_rows):
    """Each row's share of a (weighted, masked) mean, as a column; ``1 / n`` as a float.

    The same floors as the torch version: 1 without weights, 1e-12 with them.
    """
    if sample_weight is None and mask is None:
        return 1.0 / n_rows
    if sample_weight is None:
        rows, floor = mask.astype(np.float32), 1.0
    else:
        rows, floor = sample_weight if mask is None else sample_weight * mask, 1e-12
    return (rows / max(float(rows.sum()), floor))[:, None]


def numpy_distillation_loss_and_gradient(logits, teacher_logits, target, *, T, alpha,
                                         sample_weight=None):
    """The ``"hinton"`` :class:`~skdistill.DistillationLoss` and its gradient, in numpy.

    ``target`` holds class indices, -1 for an unlabelled row. ``logits`` may carry
    a leading candidate axis, ``(n_candidates, n, k)``, with ``T`` and ``alpha``
    arrays shaped ``(n_candidates, 1, 1)``: one loss per candidate.

    Returns
    -------
    loss : float, or ndarray of one per candidate
    grad : ndarray shaped like ``logits``

    Examples
    --------
    >>> z = np.zeros((1, 2), np.float32)
    >>> loss, grad = numpy_distillation_loss_and_gradient(z, z, np.array([1]), T=1.0, alpha=0.0)
    >>> round(loss, 6), grad.tolist()  # ln 2; softmax - onehot
    (0.693147, [[0.5, -0.5]])
    """
    # T and alpha in the logits' precision: one student and a stack of candidates round alike
    T, alpha = (_in_precision(value, logits.dtype) for value in (T, alpha))
    n_rows = logits.shape[-2]
    shifted = _shifted(logits)
    p, log_p = _softmax(shifted)
    loss, grad = 0.0, None
    if _some(alpha > 0):
        plain = T.ndim == 0 and T == 1
        p_T, log_p_T = (p, log_p) if plain else _softmax(shifted / T)  # max(z / T) = max(z) / T
        q, log_q = _softmax(_shifted(teacher_logits if plain else teacher_logits / T))
        share = _row_shares(sample_weight, None, n_rows)
        loss = loss + _total(q * (log_q - log_p_T) * share) * (alpha * T * T)
        grad = p_T - q
        grad *= share * (alpha * T)
    if _some(alpha < 1):
        labelled = None if target.min() >= 0 else target >= 0
        share = _row_shares(sample_weight, labelled, n_rows)
        rows, index = np.arange(n_rows), target if labelled is None else np.maximum(target, 0)
        loss = loss + _total(log_p[..., rows, index][..., None] * share) * (alpha - 1)
        p[..., rows, index] -= 1
        p *= share * (1 - alpha)
        grad = p if grad is None else grad + p
    return (float(loss) if logits.ndim == 2 else loss.reshape(-1)), grad


def _in_precision(value, dtype):
    """A float as a numpy scalar of ``dtype``, an array as an array of it."""
    return value.astype(dtype, copy=False) if isinstance(value, np.ndarray) else dtype.type(value)


def _some(condition):
    """Whether ``condition`` (a numpy scalar, or an array over candidates) holds for any."""
    return bool(condition.any()) if condition.ndim else bool(condition)


def numpy_regression_loss_and_gradient(outputs, teacher_outputs, target, *, alpha,
                                       sample_weight=None):
    """:class:`~skdistill.RegressionDistillationLoss` and its gradient, in numpy.

    Rows whose ``target`` is NaN carry no label. ``outputs`` may carry a
    leading candidate axis, ``(n_candidates, n, 1)``, with ``alpha`` an array
    shaped ``(n_candidates, 1, 1)``.

    Returns
    -------
    loss : float, or ndarray of one per candidate
    grad : ndarray shaped like ``outputs``

    Examples
    --------
    >>> out = np.array([[1.0], [1.0]], np.float32)
    >>> loss, grad = numpy_regression_loss_and_gradient(
    ...     out, np.array([[3.0], [1.0]]), np.array([0.0, np.nan]), alpha=0.25)
    >>> loss, grad[:, 0].tolist()
    (1.25, [1.0, 0.0])
    """
    alpha = _in_precision(alpha, outputs.dtype)
    n_rows = len(target)
    column = outputs.reshape(*outputs.shape[:-2], n_rows, -1)[..., :1]
    loss, grad = 0.0, np.zeros_like(column)
    if _some(alpha > 0):
        error = column - teacher_outputs.reshape(-1, 1)
        share = _row_shares(sample_weight, None, n_rows)
        loss = loss + _total(error * error * share) * alpha
        grad += error * share * (2 * alpha)
    if _some(alpha < 1):
        missing = np.isnan(target)
        error = column - np.nan_to_num(target)[:, None]
        share = _row_shares(sample_weight, ~missing if missing.any() else None, n_rows)
        loss = loss + _total(error * error * share) * (1 - alpha)
        grad += error * share * (2 * (1 - alpha))
    return (float(loss) if outputs.ndim == 2 else loss.reshape(-1)), grad.reshape(outputs.shape)
