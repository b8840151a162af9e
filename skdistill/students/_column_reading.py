"""How the student's encoding reads a column: numbers as float64, categories as strings.

The first step of each branch of :func:`~skdistill.make_student_encoder`.
Whatever a column's dtype -- pandas' ``str``, ``string`` (missing as
``pd.NA``) or ``category`` (of strings, integers or booleans), an ``object``
column mixing strings and numbers or holding numbers and ``None``, nullable
``Int64``/``Float64``/``boolean`` -- the encoders behind these steps see one
kind of value per branch, and a missing value as NaN:

* :class:`NumbersAsFloat`: every value as a float64, missing as NaN;
  numbers beyond float32's range (the student computes in float32) are a
  ValueError naming the column;
* :class:`CategoriesAsStrings`: every value as its ``str``, missing as NaN
  (one category of its own). The exported ONNX file takes the same strings
  (:func:`~skdistill.onnx_inputs` writes a missing value as ``"nan"``).
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["CHECKED_ROWS", "CategoriesAsStrings", "FLOAT32_MAX", "NumbersAsFloat",
           "column_missing", "frame_column", "missing_columns", "missing_mask"]

FLOAT32_MAX = float(np.finfo(np.float32).max)

CHECKED_ROWS = 65536
"""Rows checked (or converted to float32) at once, so no temporary is as large as ``X``."""

MISSING_AS_STRING = "nan"
"""The string a missing category is in the exported ONNX file (``str(np.nan)``)."""


def frame_column(frame, name):
    """A pandas or polars DataFrame's column ``name`` (a string), or at position ``name``."""
    if isinstance(name, str):
        return frame[name]
    return frame.iloc[:, name] if hasattr(frame, "iloc") else frame.to_series(name)


def missing_mask(column):
    """Which values of one column are missing: None, NaN, ``pd.NA``, a polars null.

    ``column``: a pandas or polars Series, or a 1-d array of any dtype.

    Examples
    --------
    >>> import numpy as np
    >>> missing_mask(np.array(["a", None, np.nan, 1], dtype=object)).tolist()
    [False, True, True, False]
    """
    if hasattr(column, "isna"):  # pandas: NaN, None and pd.NA
        return column.isna().to_numpy()
    if hasattr(column, "is_null"):  # polars: null, and NaN in a float column
        missing = column.is_null()
        if column.dtype.is_float():
            missing = missing | column.is_nan()
        return missing.to_numpy()
    values = np.asarray(column)
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind != "O":
        return np.zeros(len(values), dtype=bool)
    try:
        import pandas
    except ImportError:  # pragma: no cover - without pandas there is no pd.NA
        return np.array([v is None or (isinstance(v, float) and v != v) for v in values],
                        dtype=bool)
    return np.asarray(pandas.isna(values), dtype=bool)


def column_missing(X, column):
    """Which entries of ``X``'s column ``column`` (a name, or a position) are missing; ``X``: a
    DataFrame or 2-d rows.

    Examples
    --------
    >>> import numpy as np
    >>> column_missing(np.array([[1.0, np.nan], [2.0, 3.0]]), 1).tolist()
    [True, False]
    """
    if hasattr(X, "columns"):
        return missing_mask(frame_column(X, column))
    return missing_mask(np.asarray(X)[:, column])


def missing_columns(X):
    """The columns (names, or positions) of 2-d rows ``X`` that hold a missing value.

    Examples
    --------
    >>> import numpy as np
    >>> missing_columns(np.array([[1.0, np.nan], [np.nan, 2.0], [3.0, 4.0]]))
    [0, 1]
    """
    if sp.issparse(X):
        return np.unique(X.indices[np.isnan(X.data)]).tolist()
    if hasattr(X, "columns"):
        return [name for name in X.columns if missing_mask(X[name]).any()]
    values = np.asarray(X)
    if values.dtype.kind in "biu":
        return []
    if values.dtype.kind == "f":  # a chunk of rows at a time: no mask as large as X
        found = np.zeros(values.shape[1], dtype=bool)
        for start in range(0, values.shape[0], CHECKED_ROWS):
            found |= np.isnan(values[start:start + CHECKED_ROWS]).any(axis=0)
        return np.flatnonzero(found).tolist()
    return [at for at in range(values.shape[1]) if missing_mask(values[:, at]).any()]


def _columns(X):
    """``X``'s columns as 1-d arrays (pandas and polars columns as their values)."""
    if hasattr(X, "iloc"):  # pandas
        return [X.iloc[:, at] for at in range(X.shape[1])]
    if hasattr(X, "get_columns"):  # polars
        return X.get_columns()
    values = np.asarray(X)
    return [values[:, at] for at in range(values.shape[1])]


class _ColumnReader(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Reads each column of a table as one kind of value; learns nothing but the width.

    Parameters
    ----------
    columns : list, default=None
        The columns' names (or positions) in the table, for error messages.
    """

    def __init__(self, columns=None):
        self.columns = columns

    def fit(self, X, y=None):
        """Record the width (and the names) of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        validate_data(self, X, skip_check_array=True)
        return self

    def transform(self, X):
        """Each column read as :meth:`read` reads it.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        values : ndarray of shape (n_samples, n_features)
            A float32 or float64 array given to :class:`NumbersAsFloat` is
            returned as it is.
        """
        check_is_fitted(self)
        validate_data(self, X, skip_check_array=True, reset=False)
        whole = self._read_whole(X)
        if whole is not None:
            return whole
        columns = _columns(X)
        out = np.empty((len(columns[0]) if columns else 0, len(columns)),
                       dtype=self._dtype_of(X))
        for at, column in enumerate(columns):
            out[:, at] = self.read(column, at)
        return out

    def _dtype_of(self, X):
        return self._dtype

    def _read_whole(self, X):
        """``X`` read at once where it already is as read (None: column by column)."""
        return None

    def _name(self, at):
        """The column at position ``at`` as the user knows it (its name, or its position)."""
        if self.columns is not None:
            return self.columns[at]
        names = getattr(self, "feature_names_in_", None)
        return at if names is None else names[at]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags


class NumbersAsFloat(_ColumnReader):
    """Each column as float numbers, a missing value (None, ``pd.NA``) as NaN.

    float64, or float32 where every column is float32 (as scikit-learn's
    scalers keep it); numbers beyond float32's range are a ValueError naming
    the column.

    ``columns`` (the columns' names or positions in the table) names them in
    error messages; :class:`CategoriesAsStrings` does the same for
    categorical columns.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, None], [2.5, 3]], dtype=object)
    >>> NumbersAsFloat().fit_transform(X)
    array([[1. , nan],
           [2.5, 3. ]])
    """

    _dtype = np.float64

    def _read_whole(self, X):
        """A float32 or float64 array, as it is (its range checked); None for anything else."""
        if isinstance(X, np.ndarray) and X.dtype in (np.float32, np.float64):
            self.check_range(X)
            return X
        return None

    def _dtype_of(self, X):
        dtypes = set(getattr(X, "dtypes", [getattr(X, "dtype", None)]))
        return np.float32 if dtypes == {np.dtype(np.float32)} else np.float64

    def check_range(self, values, first=0):
        """ValueError naming the first column of float ``values`` beyond float32's range.

        ``values`` holds the columns from position ``first`` on.
        """
        magnitude = np.abs(values)
        too_large = magnitude > FLOAT32_MAX  # inf too; NaN (missing) is not
        if too_large.any():
            at = int(np.flatnonzero(too_large.any(axis=0))[0])
            raise ValueError(
                f"Column {self._name(first + at)!r} holds values too large for the student "
                f"(largest |x|: {np.nanmax(magnitude[:, at]):.3g}; it computes in float32, up "
                "to about 3.4e38). Rescale the column, e.g. take its logarithm, or drop it."
            )

    def read(self, column, at):
        """One column as float64 numbers; ValueError naming it where they exceed float32."""
        if isinstance(column, np.ndarray) and column.dtype.kind == "f":
            values = column
        elif hasattr(column, "to_numpy") and hasattr(column, "isna"):  # pandas, nullable too
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        elif hasattr(column, "is_null"):  # polars: null as NaN
            values = column.cast(float).fill_null(float("nan")).to_numpy()
        else:
            values = np.asarray(column).astype(np.float64)  # an object None becomes NaN
        self.check_range(values[:, None], first=at)
        return values


class CategoriesAsStrings(_ColumnReader):
    """Each column's values as their ``str``, a missing value as NaN (a category of its own).

    So strings, numbers and booleans in one column, pandas' ``string`` dtype
    with ``pd.NA`` and categories of integers all reach ``OneHotEncoder`` as
    strings. The exported file takes the same strings, a missing value as
    ``"nan"``.

    ``columns`` as for :class:`NumbersAsFloat`.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([["a", 1], [None, True]], dtype=object)
    >>> CategoriesAsStrings().fit_transform(X)
    array([['a', '1'],
           [nan, 'True']], dtype=object)
    """

    _dtype = object

    def read(self, column, at):
        """One column's values as strings, missing ones as NaN."""
        if hasattr(column, "is_null"):  # polars
            missing = column.is_null().to_numpy()
            values = column.to_numpy()
        else:
            # astype(object) keeps each value's type (to_numpy would make a category of
            # integers with a missing value floats: "1.0", where rows without one give "1")
            values = column.astype(object).to_numpy() if hasattr(column, "isna") else column
            missing = missing_mask(values)
        try:
            strings = np.asarray(values, dtype=object).astype(str).astype(object)
        except ValueError:  # numpy: "setting an array element with a sequence"
            raise TypeError(
                f"Column {self._name(at)!r} holds sequences (such as lists) in its cells; the "
                "student reads one number or category per cell. Spread them over columns of "
                "their own, or pass a student_preprocessor that encodes them."
            ) from None
        strings[missing] = np.nan
        return strings
