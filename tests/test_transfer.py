"""MUNGE transfer sets: what they generate and how the distillers use them."""

import numpy as np
import pytest
import pandas as pd
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


def test_prepared_rows_draw_what_generate_draws():
    frame = pd.DataFrame({"x": [0.0, 1.0, 10.0, 12.0], "c": pd.Categorical(list("abab"))})
    for rows in (X, frame):
        munge = Munge(n_copies=3, random_state=5)
        drawn = munge.prepare(rows).draw(np.random.RandomState(5), n_copies=3)
        generated = munge.generate(rows)
        if hasattr(rows, "columns"):
            pd.testing.assert_frame_equal(drawn, generated)
        else:
            np.testing.assert_array_equal(drawn, generated)


def test_fresh_each_epoch_streams_new_copies_that_train_but_never_validate(iris):
    X, y = iris
    munge = Munge(n_copies=2, fresh_each_epoch=True)
    model = make_fast(
        max_epochs=3, n_iter_no_change=None, batch_size=5, transfer_set=munge
    ).fit(X, y)
    history = model.student_.history
    assert history[-1, "train_batch_count"] == 81  # 135 + 2 x 135 rows, as materialised
    assert history[-1, "valid_batch_count"] == 3  # the same 15 real rows
    assert model.fit_times_["transfer_set"] > 0
    # each epoch drew new rows: the copies were loaded once per epoch, seeded apart
    copies = munge.fresh_copies(X[:10], reader=_Identity(), random_state=0, unlabelled_target=-1)
    first = [copy.load()[0] for copy in copies]
    second = [copy.load()[0] for copy in copies]
    assert not np.array_equal(first[0], first[1]) and not np.array_equal(first[0], second[0])
    again = munge.fresh_copies(X[:10], reader=_Identity(), random_state=0, unlabelled_target=-1)
    np.testing.assert_array_equal(again[0].load()[0], first[0])  # the same seed, the same rows
    assert (copies[0].load()[2] == -1).all()
    refit = make_fast(
        max_epochs=3, n_iter_no_change=None, batch_size=5, transfer_set=munge
    ).fit(X, y)
    np.testing.assert_array_equal(refit.predict_proba(X), model.predict_proba(X))


class _Identity:
    """A reader whose teacher outputs are the rows themselves."""

    def label_in_chunks(self, rows, where):
        return rows.astype(np.float32), rows.astype(np.float32)
