"""Synthetic transfer sets: more rows for the teacher to label than the training set holds.

A small training set limits how much of the teacher's function the student
sees. MUNGE (Bucila, Caruana & Niculescu-Mizil, 2006) samples new rows near
the real ones; the teacher labels them, and the student learns from those
labels through the teacher term only. Synthetic rows are used for training,
never for validation or scoring.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

__all__ = ["Munge"]


class Munge(BaseEstimator):
    """MUNGE transfer set: perturb each row towards its nearest neighbour.

    For each real row ``a`` with nearest (other) row ``b``, every attribute is,
    with probability ``p``, redrawn from a normal distribution centred on
    ``b``'s value with spread ``|a - b| / s``, and otherwise kept. This is
    repeated ``n_copies`` times, giving ``n_copies * n_rows`` new rows. Put a
    scaler before the distiller: neighbours are found by Euclidean distance.

    Parameters
    ----------
    n_copies : int, default=5
        Synthetic rows generated per training row.
    p : float in (0, 1], default=0.5
        Probability that an attribute is redrawn.
    s : float > 0, default=1.0
        Local variance parameter: larger ``s`` keeps new values closer to the
        neighbour's value.
    random_state : int, RandomState instance or None, default=None
        Fixes the rows generated; when None the distiller's seed is used.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [4.0, 4.0]])
    >>> Munge(n_copies=2, random_state=0).generate(X).shape
    (6, 2)
    """

    _parameter_constraints = {
        "n_copies": [Interval(Integral, 1, None, closed="left")],
        "p": [Interval(Real, 0, 1, closed="right")],
        "s": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_copies=5, p=0.5, s=1.0, random_state=None):
        self.n_copies = n_copies
        self.p = p
        self.s = s
        self.random_state = random_state

    def generate(self, X, random_state=None):
        """Return ``n_copies * len(X)`` synthetic rows sampled around the rows of ``X``.

        ``X`` is a numeric array (the result is float32) or a DataFrame (the
        result is a DataFrame with the same columns and dtypes). In a DataFrame,
        numeric columns are redrawn as above and nominal ones (category, string,
        object, bool) take the neighbour's value with probability ``p``, as in
        Bucila et al.; neighbours are found on the standardised numeric columns
        plus a mismatch count over the nominal ones. ``random_state`` is used
        when the object's own ``random_state`` is None.
        """
        self._validate_params()
        seed = self.random_state if self.random_state is not None else random_state
        rng = check_random_state(seed)
        if hasattr(X, "columns") and hasattr(X, "iloc"):
            return self._generate_frame(X, rng)
        return self._generate_numeric(_numeric_rows(X), rng).astype(np.float32)

    def _generate_numeric(self, X, rng, distance_rows=None):
        if len(X) < 2:
            return np.repeat(X, self.n_copies, axis=0)
        near = X[_nearest_other_row(X if distance_rows is None else distance_rows)]
        spread = np.abs(X - near) / self.s
        copies = []
        for _ in range(self.n_copies):
            redraw = rng.random_sample(X.shape) < self.p
            copies.append(np.where(redraw, rng.normal(near, spread), X))
        return np.concatenate(copies)

    def _generate_frame(self, frame, rng):
        import pandas as pd

        numeric = [c for c in frame.columns if _is_numeric_column(frame[c])]
        nominal = [c for c in frame.columns if c not in numeric]
        unsupported = [c for c in nominal if not _is_nominal_column(frame[c])]
        if unsupported:
            raise ValueError(
                f"Munge cannot sample the column(s) {unsupported} of dtype "
                f"{[str(frame[c].dtype) for c in unsupported]}: it redraws numeric columns and "
                "swaps the values of nominal ones (category, string, object, bool). Drop or "
                "encode those columns, or set transfer_set=None."
            )
        values = frame[numeric].to_numpy(dtype=np.float64) if numeric else np.zeros((len(frame), 0))
        if not np.isfinite(values).all():
            raise ValueError(
                "Munge cannot sample rows with missing or infinite numeric values; impute them "
                "first or set transfer_set=None."
            )
        scale = values.std(axis=0)
        distance = [(values - values.mean(axis=0)) / np.where(scale > 0, scale, 1.0)]
        codes = []
        for column in nominal:  # one-hot / sqrt(2): a mismatch adds 1 to the squared distance
            code, uniques = pd.factorize(frame[column], use_na_sentinel=False)
            codes.append(code)
            distance.append(np.eye(len(uniques))[code] / np.sqrt(2.0))
        distance = np.hstack(distance)
        n_rows = len(frame)
        if n_rows < 2:
            neighbour = np.zeros(n_rows, dtype=np.intp)
        else:
            neighbour = _nearest_other_row(distance)
        drawn = self._generate_numeric(values, rng, distance_rows=distance)
        out = {}
        for j, column in enumerate(numeric):
            out[column] = _like_column(drawn[:, j], frame[column])
        for column in nominal:
            taken = []
            for _ in range(self.n_copies):
                swap = rng.random_sample(n_rows) < self.p
                taken.append(np.where(swap, neighbour, np.arange(n_rows)))
            out[column] = frame[column].iloc[np.concatenate(taken)].to_numpy()
        result = pd.DataFrame(out, columns=frame.columns)
        return result.astype(frame.dtypes.to_dict())


def _numeric_rows(X):
    import scipy.sparse as sp

    if sp.issparse(X):
        raise ValueError(
            "Munge cannot sample sparse rows (redrawing every attribute would make them "
            "dense); set transfer_set=None, or use a student_preprocessor that makes the "
            "sparse features from dense or text columns."
        )
    if np.ndim(X) != 2:
        raise ValueError(
            f"Munge samples tabular rows; got an array of shape {np.shape(X)} (documents or a "
            "1-d array cannot be perturbed attribute by attribute). Set transfer_set=None."
        )
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"Munge samples numeric rows or DataFrames; these rows cannot be read as numbers "
            f"({exc}). Pass X as a DataFrame, or set transfer_set=None."
        ) from None
    return X


def _nearest_other_row(X):
    _, idx = NearestNeighbors(n_neighbors=2).fit(X).kneighbors(X)
    # the first neighbour is the row itself unless it has an exact duplicate
    return np.where(idx[:, 0] == np.arange(len(X)), idx[:, 1], idx[:, 0])


def _is_numeric_column(column):
    import pandas as pd

    return pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
        column.dtype
    )


def _is_nominal_column(column):
    import pandas as pd

    dtype = column.dtype
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
    )


def _like_column(values, column):
    """Synthetic values in the dtype of ``column`` (integers rounded)."""
    import pandas as pd

    if pd.api.types.is_integer_dtype(column.dtype):
        return np.rint(values)
    return values
