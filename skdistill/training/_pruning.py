"""Structured pruning: remove whole hidden units, so the layers become smaller dense layers.

After the student is trained, :class:`Pruning` ranks each hidden unit by the
product of the norms of its incoming and outgoing weights, keeps the strongest,
rebuilds the two ``Linear`` layers around it with fewer units (no masks: the
network really is smaller, and so is its ONNX file) and fine-tunes under the
same distillation loss. With ``steps > 1`` it removes the units a share at a
time, fine-tuning after each.

Prunable students hold their ``Linear`` layers in one ``nn.Sequential`` with
only elementwise layers between them (activations, dropout), as
:class:`MLPStudent` does.
"""

from numbers import Integral, Real

import torch
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval
from torch import nn

__all__ = ["Pruning", "hidden_widths", "module_figures", "prunable_chain", "prune_hidden_units"]

ELEMENTWISE = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.RReLU, nn.GELU, nn.SiLU, nn.Mish, nn.ELU, nn.CELU,
    nn.SELU, nn.Tanh, nn.Sigmoid, nn.LogSigmoid, nn.Softplus, nn.Softsign, nn.Tanhshrink,
    nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Hardshrink, nn.Softshrink, nn.Threshold,
    nn.Dropout, nn.AlphaDropout, nn.Identity,
)
"""Layers that act on each unit alone, without weights: a hidden unit's removal leaves them as
they are (``PReLU``, with a weight per unit, is not among them)."""


class Pruning(BaseEstimator):
    """Structured pruning of the student's hidden units after training.

    Parameters
    ----------
    amount : float in (0, 1), default=0.5
        Share of each hidden layer's units removed, rounded to the nearest
        whole unit (a half to the even one); an amount that would remove every
        unit of a layer is a ValueError before any training. The share is of
        the units the student had before it was first pruned: a warm start
        of a pruned student does not cut it again at the same amount.
    steps : int, default=1
        Remove the units in this many equal steps, fine-tuning after each.
    fine_tune_epochs : int, default=60
        At most this many epochs of fine-tuning after each step, under the
        distiller's loss, early stopping and optimizer (reset for the smaller
        network). 60 kept accuracy within 1 point on digits in
        ``benchmarks/pruning.py``; 20 did not.

    See Also
    --------
    DistilledClassifier : Takes it as ``pruning``.
    export_onnx : The pruned student exports as a smaller network.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skdistill import DistilledClassifier, Pruning
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DistilledClassifier(
    ...     LogisticRegression(max_iter=500), module__hidden_layer_sizes=(16,), max_epochs=5,
    ...     pruning=Pruning(amount=0.5, fine_tune_epochs=2), random_state=0).fit(X, y)
    >>> clf.pruning_["hidden_after"]
    [8]
    """

    _parameter_constraints = {
        "amount": [Interval(Real, 0, 1, closed="neither")],
        "steps": [Interval(Integral, 1, None, closed="left")],
        "fine_tune_epochs": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, amount=0.5, steps=1, fine_tune_epochs=60):
        self.amount = amount
        self.steps = steps
        self.fine_tune_epochs = fine_tune_epochs

    def widths(self, original, step):
        """Hidden widths after ``step`` of ``steps``.

        Parameters
        ----------
        original : list of int
            The hidden widths before pruning.
        step : int
            The step, from 1 to ``steps``.

        Returns
        -------
        widths : list of int
            The widths after that step; a ValueError if one would be empty.
        """
        self._validate_params()
        share = self.amount * step / self.steps
        widths = [round(width * (1 - share)) for width in original]
        if min(widths) < 1:
            raise ValueError(
                f"Pruning(amount={self.amount}) would leave a hidden layer of "
                f"{original[widths.index(min(widths))]} units empty; lower amount."
            )
        return widths


def prunable_chain(module):
    """The ``nn.Sequential`` holding all of ``module``'s Linear layers, elementwise between them.

    Raises ValueError naming the student when there is none, or no hidden layer.
    """
    name = type(module).__name__
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    for chain in (m for m in module.modules() if isinstance(m, nn.Sequential)):
        children = list(chain.children())
        inside = [m for m in children if isinstance(m, nn.Linear)]
        if len(inside) == len(linears) and all(
            isinstance(m, (nn.Linear, *ELEMENTWISE)) for m in children
        ):
            if len(inside) < 2:
                raise ValueError(
                    f"The student_module {name} has no hidden layer to prune (one Linear layer)."
                )
            return chain
    raise ValueError(
        f"The student_module {name} has no prunable layers: pruning needs its Linear layers "
        "in one nn.Sequential with only elementwise layers (activations, dropout) between "
        "them, as MLPStudent has."
    )


def hidden_widths(module):
    """The widths of the hidden layers of a prunable student."""
    linears = [m for m in prunable_chain(module) if isinstance(m, nn.Linear)]
    return [layer.out_features for layer in linears[:-1]]


def prune_hidden_units(module, widths):
    """Return ``module`` with its hidden layers cut to ``widths`` units, the strongest kept.

    A unit's strength is ``||incoming weights|| * ||outgoing weights||``; the
    kept units' weights and biases are copied unchanged into smaller Linear
    layers (in place: the module is changed and returned).

    Examples
    --------
    >>> from skdistill import MLPStudent
    >>> net = MLPStudent(n_features=4, n_outputs=3, hidden_layer_sizes=(8, 8))
    >>> small = prune_hidden_units(net, [2, 4])
    >>> [layer.out_features for layer in small.layers if hasattr(layer, "out_features")]
    [2, 4, 3]
    """
    chain = prunable_chain(module)
    positions = [i for i, m in enumerate(chain) if isinstance(m, nn.Linear)]
    for layer_index, width in enumerate(widths):
        at, following = positions[layer_index], positions[layer_index + 1]
        incoming, outgoing = chain[at], chain[following]
        with torch.no_grad():
            strength = incoming.weight.norm(dim=1) * outgoing.weight.norm(dim=0)
            keep = torch.sort(torch.topk(strength, width).indices).values
            chain[at] = _linear(
                incoming.weight[keep], incoming.bias[keep] if incoming.bias is not None else None
            )
            chain[following] = _linear(outgoing.weight[:, keep], outgoing.bias)
    return module


def module_figures(module, shape, repeats=200):
    """``(parameters, weight bytes, median one-row forward ms)`` of a student module.

    ``shape``: the shape of one sample (an int: a row of that many features).
    The weight bytes are those of the tensors of its ``state_dict`` (weights and
    buffers, in their dtypes, a tied weight once), without a file format's framing.

    Examples
    --------
    >>> from skdistill import MLPStudent
    >>> parameters, size, ms = module_figures(MLPStudent(4, 3, (8,)), 4, repeats=3)
    >>> parameters, size, ms > 0
    (67, 268, True)
    """
    import statistics
    import timeit

    storages = {  # each storage once: tied weights are one tensor
        tensor.untyped_storage().data_ptr(): tensor.untyped_storage().nbytes()
        for tensor in module.state_dict().values() if isinstance(tensor, torch.Tensor)
    }
    size = sum(storages.values())
    parameters = sum(p.numel() for p in module.parameters())
    device = next(module.parameters()).device
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    row = torch.zeros(1, *shape, device=device)
    was_training = module.training
    module.eval()
    with torch.inference_mode():
        module(row)
        times = timeit.repeat(lambda: module(row), number=1, repeat=repeats)
    module.train(was_training)
    return parameters, size, 1e3 * statistics.median(times)


def _linear(weight, bias):
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    layer = layer.to(device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        layer.weight.copy_(weight)
        if bias is not None:
            layer.bias.copy_(bias)
    return layer
