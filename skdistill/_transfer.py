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
        """Return ``n_copies * len(X)`` synthetic rows (float32) sampled around ``X``.

        ``random_state`` is used when the object's own ``random_state`` is None.
        """
        self._validate_params()
        X = np.asarray(X, dtype=np.float64)
        seed = self.random_state if self.random_state is not None else random_state
        rng = check_random_state(seed)
        if len(X) < 2:
            return np.repeat(X, self.n_copies, axis=0).astype(np.float32)
        _, idx = NearestNeighbors(n_neighbors=2).fit(X).kneighbors(X)
        # the first neighbour is the row itself unless it has an exact duplicate
        neighbour = np.where(idx[:, 0] == np.arange(len(X)), idx[:, 1], idx[:, 0])
        near = X[neighbour]
        spread = np.abs(X - near) / self.s
        copies = []
        for _ in range(self.n_copies):
            redraw = rng.random_sample(X.shape) < self.p
            copies.append(np.where(redraw, rng.normal(near, spread), X))
        return np.concatenate(copies).astype(np.float32)
