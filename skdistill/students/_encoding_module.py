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
"""

import copy
import weakref

import numpy as np
import torch
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ._column_reading import NumbersAsFloat
from ._encoding import PiecewiseLinearEncoder

__all__ = [
    "CHECKED_ROWS", "NumericEncoding", "encodable_numbers", "encode_in_chunks",
    "numeric_encoding",
]

_CACHE = weakref.WeakKeyDictionary()

ENCODED_CHUNK_ELEMENTS = 2**22
"""Rows encoded at once by :func:`encode_in_chunks`, in output values (16 MB in float32)."""


class NumericEncoding(torch.nn.Module):
    """The fitted encoding of numeric rows, computed by torch from fixed buffers.

    Built from a fitted ``make_student_encoder`` transformer by
    :func:`numeric_encoding`; ``encoding(x)`` takes a float32 tensor of the
    fitted width (NaN for a missing value) and returns what the transformer's
    ``transform`` returns, computed in float32. It has no parameters: moving
    it with ``.to(device)`` moves its buffers, and an optimizer over a network
    that holds it never changes it.

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
        self.n_features_out = len(gather) + len(flagged)
        self._clipped = bool(np.isfinite(low).any() or np.isfinite(high).any())
        self._in_order = np.array_equal(gather, np.arange(len(fill)))
        self.columns_first = False  # True in the graph export_onnx writes (same numbers)

    @classmethod
    def of(cls, columns, fill, parts, flagged):
        """The module of the fitted constants :func:`numeric_encoding` reads.

        ``columns``: the numeric input columns, ``fill`` their medians;
        ``parts``: the fitted ``StandardScaler`` and/or
        ``PiecewiseLinearEncoder``, in output order; ``flagged``: the input
        columns with a missing flag.
        """
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

    def forward(self, x):
        """The encoding of float32 rows ``x`` of the fitted width (NaN: missing)."""
        missing = torch.isnan(x)
        out = torch.where(missing, self.fill, x)  # a new tensor: worked on in place
        if self.columns_first and not self._in_order:
            out = self._columns_first(out)
        else:
            if not self._in_order:  # every column once, in order (standardised only): no gather
                out = torch.index_select(out, 1, self.gather)
            out = out.sub_(self.centre).div_(self.width)
            if self._clipped:
                out = out.clamp_(self.low, self.high)
        if len(self.flagged):
            flags = torch.index_select(missing, 1, self.flagged).to(out.dtype)
            out = torch.cat([out, flags], dim=1)
        return out

    def _columns_first(self, filled):
        """The same numbers computed on the rows' transpose: onnxruntime gathers rows many times
        faster than columns (torch the other way round)."""
        out = torch.index_select(filled.t(), 0, self.gather)
        out = (out - self.centre[:, None]) / self.width[:, None]
        if self._clipped:
            out = torch.minimum(torch.maximum(out, self.low[:, None]), self.high[:, None])
        return out.t()

    def on(self, device):
        """This encoding on ``device``: itself on its own device, else a copy made once."""
        device = torch.device(device)
        if self.fill.device == device:
            return self
        copies = self.__dict__.setdefault("_copies", {})
        if device not in copies:
            copies[device] = copy.deepcopy(self).to(device)
        return copies[device]

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_copies", None)  # copies on other devices are made again where needed
        return state

    def extra_repr(self):
        return f"in_features={self.n_features_in}, out_features={self.n_features_out}"


def numeric_encoding(encoder):
    """The :class:`NumericEncoding` of a fitted ``make_student_encoder`` transformer, or None.

    None where the transformer is not the package's encoding of an array of
    numbers (a DataFrame's, one with categories, a user's transformer). Built
    once per fitted encoder -- again after it, or a part of it, is fitted
    anew -- on the CPU (:meth:`NumericEncoding.on` gives it on another device).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skdistill import make_student_encoder
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> numeric_encoding(make_student_encoder(X, numeric="scale").fit(X))
    NumericEncoding(in_features=2, out_features=2)
    >>> numeric_encoding(StandardScaler().fit(X)) is None
    True
    """
    return _read(encoder)[0]


def _read(encoder):
    """``(NumericEncoding or None, the reader that checks the numbers' range)``, cached."""
    try:
        cached = _CACHE[encoder]
        if cached.is_current(encoder):
            return cached.encoding, cached.reader
    except (KeyError, TypeError):
        pass
    cached = _FittedConstants.of(encoder)
    if cached is None:
        return None, None
    try:
        _CACHE[encoder] = cached
    except TypeError:  # not weakly referenceable: not cached
        pass
    return cached.encoding, cached.reader


class _FittedConstants:
    """A fitted encoder's :class:`NumericEncoding`, and the fitted values it was read from."""

    def __init__(self, encoding, reader, read, transformers):
        self.encoding = encoding
        self.reader = reader  # NumbersAsFloat: names a column beyond float32
        self.read = read  # (fitted part, attribute, value); never the encoder (the cache key)
        self.transformers = transformers

    def is_current(self, encoder):
        """Whether every fitted value it was built from is still ``encoder``'s own.

        Fitting anew, the whole encoder or a part of it in place, replaces them.
        """
        return getattr(encoder, "transformers_", None) is self.transformers and all(
            getattr(part, name, None) is value for part, name, value in self.read
        )

    @classmethod
    def of(cls, encoder):
        """Read a fitted encoder's parts; None where they are not the expected ones."""
        if not isinstance(encoder, ColumnTransformer) or not hasattr(encoder, "transformers_"):
            return None
        numeric, flagged, read = None, None, []
        for name, part, selected in encoder.transformers_:
            if name == "remainder" and (part == "drop" or len(selected) == 0):
                continue
            if not all(isinstance(column, (int, np.integer)) for column in selected):
                return None  # columns by name: a DataFrame's encoding
            if name == "numeric" and isinstance(part, Pipeline) and len(part.steps) == 3:
                reader, imputer, encode = (step for _, step in part.steps)
                units = [unit for _, unit in getattr(encode, "transformer_list", [(None, encode)])]
                if not (
                    isinstance(reader, NumbersAsFloat) and isinstance(imputer, SimpleImputer)
                    and all(isinstance(u, (StandardScaler, PiecewiseLinearEncoder))
                            for u in units)
                ):
                    return None
                statistics = imputer.statistics_
                numeric = (np.asarray(selected, dtype=np.intp), reader,
                           np.where(np.isnan(statistics), 0.0, statistics), units)
                read += [(imputer, "statistics_", statistics)] + [
                    (unit, name, getattr(unit, name)) for unit in units
                    for name in ("mean_", "scale_", "bin_edges_") if hasattr(unit, name)
                ]
            elif name == "missing" and isinstance(part, Pipeline) and isinstance(
                part[-1], MissingIndicator
            ):
                flags = part[-1]
                if not (isinstance(flags.missing_values, float) and np.isnan(flags.missing_values)):
                    return None
                flagged = np.asarray(selected, dtype=np.intp)[flags.features_]
                read.append((flags, "features_", flags.features_))
            else:
                return None
        if numeric is None:
            return None
        columns, reader, fill, units = numeric
        encoding = NumericEncoding.of(columns, fill, units, flagged)
        return cls(encoding, reader, read, encoder.transformers_)


def encodable_numbers(encoder, X):
    """``(NumericEncoding, X as float numbers)`` where ``encoder``'s encoding of ``X`` can be
    computed by torch, else ``(None, None)``.

    ``encoder`` must be the package's fitted encoding of an array of numbers
    and ``X`` a 2-d ndarray of numbers (integers and booleans become float64).
    ValueError naming the first column beyond float32's range, as the
    scikit-learn encoder's ``transform`` says.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill import make_student_encoder
    >>> X = np.array([[1, 2], [3, 4], [5, 7]])
    >>> encoding, numbers = encodable_numbers(make_student_encoder(X).fit(X), X)
    >>> numbers.dtype, encoding.n_features_out
    (dtype('float64'), 6)
    """
    encoding, reader = _read(encoder)
    if encoding is None or not (
        isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "biuf"
    ):
        return None, None
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if X.dtype == np.float64:
        for start in range(0, X.shape[0], CHECKED_ROWS):
            reader.check_range(X[start:start + CHECKED_ROWS])
    return encoding, X


CHECKED_ROWS = 65536
"""Rows checked (or converted to float32) at once, so no temporary is as large as ``X``."""


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
