"""MUNGE transfer sets: what they generate and how the distillers use them."""

import numpy as np
import pandas as pd
import pytest
from conftest import make_fast
from sklearn.base import clone

from skdistill import Gibbs, Mixup, Munge, Spunge

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


def test_spunge_swaps_a_few_attributes_for_other_rows_values():
    rows = np.arange(40.0).reshape(4, 10)  # column j holds 10 * i + j: the source row is readable
    drawn = Spunge(n_copies=50, frac_perturb=0.2, noise=0.0, random_state=0).generate(rows)
    assert drawn.shape == (200, 10)
    origin = np.tile(np.arange(4), 50)
    source_rows = (drawn - np.arange(10)) / 10
    np.testing.assert_array_equal(source_rows, np.rint(source_rows))  # every value is a real one
    changed = (source_rows != origin[:, None]).sum(axis=1)
    assert changed.max() <= 2 and changed.mean() > 1  # 2 attributes redrawn, a donor may be itself
    noisy = Spunge(n_copies=200, frac_perturb=0.2, noise=0.1, random_state=0).generate(rows)
    assert 0.1 < (noisy != np.rint(noisy)).any(axis=1).mean() < 0.3  # noised with p = 0.2


def test_mixup_lies_between_two_rows_and_keeps_frame_dtypes():
    rows = np.array([[0.0, 0.0], [1.0, 10.0]])
    drawn = Mixup(n_copies=100, concentration=1.0, random_state=0).generate(rows)
    lam = drawn[:, 0]
    np.testing.assert_allclose(drawn[:, 1], 10 * lam, rtol=1e-5)  # on the segment
    assert 0.3 < lam.mean() < 0.7
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0], "n": [1, 2, 3], "c": pd.Categorical(list("abc"))})
    for sampler in (Mixup(n_copies=4, random_state=0), Spunge(n_copies=4, random_state=0)):
        out = sampler.generate(frame)
        assert list(out.dtypes) == list(frame.dtypes) and len(out) == 12
        assert set(out["c"]) <= {"a", "b", "c"}
        assert (out["n"] == np.rint(out["n"])).all()


@pytest.mark.parametrize(
    "sampler", [Spunge(n_copies=2), Mixup(n_copies=2), Gibbs(n_copies=2)], ids=repr
)
def test_every_sampler_trains_materialised_or_fresh(iris, sampler):
    X, y = iris
    for fresh in (False, True):
        model = make_fast(
            max_epochs=2, n_iter_no_change=None, batch_size=5,
            transfer_set=clone(sampler).set_params(fresh_each_epoch=fresh),
        ).fit(X, y)
        assert model.student_.history[-1, "train_batch_count"] == 81
    with pytest.raises(ValueError, match="Spunge cannot sample sparse rows"):
        Spunge().generate(__import__("scipy.sparse").sparse.csr_matrix(X))


def test_gibbs_draws_each_attribute_from_rows_alike_in_the_others():
    rng = np.random.RandomState(0)
    a = rng.normal(size=300)
    rows = np.column_stack([a, 2 * a + 0.05 * rng.normal(size=300), rng.normal(size=300)])
    drawn = Gibbs(n_copies=4, n_rounds=2, p=1.0, n_neighbors=5, random_state=0).generate(rows)
    assert drawn.shape == (1200, 3)
    for j in range(3):  # every value is one a training row holds in that column
        nearest = np.abs(drawn[:, j][:, None] - rows[:, j][None, :]).min(axis=1)
        assert nearest.max() < 1e-5
    # the dependence between columns 0 and 1 survives; the independent column stays independent
    assert np.corrcoef(drawn[:, 0], drawn[:, 1])[0, 1] > 0.95
    assert abs(np.corrcoef(drawn[:, 0], drawn[:, 2])[0, 1]) < 0.15
    # and the rows are new: most differ from the row they started from
    assert (np.abs(drawn - np.tile(rows, (4, 1))) > 1e-6).any(axis=1).mean() > 0.9
    kept = Gibbs(n_copies=2, p=1e-12, random_state=0).generate(rows)
    np.testing.assert_allclose(kept, np.tile(rows, (2, 1)), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(
        Gibbs(random_state=4).generate(rows), Gibbs().generate(rows, random_state=4)
    )


def test_gibbs_keeps_nominal_columns_and_dtypes_of_a_frame():
    frame = pd.DataFrame({"x": np.arange(8.0), "n": np.arange(8) * 2,
                          "c": pd.Categorical(list("abababab"))})
    out = Gibbs(n_copies=3, p=1.0, n_neighbors=2, random_state=0).generate(frame)
    assert list(out.dtypes) == list(frame.dtypes) and len(out) == 24
    np.testing.assert_array_equal(out["c"], np.tile(frame["c"], 3))  # from the starting row
    assert (out["n"] == np.rint(out["n"])).all()
    with pytest.raises(ValueError, match="'n_neighbors' parameter of Gibbs"):
        Gibbs(n_neighbors=0).generate(frame)


@pytest.mark.parametrize("sampler", [Munge, Spunge, Mixup, Gibbs])
def test_a_missing_number_in_an_array_is_refused_as_in_a_frame(sampler):
    X = np.random.RandomState(0).normal(size=(10, 2))
    X[0, 0] = np.nan  # Spunge would spread it to every draw of the column (a NaN scale)
    message = "cannot sample rows with missing or infinite numeric values"
    for rows in (X, pd.DataFrame(X, columns=["a", "b"])):
        with pytest.raises(ValueError, match=f"{sampler.__name__} {message}"):
            sampler(n_copies=1, random_state=0).generate(rows)


def test_drawn_integers_stay_within_their_columns_dtype():
    frame = pd.DataFrame({"count": np.array([0, 1, 0, 2, 1, 0, 3, 0], dtype=np.uint8),
                          "size": np.arange(8.0)})
    for sampler in (Munge(n_copies=20, p=1.0, s=0.2, random_state=0),
                    Spunge(n_copies=20, noise=5.0, random_state=0)):
        rows = sampler.generate(frame)
        assert rows["count"].dtype == np.uint8 and rows["count"].min() == 0  # clipped at 0


def test_gibbs_draws_a_lone_attribute_from_every_training_row():
    X = np.random.RandomState(0).normal(size=(30, 1))
    rows = Gibbs(n_copies=2, p=1.0, random_state=0).generate(X)
    assert np.isin(rows, X.astype(np.float32)).all()  # training values ...
    assert not np.array_equal(rows[:30], X.astype(np.float32))  # ... not the rows copied
    frame = pd.DataFrame({"x": X[:, 0], "colour": list("ab") * 15})
    drawn = Gibbs(n_copies=1, p=1.0, random_state=0).generate(frame)
    assert not np.allclose(drawn["x"], frame["x"]) and (drawn["colour"] == frame["colour"]).all()


def test_an_array_of_transfer_rows_for_a_model_of_a_frame_is_told_to_be_a_frame():
    from sklearn.linear_model import LogisticRegression

    from skdistill import DistilledClassifier

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.normal(size=150), "b": rng.normal(size=150) * 100})
    y = (frame["a"] > 0).astype(int)
    rows = rng.normal(size=(300, 2))
    model = DistilledClassifier(LogisticRegression(), transfer_set=rows, max_epochs=2,
                                random_state=0)
    with pytest.raises(ValueError, match=r"not a DataFrame.*columns \['a', 'b'\].*pd.DataFrame"):
        model.fit(frame, y)
    model.set_params(transfer_set=pd.DataFrame(rows, columns=["a", "b"])).fit(frame, y)
