"""Synthetic transfer sets: more rows for the teacher to label than the training set holds.

A small training set limits how much of the teacher's function the student
sees. A sampler draws new rows from the training rows; the teacher labels
them, and the student learns from those labels through the teacher term only.
Synthetic rows are used for training, never for validation or scoring.

* :class:`Munge` (Bucila, Caruana & Niculescu-Mizil, 2006): each attribute
  redrawn, with probability ``p``, around the nearest neighbour's value;
* :class:`Spunge` (AutoGluon's distillation augmentation): a few attributes
  of each row swapped for other rows' values, numeric ones slightly noised --
  no neighbour search;
* :class:`Mixup` (Zhang et al., 2018, on inputs only): convex combinations
  of two training rows, labelled by the teacher;
* :class:`Gibbs` (after Fakoor et al., 2020): each numeric attribute redrawn in
  turn from an estimate of its distribution given the row's other attributes.

Every sampler ``prepare``s the rows once and then ``draw``s any number of
copies, either once before training or afresh every epoch
(``fresh_each_epoch=True``). DataFrames keep their columns and dtypes: numeric
columns are drawn as numbers, nominal ones (category, string, object, bool)
take the value of one of the rows the new row came from.
"""

import abc
import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ._stream import unlabelled_targets

__all__ = ["FreshCopy", "Gibbs", "Mixup", "Munge", "Spunge", "TransferSampler"]

_FRESH_DOC = """fresh_each_epoch : bool, default=False
        False: ``n_copies * n_rows`` rows are drawn and labelled once, before
        training, and held in memory. True: the distiller draws
        ``n_copies * n_rows`` *new* rows every epoch, one copy (``n_rows``
        rows) at a time, labelled by the teacher in a background thread while
        the student trains on the previous copy. Memory then holds about three
        copies whatever ``n_copies``, and the student never sees a synthetic
        row twice; the teacher's labelling cost is paid every epoch."""


class TransferSampler(BaseEstimator, abc.ABC):
    """Base of the synthetic transfer sets: ``prepare`` the rows once, ``draw`` copies of them.

    Subclasses set ``n_copies``, ``random_state`` and ``fresh_each_epoch``
    (see :class:`Munge`) and implement :meth:`prepare`.
    """

    _parameter_constraints = {
        "n_copies": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "fresh_each_epoch": ["boolean"],
    }

    def generate(self, X, random_state=None):
        """Return ``n_copies * len(X)`` synthetic rows drawn from the rows of ``X``.

        ``X`` is a numeric array (the result is float32) or a DataFrame (the
        result is a DataFrame with the same columns and dtypes).
        ``random_state`` is used when the object's own ``random_state`` is None.
        """
        self._validate_params()
        seed = self.random_state if self.random_state is not None else random_state
        return self.prepare(X).draw(check_random_state(seed), self.n_copies)

    @abc.abstractmethod
    def prepare(self, X):
        """Return an object whose ``draw(rng, n_copies)`` gives what :meth:`generate` gives.

        Work that does not depend on the random draws (e.g. neighbour search)
        is done here once, so fresh copies every epoch cost only the draws.
        """

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


class Munge(TransferSampler):
    """MUNGE transfer set: perturb each row towards its nearest neighbour.

    For each real row ``a`` with nearest (other) row ``b``, every attribute is,
    with probability ``p``, redrawn from a normal distribution centred on
    ``b``'s value with spread ``|a - b| / s``, and otherwise kept. This is
    repeated ``n_copies`` times, giving ``n_copies * n_rows`` new rows. Put a
    scaler before the distiller: neighbours are found by Euclidean distance.
    In a DataFrame, nominal columns take the neighbour's value with
    probability ``p``, as in Bucila et al.; neighbours are found on the
    standardised numeric columns plus a mismatch count over the nominal ones.

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
    FRESH_DOC

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [4.0, 4.0]])
    >>> Munge(n_copies=2, random_state=0).generate(X).shape
    (6, 2)
    >>> prepared = Munge().prepare(X)   # neighbours found once
    >>> prepared.draw(np.random.RandomState(0), n_copies=1).shape
    (3, 2)
    """

    _parameter_constraints = {
        **TransferSampler._parameter_constraints,
        "p": [Interval(Real, 0, 1, closed="right")],
        "s": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, n_copies=5, p=0.5, s=1.0, random_state=None, fresh_each_epoch=False):
        self.n_copies = n_copies
        self.p = p
        self.s = s
        self.random_state = random_state
        self.fresh_each_epoch = fresh_each_epoch

    def prepare(self, X):
        self._validate_params()
        table = _Table.of(X, "Munge")
        neighbour = _nearest_other_row(table.distance_rows()) if len(table) >= 2 else None
        return _MungeDraws(table, neighbour, self.p, self.s)


class Spunge(TransferSampler):
    """SPUNGE transfer set: swap a few attributes for other rows' values, noise the numbers.

    AutoGluon's augmentation for distillation, a MUNGE without neighbour
    search: each new row copies a training row, then replaces
    ``max(1, round(frac_perturb * n_features))`` of its attributes, chosen at
    random, by the same attribute of random training rows; with probability
    ``frac_perturb`` its numeric attributes also get Gaussian noise of
    ``noise`` times each column's standard deviation.

    Parameters
    ----------
    n_copies : int, default=5
    frac_perturb : float in (0, 1], default=0.1
    noise : float >= 0, default=0.1
    random_state : int, RandomState instance or None, default=None
    FRESH_DOC

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(4, 3)
    >>> Spunge(n_copies=2, random_state=0).generate(X).shape
    (8, 3)
    """

    _parameter_constraints = {
        **TransferSampler._parameter_constraints,
        "frac_perturb": [Interval(Real, 0, 1, closed="right")],
        "noise": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, n_copies=5, frac_perturb=0.1, noise=0.1, random_state=None,
                 fresh_each_epoch=False):
        self.n_copies = n_copies
        self.frac_perturb = frac_perturb
        self.noise = noise
        self.random_state = random_state
        self.fresh_each_epoch = fresh_each_epoch

    def prepare(self, X):
        self._validate_params()
        return _SpungeDraws(_Table.of(X, "Spunge"), self.frac_perturb, self.noise)


class Mixup(TransferSampler):
    """Mixup transfer set: convex combinations of two training rows, labelled by the teacher.

    Each new row is ``lam * a + (1 - lam) * b`` for a training row ``a``, a
    random training row ``b`` and ``lam ~ Beta(concentration, concentration)``
    (Zhang et al., 2018, here on the inputs only: the teacher labels the
    mixture, so no label is mixed). Nominal DataFrame columns take ``a``'s
    value when ``lam >= 0.5``, else ``b``'s.

    Parameters
    ----------
    n_copies : int, default=5
    concentration : float > 0, default=0.4
        Small values keep new rows near one of the two rows; 1 mixes uniformly.
    random_state : int, RandomState instance or None, default=None
    FRESH_DOC

    Examples
    --------
    >>> import numpy as np
    >>> rows = Mixup(n_copies=3, random_state=0).generate(np.array([[0.0], [1.0]]))
    >>> rows.shape, bool(((rows >= 0) & (rows <= 1)).all())
    ((6, 1), True)
    """

    _parameter_constraints = {
        **TransferSampler._parameter_constraints,
        "concentration": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, n_copies=5, concentration=0.4, random_state=None,
                 fresh_each_epoch=False):
        self.n_copies = n_copies
        self.concentration = concentration
        self.random_state = random_state
        self.fresh_each_epoch = fresh_each_epoch

    def prepare(self, X):
        self._validate_params()
        return _MixupDraws(_Table.of(X, "Mixup"), self.concentration)


class Gibbs(TransferSampler):
    """Gibbs-style transfer set: redraw attributes one at a time from their conditionals.

    Each new row starts from a training row. In each of ``n_rounds`` sweeps
    over its numeric attributes, in a random order, attribute ``j`` is
    redrawn, with probability ``p``, from an estimate of
    ``p(x_j | the row's other attributes)``: the value of ``j`` in one of the
    ``n_neighbors`` training rows nearest to the *current* row in the other
    attributes (standardised). Later steps see earlier changes, as Gibbs
    sampling does, so new rows follow the dependence between attributes
    instead of perturbing around a single neighbour (MUNGE). Fakoor et al.
    (2020) learn the conditionals with a self-attention network; the nearest
    neighbour estimate needs no training but costs one neighbour query per
    attribute and sweep, and fits in memory only for tens of thousands of
    rows. Nominal DataFrame columns keep the starting row's value and do not
    enter the distances.

    Parameters
    ----------
    n_copies : int, default=5
    n_rounds : int, default=1
        Sweeps over the attributes per new row.
    p : float in (0, 1], default=0.5
        Probability that an attribute is redrawn in a sweep.
    n_neighbors : int, default=10
        Training rows the conditional of an attribute is drawn from.
    random_state : int, RandomState instance or None, default=None
    FRESH_DOC

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> a = rng.normal(size=200)
    >>> X = np.column_stack([a, a + 0.01 * rng.normal(size=200)])  # two near-equal columns
    >>> rows = Gibbs(n_copies=2, p=1.0, random_state=0).generate(X)
    >>> rows.shape, bool(np.abs(rows[:, 0] - rows[:, 1]).mean() < 0.1)
    ((400, 2), True)
    """

    _parameter_constraints = {
        **TransferSampler._parameter_constraints,
        "n_rounds": [Interval(Integral, 1, None, closed="left")],
        "p": [Interval(Real, 0, 1, closed="right")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, n_copies=5, n_rounds=1, p=0.5, n_neighbors=10, random_state=None,
                 fresh_each_epoch=False):
        self.n_copies = n_copies
        self.n_rounds = n_rounds
        self.p = p
        self.n_neighbors = n_neighbors
        self.random_state = random_state
        self.fresh_each_epoch = fresh_each_epoch

    def prepare(self, X):
        self._validate_params()
        return _GibbsDraws(_Table.of(X, "Gibbs"), self.n_rounds, self.p, self.n_neighbors)


for _sampler in (Munge, Spunge, Mixup, Gibbs):
    _sampler.__doc__ = _sampler.__doc__.replace("FRESH_DOC", _FRESH_DOC)


class FreshCopy:
    """One copy of the training rows, drawn anew and labelled at every ``load()``.

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


# ------------------------------------------------------------------ the draws
class _Table:
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
    def of(cls, X, name):
        if not (hasattr(X, "columns") and hasattr(X, "iloc")):
            return cls(_numeric_rows(X, name))
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
        if not np.isfinite(values).all():
            raise ValueError(
                f"{name} cannot sample rows with missing or infinite numeric values; impute "
                "them first or set transfer_set=None."
            )
        return cls(values, X, numeric, nominal)

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


class _MungeDraws:
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


class _SpungeDraws:
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


class _MixupDraws:
    def __init__(self, table, concentration):
        self.table, self.concentration = table, concentration

    def __len__(self):
        return len(self.table)

    def draw(self, rng, n_copies):
        table, n = self.table, len(self.table)
        first = np.tile(np.arange(n), n_copies)
        second = rng.randint(n, size=len(first))
        lam = rng.beta(self.concentration, self.concentration, size=len(first))
        X = table.values
        numbers = lam[:, None] * X[first] + (1 - lam[:, None]) * X[second]
        source = np.where(lam >= 0.5, first, second)
        return table.rebuild(numbers, {column: source for column in table.nominal})


class _GibbsDraws:
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
                if search is None or not len(redraw):
                    continue
                rows = np.delete(current[redraw], j, axis=1)
                _, neighbours = search.kneighbors(rows)
                chosen = neighbours[np.arange(len(redraw)), rng.randint(neighbours.shape[1],
                                                                        size=len(redraw))]
                current[redraw, j] = self.standard[chosen, j]
        numbers = current * self.scale + self.centre
        return self.table.rebuild(numbers, {c: origin for c in self.table.nominal})


def _numeric_rows(X, name):
    import scipy.sparse as sp

    if sp.issparse(X):
        raise ValueError(
            f"{name} cannot sample sparse rows (redrawing every attribute would make them "
            "dense); set transfer_set=None, or use a student_preprocessor that makes the "
            "sparse features from dense or text columns."
        )
    if np.ndim(X) != 2:
        raise ValueError(
            f"{name} samples tabular rows; got an array of shape {np.shape(X)} (documents or a "
            "1-d array cannot be perturbed attribute by attribute). Set transfer_set=None."
        )
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} samples numeric rows or DataFrames; these rows cannot be read as numbers "
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
