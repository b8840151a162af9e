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
  turn from an estimate of its distribution given the row's other attributes;
* :class:`Shift` (in ``_shift``): images and sequences moved by a few pixels
  or steps, optionally mixed in pairs.

Every sampler ``prepare``s the rows once and then ``draw``s any number of
copies, either once before training or afresh every epoch
(``fresh_each_epoch=True``). DataFrames keep their columns and dtypes: numeric
columns are drawn as numbers, nominal ones (category, string, object, bool)
take the value of one of the rows the new row came from.
"""

import abc
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ._draws import (
    FreshCopy,
    GibbsDraws,
    MixupDraws,
    MungeDraws,
    SpungeDraws,
    Table,
    nearest_other_row,
)

__all__ = ["Gibbs", "Mixup", "Munge", "Spunge", "TransferSampler"]

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
    (see :class:`Munge`) and implement ``prepare``; a fitted distiller then
    accepts them as ``transfer_set``.

    See Also
    --------
    Munge, Spunge, Mixup, Gibbs, Shift : The samplers built on it.
    DistilledClassifier : Takes a sampler as ``transfer_set``.

    Examples
    --------
    A sampler that adds Gaussian noise to every row:

    >>> import numpy as np
    >>> class Jitter(TransferSampler):
    ...     def __init__(self, n_copies=1, random_state=None, fresh_each_epoch=False):
    ...         self.n_copies = n_copies
    ...         self.random_state = random_state
    ...         self.fresh_each_epoch = fresh_each_epoch
    ...
    ...     def prepare(self, X):
    ...         X = np.asarray(X, dtype=np.float32)
    ...
    ...         class Prepared:
    ...             def draw(self, rng, n_copies):
    ...                 rows = np.concatenate([X] * n_copies)
    ...                 return rows + 0.1 * rng.normal(size=rows.shape).astype(np.float32)
    ...
    ...         return Prepared()
    >>> Jitter(n_copies=3, random_state=0).generate(np.zeros((4, 2))).shape
    (12, 2)
    """

    _parameter_constraints = {
        "n_copies": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "fresh_each_epoch": ["boolean"],
    }

    def generate(self, X, random_state=None):
        """Return ``n_copies * len(X)`` synthetic rows drawn from the rows of ``X``.

        Parameters
        ----------
        X : ndarray or DataFrame of shape (n_samples, n_features)
            The rows to draw from: a numeric array (images and sequences too,
            for :class:`Mixup` and :class:`Shift`) or a DataFrame.
        random_state : int, RandomState instance or None, default=None
            Used when the sampler's own ``random_state`` is None.

        Returns
        -------
        rows : ndarray or DataFrame
            Float32 rows for an array; a DataFrame with the same columns and
            dtypes for a DataFrame.
        """
        self._validate_params()
        seed = self.random_state if self.random_state is not None else random_state
        return self.prepare(X).draw(check_random_state(seed), self.n_copies)

    @abc.abstractmethod
    def prepare(self, X):
        """Return an object whose ``draw(rng, n_copies)`` gives what ``generate`` gives.

        Work that does not depend on the random draws (e.g. neighbour search)
        is done here once, so fresh copies every epoch cost only the draws.

        Parameters
        ----------
        X : ndarray or DataFrame of shape (n_samples, n_features)
            The rows to draw from.

        Returns
        -------
        prepared : object
            Has ``draw(rng, n_copies)``, returning ``n_copies * len(X)`` rows.
        """

    def fresh_copies(self, X, reader, random_state, unlabelled_target):
        """The ``n_copies`` chunks a fit streams when ``fresh_each_epoch=True``.

        Each chunk draws a new copy of the rows every time it is loaded. The
        distiller calls this; a subclass only implements ``prepare``.

        Parameters
        ----------
        X : ndarray or DataFrame of shape (n_samples, n_features)
            The training rows to draw from.
        reader : object
            The fit's row reader: it labels the drawn rows with the teacher
            and makes the student's rows from them.
        random_state : int, RandomState instance or None
            The fit's seed, used when the sampler's own ``random_state`` is None.
        unlabelled_target : object
            The target value the drawn rows carry (they have no label).

        Returns
        -------
        chunks : list
            ``n_copies`` chunks, each drawing one copy per load.
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

    See Also
    --------
    Spunge : Swaps attributes for other rows' values, without neighbour search.
    Gibbs : Redraws attributes from their conditionals given the others.
    DistilledClassifier : Takes a sampler as ``transfer_set``.

    References
    ----------
    .. [1] C. Bucilua, R. Caruana, A. Niculescu-Mizil. "Model Compression". KDD 2006.

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
        table = Table.of(X, "Munge")
        neighbour = nearest_other_row(table.distance_rows()) if len(table) >= 2 else None
        return MungeDraws(table, neighbour, self.p, self.s)


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
        Synthetic rows generated per training row.
    frac_perturb : float in (0, 1], default=0.1
        Share of the attributes swapped in each new row (at least one), and
        the probability that its numbers are noised.
    noise : float >= 0, default=0.1
        Standard deviation of the noise, in units of each column's standard
        deviation.
    random_state : int, RandomState instance or None, default=None
        Fixes the rows generated; when None the distiller's seed is used.
    FRESH_DOC

    See Also
    --------
    Munge : Redraws attributes around the nearest neighbour's values.
    Mixup : Convex combinations of two rows.
    DistilledClassifier : Takes a sampler as ``transfer_set``.

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
        return SpungeDraws(Table.of(X, "Spunge"), self.frac_perturb, self.noise)


class Mixup(TransferSampler):
    """Mixup transfer set: convex combinations of two training rows, labelled by the teacher.

    Each new row is ``lam * a + (1 - lam) * b`` for a training row ``a``, a
    random training row ``b`` and ``lam ~ Beta(concentration, concentration)``
    (Zhang et al., 2018, here on the inputs only: the teacher labels the
    mixture, so no label is mixed). Nominal DataFrame columns take ``a``'s
    value when ``lam >= 0.5``, else ``b``'s. Images and sequences (X of 3 or
    more axes) are mixed whole, one ``lam`` per sample.

    Parameters
    ----------
    n_copies : int, default=5
        Synthetic rows generated per training row.
    concentration : float > 0, default=0.4
        Small values keep new rows near one of the two rows; 1 mixes uniformly.
    random_state : int, RandomState instance or None, default=None
        Fixes the rows generated; when None the distiller's seed is used.
    FRESH_DOC

    See Also
    --------
    Munge : Redraws attributes around the nearest neighbour's values.
    Spunge : Swaps attributes for other rows' values.
    Shift : Moves images and sequences, and can then mix them.
    DistilledClassifier : Takes a sampler as ``transfer_set``.

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
        return MixupDraws(Table.of(X, "Mixup", any_shape=True), self.concentration)


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
    enter the distances; a lone numeric attribute, with none other to condition
    on, is drawn from every training row.

    Parameters
    ----------
    n_copies : int, default=5
        Synthetic rows generated per training row.
    n_rounds : int, default=1
        Sweeps over the attributes per new row.
    p : float in (0, 1], default=0.5
        Probability that an attribute is redrawn in a sweep.
    n_neighbors : int, default=10
        Training rows the conditional of an attribute is drawn from.
    random_state : int, RandomState instance or None, default=None
        Fixes the rows generated; when None the distiller's seed is used.
    FRESH_DOC

    See Also
    --------
    Munge : Redraws attributes around the nearest neighbour's values.
    Spunge : Swaps attributes for other rows' values.
    DistilledClassifier : Takes a sampler as ``transfer_set``.

    References
    ----------
    .. [1] R. Fakoor, J. Mueller, N. Erickson, P. Chaudhari, A. Smola. "Fast, Accurate, and
       Simple Models for Tabular Data via Augmented Distillation". NeurIPS 2020.

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
        return GibbsDraws(Table.of(X, "Gibbs"), self.n_rounds, self.p, self.n_neighbors)


for _sampler in (Munge, Spunge, Mixup, Gibbs):
    _sampler.__doc__ = _sampler.__doc__.replace("FRESH_DOC", _FRESH_DOC)
