"""DistilledClassifierCV chooses what GridSearchCV chooses, training candidates side by side."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from skdistill import (
    DistilledClassifier,
    DistilledClassifierCV,
    MLPStudent,
    TabularStudent,
)
from skdistill.training._data import DistillationDataset
from skdistill.training._numpy._candidates import train_side_by_side

X, Y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=0)
GRID = {"T": [1.0, 3.0], "alpha": [0.2, 0.9], "module__hidden_layer_sizes": [(4,), (16,)]}


def _estimator(**params):
    return DistilledClassifier(
        LogisticRegression(max_iter=500), max_epochs=15, random_state=0, **params
    )


def _both(estimator, grid):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = DistilledClassifierCV(estimator, grid, cv=3).fit(X, Y)
        theirs = GridSearchCV(estimator, grid, cv=3).fit(X, Y)
    return ours, theirs


def test_side_by_side_scores_every_split_as_grid_search_does():
    ours, theirs = _both(_estimator(), GRID)
    assert ours.side_by_side_ and ours.n_splits_ == 3
    assert ours.best_params_ == theirs.best_params_
    assert ours.best_index_ == theirs.best_index_
    assert ours.cv_results_["params"] == theirs.cv_results_["params"]
    for split in range(3):  # on the CPU both train in numpy, rounding alike: the same scores
        np.testing.assert_array_equal(
            ours.cv_results_[f"split{split}_test_score"],
            theirs.cv_results_[f"split{split}_test_score"],
        )
    np.testing.assert_array_equal(ours.cv_results_["rank_test_score"] >= 1, True)
    np.testing.assert_array_equal(ours.predict(X), theirs.best_estimator_.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X))
    assert ours.score(X, Y) == theirs.score(X, Y)


def test_settings_the_stacked_model_cannot_take_go_through_grid_search():
    estimator = _estimator(student_module=TabularStudent, module__hidden_layer_sizes=(8,))
    ours, theirs = _both(estimator, {"alpha": [0.0, 0.9]})
    assert not ours.side_by_side_
    np.testing.assert_array_equal(
        ours.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"]
    )
    assert ours.best_params_ == theirs.best_params_


def test_side_by_side_students_equal_students_trained_alone():
    generator = torch.Generator().manual_seed(0)
    rows = DistillationDataset(
        torch.randn(64, 5, generator=generator), torch.randn(64, 3, generator=generator),
        torch.randint(0, 3, (64,), generator=generator),
    )
    train, valid = (torch.utils.data.Subset(rows, range(a, b)) for a, b in ((0, 48), (48, 64)))
    settings = [(1.0, 0.5), (4.0, 0.9), (2.0, 0.0)]

    def trained(together):
        torch.manual_seed(0)
        start = MLPStudent(5, 3, (6,))
        students = [MLPStudent(5, 3, (6,)) for _ in settings]
        for student in students:
            student.load_state_dict(start.state_dict())
        groups = [list(range(len(settings)))] if together else [[i] for i in range(len(settings))]
        epochs = []
        for group in groups:
            epochs += list(train_side_by_side(
                [students[i] for i in group], [settings[i][0] for i in group],
                [settings[i][1] for i in group], train, valid, max_epochs=30, batch_size=16,
                optimizer=lambda params: torch.optim.Adam(params, lr=0.01), seed=3, patience=3,
            ))
        return students, epochs

    (together, epochs_together), (alone, epochs_alone) = trained(True), trained(False)
    assert epochs_together == epochs_alone and min(epochs_alone) < 30  # some stopped early
    for one, other in zip(together, alone):  # the same numbers, in numpy on the CPU
        for a, b in zip(one.parameters(), other.parameters()):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize(
    "estimator, grid, error, match",
    [
        (LogisticRegression(), {"T": [1.0]}, TypeError, "needs a DistilledClassifier"),
        (_estimator(), {"lr": [0.1]}, ValueError, r"also names \['lr'\]"),
        (_estimator(), {"T": []}, ValueError, r"param_grid\['T'\] must be a non-empty list"),
        (_estimator(), {}, ValueError, "non-empty dict"),
    ],
)
def test_bad_search_settings_are_named(estimator, grid, error, match):
    with pytest.raises(error, match=match):
        DistilledClassifierCV(estimator, grid).fit(X, Y)


def test_the_estimators_own_width_is_kept_when_the_grid_does_not_search_it():
    ours, theirs = _both(_estimator(module__hidden_layer_sizes=(5,)), {"alpha": [0.0, 0.7]})
    assert ours.side_by_side_
    assert ours.best_estimator_.student_.module_.layers[0].out_features == 5
    for split in range(3):
        np.testing.assert_allclose(
            ours.cv_results_[f"split{split}_test_score"],
            theirs.cv_results_[f"split{split}_test_score"], atol=1 / 100 + 1e-12,
        )
