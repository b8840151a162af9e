"""Piecewise-linear encoding of numerical features, with bins from the training rows.

Gorishniy, Rubachev & Babenko (2022, "On Embeddings for Numerical Features in
Tabular Deep Learning", PLE-Q) cut each feature at its quantiles on the
training rows, ``b_0 < b_1 < ... < b_T``, and encode ``x`` as ``T`` numbers,
one per bin::

    e_t = (x - b_{t-1}) / (b_t - b_{t-1}),  clipped to [0, 1]

except that the first bin is not clipped below and the last not above, so
values outside the training range extrapolate linearly. A row becomes a
"thermometer" of how far it has climbed through each feature's distribution,
and the first ``Linear`` layer of an MLP reading it can give every bin its own
slope: a piecewise-linear function of each feature, which is how trees cut.
"""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

__all__ = ["PiecewiseLinearEncoder"]


class PiecewiseLinearEncoder(TransformerMixin, BaseEstimator):
    """Encode each numerical feature piecewise-linearly over its training quantiles.

    Made for ``student_preprocessor``: the teacher reads the features as given,
    the student (a plain :class:`MLPStudent`, whose fast numpy steps still
    apply) reads their encoding. Each feature with ``k`` distinct quantiles
    gives ``k - 1`` columns (at most ``n_bins``; a constant feature gives one
    column, zero on the training rows). It exports to ONNX with the student
    (:func:`skdistill.register_onnx_converters`).

    Parameters
    ----------
    n_bins : int, default=16
        Bins per feature, cut at the quantiles ``0, 1/n_bins, ..., 1`` of the
        training rows (observed values, numpy's ``"inverted_cdf"``); repeated
        quantiles (discrete features) are merged.

    Attributes
    ----------
    bin_edges_ : list of ndarray
        The edges ``b_0 < ... < b_T`` of each feature.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.

    See Also
    --------
    make_student_encoder : A whole table's encoding, this one included.
    TabularStudent : Periodic embeddings, the other road of the same paper.

    References
    ----------
    .. [1] Y. Gorishniy, I. Rubachev, A. Babenko. "On Embeddings for Numerical Features in
       Tabular Deep Learning". NeurIPS 2022.

    Examples
    --------
    >>> import numpy as np
    >>> encoder = PiecewiseLinearEncoder(n_bins=2).fit(np.array([[0.0], [1.0], [2.0]]))
    >>> encoder.bin_edges_[0]
    array([0., 1., 2.])
    >>> encoder.transform(np.array([[-1.0], [0.5], [1.5], [4.0]]))
    array([[-1. ,  0. ],
           [ 0.5,  0. ],
           [ 1. ,  0.5],
           [ 1. ,  3. ]])
    >>> list(encoder.get_feature_names_out())
    ['x0_bin0', 'x0_bin1']
    """

    _parameter_constraints = {"n_bins": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, n_bins=16):
        self.n_bins = n_bins

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Find each feature's bin edges at its quantiles on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric training rows.
        y : None
            Ignored.

        Returns
        -------
        self : PiecewiseLinearEncoder
            The fitted encoder.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        levels = np.linspace(0, 1, self.n_bins + 1)
        self.bin_edges_ = []
        for column in X.T:
            # observed values as edges: a discrete feature's bins end at its values
            quantiles = np.quantile(column.astype(np.float64), levels, method="inverted_cdf")
            edges = _distinct_edges(np.unique(quantiles))
            if len(edges) == 1:  # a constant feature: one bin of unit width (or wider,
                width = max(1.0, abs(edges[0]) * 2.0**-40)  # where 1 is below rounding)
                edges = np.array([edges[0], edges[0] + width])
            self.bin_edges_.append(edges)
        self._constants = self._encoding_constants()  # built once: transform reuses them
        return self

    def transform(self, X):
        """Return the encoding of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric rows of the fitted width.

        Returns
        -------
        encoded : ndarray of shape (n_samples, total bins)
            In ``X``'s float precision.
        """
        check_is_fitted(self)
        return self.encode_checked(validate_data(self, X, dtype=[np.float64, np.float32],
                                                 reset=False))

    def encode_checked(self, X):
        """``transform`` of a float ndarray of the fitted width, without checking it.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), float32 or float64
            Rows already checked by the caller.

        Returns
        -------
        encoded : ndarray of shape (n_samples, total bins)
            In ``X``'s float precision.
        """
        columns, *constants = self.onnx_constants()
        lower, width, low_clip, high_clip = (c.astype(X.dtype, copy=False) for c in constants)
        out = np.take(X, columns, axis=1)  # one array, computed in place: many rows are fast
        out -= lower
        out /= width
        np.maximum(out, low_clip, out=out)
        return np.minimum(out, high_clip, out=out)

    def get_feature_names_out(self, input_features=None):
        """``<feature>_bin<t>`` for each bin of each feature.

        Parameters
        ----------
        input_features : array-like of str, default=None
            The input names; the fitted ``feature_names_in_`` (or ``x0``,
            ``x1``, ...) when None.

        Returns
        -------
        names : ndarray of str
            One name per output column.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        return np.array(
            [f"{names[j]}_bin{t}" for j, edges in enumerate(self.bin_edges_)
             for t in range(len(edges) - 1)],
            dtype=object,
        )

    def onnx_constants(self):
        """The encoding as arrays, for ``transform`` and the ONNX graph.

        The output is
        ``min(max((X[:, columns] - lower) / width, low_clip), high_clip)``,
        with ``low_clip`` -inf on each feature's first bin and ``high_clip``
        +inf on its last.

        Returns
        -------
        constants : tuple of ndarray
            ``(columns, lower, width, low_clip, high_clip)``, one entry per
            output column.
        """
        check_is_fitted(self)
        return self._constants

    def __getstate__(self):
        # the constants follow from bin_edges_: rebuilt on unpickling, not stored (a smaller pickle)
        state = dict(super().__getstate__())
        state.pop("_constants", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "bin_edges_" in state:
            self._constants = self._encoding_constants()

    def _encoding_constants(self):
        columns, lower, width, low_clip, high_clip = [], [], [], [], []
        for j, edges in enumerate(self.bin_edges_):
            n = len(edges) - 1
            columns.append(np.full(n, j, dtype=np.int64))
            lower.append(edges[:-1])
            width.append(np.diff(edges))
            low_clip.append(np.r_[-np.inf, np.zeros(n - 1)])
            high_clip.append(np.r_[np.ones(n - 1), np.inf])
        return tuple(np.concatenate(part) for part in (columns, lower, width, low_clip, high_clip))


MIN_RELATIVE_WIDTH = 1e-6
"""Edges closer than this (relative to the feature's span and magnitude) are merged."""


def _distinct_edges(edges):
    """Sorted unique ``edges`` with those closer than a floor merged into one bin.

    Two training values that differ only by float rounding would make a bin
    some 1e-17 wide, and a row just outside it would be encoded as 1e14. The
    floor is ``MIN_RELATIVE_WIDTH`` times the feature's span or magnitude
    (whichever is larger), above float32's resolution.

    Examples
    --------
    >>> _distinct_edges(np.array([0.0, 1.0, 1.0 + 1e-15, 2.0]))
    array([0., 1., 2.])
    >>> _distinct_edges(np.array([1.0, 1.0 + 1e-16]))
    array([1.])
    """
    span = edges[-1] - edges[0]
    floor = MIN_RELATIVE_WIDTH * max(span, np.abs(edges).max(), np.finfo(np.float64).tiny)
    kept = [edges[0]]
    for edge in edges[1:]:
        if edge - kept[-1] >= floor:
            kept.append(edge)
    if len(kept) > 1:
        kept[-1] = edges[-1]  # the last bin ends at the largest value
    return np.asarray(kept)
