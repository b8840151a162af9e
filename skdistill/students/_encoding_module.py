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
the numbers' part. :func:`encodable_rows` says which rows torch can encode,
and reads them.
"""

import weakref

import numpy as np
import torch
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ._column_reading import CategoriesAsStrings, NumbersAsFloat
from ._encoding import PiecewiseLinearEncoder
from ._devices import MovesOnce
from ._table_encoding import OneHotCodes, TableEncoding, TableReader, one_hot_codes

__all__ = [
    "CHECKED_ROWS", "FLOAT32_OFFSET", "NumericEncoding", "encodable_rows", "encode_in_chunks",
    "imprecise_columns", "numeric_encoding", "table_encoding",
]

_CACHE = weakref.WeakKeyDictionary()

ENCODED_CHUNK_ELEMENTS = 2**22
"""Rows encoded at once by :func:`encode_in_chunks`, in output values (16 MB in float32)."""


class NumericEncoding(MovesOnce, torch.nn.Module):
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
        self.n_flags = len(flagged)
        self.n_features_out = len(gather) + self.n_flags
        self._clipped = bool(np.isfinite(low).any() or np.isfinite(high).any())
        self._in_order = np.array_equal(gather, np.arange(len(fill)))
        self.columns_first = False  # True in the graph export_onnx writes (same numbers)
        self.divides = True  # False once the division is folded into the next layer

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

    def numpy_forward(self, x, finite=False):
        """:meth:`forward` of float32 rows ``x`` (an ndarray) computed by numpy, on the CPU.

        The same operations in the same order, each exactly rounded in float32,
        so the same bits; for a few rows numpy's calls cost a fraction of
        torch's (prediction encodes one row this way). Returns a new array.
        """
        array = self._arrays()
        missing = None if finite else np.isnan(x)
        out = x if finite else np.where(missing, array["fill"], x)
        out = out if self._in_order else np.take(out, array["gather"], axis=1)
        out = np.subtract(out, array["centre"], dtype=np.float32)
        if self.divides:
            np.divide(out, array["width"], out=out)
        if self._clipped:
            np.maximum(out, array["low"], out=out)
            np.minimum(out, array["high"], out=out)
        if self.n_flags:
            flags = (np.zeros((len(out), self.n_flags), np.float32) if finite
                     else np.take(missing, array["flagged"], axis=1).astype(np.float32))
            out = np.concatenate([out, flags], axis=1)
        return out

    def _arrays(self):
        """The buffers as numpy arrays sharing their memory (in-place changes show), read anew
        whenever a buffer is replaced (``.to()``, assignment); never pickled."""
        buffers = tuple(self._buffers.values())
        cached = self.__dict__.get("_numpy")
        if cached is None or len(cached[0]) != len(buffers) or any(
            old is not new for old, new in zip(cached[0], buffers)
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


def numeric_encoding(encoder):
    """The :class:`NumericEncoding` of a fitted ``make_student_encoder`` transformer of an
    array of numbers, or None.

    None where the transformer is not the package's encoding of an array of
    numbers (a DataFrame's, one with categories, a user's transformer). Built
    once per fitted encoder -- again after it, or a part of it, is fitted
    anew -- on the CPU (``on(device)`` gives it on another device).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import OneHotEncoder, StandardScaler
    >>> from skdistill import make_student_encoder
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> numeric_encoding(make_student_encoder(X, numeric="scale").fit(X))
    NumericEncoding(in_features=2, out_features=2)
    >>> numeric_encoding(StandardScaler().fit(X)) is None
    True
    """
    constants = _constants(encoder)
    return None if constants is None or constants.table else constants.encoding


def table_encoding(encoder):
    """``(TableEncoding, TableReader)`` of the package's fitted encoding of a table, or None.

    None for any other encoder: an array of numbers' (:func:`numeric_encoding`),
    a user's transformer, None.
    """
    constants = _constants(encoder)
    if constants is None or constants.table is None:
        return None
    return constants.encoding, constants.table


def encodable_rows(encoder, X):
    """``(torch encoding, X as the float matrix it reads)`` where torch can compute
    ``encoder.transform(X)``, else ``(None, None)``.

    ``encoder`` must be the package's fitted encoding (``make_student_encoder``)
    of an array of numbers, read from a 2-d ndarray of numbers (integers and
    booleans become float64; ValueError naming the first column beyond
    float32's range), or of a table with one-hot categories read from a
    DataFrame or ``object`` array (read once into numbers and category codes,
    :class:`~skdistill.students._table_encoding.TableReader`). ``X`` must be
    checked already, as the encoder's ``transform`` would check it.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill import make_student_encoder
    >>> X = np.array([[1, 2], [3, 4], [5, 7]])
    >>> encoding, numbers = encodable_rows(make_student_encoder(X).fit(X), X)
    >>> numbers.dtype, encoding.n_features_out
    (dtype('float64'), 6)
    """
    constants = _constants(encoder)
    if constants is None:
        return None, None
    if constants.table is not None:
        is_table = hasattr(X, "columns") or isinstance(X, np.ndarray) and X.dtype.kind == "O"
        return (constants.encoding, constants.table(X)) if is_table else (None, None)
    if not (isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "biuf"):
        return None, None
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    for start in range(0, X.shape[0], CHECKED_ROWS):  # beyond float32, or infinite
        constants.numbers.check_range(X[start:start + CHECKED_ROWS])
    return constants.encoding, X


def _constants(encoder):
    """The :class:`_FittedConstants` of ``encoder`` (None: not the package's encoding), cached."""
    try:
        cached = _CACHE[encoder]
        if cached.is_current(encoder):
            return cached
    except (KeyError, TypeError):
        pass
    cached = _FittedConstants.of(encoder)
    if cached is None:
        return None
    try:
        _CACHE[encoder] = cached
    except TypeError:  # not weakly referenceable: not cached
        pass
    return cached


class _FittedConstants:
    """A fitted encoder's torch encoding, how rows are read for it, and the fitted values it
    was read from."""

    def __init__(self, encoding, numbers, table, read, transformers):
        self.encoding = encoding  # NumericEncoding (an array of numbers) or TableEncoding
        self.numbers = numbers  # NumbersAsFloat: names a column beyond float32
        self.table = table  # TableReader, or None for an array of numbers read as it is
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
        parts, read = {}, []
        for name, part, selected in encoder.transformers_:
            if name == "remainder" and (part == "drop" or len(selected) == 0):
                continue
            if name not in ("numeric", "missing", "categorical") or not isinstance(part, Pipeline):
                return None
            parts[name] = (part, list(selected))
        numeric = _numeric_part(*parts["numeric"], read) if "numeric" in parts else None
        flagged = _flagged(*parts["missing"], read) if "missing" in parts else None
        categorical = (
            _categorical_part(*parts["categorical"], read) if "categorical" in parts else None
        )
        if "numeric" in parts and numeric is None or "missing" in parts and flagged is None or (
            "categorical" in parts and categorical is None
        ):
            return None
        columns = parts["numeric"][1] if numeric else []
        if flagged is not None and parts["missing"][1] != columns:
            return None
        by_name = any(not isinstance(column, (int, np.integer)) for column in columns)
        if categorical is None and not by_name and numeric is not None:  # an array of numbers
            reader, fill, units = numeric
            at = np.asarray(columns, dtype=np.intp)
            flags = None if flagged is None else at[flagged]
            encoding = NumericEncoding.of(at, fill, units, flags)
            return cls(encoding, reader, None, read, encoder.transformers_)
        numbers = None
        if numeric is not None:
            reader, fill, units = numeric
            numbers = NumericEncoding.of(np.arange(len(columns)), fill, units, flagged)
        strings, one_hot, names = categorical or (None, None, [])
        codes = None
        lookups = []
        if categorical is not None:
            offsets, lookups, width = one_hot_codes(one_hot)
            codes = OneHotCodes(offsets, width)
        encoding = TableEncoding(numbers, len(columns), codes)
        table = TableReader(columns, numeric[0] if numeric else None, names, strings, lookups)
        return cls(encoding, numeric[0] if numeric else None, table, read,
                   encoder.transformers_)


def _numeric_part(part, selected, read):
    """``(reader, fill, encoding units)`` of the numbers' Pipeline, or None."""
    if len(part.steps) != 3:
        return None
    reader, imputer, encode = (step for _, step in part.steps)
    units = [unit for _, unit in getattr(encode, "transformer_list", [(None, encode)])]
    if not (
        isinstance(reader, NumbersAsFloat) and isinstance(imputer, SimpleImputer)
        and all(isinstance(u, (StandardScaler, PiecewiseLinearEncoder)) for u in units)
    ):
        return None
    statistics = imputer.statistics_
    read += [(imputer, "statistics_", statistics)] + [
        (unit, name, getattr(unit, name)) for unit in units
        for name in ("mean_", "scale_", "bin_edges_") if hasattr(unit, name)
    ]
    return reader, np.where(np.isnan(statistics), 0.0, statistics), units


FLOAT32_OFFSET = 1e5
"""A numeric column whose mean lies more than this many standard deviations from zero loses
resolution when read in float32 (about 7 significant digits): fit warns of it."""


def imprecise_columns(encoder):
    """The numeric columns of the package's fitted encoding that float32 reads too coarsely.

    Those whose mean is over :data:`FLOAT32_OFFSET` standard deviations from
    zero (timestamps in seconds, identifiers near a large base), by name or
    position; empty for any other encoder.

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill import make_student_encoder
    >>> X = np.c_[np.arange(10.0), 1.7e9 + np.arange(10.0)]
    >>> imprecise_columns(make_student_encoder(X).fit(X))
    [1]
    """
    if not isinstance(encoder, ColumnTransformer) or not hasattr(encoder, "transformers_"):
        return []
    for name, part, selected in encoder.transformers_:
        if name == "numeric" and isinstance(part, Pipeline):
            encode = part.steps[-1][1]
            for unit in (u for _, u in getattr(encode, "transformer_list", [(None, encode)])):
                if isinstance(unit, StandardScaler) and unit.with_mean and unit.with_std:
                    far = np.abs(unit.mean_) > FLOAT32_OFFSET * unit.scale_
                    return [column for column, is_far in zip(selected, far) if is_far]
    return []


def _flagged(part, selected, read):
    """The positions among ``selected`` of the columns with a missing flag, or None."""
    flags = part[-1]
    if not (
        isinstance(flags, MissingIndicator) and isinstance(flags.missing_values, float)
        and np.isnan(flags.missing_values)
    ):
        return None
    read.append((flags, "features_", flags.features_))
    return np.asarray(flags.features_, dtype=np.intp)


def _categorical_part(part, selected, read):
    """``(reader, OneHotEncoder, columns)`` of a dense one-hot Pipeline of strings, or None."""
    if len(part.steps) != 2:
        return None
    strings, one_hot = (step for _, step in part.steps)
    if not (
        isinstance(strings, CategoriesAsStrings) and isinstance(one_hot, OneHotEncoder)
        and not one_hot.sparse_output and one_hot.drop is None
        and one_hot.handle_unknown == "ignore"
    ):
        return None
    read.append((one_hot, "categories_", one_hot.categories_))
    return strings, one_hot, selected


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
