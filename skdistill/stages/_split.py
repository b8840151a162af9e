"""The validation split: which labelled rows are held out for early stopping.

:func:`split_rows` draws the same rows as scikit-learn's ``train_test_split``
(stratified on the class indices, or plain) with the same seed, in time linear
in the rows: the classes are known small integers, so counting replaces
sorting, and the training rows are the complement of a mask rather than a set
difference of index arrays.
"""

import math
import warnings

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["fit_seed", "split_rows"]


def fit_seed(random_state):
    """The one draw from ``random_state`` that seeds a fit: the encoding's sample, the
    split, the student's initial weights and batch order.

    Examples
    --------
    >>> fit_seed(0) == fit_seed(0)
    True
    """
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def split_rows(labelled, stratify, validation_fraction, seed, kept=None):
    """Return (train, valid) row indices; only labelled real rows are held out.

    Parameters
    ----------
    labelled : ndarray of bool, shape (n_rows,)
        Rows with a label; only they can be held out.
    stratify : ndarray of int, shape (n_rows,), or None
        The class index of each row (any value on unlabelled rows), or None
        for an unstratified split. The split falls back to an unstratified one
        where a class is too rare to appear on both sides.
    validation_fraction : float or None
        Share of the labelled rows held out; None holds out nothing.
    seed : int
        The split is ``train_test_split``'s with ``random_state=seed``.
    kept : ndarray of bool, shape (n_rows,), or None
        Rows that take part at all (None: every row); the others are in
        neither part, as if absent.

    Returns
    -------
    train : ndarray of int
        Ascending indices of the training rows.
    valid : ndarray of int or None
        Ascending indices of the held-out rows; None without a split.

    Examples
    --------
    >>> import numpy as np
    >>> labelled = np.array([True] * 9 + [False])
    >>> train, valid = split_rows(labelled, None, 0.2, seed=0)
    >>> len(train), len(valid), 9 in train
    (8, 2, True)
    """
    taking_part = np.ones(len(labelled), dtype=bool) if kept is None else kept
    labelled_rows = np.flatnonzero(labelled & taking_part)
    if not validation_fraction:
        return np.flatnonzero(taking_part), None
    n_valid = math.ceil(validation_fraction * len(labelled_rows))
    if n_valid >= len(labelled_rows):
        warnings.warn(
            f"Too few labelled rows ({len(labelled_rows)}) to hold out "
            f"validation_fraction={validation_fraction}; training without a "
            "validation split or early stopping.",
            UserWarning,
        )
        return np.flatnonzero(taking_part), None
    rng = check_random_state(seed)
    valid = None
    if stratify is not None:
        valid = _stratified_draw(stratify[labelled_rows], n_valid, rng)
    if valid is None:  # ShuffleSplit's draw
        valid = rng.permutation(len(labelled_rows))[:n_valid]
    valid = np.sort(labelled_rows[valid])
    training = taking_part.copy()
    training[valid] = False
    return np.flatnonzero(training), valid


def _stratified_draw(classes, n_valid, rng):
    """Positions StratifiedShuffleSplit holds out of ``classes``, or None where it cannot stratify.

    The same draws from ``rng`` as scikit-learn's ``StratifiedShuffleSplit``
    (one split, ``test_size=n_valid``); the classes are grouped by counting
    (a radix sort) instead of a comparison sort.
    """
    counts = np.bincount(classes)
    present = np.flatnonzero(counts)
    counts = counts[present]
    n_train = len(classes) - n_valid
    if counts.min() < 2 or n_valid < len(counts) or n_train < len(counts):
        return None
    small = np.int16 if counts.size <= np.iinfo(np.int16).max else np.int64
    compact = np.zeros(present[-1] + 1, dtype=small)
    compact[present] = np.arange(len(present), dtype=small)
    by_class = np.argsort(compact[classes], kind="stable")  # a radix sort for int16
    members = np.split(by_class, np.cumsum(counts)[:-1])
    n_train_per_class = _approximate_mode(counts, n_train, rng)
    n_valid_per_class = _approximate_mode(counts - n_train_per_class, n_valid, rng)
    held_out = []
    for rows, count, first, size in zip(members, counts, n_train_per_class, n_valid_per_class):
        shuffled = rows.take(rng.permutation(count), mode="clip")
        held_out.append(shuffled[first:first + size])
    return np.concatenate(held_out)


def _approximate_mode(class_counts, n_draws, rng):
    """Rows per class of ``n_draws`` drawn from ``class_counts``, ties broken by ``rng``.

    scikit-learn's ``sklearn.utils.extmath._approximate_mode`` (BSD-3-Clause),
    restated so that the split's draws do not depend on a private function.
    """
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (candidates,) = np.where(remainder == value)
            add_now = min(len(candidates), need_to_add)
            floored[rng.choice(candidates, size=add_now, replace=False)] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)
