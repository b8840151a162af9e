"""The validation split draws the rows train_test_split draws, in time linear in the rows."""

import math
import warnings

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from skdistill.stages._split import split_rows
from skdistill.stages._targets import class_codes


def reference(labelled, stratify, fraction, seed):
    """The split as train_test_split makes it, stratified where every class can be."""
    rows = np.arange(len(labelled))
    labelled_rows = rows[labelled]
    n_valid = math.ceil(fraction * len(labelled_rows))
    if n_valid >= len(labelled_rows):
        return rows, None
    classes = None if stratify is None else stratify[labelled_rows]
    if classes is not None:
        counts = np.unique(classes, return_counts=True)[1]
        n_train = len(labelled_rows) - n_valid
        if counts.min() < 2 or n_valid < len(counts) or n_train < len(counts):
            classes = None
    _, valid = train_test_split(
        labelled_rows, test_size=n_valid, random_state=seed, stratify=classes
    )
    valid = np.sort(valid)
    return np.setdiff1d(rows, valid), valid


@pytest.mark.parametrize("seed", range(40))
def test_split_rows_draws_what_train_test_split_draws(seed):
    rng = np.random.default_rng(seed)
    n_rows, n_classes = int(rng.integers(3, 300)), int(rng.integers(1, 12))
    if seed % 2:
        y = rng.integers(n_classes, size=n_rows)
    else:  # skewed: rare classes fall back to an unstratified split
        y = np.minimum(rng.geometric(0.3, size=n_rows) - 1, n_classes)
    labelled = rng.random(n_rows) < rng.uniform(0.3, 1.0)
    y = np.where(labelled, y, -1)
    fraction = float(rng.choice([0.1, 0.2, 0.33, 0.5]))
    for stratify in (y, None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = reference(labelled, stratify, fraction, seed)
            train, valid = split_rows(labelled, stratify, fraction, seed)
        np.testing.assert_array_equal(train, expected[0])
        assert (valid is None) == (expected[1] is None)
        if valid is not None:
            np.testing.assert_array_equal(valid, expected[1])


def test_rows_not_kept_are_in_neither_part_and_the_rest_split_as_without_them():
    rng = np.random.default_rng(0)
    y = rng.integers(3, size=200)
    labelled = np.ones(200, dtype=bool)
    kept = rng.random(200) < 0.7
    train, valid = split_rows(labelled, y, 0.2, 5, kept=kept)
    alone_train, alone_valid = split_rows(labelled[kept], y[kept], 0.2, 5)
    at = np.flatnonzero(kept)
    np.testing.assert_array_equal(train, at[alone_train])
    np.testing.assert_array_equal(valid, at[alone_valid])


@pytest.mark.parametrize(
    "labels",
    [np.array([5, 0, 5, 2]), np.array([3, 3, 3], dtype=np.uint8), np.array([-1, 4, 2]),
     np.array([10**9, 1]), np.array(["b", "a", "b"]), np.array([1.5, 0.5, 1.5])],
)
def test_class_codes_equal_np_unique(labels):
    expected = np.unique(labels, return_inverse=True)
    classes, codes = class_codes(labels)
    assert classes.dtype == expected[0].dtype
    np.testing.assert_array_equal(classes, expected[0])
    np.testing.assert_array_equal(codes, expected[1])
