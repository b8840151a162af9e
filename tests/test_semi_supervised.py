"""Unlabelled rows contribute the teacher term only."""

import numpy as np
import pandas as pd
import pytest
from conftest import make_fast
from sklearn.linear_model import LogisticRegression



class CountingLR(LogisticRegression):
    seen = None

    def fit(self, X, y, **kw):
        type(self).seen = np.asarray(y).copy()
        return super().fit(X, y, **kw)


def test_minus_one_marks_unlabelled_rows_when_asked(iris):
    X, y = iris
    y_partial = y.copy()
    y_partial[::3] = -1
    clf = make_fast(teacher=CountingLR(), unlabeled_label=-1, max_epochs=5).fit(X, y_partial)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert -1 not in CountingLR.seen and len(CountingLR.seen) == 100  # teacher: labelled rows only
    assert clf.score(X, y) > 0.8


@pytest.mark.parametrize("marker", [np.nan, pd.NA], ids=["nan", "pd.NA"])
def test_a_missing_value_as_the_marker_marks_the_missing_labels(iris, marker):
    from skdistill import DistillerGridSearchCV

    X, y = iris
    with_minus_one = y.copy()
    with_minus_one[::3] = -1
    missing = pd.array(np.where(with_minus_one < 0, None, with_minus_one), dtype="Int64")
    if marker is np.nan:
        missing = missing.to_numpy(dtype=float, na_value=np.nan)
    reference = make_fast(teacher=CountingLR(), unlabeled_label=-1, max_epochs=5).fit(
        X, with_minus_one)
    clf = make_fast(teacher=CountingLR(), unlabeled_label=marker, max_epochs=5).fit(X, missing)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert len(CountingLR.seen) == 100 and not np.isnan(CountingLR.seen.astype(float)).any()
    np.testing.assert_array_equal(clf.predict_proba(X), reference.predict_proba(X))
    assert clf.score(X, missing) == reference.score(X, with_minus_one)
    search = DistillerGridSearchCV(  # its splitter stratifies the missing labels as one group
        make_fast(unlabeled_label=marker, max_epochs=3), {"alpha": [0.0, 0.5]}, cv=3
    ).fit(X, missing)
    assert search.best_estimator_.classes_.tolist() == [0, 1, 2]


def test_minus_one_is_a_class_by_default(iris):
    X, y = iris
    y_pm = np.where(y == 0, -1, 1)
    clf = make_fast().fit(X, y_pm)
    np.testing.assert_array_equal(clf.classes_, [-1, 1])


def test_string_labels_with_a_string_marker(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    names[::4] = "?"
    clf = make_fast(unlabeled_label="?").fit(X, names)
    np.testing.assert_array_equal(clf.classes_, ["setosa", "versicolor", "virginica"])


def test_unlabelled_rows_are_never_held_out(iris):
    X, y = iris
    y_partial = y.copy()
    y_partial[:100] = -1  # 50 labelled rows (all class 2) ... plus some others below
    y_partial[[0, 1, 2, 60, 61, 62]] = [0, 0, 0, 1, 1, 1]
    clf = make_fast(unlabeled_label=-1, validation_fraction=0.2)
    labelled = y_partial != -1
    valid = clf.fit_teacher(X, y_partial).valid_idx  # the rows the fit holds out
    assert labelled[valid].all() and len(valid) == int(np.ceil(0.2 * labelled.sum()))
    clf.fit(X, y_partial)
    assert clf.student_.history[-1, "valid_batch_count"] == 1


def test_all_unlabelled_is_a_clear_error(iris):
    X, _ = iris
    with pytest.raises(ValueError, match="every row is unlabelled"):
        make_fast(unlabeled_label=-1).fit(X, np.full(len(X), -1))


def test_regressor_nan_targets_are_unlabelled():
    from sklearn.datasets import make_friedman1
    from sklearn.linear_model import Ridge

    from skdistill import DistilledRegressor

    class SpyRidge(Ridge):
        n_fit = None

        def fit(self, X, y, **kw):
            type(self).n_fit = len(y)
            assert np.isfinite(y).all()
            return super().fit(X, y, **kw)

    X, y = make_friedman1(n_samples=200, random_state=0)
    y_partial = y.copy()
    y_partial[::2] = np.nan
    reg = DistilledRegressor(SpyRidge(), max_epochs=20, random_state=0).fit(X, y_partial)
    assert SpyRidge.n_fit == 100
    assert reg.target_mean_ == pytest.approx(np.nanmean(y_partial))
    assert np.isfinite(reg.predict(X)).all()
    with pytest.raises(ValueError, match="NaN only"):
        DistilledRegressor(Ridge()).fit(X, np.full(200, np.nan))


def test_a_score_reads_the_labelled_rows_so_a_search_can_tune_on_partial_labels(iris):
    from sklearn.datasets import make_friedman1
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV

    from skdistill import DistilledRegressor

    X, y = iris
    partial = y.copy()
    partial[::3] = -1
    clf = make_fast(teacher=LogisticRegression(), unlabeled_label=-1, max_epochs=5)
    clf.fit(X, partial)
    kept = partial != -1
    assert clf.score(X, partial) == clf.score(X[kept], y[kept])  # -1 is not a wrong answer

    X, target = make_friedman1(n_samples=120, random_state=0)
    partial = target.copy()
    partial[::2] = np.nan
    reg = DistilledRegressor(Ridge(), max_epochs=3, random_state=0).fit(X, partial)
    assert reg.score(X, partial) == reg.score(X[1::2], target[1::2])  # not "contains NaN"
    search = GridSearchCV(reg, {"alpha": [0.0, 1.0]}, cv=2).fit(X, partial)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    with pytest.raises(ValueError, match="every row unlabelled"):
        reg.score(X[::2], partial[::2])


def test_no_rows_to_predict_is_refused_as_scikit_learn_refuses_it(iris):
    import pandas as pd

    X, y = iris
    clf = make_fast(max_epochs=2).fit(pd.DataFrame(X, columns=list("abcd")), y)
    with pytest.raises(ValueError, match="0 sample"):
        clf.predict(pd.DataFrame(X[:0], columns=list("abcd")))


@pytest.mark.parametrize("marker", [-1, np.nan], ids=["-1", "nan"])
def test_a_search_scoring_a_named_metric_reads_the_labelled_rows(iris, marker):
    from skdistill import DistillerGridSearchCV

    X, y = iris
    partial = y.astype(float)
    partial[::3] = marker
    partial = partial if marker is np.nan else partial.astype(int)
    searches = [DistillerGridSearchCV(make_fast(unlabeled_label=marker, max_epochs=5),
                                      {"alpha": [0.0, 0.5]}, cv=3, scoring=scoring).fit(X, partial)
                for scoring in (None, "accuracy")]  # None: the distiller's own score
    np.testing.assert_array_equal(*(s.cv_results_["mean_test_score"] for s in searches))
    assert searches[1].score(X, partial) == searches[0].score(X, partial) > 0.8
