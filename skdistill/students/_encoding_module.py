"""The package's own encoding of numeric rows as a torch module: fixed buffers, no weights.

:func:`~skdistill.make_student_encoder` fits its encoding of an array of
numbers with scikit-learn parts (medians, means and scales, piecewise-linear
bin edges, missing flags). :class:`NumericEncoding` holds the same fitted
constants as torch buffers and computes the encoding as the first stage of
the student's forward pass -- on the student's device, a batch at a time, so
the training rows stay as given (float32) and no encoded copy of many rows is
ever made -- and the same few operations become the first nodes of the
exported ONNX graph.

Every output column is one affine map of one input column, clipped::

    out[:, k] = min(max((x[:, gather[k]] - centre[k]) / width[k], low[k]), high[k])

A standardised column has ``centre`` its mean, ``width`` its scale and no
clip; a piecewise-linear bin its lower edge, its width and the clip of
:class:`~skdistill.PiecewiseLinearEncoder`. Missing values are filled with the
column's median first, and the columns that had missing values in fit add a
0/1 flag each, as the scikit-learn encoder does.

A table with categories (a DataFrame, an ``object`` array) is read once into
numbers and category codes and encoded by a
:class:`~skdistill.students._table_encoding.TableEncoding`, of which this is
the numbers' part. :mod:`._fitted_encoder` reads a fitted encoder into
these encodings and says which rows torch can encode.
"""

import operator

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

from ._devices import MovesOnce

__all__ = ["NumericEncoding", "encode_in_chunks"]

ENCODED_CHUNK_ELEMENTS = 2**22
"""Rows encoded at once by :func:`encode_in_chunks`, in output values (16 MB in float32)."""


class NumericEncoding(MovesOnce, torch.nn.Module):
    """The fitted encoding of numeric rows, computed by torch from fixed buffers.

    Built from a fitted ``make_student_encoder`` transformer by
    :func:`~skdistill.students._fitted_encoder.numeric_encoding`;
    ``encoding(x)`` takes a float32 tensor of the fitted width (NaN for a
    missing value) and returns what the transformer's ``transform`` returns,
    computed in float32. It has no parameters: moving it with ``.to(device)``
    moves its buffers, and an optimizer over a network that holds it never
    changes it.

    Parameters
    ----------
    fill : ndarray of shape (n_features,)
        The value a missing entry of each input column is read as.
    gather, centre, width, low, high : ndarray of shape (n_outputs,)
        Per output column: the input column it reads, and the affine map and
        clip applied to it.
    flagged : ndarray of shape (n_flags,)
        The input columns whose missing values add a 0/1 output column, last.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skdistill import make_student_encoder
    >>> from skdistill.students._fitted_encoder import numeric_encoding
    >>> X = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 5.0], [3.0, 2.0]])
    >>> encoder = make_student_encoder(X).fit(X)
    >>> encoding = numeric_encoding(encoder)
    >>> out = encoding(torch.tensor(X, dtype=torch.float32))
    >>> out.shape, bool(np.allclose(out.numpy(), encoder.transform(X), atol=1e-6))
    (torch.Size([4, 8]), True)
    """

    def __init__(self, fill, gather, centre, width, low, high, flagged):
        super().__init__()
        as_float = lambda values: torch.as_tensor(np.asarray(values, np.float32))  # noqa: E731
        as_index = lambda values: torch.as_tensor(np.asarray(values, np.int64))  # noqa: E731
        self.register_buffer("fill", as_float(fill))
        self.register_buffer("gather", as_index(gather))
        self.register_buffer("centre", as_float(centre))
        self.register_buffer("width", as_float(width))
        self.register_buffer("low", as_float(low))
        self.register_buffer("high", as_float(high))
        self.register_buffer("flagged", as_index(flagged))
        self.n_features_in = len(fill)
        self.n_flags = len(flagged)
        self.n_features_out = len(gather) + self.n_flags
        self._clipped = bool(np.isfinite(low).any() or np.isfinite(high).any())
        self._in_order = np.array_equal(gather, np.arange(len(fill)))
        self.columns_first = False  # True in the graph export_onnx writes (same numbers)
        self.divides = True  # False once the division is folded into the next layer

    @classmethod
    def of(cls, columns, fill, parts, flagged, n_features=None):
        """The module of the fitted constants
        :func:`~skdistill.students._fitted_encoder.numeric_encoding` reads.

        ``columns``: the numeric input columns, ``fill`` their medians;
        ``parts``: the fitted ``StandardScaler`` and/or
        ``PiecewiseLinearEncoder``, in output order; ``flagged``: the input
        columns with a missing flag; ``n_features``: the input's width (None:
        up to the last of ``columns``; a column beyond them, or between
        them, is read by nothing).
        """
        if n_features is None:
            n_features = int(columns.max()) + 1 if len(columns) else 0
        fill_all = np.zeros(n_features)
        fill_all[columns] = fill
        gather, centre, width, low, high = [], [], [], [], []
        for part in parts:
            if isinstance(part, StandardScaler):
                n = len(columns)
                gather.append(columns)
                centre.append(part.mean_ if part.with_mean else np.zeros(n))
                width.append(part.scale_ if part.with_std else np.ones(n))
                low.append(np.full(n, -np.inf))
                high.append(np.full(n, np.inf))
            else:  # piecewise: its columns count among the numeric ones
                at, lower, bin_width, low_clip, high_clip = part.onnx_constants()
                gather.append(columns[at])
                centre.append(lower)
                width.append(bin_width)
                low.append(low_clip)
                high.append(high_clip)
        flagged = np.zeros(0, np.int64) if flagged is None else flagged
        constants = (np.concatenate(part) for part in (gather, centre, width, low, high))
        return cls(fill_all, *constants, flagged)

    def reading(self, positions, n_features):
        """The same encoding of rows ``n_features`` wide whose column ``positions[j]`` is this
        one's input column ``j``; the other columns are read by nothing."""
        positions = np.asarray(positions, dtype=np.int64)
        fill = np.zeros(n_features)
        fill[positions] = self.fill.cpu().numpy()
        buffers = (self.gather, self.centre, self.width, self.low, self.high, self.flagged)
        gather, centre, width, low, high, flagged = (b.cpu().numpy() for b in buffers)
        wider = type(self)(fill, positions[gather], centre, width, low, high, positions[flagged])
        wider.divides = self.divides
        return wider.to(self.fill.device)

    def forward(self, x, finite=False):
        """The encoding of float32 rows ``x`` of the fitted width (NaN: missing).

        ``finite=True``: the caller has checked that ``x`` holds no NaN, so
        nothing is filled (the same numbers, two operations fewer).
        """
        if self.columns_first and not self._in_order:
            return self._columns_first(x, finite)
        missing = None if finite else torch.isnan(x)
        out = x if finite else torch.where(missing, self.fill, x)
        if not self._in_order:  # every column once, in order (standardised only): no gather
            out = torch.index_select(out, 1, self.gather)
        out = out.sub(self.centre) if out is x else out.sub_(self.centre)  # never x in place
        if self.divides:
            out = out.div_(self.width)
        if self._clipped:
            out = out.clamp_(self.low, self.high)
        if self.n_flags:
            flags = (out.new_zeros((len(out), self.n_flags)) if finite
                     else torch.index_select(missing, 1, self.flagged).to(out.dtype))
            out = torch.cat([out, flags], dim=1)
        return out

    def numpy_forward(self, x, finite=False, out=None):
        """:meth:`forward` of float32 rows ``x`` (an ndarray) computed by numpy, on the CPU.

        The same operations in the same order, each exactly rounded in float32,
        so the same bits; for a few rows numpy's calls cost a fraction of
        torch's (prediction encodes one row this way). Returns a new array, or
        writes the first ``len(x)`` rows of ``out`` (float32, of the output
        width) and returns them.
        """
        array = self._arrays()
        result = (np.empty((len(x), self.n_features_out), np.float32) if out is None
                  else out[:len(x)])
        body = result[:, :self.n_features_out - self.n_flags]
        missing = None if finite else np.isnan(x)
        filled = (x if finite else np.where(missing, array["fill"], x)).astype(
            np.float32, copy=False)
        if self._in_order:
            np.subtract(filled, array["centre"], out=body)
        else:
            np.take(filled, array["gather"], axis=1, out=body)
            np.subtract(body, array["centre"], out=body)
        if self.divides:
            np.divide(body, array["width"], out=body)
        if self._clipped:
            np.maximum(body, array["low"], out=body)
            np.minimum(body, array["high"], out=body)
        if self.n_flags:
            flags = 0.0 if finite else np.take(missing, array["flagged"], axis=1)
            result[:, body.shape[1]:] = flags  # True / False written as 1.0 / 0.0
        return result

    def _arrays(self):
        """The buffers as numpy arrays sharing their memory (in-place changes show), read anew
        whenever a buffer is replaced (``.to()``, assignment); never pickled."""
        buffers = tuple(self._buffers.values())
        cached = self.__dict__.get("_numpy")
        if cached is None or len(cached[0]) != len(buffers) or not all(
            map(operator.is_, cached[0], buffers)
        ):
            arrays = {name: tensor.numpy() for name, tensor in self._buffers.items()}
            cached = self.__dict__["_numpy"] = (buffers, arrays)
        return cached[1]

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_numpy", None)
        return state

    def _columns_first(self, x, finite):
        """The same numbers computed on the rows' transpose, one column per row: onnxruntime
        fills, gathers and scales rows many times faster than columns (torch the other way
        round), and folds the last transpose into the student's first layer."""
        columns = x.t()
        missing = None if finite else torch.isnan(columns)
        out = columns if finite else torch.where(missing, self.fill[:, None], columns)
        if not self._in_order:
            out = torch.index_select(out, 0, self.gather)
        out = out - self.centre[:, None]
        if self.divides:
            out = out / self.width[:, None]
        if self._clipped:
            out = torch.minimum(torch.maximum(out, self.low[:, None]), self.high[:, None])
        if self.n_flags:
            flags = (out.new_zeros((self.n_flags, out.shape[1])) if finite
                     else torch.index_select(missing, 0, self.flagged).to(out.dtype))
            out = torch.cat([out, flags], dim=0)
        return out.t()

    def fold_division_into(self, linear):
        """Leave out the division by each output column's width, dividing the weights of
        ``linear`` (the layer that reads this encoding) by it instead; in place, on copies
        made for an exported graph.

        ``min(max((x - c) / w, lo), hi) @ W.T`` equals ``min(max(x - c, lo * w), hi * w) @
        (W / w).T`` for a positive ``w``: the same outputs to float rounding, one pass fewer
        over the encoded rows. Returns False (and changes nothing) where a width is not a
        positive finite number.
        """
        width = self.width
        if not (torch.isfinite(width).all() and (width > 0).all()):
            return False
        with torch.no_grad():
            linear.weight[:, : len(width)] /= width
            self.low.mul_(width)  # -inf, 0, 1 and inf bounds scale with the column
            self.high.mul_(width)
        self.divides = False
        return True

    def extra_repr(self):
        return f"in_features={self.n_features_in}, out_features={self.n_features_out}"


def encode_in_chunks(encoding, rows):
    """``encoding`` of float ``rows`` (an ndarray) as one float32 ndarray, a chunk at a time.

    For rows small enough to hold their encoding in memory: the student then
    reads the encoded copy, and the encoding is computed once rather than every
    epoch.
    """
    out = np.empty((rows.shape[0], encoding.n_features_out), dtype=np.float32)
    step = max(1, ENCODED_CHUNK_ELEMENTS // max(1, encoding.n_features_out))
    with torch.inference_mode():
        for start in range(0, rows.shape[0], step):
            chunk = torch.from_numpy(np.array(rows[start:start + step], dtype=np.float32))
            out[start:start + step] = encoding(chunk).numpy()
    return out
