"""DistillerGridSearchCV chooses what GridSearchCV chooses, training candidates side by side."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.base import is_classifier, is_regressor
from sklearn.datasets import make_classification, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import (
    DistilledClassifier,
    DistilledRegressor,
    DistillerGridSearchCV,
    MLPStudent,
    TabularStudent,
)
from skdistill.losses._settings import LossSettings
from skdistill.training._data import DistillationDataset
from skdistill.training._candidates import AutogradStackedStep, train_side_by_side

X, Y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=0)
GRID = {"T": [1.0, 3.0], "alpha": [0.2, 0.9], "module__hidden_layer_sizes": [(4,), (16,)]}


def _estimator(**params):
    return DistilledClassifier(
        LogisticRegression(max_iter=500), max_epochs=15, random_state=0, **params
    )


def _count_autograd_steps(monkeypatch):
    """A list that gains an item per step of the torch engine's stacked candidates."""
    steps, step = [], AutogradStackedStep.__call__
    monkeypatch.setattr(AutogradStackedStep, "__call__",
                        lambda self, *batch: steps.append(1) or step(self, *batch))
    return steps


def _both(estimator, grid):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = DistillerGridSearchCV(estimator, grid, cv=3).fit(X, Y)
        theirs = GridSearchCV(estimator, grid, cv=3).fit(X, Y)
    return ours, theirs


@pytest.mark.slow  # several seconds: CI's full run has it
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


@pytest.mark.slow  # several seconds: CI's full run has it
def test_settings_the_stacked_model_cannot_take_go_through_grid_search():
    estimator = _estimator(student_module=TabularStudent, module__hidden_layer_sizes=(8,))
    ours, theirs = _both(estimator, {"alpha": [0.0, 0.9]})
    assert not ours.side_by_side_
    np.testing.assert_array_equal(
        ours.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"]
    )
    assert ours.best_params_ == theirs.best_params_


def _trained_side_by_side(together, solver):
    """Three candidates trained as one stack or each alone; their students, epochs and losses."""
    generator = torch.Generator().manual_seed(0)
    rows = DistillationDataset(
        torch.randn(64, 5, generator=generator), torch.randn(64, 3, generator=generator),
        torch.randint(0, 3, (64,), generator=generator),
    )
    train, valid = (torch.utils.data.Subset(rows, range(a, b)) for a, b in ((0, 48), (48, 64)))
    settings = [(1.0, 0.5), (4.0, 0.9), (2.0, 0.0)]
    torch.manual_seed(0)
    start = MLPStudent(5, 3, (6,))
    students = [MLPStudent(5, 3, (6,)) for _ in settings]
    for student in students:
        student.load_state_dict(start.state_dict())
    groups = [list(range(len(settings)))] if together else [[i] for i in range(len(settings))]
    epochs, losses = [], []
    for group in groups:
        losses_of = [LossSettings("classifier", settings[i][1], T=settings[i][0]) for i in group]
        stopped, lowest = train_side_by_side(
            [students[i] for i in group], losses_of, train, valid, max_epochs=30, batch_size=16,
            optimizer=lambda params: torch.optim.Adam(params, lr=0.01), seed=3, patience=3,
            solver=solver,
        )
        epochs += list(stopped)
        losses += list(lowest)
    return students, epochs, losses


@pytest.mark.parametrize("solver", ["numpy", "torch"])
def test_side_by_side_students_equal_students_trained_alone(solver):
    together, epochs_together, losses_together = _trained_side_by_side(True, solver)
    alone, epochs_alone, losses_alone = _trained_side_by_side(False, solver)
    assert epochs_together == epochs_alone and min(epochs_alone) < 30  # some stopped early
    np.testing.assert_allclose(losses_together, losses_alone, rtol=1e-6)
    assert np.isfinite(losses_alone).all()
    exact = solver == "numpy"  # the same numbers in numpy; torch's batched matmul may round apart
    for one, other in zip(together, alone):
        for a, b in zip(one.parameters(), other.parameters()):
            torch.testing.assert_close(a, b, rtol=0 if exact else 1e-5, atol=0 if exact else 1e-6)


@pytest.mark.parametrize("solver", ["numpy", "torch"])
def test_a_diverging_candidate_stops_and_the_others_train_as_alone(solver):
    import copy

    generator = torch.Generator().manual_seed(0)
    rows = DistillationDataset(
        torch.randn(64, 5, generator=generator), torch.randn(64, 3, generator=generator),
        torch.randint(0, 3, (64,), generator=generator),
    )
    train, valid = (torch.utils.data.Subset(rows, range(a, b)) for a, b in ((0, 48), (48, 64)))
    torch.manual_seed(0)
    students = [MLPStudent(5, 3, (6,)) for _ in range(2)]
    alone = copy.deepcopy(students[0])
    with torch.no_grad():
        students[1].layers[0].weight.fill_(3e38)  # its outputs overflow: its loss is not finite
    settings = [LossSettings("classifier", 0.5)] * 2
    common = dict(max_epochs=30, batch_size=16, seed=3, patience=3, solver=solver,
                  optimizer=lambda params: torch.optim.Adam(params, lr=0.01))
    epochs, losses = train_side_by_side(students, settings, train, valid, **common)
    assert epochs[1] == 1 and np.isnan(losses[1])  # stopped where a single fit's guard stops
    epochs_alone, losses_alone = train_side_by_side([alone], settings[:1], train, valid, **common)
    assert epochs[0] == epochs_alone[0] and np.isfinite(losses[0])
    np.testing.assert_allclose(losses[0], losses_alone[0], rtol=1e-6)
    for a, b in zip(students[0].parameters(), alone.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_candidates_that_diverge_score_nan_with_a_warning_as_failed_fits():
    from sklearn.exceptions import FitFailedWarning

    estimator = _estimator(lr=1e30)  # every step overflows
    with pytest.warns(FitFailedWarning, match="2 of 2 candidates diverged in training"):
        with pytest.raises(ValueError, match="Training diverged in epoch 1"):  # the refit
            DistillerGridSearchCV(estimator, {"alpha": [0.0, 0.9]}).fit(X, Y)


def test_both_engines_train_the_same_stacked_candidates():
    by_numpy, epochs_numpy, losses_numpy = _trained_side_by_side(True, "numpy")
    by_torch, epochs_torch, losses_torch = _trained_side_by_side(True, "torch")
    assert epochs_numpy == epochs_torch
    np.testing.assert_allclose(losses_numpy, losses_torch, rtol=1e-5)
    for one, other in zip(by_numpy, by_torch):
        for a, b in zip(one.parameters(), other.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


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
        DistillerGridSearchCV(estimator, grid).fit(X, Y)


def test_one_search_is_a_classifier_or_a_regressor_as_its_estimator_is():
    regressor = DistillerGridSearchCV(DistilledRegressor(Ridge(), max_epochs=3), {"alpha": [0.5]})
    classifier = DistillerGridSearchCV(_estimator(), {"alpha": [0.5]})
    assert is_regressor(regressor) and not is_classifier(regressor)
    assert is_classifier(classifier) and hasattr(classifier, "predict_proba")
    assert not hasattr(regressor, "predict_proba") and not hasattr(regressor, "decision_function")
    with pytest.raises(ValueError, match=r"also names \['T'\]"):  # a regressor has no T
        DistillerGridSearchCV(regressor.estimator, {"T": [1.0]}).fit(X, Y.astype(float))


@pytest.mark.parametrize("old, estimator, other", [
    ("DistilledClassifierCV", _estimator(), DistilledRegressor(Ridge())),
    ("DistilledRegressorCV", DistilledRegressor(Ridge(), max_epochs=5, random_state=0),
     _estimator()),
])
def test_the_earlier_names_warn_and_search_as_before(old, estimator, other):
    import skdistill

    y = Y if is_classifier(estimator) else Y.astype(float)
    with pytest.warns(FutureWarning, match=f"{old} is renamed DistillerGridSearchCV"):
        search = getattr(skdistill, old)(estimator, {"alpha": [0.0, 0.5]}, cv=2).fit(X, y)
    renamed = DistillerGridSearchCV(estimator, {"alpha": [0.0, 0.5]}, cv=2).fit(X, y)
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"],
                                  renamed.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(search.predict(X), renamed.predict(X))
    with pytest.warns(FutureWarning), pytest.raises(TypeError, match="needs a Distilled"):
        getattr(skdistill, old)(other, {"alpha": [0.5]}).fit(X, y)


def test_the_estimators_own_width_is_kept_when_the_grid_does_not_search_it():
    ours, theirs = _both(_estimator(module__hidden_layer_sizes=(5,)), {"alpha": [0.0, 0.7]})
    assert ours.side_by_side_
    assert ours.best_estimator_.student_.module_.layers[0].out_features == 5
    for split in range(3):
        np.testing.assert_allclose(
            ours.cv_results_[f"split{split}_test_score"],
            theirs.cv_results_[f"split{split}_test_score"], atol=1 / 100 + 1e-12,
        )


def test_cv_results_have_grid_search_keys_and_candidate_params():
    ours, theirs = _both(_estimator(), {"alpha": [0.0, 0.9], "T": [2.0]})
    assert sorted(ours.cv_results_) == sorted(theirs.cv_results_)
    for name in ("param_alpha", "param_T"):
        assert list(ours.cv_results_[name]) == list(theirs.cv_results_[name])
    assert (ours.cv_results_["mean_fit_time"] > 0).all() and ours.refit_time_ > 0


@pytest.mark.slow  # several seconds: CI's full run has it
def test_scoring_sample_weight_and_two_jobs_reach_every_candidate():
    weights = np.random.RandomState(0).uniform(0.2, 3.0, len(Y))
    grid = {"alpha": [0.0, 0.9], "module__hidden_layer_sizes": [(4,), (12,)]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = DistillerGridSearchCV(_estimator(), grid, scoring="neg_log_loss", n_jobs=2).fit(
            X, Y, sample_weight=weights
        )
        theirs = GridSearchCV(_estimator(), grid, scoring="neg_log_loss", cv=3).fit(
            X, Y, sample_weight=weights
        )
    assert ours.side_by_side_ and ours.best_params_ == theirs.best_params_
    for split in range(3):
        np.testing.assert_allclose(
            ours.cv_results_[f"split{split}_test_score"],
            theirs.cv_results_[f"split{split}_test_score"], rtol=1e-4,
        )
    assert ours.score(X, Y) == pytest.approx(theirs.score(X, Y), rel=1e-4)
    assert ours.scorer_(ours.best_estimator_, X, Y) == ours.score(X, Y)
    assert ours.multimetric_ is theirs.multimetric_ is False


def test_a_pipeline_ending_in_a_distiller_is_searched_side_by_side():
    pipeline = make_pipeline(StandardScaler(), _estimator())
    grid = {"distilledclassifier__alpha": [0.0, 0.9], "distilledclassifier__T": [1.0, 3.0]}
    ours, theirs = _both(pipeline, grid)
    assert ours.side_by_side_ and isinstance(ours.best_estimator_, type(pipeline))
    assert ours.best_params_ == theirs.best_params_
    for split in range(3):
        np.testing.assert_array_equal(
            ours.cv_results_[f"split{split}_test_score"],
            theirs.cv_results_[f"split{split}_test_score"],
        )


@pytest.mark.parametrize("solver", ["auto", "torch"])
def test_regressor_cv_chooses_what_grid_search_chooses(solver, monkeypatch):
    Xr, yr = make_friedman1(n_samples=240, random_state=0)
    estimator = DistilledRegressor(Ridge(), max_epochs=15, random_state=0, solver=solver)
    grid = {"alpha": [0.0, 0.5, 1.0], "module__hidden_layer_sizes": [(4,), (16,)]}
    steps = _count_autograd_steps(monkeypatch)
    ours = DistillerGridSearchCV(estimator, grid).fit(Xr, yr)
    assert bool(steps) == (solver == "torch")  # on the CPU, "auto" stacks in numpy
    theirs = GridSearchCV(estimator, grid, cv=3).fit(Xr, yr)
    assert ours.side_by_side_ and ours.best_params_ == theirs.best_params_
    for split in range(3):
        np.testing.assert_allclose(
            ours.cv_results_[f"split{split}_test_score"],
            theirs.cv_results_[f"split{split}_test_score"], rtol=1e-4, atol=1e-5,
        )
    np.testing.assert_allclose(ours.predict(Xr), theirs.predict(Xr), rtol=1e-5)


@pytest.mark.slow  # several seconds: CI's full run has it
def test_one_by_one_fits_say_why_once():
    estimator = _estimator(optimizer=torch.optim.SGD)
    expected = "cannot train these candidates side by side .*not Adam or AdamW"
    with pytest.warns(UserWarning, match=expected) as seen:
        search = DistillerGridSearchCV(estimator, {"alpha": [0.0, 0.9]}).fit(X, Y)
    assert not search.side_by_side_
    assert sum("side by side" in str(w.message) for w in seen) == 1


@pytest.mark.slow  # several seconds: CI's full run has it
@pytest.mark.parametrize("setting", [{"solver": "torch"}, {"loss": "dkd"}])
def test_candidates_the_torch_engine_trains_go_side_by_side_as_grid_search(setting, monkeypatch):
    """solver="torch", or a loss the numpy engine has no gradient of: the stacked candidates
    train through autograd, and score as GridSearchCV's separate torch fits do."""
    steps = _count_autograd_steps(monkeypatch)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ours = DistillerGridSearchCV(_estimator(**setting), GRID, cv=3).fit(X, Y)
        theirs = GridSearchCV(_estimator(**setting), GRID, cv=3).fit(X, Y)
    assert not any("side by side" in str(warning.message) for warning in seen)
    assert ours.side_by_side_ and ours.best_params_ == theirs.best_params_ and steps
    for split in range(3):
        np.testing.assert_allclose(
            ours.cv_results_[f"split{split}_test_score"],
            theirs.cv_results_[f"split{split}_test_score"], atol=1e-9,
        )


def test_solver_numpy_where_it_cannot_train_is_the_single_fit_s_error():
    with pytest.raises(ValueError, match="solver='numpy' cannot train this student: the soft"):
        DistillerGridSearchCV(_estimator(solver="numpy", loss="dkd"), {"alpha": [0.5]}).fit(X, Y)


def test_invalid_candidates_score_nan_as_in_grid_search():
    from sklearn.exceptions import FitFailedWarning

    grid = {"T": [0.0, 1.0, float("nan")], "alpha": [0.5, float("nan")]}
    with pytest.warns(FitFailedWarning, match="5 of 6 candidates have invalid parameters"):
        ours = DistillerGridSearchCV(_estimator(), grid).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = GridSearchCV(_estimator(), grid, cv=3).fit(X, Y)
    assert ours.side_by_side_
    np.testing.assert_array_equal(
        ours.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(
        ours.cv_results_["rank_test_score"], theirs.cv_results_["rank_test_score"]
    )
    assert ours.best_params_ == {"T": 1.0, "alpha": 0.5}
    with pytest.raises(ValueError, match="Every candidate has invalid parameters"):
        DistillerGridSearchCV(_estimator(), {"T": [0.0]}).fit(X, Y)


def test_fit_parameters_reach_a_pipeline_s_steps_by_name_as_in_grid_search():
    weights = np.where(Y == 0, 3.0, 1.0)
    pipeline = make_pipeline(StandardScaler(), _estimator())
    grid = {"distilledclassifier__alpha": [0.2, 0.9]}
    params = {"distilledclassifier__sample_weight": weights,
              "standardscaler__sample_weight": weights}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = DistillerGridSearchCV(pipeline, grid, cv=3).fit(X, Y, **params)
        theirs = GridSearchCV(pipeline, grid, cv=3).fit(X, Y, **params)
        unweighted = DistillerGridSearchCV(pipeline, grid, cv=3).fit(X, Y)
    assert ours.side_by_side_
    assert ours.best_params_ == theirs.best_params_
    scaler = ours.best_estimator_[0]
    np.testing.assert_allclose(scaler.mean_, np.average(X, axis=0, weights=weights))
    assert not np.allclose(ours.cv_results_["mean_test_score"],
                           unweighted.cv_results_["mean_test_score"])  # the weights were read
    with pytest.raises(TypeError, match="pass distilledclassifier__sample_weight=... rather "
                                        "than sample_weight=..."):
        DistillerGridSearchCV(pipeline, grid, cv=3).fit(X, Y, sample_weight=weights)


def test_several_scorers_are_refused_with_the_way_to_search_them():
    with pytest.raises(ValueError, match=r"chooses by one metric; scoring=\['accuracy', "
                                         r"'f1_macro'\] names several.*refit="):
        DistillerGridSearchCV(_estimator(), {"alpha": [0.2]},
                              scoring=["accuracy", "f1_macro"]).fit(X, Y)


def test_a_group_splitter_takes_groups_as_in_grid_search():
    from sklearn.model_selection import GroupKFold

    groups = np.arange(len(Y)) % 5
    grid = {"alpha": [0.2, 0.9]}
    estimator = _estimator().set_params(max_epochs=3)
    ours = DistillerGridSearchCV(estimator, grid, cv=GroupKFold(5)).fit(X, Y, groups=groups)
    theirs = GridSearchCV(estimator, grid, cv=GroupKFold(5)).fit(X, Y, groups=groups)
    assert ours.side_by_side_ and ours.n_splits_ == 5
    for split in range(5):  # the same folds: the same scores
        np.testing.assert_array_equal(ours.cv_results_[f"split{split}_test_score"],
                                      theirs.cv_results_[f"split{split}_test_score"])
    assert "groups" not in vars(ours.best_estimator_)


def test_a_list_of_grids_is_searched_as_grid_search_searches_it():
    grids = [{"alpha": [0.2, 0.9]}, {"T": [3.0], "alpha": [0.5]}]
    ours, theirs = _both(_estimator().set_params(max_epochs=3), grids)
    assert ours.side_by_side_
    assert ours.cv_results_["params"] == theirs.cv_results_["params"]
    np.testing.assert_array_equal(ours.cv_results_["mean_test_score"],
                                  theirs.cv_results_["mean_test_score"])
    assert list(ours.cv_results_["param_T"].mask) == [True, True, False]


def test_a_pipeline_s_routed_weights_are_scored_as_grid_search_scores_them():
    weights = np.where(Y == 0, 3.0, 1.0)
    pipe = make_pipeline(StandardScaler(), _estimator(student_preprocessor=None).set_params(
        max_epochs=3))
    grid = {"distilledclassifier__alpha": [0.0, 0.7]}
    routed = {"distilledclassifier__sample_weight": weights}  # the fit's, not the scorer's
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = DistillerGridSearchCV(pipe, grid, cv=2).fit(X, Y, **routed)
        theirs = GridSearchCV(pipe, grid, cv=2).fit(X, Y, **routed)
    assert ours.side_by_side_
    for split in range(2):
        np.testing.assert_array_equal(ours.cv_results_[f"split{split}_test_score"],
                                      theirs.cv_results_[f"split{split}_test_score"])


def test_widths_given_as_whole_numbers_are_one_layer_as_in_grid_search():
    grid = {"alpha": [0.2], "module__hidden_layer_sizes": [4, np.int64(12)]}
    ours, theirs = _both(_estimator().set_params(max_epochs=3), grid)
    assert ours.side_by_side_
    np.testing.assert_array_equal(ours.cv_results_["mean_test_score"],
                                  theirs.cv_results_["mean_test_score"])
    assert ours.best_params_ == theirs.best_params_
    width = ours.best_params_["module__hidden_layer_sizes"]
    assert ours.best_estimator_.student_.module_.layers[0].out_features == width


def test_a_width_that_cannot_be_built_scores_nan_as_in_grid_search():
    from sklearn.exceptions import FitFailedWarning

    grid = {"alpha": [0.2, 0.9], "module__hidden_layer_sizes": [(8,), (0,)]}
    estimator = _estimator().set_params(max_epochs=3)
    with pytest.warns(FitFailedWarning, match=r"2 of 4 candidates score NaN.*cannot be built\. "
                                              r"hidden_layer_sizes=\(0,\): The student_module"):
        ours = DistillerGridSearchCV(estimator, grid).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = GridSearchCV(estimator, grid, cv=3).fit(X, Y)
    assert ours.side_by_side_
    np.testing.assert_array_equal(ours.cv_results_["mean_test_score"],
                                  theirs.cv_results_["mean_test_score"])
    assert np.isnan(ours.cv_results_["mean_test_score"][[1, 3]]).all()
    assert ours.best_params_ == theirs.best_params_
    with pytest.raises(ValueError, match=r"No candidate's student can be built\. "
                                         r"hidden_layer_sizes=\(0,\)"):
        DistillerGridSearchCV(estimator, {"module__hidden_layer_sizes": [(0,)]}).fit(X, Y)


def _balanced_accuracy(model, X, y):  # a scorer that takes no weights
    from sklearn.metrics import balanced_accuracy_score

    return balanced_accuracy_score(y, model.predict(X))


@pytest.mark.parametrize("transfer", [False, True], ids=["side by side", "one by one"])
def test_a_scorer_without_weights_scores_unweighted_as_in_grid_search(transfer):
    from skdistill import Munge

    weights = np.random.RandomState(0).uniform(0.2, 3.0, len(Y))
    estimator = _estimator().set_params(max_epochs=3)
    if transfer:  # a transfer set: the candidates go one by one, through GridSearchCV
        estimator.set_params(transfer_set=Munge(n_copies=1, random_state=0))
    grid = {"alpha": [0.0, 0.6]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = DistillerGridSearchCV(estimator, grid, scoring=_balanced_accuracy).fit(
            X, Y, sample_weight=weights)
    unweighted = [str(w.message) for w in caught if "does not support sample_weight" in
                  str(w.message)]
    assert len(unweighted) == 1 and "_balanced_accuracy" in unweighted[0]  # once, by name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = GridSearchCV(estimator, grid, scoring=_balanced_accuracy, cv=3).fit(
            X, Y, sample_weight=weights)
    assert ours.side_by_side_ is not transfer
    assert not np.isnan(ours.cv_results_["mean_test_score"]).any()
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"],
                               theirs.cv_results_["mean_test_score"], rtol=1e-6)


def test_metadata_routing_sends_weights_where_they_are_requested_as_in_grid_search():
    import sklearn

    weights = np.random.RandomState(0).uniform(0.2, 3.0, len(Y)) ** 3
    grid = {"alpha": [0.0, 0.6]}
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = {}
        for fit_request, score_request in ((True, True), (True, False), (False, True)):
            estimator = _estimator().set_params(max_epochs=3).set_fit_request(
                sample_weight=fit_request).set_score_request(sample_weight=score_request)
            ours = DistillerGridSearchCV(estimator, grid).fit(X, Y, sample_weight=weights)
            theirs = GridSearchCV(estimator, grid, cv=3).fit(X, Y, sample_weight=weights)
            assert ours.side_by_side_
            for split in range(3):
                np.testing.assert_allclose(ours.cv_results_[f"split{split}_test_score"],
                                           theirs.cv_results_[f"split{split}_test_score"],
                                           rtol=1e-6)
            scores[fit_request, score_request] = ours.cv_results_["mean_test_score"]
        assert not np.allclose(scores[True, True], scores[True, False])  # weighted scores
        assert not np.allclose(scores[True, False], scores[False, True])  # weighted fits
        neither = _estimator().set_params(max_epochs=3).set_fit_request(
            sample_weight=False).set_score_request(sample_weight=False)
        with pytest.raises(TypeError, match=r"unexpected argument\(s\) \{'sample_weight'\}, "
                                            "which are not routed to any object"):
            DistillerGridSearchCV(neither, grid).fit(X, Y, sample_weight=weights)


def test_metadata_routing_reaches_a_pipeline_s_steps_as_in_grid_search():
    import sklearn

    weights = np.where(Y == 0, 3.0, 1.0)
    grid = {"distilledclassifier__alpha": [0.0, 0.6]}
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline = make_pipeline(StandardScaler().set_fit_request(sample_weight=True),
                                 _estimator().set_params(max_epochs=3).set_fit_request(
                                     sample_weight=True).set_score_request(sample_weight=True))
        ours = DistillerGridSearchCV(pipeline, grid).fit(X, Y, sample_weight=weights)
        theirs = GridSearchCV(pipeline, grid, cv=3).fit(X, Y, sample_weight=weights)
        unweighted = DistillerGridSearchCV(pipeline, grid).fit(X, Y)
    assert ours.side_by_side_
    for split in range(3):
        np.testing.assert_allclose(ours.cv_results_[f"split{split}_test_score"],
                                   theirs.cv_results_[f"split{split}_test_score"], rtol=1e-6)
    assert not np.allclose(ours.cv_results_["mean_test_score"],
                           unweighted.cv_results_["mean_test_score"])
    np.testing.assert_allclose(ours.best_estimator_[0].mean_,
                               np.average(X, axis=0, weights=weights))
