"""A fitted student encoding of numeric arrays as a few numpy operations.

:func:`~skdistill.make_student_encoder` builds its encoding of an array of
numbers from scikit-learn parts (``ColumnTransformer``, ``SimpleImputer``,
``StandardScaler``, :class:`PiecewiseLinearEncoder`, ``MissingIndicator``).
Each ``transform`` call walks them all, checking its input at every step:
about a millisecond, whatever the number of rows -- many times a small
student's forward pass on one row, and the bulk of the time when a large
encoding is computed a block of rows at a time. :func:`array_encoding` reads
the fitted parts once and returns :class:`ArrayEncoding`, which computes the
same numbers directly.
"""

import weakref

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import StandardScaler

from ._column_reading import NumbersAsFloat
from ._encoding import PiecewiseLinearEncoder

__all__ = ["ArrayEncoding", "array_encoding"]

_CACHE = weakref.WeakKeyDictionary()


def array_encoding(encoder):
    """The :class:`ArrayEncoding` of a fitted ``make_student_encoder`` transformer, or None.

    None for any other transformer, or one with categorical columns (it
    reads strings). Computed once per fitted encoder (again after it, or a
    part of it, is fitted anew).

    Examples
    --------
    >>> import numpy as np
    >>> from skdistill import make_student_encoder
    >>> X = np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 5.0], [3.0, 2.0]])
    >>> encoder = make_student_encoder(X).fit(X)
    >>> bool(np.allclose(array_encoding(encoder)(X), encoder.transform(X)))
    True
    """
    try:
        encoding = _CACHE[encoder]
        if encoding is None or encoding.is_current(encoder):
            return encoding
    except (KeyError, TypeError):
        pass
    encoding = ArrayEncoding.of(encoder)
    if encoding is None and not hasattr(encoder, "transformers_"):
        return None  # not fitted yet: nothing to remember
    try:
        _CACHE[encoder] = encoding
    except TypeError:  # not weakly referenceable: not cached
        pass
    return encoding


class ArrayEncoding:
    """Imputation, standardisation, piecewise-linear bins and missing flags of numeric rows.

    Built by :func:`array_encoding`; ``encoding(X)`` takes a float ndarray
    of the fitted width and returns what the encoder's ``transform`` returns,
    in ``X``'s float precision.
    """

    def __init__(self, columns, fill, parts, flagged, read=(), transformers=None, reader=None):
        self.reader = NumbersAsFloat() if reader is None else reader  # checks the numbers' range
        self.columns = columns
        self.fill = fill
        self.parts = parts
        self.flagged = flagged
        self.read = list(read)  # (fitted part, attribute, value) it was built from
        self.transformers = transformers  # the encoder's fitted parts (not the encoder)

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
        columns = fill = parts = reader = None
        flagged = None
        read = []  # never the encoder itself: the cache is keyed by it, weakly
        for name, part, selected in encoder.transformers_:
            if name == "remainder" and (part == "drop" or len(selected) == 0):
                continue
            if not all(isinstance(column, (int, np.integer)) for column in selected):
                return None  # columns by name: a DataFrame's encoding
            if name == "numeric" and isinstance(part, Pipeline) and len(part.steps) == 3:
                reader, imputer, encode = (step for _, step in part.steps)
                if not (isinstance(reader, NumbersAsFloat) and isinstance(imputer, SimpleImputer)):
                    return None
                columns = np.asarray(selected, dtype=np.intp)
                fill = np.where(np.isnan(imputer.statistics_), 0.0, imputer.statistics_)
                units = encode.transformer_list if isinstance(encode, FeatureUnion) else [
                    (None, encode)
                ]
                parts = [_part(unit) for _, unit in units]
                read += [(imputer, "statistics_", imputer.statistics_)] + [
                    (unit, name, getattr(unit, name)) for _, unit in units
                    for name in ("mean_", "scale_") if isinstance(unit, StandardScaler)
                ]
                if any(p is None for p in parts):
                    return None
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
        if columns is None:
            return None
        return cls(columns, fill, parts, flagged, read, encoder.transformers_, reader)

    def __call__(self, X):
        """The encoding of a float ndarray of the fitted width (``transform``'s numbers)."""
        values = X if len(self.columns) == X.shape[1] else np.take(X, self.columns, axis=1)
        self.reader.check_range(values)
        missing = np.isnan(values)
        filled = np.where(missing, self.fill.astype(X.dtype), values) if missing.any() else values
        outputs = [_apply(part, filled) for part in self.parts]
        if self.flagged is not None:
            outputs.append(np.isnan(np.take(X, self.flagged, axis=1)).astype(X.dtype))
        return np.hstack(outputs) if len(outputs) > 1 else outputs[0]


def _part(unit):
    """One encoding step as ``(kind, constants)``; None for a step not read here."""
    if isinstance(unit, StandardScaler):
        mean = unit.mean_ if unit.with_mean else None
        scale = unit.scale_ if unit.with_std else None
        return "scale", (mean, scale)
    if isinstance(unit, PiecewiseLinearEncoder):
        return "piecewise", unit
    return None


def _apply(part, X):
    """``StandardScaler.transform`` or ``PiecewiseLinearEncoder.transform``, unchecked."""
    kind, constants = part
    if kind == "piecewise":
        return constants.encode_checked(X)
    mean, scale = constants
    out = X.copy() if mean is None else X - mean.astype(X.dtype, copy=False)
    if scale is not None:
        out /= scale.astype(X.dtype, copy=False)
    return out
