"""Shift: images and sequences moved by a few pixels or steps, optionally mixed in pairs.

The transfer set of function matching (Beyer et al., 2022): the teacher labels
the same moved (and mixed) image the student sees, a new one every epoch.
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval

from ._draws import Table, mix_rows
from ._samplers import _FRESH_DOC, TransferSampler

__all__ = ["Shift", "ShiftDraws"]


class Shift(TransferSampler):
    """Shifted copies of the training images (or sequences), labelled by the teacher.

    Each new sample is a training sample moved by a random whole number of
    pixels, at most ``max_shift``, along each spatial axis -- height and
    width of images ``(n, channels, height, width)``, every axis after the
    channels for volumes, the steps of sequences ``(n, steps, features)`` --
    with the pixels it leaves empty set to zero (as a random crop of a
    zero-padded image). Three axes are read as sequences: give grayscale
    images a channel axis (``X[:, None]``) to move them along both axes.
    With ``concentration`` set, each moved sample is then mixed with another
    moved sample as :class:`Mixup` mixes them, one
    ``lam ~ Beta(concentration, concentration)`` per sample: the crop-and-mix
    recipe of function matching (Beyer et al., 2022). Tables have no axis to
    shift along; use :class:`Munge`, :class:`Spunge`, :class:`Mixup` or
    :class:`Gibbs` for them.

    Trained patiently (``fresh_each_epoch=True``, ``alpha=1``, ``T=1``,
    ``n_iter_no_change=None`` and hundreds of epochs) a student matches the
    teacher on a new set of moved images every epoch; the image benchmark
    measures what that buys beside a student trained on the labels of
    images moved the same way.

    Parameters
    ----------
    n_copies : int, default=1
        Synthetic samples generated per training sample.
    max_shift : int >= 1, default=2
        Largest move, in pixels (or steps), along each shifted axis; each
        move is drawn uniformly from ``-max_shift`` to ``max_shift``. It must
        be smaller than every shifted axis, or moved images could be blank.
    concentration : float > 0 or None, default=None
        None: the moved samples as they are. A number: each is mixed with
        another moved sample, ``lam * a + (1 - lam) * b`` with
        ``lam ~ Beta(concentration, concentration)``.
    random_state : int, RandomState instance or None, default=None
        Fixes the samples generated; when None the distiller's seed is used.
    FRESH_DOC

    See Also
    --------
    Mixup : Convex combinations of two samples, without moving them.
    DistilledClassifier : Takes a sampler as ``transfer_set``.

    References
    ----------
    .. [1] L. Beyer, X. Zhai, A. Royer, L. Markeeva, R. Anil, A. Kolesnikov. "Knowledge
       Distillation: A Good Teacher is Patient and Consistent". CVPR 2022.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((1, 1, 5, 5))
    >>> image[0, 0, 2, 2] = 1.0                       # one bright pixel in the middle
    >>> moved = Shift(n_copies=50, max_shift=1, random_state=0).generate(image)
    >>> moved.shape
    (50, 1, 5, 5)
    >>> rows, cols = np.nonzero(moved[:, 0].sum(axis=0))
    >>> sorted(set(rows.tolist())), sorted(set(cols.tolist()))   # moved by at most one pixel
    ([1, 2, 3], [1, 2, 3])
    """

    _parameter_constraints = {
        **TransferSampler._parameter_constraints,
        "max_shift": [Interval(Integral, 1, None, closed="left")],
        "concentration": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(self, n_copies=1, max_shift=2, concentration=None, random_state=None,
                 fresh_each_epoch=False):
        self.n_copies = n_copies
        self.max_shift = max_shift
        self.concentration = concentration
        self.random_state = random_state
        self.fresh_each_epoch = fresh_each_epoch

    def prepare(self, X):
        self._validate_params()
        if isinstance(self.max_shift, bool):  # an Integral, but surely a mistake
            raise TypeError(f"max_shift must be an int >= 1; got {self.max_shift!r}.")
        if not sp.issparse(X) and (np.ndim(X) < 3 or hasattr(X, "columns")):
            raise ValueError(
                f"Shift moves images and sequences (X of 3 or more axes); got X of shape "
                f"{np.shape(X)}, which has no axis to shift along. Use Munge, Spunge, Mixup or "
                "Gibbs for tables."
            )
        values = Table.of(X, "Shift", any_shape=True).values.astype(np.float32)
        draws = ShiftDraws(values, self.max_shift, self.concentration)
        sizes = [values.shape[axis] for axis in draws.axes]
        if self.max_shift >= min(sizes):
            raise ValueError(
                f"max_shift={self.max_shift} moves samples of shape {values.shape[1:]} by as "
                f"much as the length of an axis it moves along ({min(sizes)}), so some would "
                f"come out blank; use max_shift <= {min(sizes) - 1}."
            )
        return draws


Shift.__doc__ = Shift.__doc__.replace("FRESH_DOC", _FRESH_DOC)


class ShiftDraws:
    """Draws of :class:`Shift`: each sample cut from a zero-padded copy at a random offset."""

    def __init__(self, values, max_shift, concentration):
        self.max_shift, self.concentration = max_shift, concentration
        self.shape = values.shape
        # sequences (n, steps, features) move along their steps; images and volumes
        # (n, channels, *space) along every axis after the channels
        self.axes = (1,) if values.ndim == 3 else tuple(range(2, values.ndim))
        k = max_shift
        self.padded = np.pad(  # once, not at every draw
            values, [(k, k) if axis in self.axes else (0, 0) for axis in range(values.ndim)])

    def __len__(self):
        return self.shape[0]

    def draw(self, rng, n_copies):
        shape, k, ndim = self.shape, self.max_shift, len(self.shape)
        origin = np.tile(np.arange(shape[0]), n_copies)
        offsets = rng.randint(0, 2 * k + 1, size=(len(origin), len(self.axes)))
        index = [origin.reshape(-1, *[1] * (ndim - 1))]
        for axis in range(1, ndim):
            along = np.arange(shape[axis]).reshape([-1 if a == axis else 1 for a in range(ndim)])
            if axis in self.axes:
                offset = offsets[:, self.axes.index(axis)]
                along = along + offset.reshape(-1, *[1] * (ndim - 1))
            index.append(along)
        moved = self.padded[tuple(index)]
        if self.concentration is None:
            return moved
        other = rng.randint(len(moved), size=len(moved))
        lam = rng.beta(self.concentration, self.concentration, size=len(moved))
        return mix_rows(moved, moved[other], lam)
