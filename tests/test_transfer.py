"""MUNGE transfer sets: what they generate and how the distillers use them."""

import numpy as np
import pytest
from sklearn.base import clone

from conftest import make_fast
from skdistill import Munge

X = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 10.0], [10.0, 12.0]])


def test_each_attribute_is_kept_or_drawn_around_the_neighbour():
    rows = Munge(n_copies=200, p=0.5, s=1.0, random_state=0).generate(X)
    assert rows.shape == (800, 2)
    first = rows[0::4]  # copies of row 0, whose neighbour is row 1: spread |0-1| = 1 on x
    np.testing.assert_array_equal(first[:, 1], 0.0)  # same y as neighbour: spread 0
    drawn = first[:, 0] != 0.0
    assert 0.35 < drawn.mean() < 0.65  # p = 0.5
    assert abs(first[drawn, 0].mean() - 1.0) < 0.25 and abs(first[drawn, 0].std() - 1.0) < 0.25


def test_p_zero_copies_and_large_s_pins_to_the_neighbour():
    np.testing.assert_array_equal(Munge(n_copies=2, p=1e-12, random_state=0).generate(X), np.tile(X, (2, 1)))
    pinned = Munge(n_copies=1, p=1.0, s=1e9, random_state=0).generate(X)
    np.testing.assert_allclose(pinned, X[[1, 0, 3, 2]], atol=1e-6)


def test_same_seed_same_rows_and_bad_parameters():
    a = Munge(random_state=3).generate(X)
    np.testing.assert_array_equal(a, Munge(random_state=3).generate(X))
    np.testing.assert_array_equal(a, Munge().generate(X, random_state=3))
    with pytest.raises(ValueError, match="'p' parameter of Munge"):
        Munge(p=0.0).generate(X)
    assert clone(Munge(n_copies=7)).n_copies == 7


def test_synthetic_rows_train_but_never_validate(iris):
    X, y = iris
    plain = make_fast(max_epochs=2, n_iter_no_change=None, batch_size=5).fit(X, y)
    munged = make_fast(
        max_epochs=2, n_iter_no_change=None, batch_size=5, transfer_set=Munge(n_copies=2)
    ).fit(X, y)
    assert plain.student_.history[-1, "train_batch_count"] == 27  # 135 training rows
    # 135 + 2 * 135: generated around the training rows only, not the 15 held out
    assert munged.student_.history[-1, "train_batch_count"] == 81
    assert munged.student_.history[-1, "valid_batch_count"] == 3  # the same 15 real rows


def test_transfer_set_is_grid_searchable(iris):
    from sklearn.model_selection import GridSearchCV

    X, y = iris
    search = GridSearchCV(
        make_fast(max_epochs=3, transfer_set=Munge(n_copies=1)),
        [{"transfer_set__p": [0.2, 0.8]}, {"transfer_set": [None]}],
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 3
