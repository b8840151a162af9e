"""alpha="auto": the distilled student, or its labels-only twin where that does better held out."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.utils._param_validation import InvalidParameterError

from skdistill import DistilledClassifier

SETTINGS = dict(student_preprocessor=None, max_epochs=40, random_state=0)


def data():
    return make_classification(600, 8, n_informative=5, random_state=0)


def fitted(alpha, proba, **params):
    X, y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DistilledClassifier("precomputed", alpha=alpha, **{**SETTINGS, **params}).fit(
            X, y, teacher_proba=proba)


def test_a_teacher_that_knows_less_than_the_labels_gives_way_to_them():
    X, y = data()
    wrong = np.eye(2)[1 - y] * 0.9 + 0.05  # a teacher that is always wrong
    auto = fitted("auto", wrong)
    assert auto.alpha_ == 0.0
    assert auto.alpha_scores_[0.0] > auto.alpha_scores_[0.5]
    labels_only = fitted(0.0, wrong)
    np.testing.assert_array_equal(auto.predict_proba(X), labels_only.predict_proba(X))
    assert auto.score(X, y) > fitted(0.5, wrong).score(X, y)


def test_a_teacher_as_good_as_the_labels_keeps_the_distilled_student():
    X, y = data()
    right = np.eye(2)[y] * 0.9 + 0.05
    auto = fitted("auto", right)
    assert auto.alpha_ == 0.5 and set(auto.alpha_scores_) == {0.5, 0.0}
    assert auto.alpha_scores_[0.5] >= auto.alpha_scores_[0.0]
    np.testing.assert_array_equal(auto.predict_proba(X), fitted(0.5, right).predict_proba(X))
    assert DistilledClassifier("precomputed").alpha == "auto"  # the default


def test_without_held_out_rows_or_with_a_fixed_alpha_nothing_is_chosen():
    X, y = data()
    wrong = np.eye(2)[1 - y] * 0.9 + 0.05
    unsplit = fitted("auto", wrong, validation_fraction=None, max_epochs=5)
    assert unsplit.alpha_ == 0.5 and not hasattr(unsplit, "alpha_scores_")
    fixed = fitted(0.3, wrong, max_epochs=5)
    assert fixed.alpha_ == 0.3 and not hasattr(fixed, "alpha_scores_")
    X, y = data()
    y = np.where(np.arange(len(y)) % 5 == 0, -1, y)  # rows only the teacher speaks about
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        semi = DistilledClassifier("precomputed", unlabeled_label=-1,
                                   **{**SETTINGS, "max_epochs": 5})
        semi.fit(X, y, teacher_proba=np.eye(2)[np.abs(y)] * 0.9 + 0.05)
    assert semi.alpha_ == 0.5 and not hasattr(semi, "alpha_scores_")


def test_a_warm_start_continues_with_the_alpha_chosen():
    X, y = data()
    wrong = np.eye(2)[1 - y] * 0.9 + 0.05
    auto = fitted("auto", wrong, warm_start=True)
    assert auto.alpha_ == 0.0
    epochs = auto.n_iter_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auto.fit(X, y, teacher_proba=wrong)
    assert auto.alpha_ == 0.0 and auto.n_iter_ > epochs
    assert auto.student_.criterion_.alpha == 0.0


def test_alpha_takes_a_number_in_the_unit_interval_or_auto():
    X, y = data()
    with pytest.raises(InvalidParameterError, match="'alpha' parameter.*'auto'"):
        DistilledClassifier("precomputed", alpha="automatic").fit(X, y, teacher_proba=np.eye(2)[y])


def test_the_cv_search_scores_and_refits_auto_at_the_same_alpha():
    from skdistill import DistillerGridSearchCV

    X, y = data()
    wrong = np.eye(2)[1 - y] * 0.9 + 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = DistillerGridSearchCV(
            DistilledClassifier("precomputed", **{**SETTINGS, "max_epochs": 5}),
            {"T": [1.0, 2.0]}, cv=2,
        ).fit(X, y, teacher_proba=wrong)
    assert search.side_by_side_ and search.best_estimator_.alpha_ == 0.5  # as scored
    with pytest.warns(UserWarning, match="alpha='auto' chooses inside each fit"):
        search = DistillerGridSearchCV(
            DistilledClassifier("precomputed", **{**SETTINGS, "max_epochs": 5}),
            {"alpha": ["auto", 0.5]}, cv=2,
        ).fit(X, y, teacher_proba=wrong)
    assert not search.side_by_side_ and search.best_params_["alpha"] in ("auto", 0.5)


def test_a_student_put_in_place_reports_its_own_alpha_and_no_fit_figures():
    X, y = data()
    right = np.eye(2)[y] * 0.9 + 0.05
    model = fitted("auto", right)
    training = DistilledClassifier("precomputed", alpha=0.3, **SETTINGS).fit_teacher(
        X, y, teacher_proba=right)
    placed = training.with_student(training.new_student().eval())
    assert placed.alpha_ == 0.3 and not hasattr(placed, "fit_times_")
    swapped = model.with_student(model.student_.module_)
    assert swapped.alpha_ == 0.5 and not hasattr(swapped, "alpha_scores_")
