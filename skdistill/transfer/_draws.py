"""How synthetic rows are drawn: the training rows as a table, and one draw object per sampler.

A sampler's ``prepare`` returns one of the ``*Draws`` objects here; its
``draw(rng, n_copies)`` makes the new rows. :class:`FreshCopy` draws one copy
anew, and labels it, every time a streamed epoch loads it.
"""

import time

import numpy as np
from sklearn.neighbors import NearestNeighbors

from ..training._stream import unlabelled_targets

__all__ = ["FreshCopy", "Table", "MungeDraws", "SpungeDraws", "MixupDraws", "GibbsDraws",
           "mix_rows", "nearest_other_row"]


class FreshCopy:
    """One copy of the training rows, drawn anew and labelled at every ``load()``.

    A chunk of :class:`~skdistill.training._stream.StreamedRows`: the k-th load of copy
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


class Table:
    """Training rows as numbers (``values``) plus, for a DataFrame, its nominal columns.

    ``rebuild(numbers, sources)`` makes new rows: ``numbers`` for the numeric
    columns, and for the nominal ones the values of the rows at ``sources``.
    """

    def __init__(self, values, frame=None, numeric=(), nominal=()):
        self.values = values
        self.frame = frame
        self.numeric = list(numeric)
        self.nominal = list(nominal)

    @classmethod
    def of(cls, X, name, any_shape=False):
        """The rows of ``X``; ``any_shape``: arrays of 3 or more axes (images) are taken too."""
        if not (hasattr(X, "columns") and hasattr(X, "iloc")):
            return cls(_numeric_rows(X, name, any_shape))
        numeric = [c for c in X.columns if _is_numeric_column(X[c])]
        nominal = [c for c in X.columns if c not in numeric]
        unsupported = [c for c in nominal if not _is_nominal_column(X[c])]
        if unsupported:
            raise ValueError(
                f"{name} cannot sample the column(s) {unsupported} of dtype "
                f"{[str(X[c].dtype) for c in unsupported]}: it draws numeric columns and "
                "takes the values of nominal ones (category, string, object, bool). Drop or "
                "encode those columns, or set transfer_set=None."
            )
        values = X[numeric].to_numpy(dtype=np.float64) if numeric else np.zeros((len(X), 0))
        return cls(_finite(values, name), X, numeric, nominal)

    def __len__(self):
        return len(self.values)

    def distance_rows(self):
        """Rows for a neighbour search: standardised numbers, one-hot nominal columns / sqrt(2).

        Plain arrays are used as they are.
        """
        if self.frame is None:
            return self.values
        import pandas as pd

        scale = self.values.std(axis=0)
        parts = [(self.values - self.values.mean(axis=0)) / np.where(scale > 0, scale, 1.0)]
        for column in self.nominal:  # a mismatch adds 1 to the squared distance
            code, uniques = pd.factorize(self.frame[column], use_na_sentinel=False)
            parts.append(np.eye(len(uniques))[code] / np.sqrt(2.0))
        return np.hstack(parts)

    def rebuild(self, numbers, sources):
        """New rows: float32 numbers, or a DataFrame like the training one."""
        if self.frame is None:
            return numbers.astype(np.float32)
        import pandas as pd

        frame = self.frame
        out = {column: _like_column(numbers[:, j], frame[column])
               for j, column in enumerate(self.numeric)}
        for column in self.nominal:
            out[column] = frame[column].iloc[sources[column]].to_numpy()
        return pd.DataFrame(out, columns=frame.columns).astype(frame.dtypes.to_dict())


class MungeDraws:
    def __init__(self, table, neighbour, p, s):
        self.table, self.neighbour, self.p, self.s = table, neighbour, p, s

    def __len__(self):
        return len(self.table)

    def draw(self, rng, n_copies):
        X, n = self.table.values, len(self.table)
        if self.neighbour is None:
            numbers = np.repeat(X, n_copies, axis=0)
            neighbour = np.zeros(n, dtype=np.intp)
        else:
            neighbour = self.neighbour
            near = X[neighbour]
            spread = np.abs(X - near) / self.s
            copies = []
            for _ in range(n_copies):
                redraw = rng.random_sample(X.shape) < self.p
                copies.append(np.where(redraw, rng.normal(near, spread), X))
            numbers = np.concatenate(copies)
        sources = {}
        for column in self.table.nominal:
            taken = []
            for _ in range(n_copies):
                swap = rng.random_sample(n) < self.p
                taken.append(np.where(swap, neighbour, np.arange(n)))
            sources[column] = np.concatenate(taken)
        return self.table.rebuild(numbers, sources)


class SpungeDraws:
    def __init__(self, table, frac_perturb, noise):
        self.table, self.frac_perturb, self.noise = table, frac_perturb, noise

    def __len__(self):
        return len(self.table)

    def draw(self, rng, n_copies):
        table, n = self.table, len(self.table)
        columns = table.numeric + table.nominal if table.frame is not None else None
        n_columns = table.values.shape[1] if columns is None else len(columns)
        origin = np.tile(np.arange(n), n_copies)
        m = len(origin)
        swapped = np.zeros((m, n_columns), dtype=bool)
        k = max(1, round(self.frac_perturb * n_columns))
        picks = np.argsort(rng.random_sample((m, n_columns)), axis=1)[:, :k]
        swapped[np.arange(m)[:, None], picks] = True
        donors = rng.randint(n, size=(m, n_columns))
        source = np.where(swapped, donors, origin[:, None])  # the row each attribute comes from
        n_numeric = table.values.shape[1]
        numbers = table.values[source[:, :n_numeric], np.arange(n_numeric)]
        noised = rng.random_sample(m) < self.frac_perturb
        scale = table.values.std(axis=0) * self.noise
        numbers = numbers + noised[:, None] * rng.normal(0.0, 1.0, numbers.shape) * scale
        sources = {c: source[:, n_numeric + j] for j, c in enumerate(table.nominal)}
        return table.rebuild(numbers, sources)


class MixupDraws:
    def __init__(self, table, concentration):
        self.table, self.concentration = table, concentration

    def __len__(self):
        return len(self.table)

    def draw(self, rng, n_copies):
        table, n = self.table, len(self.table)
        first = np.tile(np.arange(n), n_copies)
        second = rng.randint(n, size=len(first))
        lam = rng.beta(self.concentration, self.concentration, size=len(first))
        numbers = mix_rows(table.values[first], table.values[second], lam)
        source = np.where(lam >= 0.5, first, second)
        return table.rebuild(numbers, {column: source for column in table.nominal})


def mix_rows(first, second, lam):
    """``lam * first + (1 - lam) * second``, one ``lam`` per row (or image, or sequence)."""
    lam = lam.astype(first.dtype, copy=False).reshape(-1, *[1] * (first.ndim - 1))
    return lam * first + (1 - lam) * second


class GibbsDraws:
    def __init__(self, table, n_rounds, p, n_neighbors):
        self.table, self.n_rounds, self.p = table, n_rounds, p
        values = table.values
        scale = values.std(axis=0)
        self.centre, self.scale = values.mean(axis=0), np.where(scale > 0, scale, 1.0)
        self.standard = (values - self.centre) / self.scale
        n_features = values.shape[1]
        k = min(n_neighbors, len(table))
        self.searches = [  # one index per attribute, over the other attributes
            NearestNeighbors(n_neighbors=k).fit(np.delete(self.standard, j, axis=1))
            if n_features > 1 else None
            for j in range(n_features)
        ]

    def __len__(self):
        return len(self.table)

    def draw(self, rng, n_copies):
        n, n_features = self.standard.shape
        origin = np.tile(np.arange(n), n_copies)
        current = self.standard[origin]
        for _ in range(self.n_rounds):
            for j in rng.permutation(n_features):
                search = self.searches[j]
                redraw = np.flatnonzero(rng.random_sample(len(current)) < self.p)
                if not len(redraw):
                    continue
                if search is None:  # no other attribute: its conditional is its marginal
                    chosen = rng.randint(n, size=len(redraw))
                else:
                    rows = np.delete(current[redraw], j, axis=1)
                    _, neighbours = search.kneighbors(rows)
                    chosen = neighbours[np.arange(len(redraw)),
                                        rng.randint(neighbours.shape[1], size=len(redraw))]
                current[redraw, j] = self.standard[chosen, j]
        numbers = current * self.scale + self.centre
        return self.table.rebuild(numbers, {c: origin for c in self.table.nominal})


def _numeric_rows(X, name, any_shape=False):
    import scipy.sparse as sp

    if sp.issparse(X):
        raise ValueError(
            f"{name} cannot sample sparse rows (it draws its rows as dense tables of numbers, "
            "so they would be dense); set transfer_set=None, or use a student_preprocessor "
            "that makes the sparse features from dense or text columns."
        )
    if np.ndim(X) != 2 and not (any_shape and np.ndim(X) > 2):
        raise ValueError(
            f"{name} samples tabular rows; got an array of shape {np.shape(X)} (documents, a "
            "1-d array or images cannot be perturbed attribute by attribute). Set "
            "transfer_set=None"
            + (", or use Mixup or Shift, which take images too." if np.ndim(X) > 2 else ".")
        )
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} samples numeric rows"
            + ("" if any_shape and np.ndim(X) > 2 else " or DataFrames")
            + f"; these rows cannot be read as numbers ({exc}). "
            + ("Pass the images as numbers" if any_shape and np.ndim(X) > 2
               else "Pass X as a DataFrame") + ", or set transfer_set=None."
        ) from None
    return _finite(X, name)


def _finite(values, name):
    """``values``, or a ValueError where one is missing or infinite: a draw would spread it
    (a NaN scale makes every draw of its column NaN) or fail in a neighbour search."""
    if not np.isfinite(values).all():
        raise ValueError(
            f"{name} cannot sample rows with missing or infinite numeric values; impute "
            "them first or set transfer_set=None."
        )
    return values


def nearest_other_row(X):
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
    """Synthetic values in the dtype of ``column``: integers rounded, and clipped to what the
    dtype holds (a draw below 0 for a ``uint8`` column reads as 0)."""
    import pandas as pd

    if pd.api.types.is_integer_dtype(column.dtype):
        limits = np.iinfo(getattr(column.dtype, "numpy_dtype", column.dtype))
        return np.clip(np.rint(values), limits.min, limits.max)
    return values
