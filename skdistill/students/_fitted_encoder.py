"""Reading the package's fitted encoder into the torch encoding that computes it.

:func:`~skdistill.make_student_encoder` fits scikit-learn parts (an imputer,
a scaler, piecewise-linear bins, missing flags, a one-hot encoder of strings).
This module reads a fitted one -- once, cached until it or a part of it is
fitted anew -- into a :class:`~skdistill.students._encoding_module.NumericEncoding`
(an array of numbers) or a
:class:`~skdistill.students._table_encoding.TableEncoding` with the
:class:`~skdistill.students._table_encoding.TableReader` of its rows (a
table with categories), and says which rows torch can encode
(:func:`encodable_rows`). Any other transformer reads as None: the caller
then goes through the transformer itself.
"""

import weakref

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ._column_reading import CHECKED_ROWS, CategoriesAsStrings, NumbersAsFloat
from ._encoding import PiecewiseLinearEncoder
from ._encoding_module import NumericEncoding
from ._table_encoding import OneHotCodes, TableEncoding, TableReader, one_hot_codes

__all__ = [
    "CHECKED_ROWS", "FLOAT32_OFFSET", "encodable_rows", "imprecise_columns", "numeric_encoding",
    "table_encoding",
]

_CACHE = weakref.WeakKeyDictionary()
"""encoder -> its :class:`_FittedConstants`."""


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


def numbers_in_order(encoder, names):
    """The :class:`NumericEncoding` of a fitted encoder of a DataFrame of numbers alone whose
    columns are ``names``, in this order -- what it computes on those numbers given as one
    array (an earlier pipeline step's output), the columns it left out unread; None for
    anything else."""
    constants = _constants(encoder)
    if constants is None or constants.table is None:
        return None
    encoding = constants.encoding
    position = {str(name): at for at, name in enumerate(names)}
    read = [position.get(str(name)) for name in constants.table.numeric]
    if encoding.categories is not None or encoding.numbers is None or None in read:
        return None
    if read == list(range(len(names))):
        return encoding.numbers
    return encoding.numbers.reading(read, len(names))  # some columns left out (empty in fit)


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
    read = constants.numbers.columns  # positions; a column left out (empty in fit) is not read
    every = list(read) == list(range(X.shape[1]))
    for start in range(0, X.shape[0], CHECKED_ROWS):  # beyond float32, or infinite
        rows = X[start:start + CHECKED_ROWS]
        constants.numbers.check_range(rows if every else rows[:, read])
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
        numeric = _numeric_part(parts["numeric"][0], read) if "numeric" in parts else None
        flagged = _flagged(parts["missing"][0], read) if "missing" in parts else None
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
            encoding = NumericEncoding.of(at, fill, units, flags, encoder.n_features_in_)
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


def _numeric_part(part, read):
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


def _flagged(part, read):
    """The positions among the numeric columns of those with a missing flag, or None."""
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
