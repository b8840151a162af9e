"""The package's encoding of a table with categories, as codes read once and a torch module.

A DataFrame's (or ``object`` array's) columns are read once into one float32
matrix (:class:`TableReader`): the numbers as they are (NaN where missing), each
categorical column as the small integer code of its one-hot column (-1 for a
category the fit never saw, which ``OneHotEncoder(handle_unknown="ignore")``
encodes as all zeros; rare ones share the code of their infrequent column).
:class:`TableEncoding` computes from that matrix what the fitted
``make_student_encoder`` transformer's ``transform`` computes: the numbers'
encoding (:class:`~skdistill.students._encoding_module.NumericEncoding`), then
the one-hot columns (:class:`OneHotCodes`), on the student's device.
"""


import numpy as np
import pandas as pd
import torch
from sklearn.utils import _safe_indexing

from ._column_reading import frame_column, missing_mask
from ._devices import MovesOnce

__all__ = ["OneHotCodes", "TableEncoding", "TableReader", "one_hot_codes"]


class OneHotCodes(torch.nn.Module):
    """One-hot columns of integer codes (stored as floats): code ``k`` of column ``j`` sets
    output ``offsets[j] + k``; a negative code sets none.

    Examples
    --------
    >>> import torch
    >>> encode = OneHotCodes([0, 2], 5)
    >>> encode(torch.tensor([[1.0, 2.0], [-1.0, 0.0]])).tolist()
    [[0.0, 1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0, 0.0]]
    """

    def __init__(self, offsets, n_features_out):
        super().__init__()
        self.register_buffer("offsets", torch.as_tensor(np.asarray(offsets, np.int64)))
        self.n_features_out = int(n_features_out)

    def forward(self, codes):
        known = codes >= 0
        index = torch.where(known, codes.long() + self.offsets, self.offsets)
        out = torch.zeros(codes.shape[0], self.n_features_out, dtype=codes.dtype,
                          device=codes.device)
        return out.scatter_(1, index, known.to(codes.dtype))  # an unknown one writes a 0


class TableEncoding(MovesOnce, torch.nn.Module):
    """The encoding of the matrix :class:`TableReader` reads: numbers, then category codes.

    ``numbers``: the encoding of the first ``n_numbers`` columns (None without
    numeric columns); ``categories``: the :class:`OneHotCodes` of the others
    (None without categorical columns).
    """

    def __init__(self, numbers, n_numbers, categories):
        super().__init__()
        self.numbers = numbers
        self.categories = categories
        self.n_numbers = n_numbers
        self.n_features_out = sum(
            part.n_features_out for part in (numbers, categories) if part is not None
        )

    def forward(self, x):
        parts = []
        if self.numbers is not None:
            parts.append(self.numbers(x[:, :self.n_numbers]))
        if self.categories is not None:
            parts.append(self.categories(x[:, self.n_numbers:]))
        return torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]


class TableReader:
    """A table's columns read once as the float32 matrix :class:`TableEncoding` reads.

    ``numeric`` and ``categorical``: the columns (names, or positions of an
    ``object`` array) and the fitted readers (``NumbersAsFloat``,
    ``CategoriesAsStrings``) the scikit-learn encoder reads them with;
    ``lookups``: per categorical column, ``(known strings as a pandas Index,
    {string: code}, the codes in the Index's order followed by -1, the code of
    a missing value)``.
    """

    def __init__(self, numeric, numbers, categorical, strings, lookups):
        self.numeric = list(numeric)
        self.numbers = numbers
        self.categorical = list(categorical)
        self.strings = strings
        self.lookups = lookups
        self._by_category = {}  # (column, CategoricalDtype) -> code of each category, missing

    def __call__(self, X):
        n_rows = X.shape[0]
        out = np.empty((n_rows, len(self.numeric) + len(self.categorical)), dtype=np.float32)
        if self.numeric:
            out[:, :len(self.numeric)] = self._numbers(X)
        for at, name in enumerate(self.categorical):
            out[:, len(self.numeric) + at] = self._codes(_column(X, name), at)
        return out

    def _numbers(self, X):
        """The numeric columns as float64 (ValueError naming one beyond float32's range)."""
        return np.column_stack([
            self.numbers.read(_column(X, name), at) for at, name in enumerate(self.numeric)
        ])

    def _codes(self, column, at):
        """One categorical column's codes, as floats."""
        known, by_string, codes, missing_code = self.lookups[at]
        dtype = getattr(column, "dtype", None)
        if isinstance(dtype, pd.CategoricalDtype):  # each category looked up once per dtype,
            key = (at, dtype)  # then indexed by the column's own codes
            by_category = self._by_category.get(key)
            if by_category is None:
                if len(self._by_category) >= _DTYPES_KEPT:
                    self._by_category.clear()
                strings = np.asarray(dtype.categories, dtype=object).astype(str)
                by_category = self._by_category[key] = np.array(
                    [by_string.get(value, -1) for value in strings] + [missing_code]
                )
            return by_category[column.array.codes]  # -1 (missing): the last entry
        values = self.strings.read(column, at)
        missing = missing_mask(values)
        if len(values) <= _LOOKED_UP_ONE_BY_ONE:  # a few rows: a dict beats an Index
            code = np.array([by_string.get(value, -1) for value in values], dtype=np.float32)
        else:  # position -1 (never seen in fit) reads the -1 at the end of codes
            code = codes[known.get_indexer(values.astype(str))]
        return np.where(missing, missing_code, code)


_LOOKED_UP_ONE_BY_ONE = 64
"""Up to this many rows, categories are looked up in a dict, one by one."""

_DTYPES_KEPT = 64
"""Category dtypes whose codes a reader keeps (forgotten all at once beyond that)."""


def _column(X, name):
    """Column ``name`` of an array, or of a pandas or polars frame (by name, or by position
    where the fit's were positions)."""
    if isinstance(X, np.ndarray):
        return X[:, name]
    if hasattr(X, "columns"):
        return frame_column(X, name)
    return _safe_indexing(X, name, axis=1)


def one_hot_codes(one_hot):
    """``(offsets, lookups, n_outputs)`` of a fitted dense ``OneHotEncoder`` of strings.

    Each category's code is read from the encoder itself -- its one-hot row,
    so rare categories grouped as infrequent share one code, as in ``transform``.
    """
    categories = one_hot.categories_
    firsts = [column[0] for column in categories]
    widths = _block_widths(one_hot)
    offsets, lookups, start = [], [], 0
    for j, column in enumerate(categories):
        rows = np.array([firsts] * len(column), dtype=object)
        rows[:, j] = column
        encoded = np.asarray(one_hot.transform(rows))
        width = widths[j]
        block = encoded[:, start:start + width]
        codes = np.where(block.any(axis=1), block.argmax(axis=1), -1)
        missing = missing_mask(column)
        missing_code = int(codes[missing][0]) if missing.any() else -1
        known = pd.Index(column[~missing].astype(str))
        by_string = dict(zip(known, codes[~missing].tolist()))
        offsets.append(start)
        lookups.append((known, by_string, np.r_[codes[~missing], -1], missing_code))
        start += width
    return offsets, lookups, start


def _block_widths(one_hot):
    """How many output columns each input column of a fitted ``OneHotEncoder`` gives."""
    n_inputs = len(one_hot.categories_)
    names = one_hot.get_feature_names_out([f"x{i}" for i in range(n_inputs)])
    inputs = [name.split("_", 1)[0] for name in names]
    return [inputs.count(f"x{j}") for j in range(n_inputs)]
