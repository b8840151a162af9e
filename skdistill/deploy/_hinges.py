"""The exported student's first layer on piecewise-linear bins, rewritten as hinges.

The package's encoding reads a number ``x`` through its standardised value and its
piecewise-linear bins: bin ``i`` of a column is ``clip((x - t_i) / w_i, 0, 1)`` with
``t_{i+1} = t_i + w_i``, the first bin unclipped below, the last unclipped above. A bin is a
difference of two hinges, ``(relu(x - t_i) - relu(x - t_{i+1})) / w_i``, and the first bin
a line less a hinge, so the student's first layer on the encoding, ``W @ encoding + b``,
equals a layer on each column's own value and on one hinge per inner edge::

    L @ (x - m) + D @ relu(x - t) + c

with ``L``, ``D`` and ``c`` regrouped from ``W`` and ``b`` once, at export (in float64, then
float32). The exported graph then computes three passes over the hinges (gather, subtract,
relu) instead of four over the wider encoding (gather, subtract, max, min), and its product
reads one column fewer per feature. The same function, to float32 rounding.
"""

import numpy as np
import torch

from ..training._solver import plain_relu_linears

__all__ = ["HingeFirstLayer", "hinged_student"]


class HingeFirstLayer(torch.nn.Module):
    """``W @ encoding(x) + b`` computed from ``x`` through lines and hinges (see the module).

    Parameters
    ----------
    fill : tensor of shape (n_features,)
        The value a missing entry of each input column is read as.
    centre : tensor of shape (n_features,)
        ``m``: subtracted from each column before the line.
    line_weight : tensor of shape (n_outputs, n_features + n_flags)
        ``L``, then the weights of the missing flags.
    bias : tensor of shape (n_outputs,)
    hinge_columns, knots : tensors of shape (n_hinges,)
        The input column and the edge ``t`` of each hinge.
    hinge_weight : tensor of shape (n_outputs, n_hinges)
        ``D``.
    flagged : tensor of shape (n_flags,)
        The input columns whose missing values add a 0/1 input, after the columns.
    rows_filled : bool
        The rows reach it with their missing values filled already: nothing to fill, and no
        flag (``flagged`` is empty).
    """

    def __init__(self, fill, centre, line_weight, bias, hinge_columns, knots, hinge_weight,
                 flagged, rows_filled=False):
        super().__init__()
        for name, value in (("fill", fill), ("centre", centre), ("line_weight", line_weight),
                            ("bias", bias), ("hinge_columns", hinge_columns),
                            ("knots", knots[:, None]), ("hinge_weight", hinge_weight),
                            ("flagged", flagged)):
            self.register_buffer(name, value)
        self.rows_filled = rows_filled

    def forward(self, x):
        flags = None
        if not self.rows_filled:
            missing = torch.isnan(x)
            x = torch.where(missing, self.fill, x)
            if len(self.flagged):
                flags = torch.index_select(missing, 1, self.flagged).to(x.dtype)
        lines = x - self.centre
        lines = lines if flags is None else torch.cat([lines, flags], dim=1)
        # on the rows' transpose: onnxruntime gathers rows many times faster than columns,
        # and the product then reads the hinges as they lie
        hinges = torch.relu(torch.index_select(x.t(), 0, self.hinge_columns) - self.knots)
        return (torch.nn.functional.linear(lines, self.line_weight, self.bias)
                + torch.matmul(self.hinge_weight, hinges).t())


def hinged_student(encoding, module, rows_filled=False):
    """``module`` reading rows through ``encoding``, its first layer on hinges; or None.

    ``encoding``: the student's
    :class:`~skdistill.students._encoding_module.NumericEncoding`; ``module``:
    a plain ReLU :class:`~skdistill.MLPStudent` reading its output. None where
    there is nothing to gain or the rewrite does not apply: no bins, another
    student, or an encoding whose columns are not standardised values and runs
    of bins (each column's bins in order, clipped as the piecewise-linear
    encoder clips them) with positive finite widths.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skdistill import MLPStudent, make_student_encoder
    >>> from skdistill.students._encoding_module import numeric_encoding
    >>> X = np.random.RandomState(0).normal(size=(200, 3))
    >>> encoding = numeric_encoding(make_student_encoder(X).fit(X))
    >>> student = MLPStudent(encoding.n_features_out, 2, hidden_layer_sizes=(8,)).eval()
    >>> hinged = hinged_student(encoding, student)
    >>> rows = torch.tensor(X[:5] * 3, dtype=torch.float32)
    >>> bool(torch.allclose(hinged(rows), student(encoding(rows)), atol=1e-5))
    True
    """
    linears = plain_relu_linears(module)
    if linears is None or not encoding.divides:
        return None
    regrouped = _regrouped(encoding, linears[0])
    if regrouped is None:
        return None
    as_tensor = lambda values, dtype=torch.float32: torch.as_tensor(  # noqa: E731
        np.ascontiguousarray(values), dtype=dtype)
    centre, line_weight, bias, columns, knots, hinge_weight = regrouped
    flagged = encoding.flagged.clone()
    if rows_filled:  # no missing value reaches it: every flag reads 0, as encoding(x, finite=True)
        line_weight, flagged = line_weight[:, :encoding.n_features_in], flagged[:0]
    first = HingeFirstLayer(
        encoding.fill.clone(), as_tensor(centre), as_tensor(line_weight), as_tensor(bias),
        as_tensor(columns, torch.int64), as_tensor(knots), as_tensor(hinge_weight),
        flagged, rows_filled,
    )
    return torch.nn.Sequential(first, *list(module.layers)[1:])


def _regrouped(encoding, linear):
    """``(m, L, c, hinge columns, knots, D)`` of a first layer on ``encoding``, in float64; None
    where its columns are not standardised values and runs of bins, or hold no bin."""
    gather = encoding.gather.numpy()
    centre, width, low, high = (getattr(encoding, name).double().numpy()
                                for name in ("centre", "width", "low", "high"))
    if not (np.isfinite(width).all() and (width > 0).all()):
        return None
    weight = linear.weight.detach().double().numpy()
    bias = (np.zeros(weight.shape[0]) if linear.bias is None
            else linear.bias.detach().double().numpy().copy())
    n_columns, n_features = len(gather), encoding.n_features_in
    reference = np.zeros(n_features)  # m: the centre of each feature's first column
    for k in range(n_columns)[::-1]:
        reference[gather[k]] = centre[k]
    line = np.zeros((weight.shape[0], n_features))
    columns, knots, hinges = [], [], []

    def add_line(k):  # W_k (x - c_k) / w_k = W_k / w_k (x - m) + W_k (m - c_k) / w_k
        per_unit = weight[:, k] / width[k]
        line[:, gather[k]] += per_unit
        bias[:] += per_unit * (reference[gather[k]] - centre[k])

    k = 0
    while k < n_columns:
        if low[k] == -np.inf and high[k] == np.inf:  # a standardised value, or a lone bin
            add_line(k)
            k += 1
            continue
        last = _last_bin(gather, low, high, k)
        if last is None:
            return None
        add_line(k)  # the first bin: its line, less the hinge at the next edge
        for i in range(k + 1, last + 1):  # the hinge at bin i's lower edge
            columns.append(gather[k])
            knots.append(centre[i])
            hinges.append(weight[:, i] / width[i] - weight[:, i - 1] / width[i - 1])
        k = last + 1
    if not hinges:
        return None
    line = np.hstack([line, weight[:, n_columns:]])  # the missing flags read as they are
    return reference, line, bias, np.array(columns), np.array(knots), np.array(hinges).T


def _last_bin(gather, low, high, first):
    """The position of the last bin of the run of one column's bins starting at ``first``
    (clipped above only, then on both sides, then below only); None if it is not one."""
    if not (low[first] == -np.inf and high[first] == 1):
        return None
    k = first + 1
    while k < len(gather) and gather[k] == gather[first] and low[k] == 0 and high[k] == 1:
        k += 1
    if k < len(gather) and gather[k] == gather[first] and low[k] == 0 and high[k] == np.inf:
        return k
    return None
