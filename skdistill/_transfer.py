"""Synthetic transfer sets: more rows for the teacher to label than the training set holds.

A small training set limits how much of the teacher's function the student
sees. MUNGE (Bucila, Caruana & Niculescu-Mizil, 2006) samples new rows near
the real ones; the teacher labels them, and the student learns from those
labels through the teacher term only. Synthetic rows are used for training,
never for validation or scoring.
"""

import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ._stream import unlabelled_targets

__all__ = ["FreshCopy", "Munge"]


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
    fresh_each_epoch : bool, default=False
        False: ``n_copies * n_rows`` rows are drawn and labelled once, before
        training, and held in memory. True: the distiller draws
        ``n_copies * n_rows`` *new* rows every epoch, one copy (``n_rows``
        rows) at a time, labelled by the teacher in a background thread while
        the student trains on the previous copy. Memory then holds about three
        copies whatever ``n_copies``, and the student never sees a synthetic
        row twice; the teacher's labelling cost is paid every epoch.

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
        "fresh_each_epoch": ["boolean"],
    }

    def __init__(self, n_copies=5, p=0.5, s=1.0, random_state=None, fresh_each_epoch=False):
        self.n_copies = n_copies
        self.p = p
        self.s = s
        self.random_state = random_state
        self.fresh_each_epoch = fresh_each_epoch

    def fresh_copies(self, X, reader, random_state, unlabelled_target):
        """``n_copies`` chunks for :class:`~skdistill._stream.StreamedRows`, each redrawn per load.

        ``reader`` (a :class:`~skdistill._labelling.RowReader`) labels the
        drawn rows and makes the student's rows from them.
        """
        seed = self.random_state if self.random_state is not None else random_state
        base = int(check_random_state(seed).randint(np.iinfo(np.int32).max))
        prepared = self.prepare(X)
        return [
            FreshCopy(prepared, reader, (base, index), unlabelled_target)
            for index in range(self.n_copies)
        ]

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
        return self.prepare(X).draw(check_random_state(seed), self.n_copies)

    def prepare(self, X):
        """Find each row's nearest neighbour once; the result draws copies any number of times.

        Returns an object whose ``draw(rng, n_copies)`` gives what
        :meth:`generate` gives (with the same generator, the same rows). The
        distillers use it with ``fresh_each_epoch=True``.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [4.0, 4.0]])
        >>> prepared = Munge(random_state=0).prepare(X)
        >>> prepared.draw(np.random.RandomState(0), n_copies=1).shape
        (3, 2)
        """
        self._validate_params()
        if hasattr(X, "columns") and hasattr(X, "iloc"):
            return _prepare_frame(X, self.p, self.s)
        values = _numeric_rows(X)
        neighbour = _nearest_other_row(values) if len(values) >= 2 else None
        return _PreparedRows(values, neighbour, self.p, self.s)


class FreshCopy:
    """One MUNGE copy of the training rows, drawn anew and labelled at every ``load()``.

    A chunk of :class:`~skdistill._stream.StreamedRows`: the k-th load of copy
    ``i`` is seeded by ``(seed, i, k)``, so a fit reproduces. ``labelling_seconds``
    adds up the time spent drawing and labelling.
    """

    def __init__(self, prepared, reader, seed, unlabelled_target):
        self.prepared = prepared
        self.reader = reader
        self.seed = seed
        self.unlabelled_target = unlabelled_target
        self.n_rows = len(prepared)
        self.loads = 0
        self.labelling_seconds = 0.0

    def load(self):
        started = time.perf_counter()
        entropy = np.random.SeedSequence([*self.seed, self.loads]).generate_state(1)[0]
        self.loads += 1
        rows = self.prepared.draw(np.random.RandomState(entropy), n_copies=1)
        targets, student_rows = self.reader.label_in_chunks(rows, "transfer_set")
        self.labelling_seconds += time.perf_counter() - started
        return student_rows, targets, unlabelled_targets(self.n_rows, self.unlabelled_target), None


class _PreparedRows:
    """Numeric rows with their nearest other rows, ready to draw MUNGE copies from."""

    def __init__(self, values, neighbour, p, s, frame=None):
        self.values = values
        self.neighbour = neighbour
        self.p = p
        self.s = s
        self.frame = frame  # (frame, numeric columns, nominal columns) or None

    def __len__(self):
        return len(self.values)

    def draw(self, rng, n_copies):
        """``n_copies * len(rows)`` synthetic rows (float32, or a DataFrame like the original)."""
        drawn = self._draw_numeric(rng, n_copies)
        if self.frame is None:
            return drawn.astype(np.float32)
        return self._as_frame(drawn, rng, n_copies)

    def _draw_numeric(self, rng, n_copies):
        X = self.values
        if self.neighbour is None:
            return np.repeat(X, n_copies, axis=0)
        near = X[self.neighbour]
        spread = np.abs(X - near) / self.s
        copies = []
        for _ in range(n_copies):
            redraw = rng.random_sample(X.shape) < self.p
            copies.append(np.where(redraw, rng.normal(near, spread), X))
        return np.concatenate(copies)

    def _as_frame(self, drawn, rng, n_copies):
        import pandas as pd

        frame, numeric, nominal = self.frame
        n_rows = len(frame)
        neighbour = self.neighbour if self.neighbour is not None else np.zeros(n_rows, np.intp)
        out = {}
        for j, column in enumerate(numeric):
            out[column] = _like_column(drawn[:, j], frame[column])
        for column in nominal:
            taken = []
            for _ in range(n_copies):
                swap = rng.random_sample(n_rows) < self.p
                taken.append(np.where(swap, neighbour, np.arange(n_rows)))
            out[column] = frame[column].iloc[np.concatenate(taken)].to_numpy()
        result = pd.DataFrame(out, columns=frame.columns)
        return result.astype(frame.dtypes.to_dict())


def _prepare_frame(frame, p, s):
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
    for column in nominal:  # one-hot / sqrt(2): a mismatch adds 1 to the squared distance
        code, uniques = pd.factorize(frame[column], use_na_sentinel=False)
        distance.append(np.eye(len(uniques))[code] / np.sqrt(2.0))
    distance = np.hstack(distance)
    neighbour = _nearest_other_row(distance) if len(frame) >= 2 else None
    return _PreparedRows(values, neighbour, p, s, frame=(frame, numeric, nominal))


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
