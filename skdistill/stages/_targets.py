"""Targets as the student trains on them: class indices and standardised values.

:func:`class_codes` turns labels into sorted classes and an index per row
(counting, in linear time, for small non-negative integers);
:class:`LabelCodes` and :class:`Standardise` encode the targets of one
partition of a dask fit as the in-memory fit encodes all of them.
"""

import numpy as np
import pandas as pd

__all__ = ["LabelCodes", "Standardise", "class_codes", "labelled_rows", "marks_missing",
           "stratifiable"]


def class_codes(labels):
    """``np.unique(labels, return_inverse=True)``, in linear time for small non-negative integers.

    Integer labels between 0 and about the number of rows (the usual class
    indices) are counted instead of sorted; any other labels go through
    ``np.unique``. Either way the result is the same.

    Examples
    --------
    >>> import numpy as np
    >>> class_codes(np.array([3, 0, 3, 7]))
    (array([0, 3, 7]), array([1, 0, 1, 2]))
    >>> class_codes(np.array(["b", "a", "b"]))
    (array(['a', 'b'], dtype='<U1'), array([1, 0, 1]))
    """
    if labels.dtype.kind not in "iu" or not len(labels):
        return np.unique(labels, return_inverse=True)
    low, high = labels.min(), labels.max()
    if low < 0 or high > len(labels) + 1024:  # sparse codes: counting would waste memory
        return np.unique(labels, return_inverse=True)
    counts = np.bincount(labels.astype(np.intp, copy=False))
    present = counts > 0
    classes = np.flatnonzero(present).astype(labels.dtype)
    code_of = np.cumsum(present) - 1
    return classes, code_of[labels]


class LabelCodes:
    """Labels of one partition to class indices (``-1`` for ``unlabeled_label``).

    Examples
    --------
    >>> import numpy as np
    >>> LabelCodes(np.array(["a", "b"]), "?")(np.array(["b", "?", "a"]))
    array([ 1, -1,  0])
    """

    def __init__(self, classes, unlabeled_label=None):
        self.classes = classes
        self.unlabeled_label = unlabeled_label

    def __call__(self, labels):
        labelled = labelled_rows(labels, self.unlabeled_label)
        codes = np.full(len(labels), -1, dtype=np.int64)
        index = np.searchsorted(self.classes, labels[labelled])
        index = np.minimum(index, len(self.classes) - 1)
        unknown = self.classes[index] != labels[labelled]
        if unknown.any():
            raise ValueError(
                f"y holds the label {labels[labelled][unknown][0]!r}, which is not among the "
                f"classes {self.classes.tolist()}."
            )
        codes[labelled] = index
        return codes


class Standardise:
    """Targets of one partition to the standardised scale the student trains on.

    Examples
    --------
    >>> import numpy as np
    >>> Standardise(10.0, 2.0)(np.array([12.0, np.nan]))
    array([ 1., nan], dtype=float32)
    """

    def __init__(self, mean, scale):
        self.mean = mean
        self.scale = scale

    def __call__(self, values):
        values = np.asarray(values, dtype=np.float64)
        if np.isinf(values).any():
            raise ValueError("Input y contains infinity; only NaN may mark an unlabelled row.")
        return ((values - self.mean) / self.scale).astype(np.float32)


def labelled_rows(y, unlabeled_label):
    """Boolean mask of the rows of ``y`` that carry a label (all, without ``unlabeled_label``).

    A missing value as the marker (``np.nan``, ``pd.NA``) marks the missing labels,
    which equal nothing, themselves included.

    Examples
    --------
    >>> labelled_rows(np.array([1.0, np.nan, 0.0]), np.nan).tolist()
    [True, False, True]
    """
    if unlabeled_label is None:
        return np.ones(len(y), dtype=bool)
    if marks_missing(unlabeled_label):
        return ~np.asarray(pd.isna(y), dtype=bool).reshape(len(y))
    return np.asarray(y != unlabeled_label, dtype=bool).reshape(len(y))


def stratifiable(y, unlabeled_label):
    """``y`` as a splitter reads it: with a missing-value marker, the labels as codes and the
    unlabelled rows as ``-1`` (scikit-learn's splitters refuse missing labels); else ``y``.

    Examples
    --------
    >>> stratifiable(np.array([2.0, np.nan, 5.0]), np.nan).tolist()
    [0, -1, 1]
    """
    if not marks_missing(unlabeled_label):
        return y
    labelled = labelled_rows(y, unlabeled_label)
    codes = np.full(len(y), -1, dtype=np.int64)
    codes[labelled] = class_codes(y[labelled])[1].reshape(-1)
    return codes


def marks_missing(unlabeled_label):
    """Whether ``unlabeled_label`` is a missing value (NaN, ``pd.NA``): then the rows
    without a label are those whose label is missing."""
    try:
        return unlabeled_label is not None and bool(pd.isna(unlabeled_label))
    except (TypeError, ValueError):  # an array-like marker: not a missing value
        return False
