"""DistilledRegressor: same standards as the classifier."""

import numpy as np
import pytest
from conftest import predict_in_fresh_process
from sklearn.cluster import KMeans
from sklearn.datasets import make_friedman1, make_regression
from sklearn.ensemble import IsolationForest, RandomForestRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledRegressor, Munge


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=300, random_state=0)
    return X, y * 100 + 5000  # far from zero mean / unit scale: standardisation matters


def fast_reg(teacher=None, **params):
    defaults = dict(max_epochs=40, lr=0.01, random_state=0, module__hidden_layer_sizes=(16,))
    defaults.update(params)
    return DistilledRegressor(teacher if teacher is not None else Ridge(), **defaults)


def test_fit_predict_score_in_original_units(friedman):
    X, y = friedman
    reg = fast_reg().fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (300,) and pred.dtype == np.float64
    assert abs(pred.mean() - y.mean()) < 0.1 * y.std()
    assert reg.score(X, y) > 0.6
    assert reg.target_mean_ == pytest.approx(y.mean()) and reg.target_scale_ == pytest.approx(y.std())


def test_alpha_one_imitates_the_teacher(friedman):
    X, y = friedman
    teacher = Ridge().fit(X, y)
    reg = fast_reg(FrozenEstimator(teacher), alpha=1.0, max_epochs=150).fit(X, y)
    teacher_pred = teacher.predict(X)
    assert np.corrcoef(reg.predict(X), teacher_pred)[0, 1] > 0.99


def test_early_stopping_watches_the_squared_error_against_the_targets(friedman):
    X, y = friedman
    hard = fast_reg(alpha=0.0, max_epochs=5).fit(X, y).student_.history
    assert hard[:, "valid_label_loss"] == hard[:, "valid_loss"]
    # a teacher predicting the negated targets: imitation lowers valid_loss, not the labels' error
    reg = fast_reg("precomputed", alpha=0.9, max_epochs=200, n_iter_no_change=5)
    with pytest.warns(UserWarning, match="no better than chance"):
        history = reg.fit(X, y, teacher_predictions=2 * y.mean() - y).student_.history
    best = int(np.argmin(history[:, "valid_label_loss"]))
    assert len(history) == best + 1 + 5 < 200
    assert history[-1, "valid_loss"] < history[best, "valid_loss"]


@pytest.mark.slow
def test_pipeline_grid_search_two_jobs_and_pickle(friedman, tmp_path):
    X, y = friedman
    pipe = make_pipeline(StandardScaler(), fast_reg(RandomForestRegressor(20, random_state=0)))
    search = GridSearchCV(
        pipe,
        {"distilledregressor__alpha": [0.0, 0.8], "distilledregressor__module__hidden_layer_sizes": [(8,), (16,)]},
        cv=3,
        n_jobs=2,
    ).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    model = search.best_estimator_
    fresh = predict_in_fresh_process(model, "predict", X, tmp_path)
    np.testing.assert_array_equal(fresh, model.predict(X))


def test_munge_and_precomputed(friedman):
    X, y = friedman
    munged = fast_reg(transfer_set=Munge(n_copies=2), batch_size=5, max_epochs=1, n_iter_no_change=None)
    munged.fit(X, y)
    assert munged.student_.history[-1, "train_batch_count"] == 3 * 270 // 5
    teacher_pred = Ridge().fit(X, y).predict(X)
    reg = fast_reg("precomputed", alpha=1.0, max_epochs=150).fit(X, y, teacher_predictions=teacher_pred)
    assert reg.teacher_ is None
    assert np.corrcoef(reg.predict(X), teacher_pred)[0, 1] > 0.99
    with pytest.raises(ValueError, match=r"teacher_predictions has shape \(3,\)"):
        fast_reg("precomputed").fit(X, y, teacher_predictions=teacher_pred[:3])


@pytest.mark.parametrize(
    "y_bad, message",
    [
        (np.full(300, np.inf), "infinity"),
        (np.array(["a"] * 300, dtype=object), "numeric"),
    ],
)
def test_bad_targets(friedman, y_bad, message):
    X, _ = friedman
    with pytest.raises(ValueError, match=message):
        fast_reg().fit(X, y_bad)


def test_classifier_teacher_for_a_regressor_is_rejected(friedman):
    X, y = friedman

    class NoPredict:
        def fit(self, X, y):
            return self

    with pytest.raises(TypeError, match="no predict method"):
        fast_reg(NoPredict()).fit(X, y)


@pytest.mark.parametrize("teacher, kind", [
    (lambda X, y: LogisticRegression(), "a classifier"),
    (lambda X, y: FrozenEstimator(LogisticRegression().fit(X, y > np.median(y))), "a classifier"),
    (lambda X, y: make_pipeline(StandardScaler(), LogisticRegression()), "a classifier"),
    (lambda X, y: KMeans(2, n_init=1), "a clusterer"),
    (lambda X, y: IsolationForest(), "an outlier detector"),
], ids=["classifier", "frozen", "pipeline", "clusterer", "outlier-detector"])
def test_a_teacher_whose_predict_gives_labels_is_refused_by_its_kind(friedman, teacher, kind):
    X, y = friedman
    with pytest.raises(TypeError, match=f"is {kind}: its predict gives labels"):
        fast_reg(teacher(X, y)).fit(X, y)


@pytest.mark.parametrize("scale", [1e40, 1e155, 1e-170])
def test_targets_of_extreme_scale_fit_as_their_unit_scaled_twin(scale):
    X, y = make_regression(200, 4, noise=1.0, random_state=0)

    def fit(targets):
        return DistilledRegressor(Ridge(), max_epochs=20, random_state=0).fit(X, targets)

    reference, scaled = fit(y), fit(y * scale)
    predictions = scaled.predict(X)
    assert np.isfinite(predictions).all()
    np.testing.assert_allclose(predictions / scale, reference.predict(X), rtol=1e-5, atol=1e-4)
    assert scaled.target_scale_ == pytest.approx(reference.target_scale_ * scale, rel=1e-9)


def test_validation_scores_are_the_held_out_r2_of_each_epoch():
    from sklearn.metrics import r2_score

    from skdistill import strip_teacher

    X, y = make_regression(300, 5, noise=10.0, random_state=0)
    model = DistilledRegressor(Ridge(), max_epochs=6, n_iter_no_change=None, random_state=0,
                               student_preprocessor=None).fit(X, y)
    held_out = model.fit_teacher(X, y).valid_idx
    assert len(model.validation_scores_) == model.n_iter_ == 6
    assert model.validation_scores_[-1] == pytest.approx(
        r2_score(y[held_out], model.predict(X[held_out])), abs=1e-6)
    assert strip_teacher(model).validation_scores_ == model.validation_scores_
    unvalidated = DistilledRegressor(Ridge(), max_epochs=2, validation_fraction=None).fit(X, y)
    assert unvalidated.validation_scores_ is None


def test_a_warm_start_that_turns_validation_on_keeps_scores_aligned_and_plots(tmp_path):
    pytest.importorskip("matplotlib")
    from skdistill import plot_history

    X, y = make_regression(300, 5, noise=10.0, random_state=0)
    model = DistilledRegressor(Ridge(), max_epochs=3, warm_start=True, validation_fraction=None,
                               random_state=0).fit(X, y)
    model.set_params(validation_fraction=0.2).fit(X, y)
    scores = model.validation_scores_
    assert model.n_iter_ == len(scores) == len(model.loss_curve_) == 6
    assert np.isnan(scores[:3]).all() and np.isfinite(scores[3:]).all()
    figure = plot_history(model, tmp_path / "history.png")
    lines = {line.get_label(): line for axes in figure.axes for line in axes.get_lines()}
    assert list(lines["train_loss"].get_xdata()) == [1, 2, 3, 4, 5, 6]
    assert list(lines["valid_loss"].get_xdata()) == list(lines["valid_r2"].get_xdata()) == [
        4, 5, 6]


def test_skorch_scoring_callbacks_score_a_regressor_on_its_standardised_targets(friedman):
    from skorch.callbacks import EpochScoring

    X, y = friedman
    reg = fast_reg(
        max_epochs=3, n_iter_no_change=None,
        callbacks=[EpochScoring("neg_mean_squared_error", lower_is_better=False, name="mse")],
    ).fit(X, y)
    for epoch in reg.student_.history:  # the labels-only loss is the MSE of the scaled targets
        assert -epoch["mse"] == pytest.approx(epoch["valid_label_loss"], rel=1e-4)
