"""The student's own encoding of tabular rows, built from the rows themselves.

:func:`make_student_encoder` looks at the columns of ``X`` (a numpy array, a
sparse matrix, or a pandas or polars DataFrame) and returns an unfitted scikit-learn
transformer -- made of ``ColumnTransformer``, ``SimpleImputer``,
``StandardScaler``, :class:`PiecewiseLinearEncoder` and ``OneHotEncoder``, so
it pickles, clones and exports to ONNX like any of them:

* numeric columns: read as float64 numbers (:class:`NumbersAsFloat`: ``None``
  and ``pd.NA`` are missing); missing values filled with the column's median,
  also in a column that had none in fit (as scikit-learn's imputers and
  ``HistGradientBoosting`` do), and, where the fit's rows had any, a 0/1 column
  for each column that had one; then standardised
  (``"scale"``), encoded piecewise-linearly over their quantiles
  (``"piecewise"``), or both side by side (``"both"``);
* string, categorical and boolean columns (pandas' ``str``, ``string``,
  ``object``, ``category``, ``bool``, ``boolean``): read as strings
  (:class:`CategoriesAsStrings`), then one-hot, a missing value being a category of its
  own, categories rarer than ``min_frequency`` grouped as one "infrequent"
  category, and a category first seen at predict time all zeros; an encoding
  wider than :data:`WIDE_ONE_HOT` columns (an ID or a city) gives sparse rows,
  so the student's first layer reads only the categories present;
* a column of ``X`` with no value at all (numbers or categories) is left out,
  as ``SimpleImputer`` drops it, so what it holds later changes nothing
  (unless every column is empty);
* sparse matrices: scaled by each column's largest magnitude, staying sparse;
  where the rows hold NaN, filled first with each column's median (its zeros
  counted) and flagged, as numbers are.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MaxAbsScaler, OneHotEncoder, StandardScaler

from ._column_reading import (
    CategoriesAsStrings,
    NumbersAsFloat,
    column_missing,
    frame_column,
    missing_mask,
)
from ._encoding import PiecewiseLinearEncoder

__all__ = [
    "NUMERIC_ENCODINGS", "column_kinds", "holds_numbers", "leave_out_empty",
    "left_out_columns", "make_student_encoder",
]

NUMERIC_ENCODINGS = ("scale", "piecewise", "both")
"""How :func:`make_student_encoder` may encode numeric columns."""

MIN_FREQUENCY = 10
"""Categories seen fewer times in training are grouped as one infrequent category."""

WIDE_ONE_HOT = 1000
"""One-hot encodings wider than this are sparse: the rows are stored as a sparse matrix
where that saves most of their values (:data:`SPARSE_DENSITY`), and the student's
first layer multiplies them sparsely. Sparse rows train on the torch engine (the numpy
engine reads dense rows), which pays on wide encodings (``benchmarks/wide_categories.py``:
2,000 categories) but not on narrower ones, where the dense fit is faster
(``--rows 12000 --cities 400``)."""

SPARSE_DENSITY = 0.3
"""A wide one-hot encoding's rows are sparse where fewer than this share of values are
non-zero (``ColumnTransformer``'s ``sparse_threshold``)."""


def column_kinds(X):
    """Each column's kind, ``"numeric"`` or ``"categorical"``, as a list.

    A DataFrame's numeric (non-boolean) columns, nullable ``Int64`` and
    ``Float64`` included, and ``object`` columns holding only numbers (and
    missing values), are numeric; string (``str``, ``string``), other
    ``object``, ``category``, boolean (``bool``, ``boolean``), interval and
    period columns categorical (read as strings). Dates and durations are
    refused with a TypeError that names the column. Every column of an array
    or sparse matrix is numeric, except the non-numbers of an ``object`` array.

    Examples
    --------
    >>> import pandas as pd
    >>> column_kinds(pd.DataFrame({"a": [1.0], "b": ["x"], "c": [True]}))
    ['numeric', 'categorical', 'categorical']
    """
    if hasattr(X, "columns") and hasattr(X, "dtypes"):
        return [  # the dtypes read at once; a column itself only where its values decide
            _frame_column_kind(name, dtype, lambda at=at: frame_column(X, at))
            for at, (name, dtype) in enumerate(zip(X.columns, X.dtypes))
        ]
    if sp.issparse(X) or np.asarray(X[:1]).dtype.kind != "O":
        return ["numeric"] * X.shape[1]
    return ["numeric" if holds_numbers(column) else "categorical" for column in np.asarray(X).T]


def make_student_encoder(X, numeric="both", n_bins=16, min_frequency=MIN_FREQUENCY):
    """An unfitted transformer that encodes rows like ``X`` for a student network.

    Parameters
    ----------
    X : array-like, sparse matrix or pandas DataFrame of shape (n_samples, n_features)
        Rows whose columns decide the encoding (they are not fitted here).
    numeric : {"scale", "piecewise", "both"}, default="both"
        How numeric columns are encoded: standardised, piecewise-linearly over
        ``n_bins`` quantile bins (:class:`PiecewiseLinearEncoder`), or both.
    n_bins : int, default=16
        Quantile bins per numeric column for the piecewise-linear encoding.
    min_frequency : int, default=10
        One-hot categories seen fewer times are grouped as one; unseen ones are
        all zeros.

    Returns
    -------
    encoder : ColumnTransformer or Pipeline
        Unfitted; ``fit_transform(X)`` gives dense float rows (sparse for a
        sparse ``X``, and where wide one-hot columns make most values zero).

    See Also
    --------
    PiecewiseLinearEncoder : The piecewise-linear encoding of numbers.
    DistilledClassifier : Builds it when ``student_preprocessor='auto'``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"size": [1.0, np.nan, 3.0, 4.0],
    ...                       "colour": ["red", "blue", None, "red"]})
    >>> encoder = make_student_encoder(frame, numeric="scale", min_frequency=1)
    >>> encoder.fit_transform(frame).shape  # size, size missing, 3 colours (None is one)
    (4, 5)
    """
    if numeric not in NUMERIC_ENCODINGS:
        raise ValueError(f"numeric must be one of {NUMERIC_ENCODINGS}; got {numeric!r}.")
    if sp.issparse(X):
        steps = [("scale", MaxAbsScaler())]
        if np.isnan(X.data).any():  # filled with the median, flagged, as dense numbers are
            flags = MissingIndicator(features="missing-only", error_on_new=False)
            steps.insert(0, ("fill", FeatureUnion([
                ("numbers", SimpleImputer(strategy="median")), ("missing", flags)])))
        return Pipeline(steps).set_output(transform="default")
    if not (hasattr(X, "columns") or hasattr(X, "shape")):  # a list of rows
        X = np.asarray(X, dtype=None if _is_numeric_list(X) else object)
    kinds = column_kinds(X)
    by_name = hasattr(X, "columns") and all(isinstance(name, str) for name in X.columns)
    names = list(X.columns) if by_name else list(range(len(kinds)))  # else by position
    numeric_columns = [name for name, kind in zip(names, kinds) if kind == "numeric"]
    categorical_columns = [name for name, kind in zip(names, kinds) if kind == "categorical"]
    missing = {}  # name -> (any missing, all missing), a column at a time
    for name in names:
        mask = column_missing(X, name)
        missing[name] = (bool(mask.any()), bool(mask.all()))
    empty = {name for name in names if missing[name][1]}
    if len(empty) < len(names):  # read the others; an empty table is read as it is
        numeric_columns = [name for name in numeric_columns if name not in empty]
        categorical_columns = [name for name in categorical_columns if name not in empty]
    parts = []
    if numeric_columns:
        numbers = NumbersAsFloat(columns=numeric_columns)
        parts.append(("numeric", _numeric_encoder(numbers, numeric, n_bins), numeric_columns))
        if any(missing[name][0] for name in numeric_columns):
            flags = MissingIndicator(features="missing-only", error_on_new=False)
            parts.append(("missing", Pipeline([("numbers", clone(numbers)), ("flag", flags)]),
                          numeric_columns))
    wide = False
    if categorical_columns:
        strings = CategoriesAsStrings(columns=categorical_columns)
        wide = _one_hot_width(strings, X, categorical_columns, min_frequency) > WIDE_ONE_HOT
        one_hot = OneHotEncoder(
            handle_unknown="ignore", min_frequency=min_frequency,
            sparse_output=wide, dtype=np.float32,
        )
        parts.append(("categorical", Pipeline([("strings", strings), ("one_hot", one_hot)]),
                      categorical_columns))
    encoder = ColumnTransformer(parts, sparse_threshold=SPARSE_DENSITY if wide else 0.0,
                                verbose_feature_names_out=False)
    # arrays whatever set_config(transform_output=...) says: the student reads numbers, and
    # its parts read each other's arrays by position
    return encoder.set_output(transform="default")


def leave_out_empty(encoder, X):
    """An unfitted :func:`make_student_encoder` transformer of a table that reads none of the
    columns holding no value in ``X``, the rows it is about to be fitted on (a sample, or the
    rows of non-zero weight, may have none where the rows it was made from had some);
    ``encoder`` itself where no column is empty, or every one; any other transformer as it is.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.c_[np.arange(4.0), [np.nan, np.nan, 1.0, 2.0]]
    >>> encoder = leave_out_empty(make_student_encoder(X), X[:2]).fit(X[:2])
    >>> left_out_columns(encoder)
    [1]
    """
    if not isinstance(encoder, ColumnTransformer):
        return encoder
    columns = {column for _, _, selected in encoder.transformers for column in selected}
    empty = {column for column in columns if column_missing(X, column).all()}
    if not empty or empty == columns:
        return encoder
    parts = []
    for name, part, selected in encoder.transformers:
        kept = [column for column in selected if column not in empty]
        if kept:  # its first step reads the columns: it names them in its messages
            part = clone(part)
            part.steps[0][1].set_params(columns=kept)
            parts.append((name, part, kept))
    return clone(encoder).set_params(transformers=parts)


def left_out_columns(encoder):
    """The input columns (names, or positions) a fitted :func:`make_student_encoder`
    transformer of a table reads none of: those that held no value in the rows it was made
    from. Empty for any other transformer.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.c_[np.arange(4.0), np.full(4, np.nan)]
    >>> left_out_columns(make_student_encoder(X).fit(X))
    [1]
    """
    if not isinstance(encoder, ColumnTransformer) or not hasattr(encoder, "transformers_"):
        return []
    read = [column for name, _, columns in encoder.transformers_ if name != "remainder"
            for column in columns]
    by_name = any(isinstance(column, str) for column in read)
    names = list(encoder.feature_names_in_) if by_name else range(encoder.n_features_in_)
    return [column for column in names if column not in set(read)]


def _one_hot_width(strings, X, columns, min_frequency):
    """How many one-hot columns the categorical ``columns`` of ``X`` will give, about."""
    width = 0
    for at, name in enumerate(columns):
        if hasattr(X, "columns"):
            column = frame_column(X, name)
        else:
            column = np.asarray(X)[:, name]
        values = strings.read(column, at)
        kept = values[~missing_mask(values)]
        _, counts = np.unique(kept.astype(str), return_counts=True)
        frequent = int((counts >= min_frequency).sum())
        width += frequent + int(frequent < len(counts)) + int(len(kept) < len(values))
    return width


def _numeric_encoder(numbers, numeric, n_bins):
    fill = SimpleImputer(strategy="median", keep_empty_features=True)
    encodings = {
        "scale": StandardScaler(),
        "piecewise": PiecewiseLinearEncoder(n_bins=n_bins),
    }
    if numeric == "both":
        encode = FeatureUnion(list(encodings.items()))
    else:
        encode = encodings[numeric]
    return Pipeline([("numbers", numbers), ("fill", fill), (numeric, encode)])


def _frame_column_kind(name, dtype, column):
    """The kind of a frame's column ``name`` of ``dtype``; ``column()`` gives the column."""
    kind = _dtype_kind(dtype)  # pandas' str, category and boolean: "O" or "b"
    if kind == "b" or str(dtype) == "category":
        return "categorical"
    if kind == "O" and holds_numbers(column().to_numpy()):
        return "numeric"
    if kind in "OSU":
        return "categorical"
    if kind in "iuf":
        return "numeric"
    raise TypeError(
        f"Column {name!r} has dtype {dtype}, which the student cannot read as numbers "
        "or categories. Convert it (e.g. a date to days since a fixed day) or pass a "
        "student_preprocessor that encodes it."
    )


def _is_numeric_list(rows):
    """Whether a list of rows reads as a numeric array (else it is read as objects)."""
    try:
        return np.asarray(rows).dtype.kind in "biuf"
    except ValueError:  # ragged rows: their shape names the problem later
        return False


def _dtype_kind(dtype):
    """numpy's one-letter kind of a pandas or numpy ``dtype`` (``"O"`` where it has none); a
    polars dtype (which has none) read as the numpy kind it stands for: numbers ``"f"``,
    ``"i"``, ``"u"``, ``"b"``, strings and categories ``"O"``, dates and durations ``"M"``,
    anything else (lists, structs) ``"V"``."""
    if hasattr(dtype, "kind") or not hasattr(dtype, "is_numeric"):
        return getattr(dtype, "kind", "O")
    if dtype.is_integer():
        return "u" if dtype.is_unsigned_integer() else "i"
    if dtype.is_numeric():
        return "f"
    if dtype.is_temporal():
        return "M"
    return {"Boolean": "b", "String": "O", "Categorical": "O", "Enum": "O",
            "Object": "O"}.get(type(dtype).__name__, "V")


def holds_numbers(column):
    """Whether an object column holds only numbers (a missing value counts as one)."""
    if column.dtype.kind != "O":
        return column.dtype.kind in "iuf"
    try:
        column.astype(np.float64)
    except (TypeError, ValueError):
        return False
    return not any(isinstance(value, (str, bytes, bool, np.bool_)) for value in column)
