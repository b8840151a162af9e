"""The exported student computed on its rows' transpose: one input, one activation per row.

onnxruntime gathers, clips and adds along rows many times faster than along
columns, and a product ``W @ F`` reads the inputs ``F`` as they lie. So the
file's student takes the rows, transposes them once (a few numbers per row),
computes its first layer's inputs one per row (lines and hinges of the
numbers: :class:`~skdistill.deploy._hinges.HingeFirstLayer`; the one-hot rows
of a table's category codes), and keeps every activation transposed through
its layers: only its outputs (a few per row) are transposed back.
"""

import torch

from ..training._solver import plain_relu_linears
from ._hinges import hinged_student, summed

__all__ = ["ColumnsFirstStudent", "columns_first_student"]


class ColumnsFirstStudent(torch.nn.Module):
    """A plain ReLU :class:`~skdistill.MLPStudent` reading rows of numbers and category codes,
    computed on their transpose.

    Parameters
    ----------
    numbers : HingeFirstLayer or None
        The first layer's terms on the numbers (None: no numeric column).
    bias : tensor of shape (n_hidden,)
        The first layer's bias.
    later : list of torch.nn.Linear
        The later layers, a ReLU before each.
    code_weight : tensor of shape (n_hidden, n_one_hot), default=None
        The first layer's weights on the one-hot columns (None: no categorical column).
    code_columns, code_values : tensors of shape (n_one_hot,), default=None
        One-hot column ``k`` is 1 where code column ``code_columns[k]`` holds
        ``code_values[k]``.
    """

    def __init__(self, numbers, bias, later, code_weight=None, code_columns=None,
                 code_values=None):
        super().__init__()
        self.numbers = numbers
        self.register_buffer("bias", bias.detach().clone())
        self.later = torch.nn.ModuleList(later)
        self.register_buffer("code_weight", code_weight)
        self.register_buffer("code_columns", code_columns)
        self.register_buffer("code_values", None if code_values is None else code_values[:, None])

    def forward(self, numbers=None, codes=None):
        terms = [] if self.numbers is None else self.numbers.terms(numbers)
        if codes is not None:
            picked = torch.index_select(codes.t(), 0, self.code_columns)
            terms.append((self.code_weight, (picked == self.code_values).to(self.bias.dtype)))
        out = summed(terms, self.bias)
        for layer in self.later:
            out = torch.matmul(layer.weight, torch.relu(out))
            if layer.bias is not None:
                out = out + layer.bias[:, None]
        return out.t()


def columns_first_student(encoding, module, rows_filled=False):
    """``module`` reading rows through ``encoding`` as a :class:`ColumnsFirstStudent`; or None.

    None where ``module`` is not a plain ReLU :class:`~skdistill.MLPStudent`,
    the encoding has no piecewise-linear bins (standardised columns read
    faster in the rows' own layout, the division folded into the first layer:
    in interleaved runs on 10,000 digits rows, the transposed student took
    10-25 % longer), or its first layer cannot be read through lines and
    hinges as precisely (:func:`~skdistill.deploy._hinges.hinged_student`).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skdistill import MLPStudent, make_student_encoder
    >>> from skdistill.students._fitted_encoder import numeric_encoding
    >>> X = np.random.RandomState(0).normal(size=(200, 3))
    >>> scaled, both = (numeric_encoding(make_student_encoder(X, numeric=kind).fit(X))
    ...                 for kind in ("scale", "both"))
    >>> columns_first_student(scaled, MLPStudent(3, 2)) is None  # no bins: the rows' layout
    True
    >>> student = MLPStudent(both.n_features_out, 2, hidden_layer_sizes=(8, 4)).eval()
    >>> rows = torch.tensor(X[:5] * 3, dtype=torch.float32)
    >>> exported = columns_first_student(both, student)
    >>> bool(torch.allclose(exported(rows), student(both(rows)), atol=1e-5))
    True
    """
    linears = plain_relu_linears(module)
    has_bins = bool(torch.isfinite(encoding.low).any() or torch.isfinite(encoding.high).any())
    if linears is None or not has_bins:
        return None
    hinged = hinged_student(encoding, module, rows_filled)
    if hinged is None:
        return None
    return ColumnsFirstStudent(hinged[0], hinged[0].bias, linears[1:])
