"""The exported student's first layer on piecewise-linear bins, rewritten as hinges.

The package's encoding reads a number ``x`` through its standardised value and its
piecewise-linear bins: bin ``i`` of a column is ``clip((x - t_i) / w_i, 0, 1)`` with
``t_{i+1} = t_i + w_i``, the first bin unclipped below, the last unclipped above. A bin is a
difference of two hinges, ``(relu(x - t_i) - relu(x - t_{i+1})) / w_i``, and the first bin
a line less a hinge, so the student's first layer on the encoding, ``W @ encoding + b``,
equals a layer on each column's own value and on one hinge per inner edge::

    L @ (x - m) + D @ relu(x - t) + c

with ``L``, ``D`` and ``c`` regrouped from ``W`` and ``b`` once, at export (in float64, then
float32). Since ``relu(x - t) = max(x - m, t - m) - (t - m)``, the knots' part
``-D @ (t - m)`` joins ``c`` too (the centred ``x - m`` are the lines' own inputs, exact near
``m``), and the exported graph computes two passes over the hinges (gather, max) instead of
four over the wider encoding (gather, subtract, max, min), in runs of at most
:data:`RUN_HINGES`, and its product reads one column fewer per feature. The same function,
to float32 rounding -- but a bin much narrower than its column's span (a spike of equal
values, such as missing values filled with the median, or a heavy tail) makes two large hinges
that cancel in float32. The
rewrite is checked on rows at, between and beyond the bin edges (:data:`TOLERANCE`); where it
loses precision, the hinges are computed as ``relu(x - t)`` (three passes: gather, subtract,
relu); where that does too, the narrow bins stay clipped columns of their own (:data:`NARROW`,
their hinges computed either way again), and where it still does, it is not made.
"""

import itertools

import numpy as np
import torch

from ..training._solver import plain_relu_linears
from ._weights_type import stored_weights_type

__all__ = ["HingeFirstLayer", "HingeRun", "hinged_student", "summed"]


class HingeFirstLayer(torch.nn.Module):
    """``W @ encoding(x) + b`` computed from ``x`` through lines, hinges and narrow bins (see
    the module).

    Its inputs (:meth:`terms`) are computed on the rows' transpose, one input per row:
    onnxruntime gathers rows many times faster than columns, and a student that stays
    transposed (:class:`~skdistill.deploy._columns_first.ColumnsFirstStudent`) transposes only
    its outputs.

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
    bin_columns, bin_lower, bin_low, bin_high : tensors of shape (n_bins,)
        The bins kept clipped: ``min(max(x - lower, low), high)`` of their input column
        (the division by their width is in their weights).
    bin_weight : tensor of shape (n_outputs, n_bins)
    flagged : tensor of shape (n_flags,)
        The input columns whose missing values add a 0/1 input, after the columns.
    rows_filled : bool
        The rows reach it with their missing values filled already: nothing to fill, and no
        flag (``flagged`` is empty).
    folded : bool, default=False
        The hinges are computed as ``max(x - m, t - m)`` from the lines' centred columns
        (:class:`HingeRun`; ``knots`` are then ``t - m``), and ``bias`` already holds
        ``-D @ (t - m)``: one pass over them fewer.

    Attributes
    ----------
    hinge_runs : torch.nn.ModuleList of HingeRun
        The hinges, in runs of at most :data:`RUN_HINGES`.
    n_hinges : int
    """

    def __init__(self, fill, centre, line_weight, bias, hinge_columns, knots, hinge_weight,
                 bin_columns, bin_lower, bin_low, bin_high, bin_weight, flagged,
                 rows_filled=False, folded=False):
        super().__init__()
        for name, value in (("fill", fill[:, None]), ("centre", centre[:, None]),
                            ("line_weight", line_weight), ("bias", bias),
                            ("bin_columns", bin_columns), ("bin_lower", bin_lower[:, None]),
                            ("bin_low", bin_low[:, None]), ("bin_high", bin_high[:, None]),
                            ("bin_weight", bin_weight), ("flagged", flagged)):
            self.register_buffer(name, value)
        self.rows_filled = rows_filled
        self.hinge_runs = torch.nn.ModuleList(
            _hinge_runs(hinge_columns, knots, hinge_weight, folded))
        self.n_hinges = len(knots)

    def terms(self, x):
        """``[(weights, inputs), ...]`` whose products ``weights @ inputs`` sum to the layer's
        output less its bias, transposed: the lines and flags, the hinges, the clipped bins,
        each input a row (shape ``(n, len(x))``); :func:`summed` adds them up."""
        columns = x.t()
        if self.rows_filled:
            lines = columns - self.centre
        else:
            missing = torch.isnan(columns)
            columns = torch.where(missing, self.fill, columns)
            lines = columns - self.centre
            if len(self.flagged):
                flags = torch.index_select(missing, 0, self.flagged).to(columns.dtype)
                lines = torch.cat([lines, flags])
        terms = [(self.line_weight, lines)]
        # folded hinges read the centred columns (x - m, exact near m): max(x - m, t - m)
        terms.extend((run.weight, run(lines if run.folded else columns))
                     for run in self.hinge_runs)
        if len(self.bin_columns):
            bins = torch.index_select(columns, 0, self.bin_columns) - self.bin_lower
            bins = torch.minimum(torch.maximum(bins, self.bin_low), self.bin_high)
            terms.append((self.bin_weight, bins))
        return terms

    def forward(self, x):
        return summed(self.terms(x), self.bias).t()


class HingeRun(torch.nn.Module):
    """A run of hinges on the rows' transpose, one per row: ``relu(x[columns] - knots)``, or
    folded, ``max(x[columns], knots)`` of the centred columns and knots.

    Parameters
    ----------
    columns, knots : tensors of shape (n_hinges,)
        The input column and the edge of each hinge.
    weight : tensor of shape (n_outputs, n_hinges)
        Their weights.
    folded : bool, default=False
        Compute ``max(x[columns], knots)`` instead, one pass fewer, on the centred columns
        ``x - m`` with the knots ``t - m``: the layer's bias then holds ``-weight @ knots``
        (:class:`HingeFirstLayer`'s ``folded``).
    """

    def __init__(self, columns, knots, weight, folded=False):
        super().__init__()
        self.register_buffer("columns", columns)
        self.register_buffer("knots", knots[:, None])
        self.register_buffer("weight", weight)
        self.folded = folded

    def forward(self, columns):
        """The hinges of the rows' transpose ``columns``, one per row."""
        gathered = torch.index_select(columns, 0, self.columns)
        if self.folded:
            return torch.maximum(gathered, self.knots)
        return torch.relu(gathered - self.knots)


def _hinge_runs(columns, knots, weight, folded):
    """The hinges as :class:`HingeRun` of at most :data:`RUN_HINGES`, about equal."""
    n_runs = -(-len(knots) // RUN_HINGES)
    bounds = np.linspace(0, len(knots), n_runs + 1).round().astype(int)
    return [HingeRun(columns[start:stop].clone(), knots[start:stop].clone(),
                     weight[:, start:stop].contiguous(), folded)
            for start, stop in zip(bounds[:-1], bounds[1:])]


RUN_HINGES = 128
"""Hinges computed and read by one product at most, so that a run's intermediate (its hinges
for every row) stays a few MB however many hinges a student has. On 10,000 rows of digits (396
hinges, 32 hidden units, one thread), the exported file took 8.2 ms in runs of at most 128,
7.9 ms in one run and 8.4 ms in runs of 64: the split bounds the memory at little cost."""


def summed(terms, bias):
    """``sum(weights @ inputs) + bias[:, None]`` over ``terms`` (see
    :meth:`HingeFirstLayer.terms`).

    Each product adds to the sum as it goes (a ``Gemm`` in the file); where the terms have
    fewer inputs in all than the outputs they would add to one by one (a few columns, many
    outputs), one product reads them side by side instead (10,000 rows of a mixed frame:
    about 1.0 ms for the first layer against 1.8).
    """
    width = sum(inputs.shape[0] for _, inputs in terms)
    if len(terms) > 1 and width <= (len(terms) - 1) * len(bias):
        terms = [(torch.cat([weight for weight, _ in terms], dim=1),
                  torch.cat([inputs for _, inputs in terms]))]
    out = bias[:, None]
    for weight, inputs in terms:
        out = torch.addmm(out, weight, inputs)
    return out


def hinged_student(encoding, module, rows_filled=False):
    """``module`` reading rows through ``encoding``, its first layer on hinges; or None.

    A ``Sequential``: the :class:`HingeFirstLayer`, then ``module``'s later layers.

    ``encoding``: the student's
    :class:`~skdistill.students._encoding_module.NumericEncoding`; ``module``:
    a plain ReLU :class:`~skdistill.MLPStudent` reading its output (an encoding
    without bins gives lines alone). None where the rewrite does not apply:
    another student, an encoding whose columns are not standardised values and runs
    of bins (each column's bins in order, clipped as the piecewise-linear
    encoder clips them) with positive finite widths, or bins so much narrower
    than their column's span that the hinges would lose float32 precision
    (checked on rows at and beyond the bin edges). The hinges are computed as
    ``max(x - m, t - m)`` (the knots' part in the bias) where that passes the check, else as
    ``relu(x - t)``; the same again with the narrow bins clipped. For a file of float16 or int8
    weights (:mod:`._weights_type`), every bin stays a clipped column: no hinge.

    Examples
    --------
    >>> import numpy as np, torch
    >>> X = np.random.RandomState(0).normal(size=(200, 3))
    >>> from skdistill import MLPStudent, make_student_encoder
    >>> from skdistill.students._fitted_encoder import numeric_encoding
    >>> encoding = numeric_encoding(make_student_encoder(X).fit(X))
    >>> _ = torch.manual_seed(0)
    >>> student = MLPStudent(encoding.n_features_out, 2, hidden_layer_sizes=(8,)).eval()
    >>> hinged = hinged_student(encoding, student)
    >>> rows = torch.tensor(X[:5] * 3, dtype=torch.float32)
    >>> bool(torch.allclose(hinged(rows), student(encoding(rows)), atol=1e-5))
    True
    """
    linears = plain_relu_linears(module)
    if linears is None or not encoding.divides:
        return None
    # every bin as hinges; else the narrow ones kept clipped; for float16 or int8 weights, all;
    # each hinge as max(x - m, t - m) where that is as precise (one pass fewer), else relu(x - t)
    forms = (itertools.product((np.inf, NARROW), (True, False))
             if stored_weights_type() == "float32" else [(0, False)])
    for narrow, folded in forms:
        first = _hinged_first_layer(encoding, linears[0], narrow, rows_filled, folded)
        if first is None:
            return None
        hinged = torch.nn.Sequential(first, *list(module.layers)[1:])
        if _as_precise(hinged, encoding, module):
            return hinged
    return None


def _hinged_first_layer(encoding, linear, narrow, rows_filled, folded):
    """The :class:`HingeFirstLayer` of ``linear`` on ``encoding``, bins narrower than a
    ``narrow``-th of their column's span kept clipped, ``folded`` or not; None where it does
    not apply."""
    regrouped = _regrouped(encoding, linear, narrow)
    if regrouped is None:
        return None
    as_tensor = lambda values, dtype=torch.float32: torch.as_tensor(  # noqa: E731
        np.ascontiguousarray(values), dtype=dtype)
    centre, line_weight, bias, hinges, bins = regrouped
    if folded:  # D relu(x - t) = D max(x - m, t - m) - D (t - m): the constant joins the bias
        columns, knots, weight = hinges
        # centred knots, on the float32 centre the layer subtracts: the terms stay the size of
        # the span
        knots = knots - centre.astype(np.float32).astype(np.float64)[columns]
        bias = bias - weight @ knots  # in float64
        hinges = (columns, knots, weight)
    flagged = encoding.flagged.clone()
    if rows_filled:  # no missing value reaches it: every flag reads 0, as encoding(x, finite=True)
        line_weight, flagged = line_weight[:, :encoding.n_features_in], flagged[:0]
    return HingeFirstLayer(
        encoding.fill.clone(), as_tensor(centre), as_tensor(line_weight), as_tensor(bias),
        as_tensor(hinges[0], torch.int64), *(as_tensor(part) for part in hinges[1:]),
        as_tensor(bins[0], torch.int64), *(as_tensor(part) for part in bins[1:]),
        flagged, rows_filled, folded,
    )


NARROW = 64
"""Where every bin as hinges loses precision, a bin narrower than this share of its column's
span stays a clipped column: as hinges its weight over its width enters two large terms that
cancel in float32."""


def _regrouped(encoding, linear, narrow=np.inf):
    """``(m, L, c, hinges, bins)`` of a first layer on ``encoding``, in float64: ``hinges`` as
    ``(columns, knots, D)``, the bins narrower than a ``narrow``-th of their column's span
    kept clipped as ``(columns, lower, low, high, weight)`` (no hinge and no bin: lines
    alone). None where its columns are not standardised values and runs of bins."""
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
    hinges, kept = {}, []  # hinges: the output column whose lower edge is the knot -> D

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
        span = centre[last] + width[last] - centre[k]
        for i in range(k, last + 1):
            if width[i] * narrow < span:
                kept.append(i)
                continue
            per_unit = weight[:, i] / width[i]
            if i == k:  # the first bin: its line, less the hinge at its upper edge
                add_line(i)
            else:  # the hinge at its lower edge
                hinges[i] = hinges.get(i, 0.0) + per_unit
            if i < last:  # less the hinge at its upper edge, the next bin's lower edge
                hinges[i + 1] = hinges.get(i + 1, 0.0) - per_unit
        k = last + 1
    knots = np.array(sorted(hinges), dtype=np.intp)
    kept = np.array(kept, dtype=np.intp)
    line = np.hstack([line, weight[:, n_columns:]])  # the missing flags read as they are
    return (
        reference, line, bias,
        (gather[knots], centre[knots],
         np.array([hinges[i] for i in knots]).reshape(len(knots), len(bias)).T),
        (gather[kept], centre[kept], low[kept] * width[kept], high[kept] * width[kept],
         weight[:, kept] / width[kept]),
    )


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


def _as_precise(hinged, encoding, module):
    """Whether the student ``hinged`` gives the outputs of ``module`` on ``encoding`` to within
    :data:`TOLERANCE` (relative, both in float32), on rows at every bin edge, half-way between
    edges, and beyond the outer ones by a sixteenth of the column's span and by ten spans.

    Hinges cancel where bins are much narrower than their column's span (heavy tails): a
    narrow bin's weight over its width is large, and the hinges around it differ by it; and
    far beyond the edges every hinge is large.
    """
    rows = torch.as_tensor(_probe_rows(encoding), dtype=torch.float32)
    with torch.no_grad():
        expected = module(encoding(rows))
        error = (hinged(rows) - expected).abs()
    return bool((error <= TOLERANCE * (1 + expected.abs())).all())


TOLERANCE = 3e-5
"""How far the rewritten student's outputs may be from the student's own (relative, and
absolute near zero) on the rows of :func:`_as_precise`. Measured with every bin as hinges:
1e-6 to 2.4e-5 on the students of digits, breast_cancer and the six tables of the peer
benchmark (whose files then give their test rows' probabilities within 6e-6 of
``predict_proba``), about 1e-3 on heavy-tailed columns, which their narrow bins kept clipped
bring back under it. Far beyond the rows checked, hinges lose more than clipped bins: randhie's
rows scaled tenfold gave probabilities 9e-5 from ``predict_proba``."""


def _probe_rows(encoding):
    """Rows at each column's bin edges, half-way between them, and beyond the outer ones by a
    sixteenth of its span and by ten spans (a column's values repeated to the longest column's
    count)."""
    values = []
    for column in range(encoding.n_features_in):
        at = encoding.gather.numpy() == column
        edges = np.unique(np.r_[encoding.centre.numpy()[at],
                                (encoding.centre + encoding.width).numpy()[at]])
        if not len(edges):
            edges = np.zeros(1)
        span = float(edges[-1] - edges[0]) or 1.0
        beyond = np.array([1 / 16, 10]) * span
        values.append(np.r_[edges, (edges[1:] + edges[:-1]) / 2,
                            edges[0] - beyond, edges[-1] + beyond])
    n_rows = max(len(each) for each in values)
    return np.column_stack([np.resize(each, n_rows) for each in values])
