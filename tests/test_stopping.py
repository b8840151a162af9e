"""Early stopping fair to every temperature: the held-out labels' loss after temperature scaling."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback

from skdistill import DistilledClassifier, DistillerGridSearchCV
from skdistill.losses._calibrated import calibrated_label_loss
from skdistill.losses._settings import LossSettings
from skdistill.training._early_stopping import monitored_loss


def cross_entropy(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))


def test_the_calibrated_loss_ignores_the_scale_of_the_logits_and_never_exceeds_the_raw_one():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(300, 4)) * 3
    y = np.where(rng.random(300) < 0.7, logits.argmax(axis=1), rng.integers(0, 4, 300))
    best = calibrated_label_loss(logits, y)
    for scale in (0.05, 0.5, 2.0, 20.0):
        assert calibrated_label_loss(logits * scale, y) == pytest.approx(best, abs=1e-9)
        assert best <= cross_entropy(logits * scale, y) + 1e-12
    grid = min(cross_entropy(logits * s, y) for s in np.linspace(0.01, 3, 3000))
    assert best == pytest.approx(grid, abs=1e-6)  # the minimum over scales


def test_weights_and_unlabelled_rows_count_as_in_the_label_loss():
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0], [5.0, -5.0]])
    y = np.array([0, 1, 1, -1])  # the last row is unlabelled
    weighted = calibrated_label_loss(logits, y, sample_weight=np.array([2.0, 1.0, 1.0, 9.0]))
    repeated = calibrated_label_loss(logits[[0, 0, 1, 2]], y[[0, 0, 1, 2]])
    assert weighted == pytest.approx(repeated, abs=1e-9)
    assert np.isnan(calibrated_label_loss(np.array([[np.inf, 0.0]]), np.array([0])))


def test_the_monitored_loss_follows_the_temperature():
    assert monitored_loss(LossSettings("classifier", 0.5, T=1.0)) == "valid_label_loss"
    calibrated = LossSettings("classifier", 0.5, T=2.0, loss="dkd")
    assert monitored_loss(calibrated) == "valid_calibrated_loss"
    assert monitored_loss(LossSettings("regressor", 0.5, T=2.0)) == "valid_label_loss"


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def test_at_t_above_one_the_best_calibrated_epoch_is_kept(digits):
    X, y = digits
    clf = DistilledClassifier(RandomForestClassifier(30, random_state=0), T=4.0, max_epochs=60,
                              n_iter_no_change=5, student_preprocessor=None, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    history = clf.student_.history
    watched = [epoch["valid_calibrated_loss"] for epoch in history]
    best = int(np.argmin(watched))
    assert len(history) < 60 and len(history) - 1 - best == 5  # stopped 5 epochs after its best
    flags = [epoch["valid_calibrated_loss_best"] for epoch in history]  # for a Checkpoint
    assert flags[0] and flags[best] and not any(flags[best + 1:])
    one = DistilledClassifier(RandomForestClassifier(30, random_state=0), T=1.0, max_epochs=3,
                              student_preprocessor=None, random_state=0).fit(X, y)
    assert "valid_calibrated_loss" not in one.student_.history[-1]


@pytest.mark.slow  # over 5 s
def test_side_by_side_candidates_stop_as_single_fits_at_every_temperature(digits):
    X, y = digits
    base = DistilledClassifier(RandomForestClassifier(30, random_state=0), max_epochs=40,
                               student_preprocessor=None, random_state=0)
    grid = {"T": [1.0, 4.0], "alpha": [0.5, 0.9]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = GridSearchCV(base, grid, cv=3).fit(X, y)
        stacked = DistillerGridSearchCV(base, param_grid=grid, cv=3).fit(X, y)
    np.testing.assert_array_equal(
        stacked.cv_results_["mean_test_score"], single.cv_results_["mean_test_score"]
    )


@pytest.mark.parametrize("solver", ["numpy", "torch"])
def test_the_kept_epoch_is_the_one_early_stopping_restored(solver):
    from sklearn.datasets import load_breast_cancer

    from skdistill.training._early_stopping import kept_epoch

    X, y = load_breast_cancer(return_X_y=True)
    for seed in range(3):
        clf = DistilledClassifier("precomputed", alpha=0.5, student_preprocessor=None, lr=0.03,
                                  solver=solver, random_state=seed)
        clf.fit(X, y, teacher_proba=np.eye(2)[y] * 0.8 + 0.1)
        stopping = dict(clf.student_.callbacks_)["early_stopping"]
        assert kept_epoch(clf.student_)["epoch"] == stopping.best_epoch_ < clf.n_iter_


class EpochEndWeights(Callback):
    """Each epoch's weights after its last training batch (the weights it validated), and the
    held-out rows."""

    def on_train_begin(self, net, **kwargs):
        self.weights_ = {}

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.weights_[len(net.history)] = {
                name: value.detach().clone() for name, value in net.module_.state_dict().items()
            }

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        self.valid_ = dataset_valid


def _recorded_fit(seed, **params):
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    params = {"callbacks": [("weights", EpochEndWeights())], **params}
    clf = DistilledClassifier(
        "precomputed", alpha=0.5, student_preprocessor=None, lr=0.03, solver="torch",
        random_state=seed, **params,
    ).fit(X, y, teacher_proba=np.eye(2)[y] * 0.8 + 0.1)
    return clf, dict(clf.student_.callbacks_)["weights"]


def _mean_state(recorded, epochs):
    return {name: sum(recorded[epoch][name] for epoch in epochs) / len(epochs)
            for name in recorded[epochs[0]]}


def test_the_mean_of_the_best_and_later_epochs_is_kept_and_scored():
    from skdistill.training._early_stopping import kept_epoch, kept_held_out_loss

    clf, record = _recorded_fit(0)
    net, history = clf.student_, clf.student_.history
    losses = [epoch["valid_label_loss"] for epoch in history]
    best = int(np.argmin(losses)) + 1
    assert clf.n_iter_ - best == 10  # stopped by the default patience
    mean = _mean_state(record.weights_, list(range(best, clf.n_iter_ + 1)))
    kept = {name: value.clone() for name, value in net.module_.state_dict().items()}
    for name, value in kept.items():
        torch.testing.assert_close(value, mean[name], rtol=1e-6, atol=1e-7)
    assert not torch.equal(kept["layers.0.weight"], record.weights_[best]["layers.0.weight"])
    # the fit's choices read the figures of the weights it keeps, the best epoch's row otherwise
    net.module_.load_state_dict(record.weights_[best])
    best_figures = net.held_out_figures(record.valid_)
    assert best_figures["valid_label_loss"] == pytest.approx(losses[best - 1], rel=1e-6)
    assert best_figures["valid_acc"] == pytest.approx(history[best - 1]["valid_acc"])
    net.module_.load_state_dict(kept)
    figures = net.held_out_figures(record.valid_)
    assert figures["valid_label_loss"] != pytest.approx(losses[best - 1], rel=1e-6)
    assert kept_epoch(net) == {**history[best - 1], **figures}
    assert kept_held_out_loss(net) == figures["valid_label_loss"]
    stopping = dict(net.callbacks_)["early_stopping"]
    assert stopping.summed_weights_ is None  # no second copy of the weights in a pickle


def test_average_false_keeps_the_best_epoch_s_weights():
    clf, record = _recorded_fit(0, callbacks__early_stopping__average=False)
    losses = [epoch["valid_label_loss"] for epoch in clf.student_.history]
    best = int(np.argmin(losses)) + 1
    assert best < clf.n_iter_
    for name, value in clf.student_.module_.state_dict().items():
        assert torch.equal(value, record.weights_[best][name])


def test_after_ctrl_c_with_early_stopping_the_last_completed_epoch_stays():
    from skdistill.training._early_stopping import kept_epoch

    class InterruptAtEpochEnd(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 12:
                raise KeyboardInterrupt

    with pytest.warns(UserWarning, match="holds the weights of epoch 12, the last completed"):
        clf, record = _recorded_fit(0, callbacks=[
            ("weights", EpochEndWeights()), ("interrupt", InterruptAtEpochEnd())])
    best = kept_epoch(clf.student_)["epoch"]
    assert best < clf.n_iter_ == 12
    for name, value in clf.student_.module_.state_dict().items():
        assert torch.equal(value, record.weights_[12][name])  # as the warning says
    assert not dict(clf.student_.callbacks_)["early_stopping"].averaged_


@pytest.mark.parametrize("T", [1.0, 2.0])
def test_held_out_figures_are_those_an_epoch_logs(T):
    """Recomputed for the weights of an epoch, as the numpy engine logged them each epoch."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    class LastWeights(Callback):
        def on_epoch_end(self, net, dataset_valid=None, **kwargs):
            self.valid_ = dataset_valid
            self.weights_ = {k: v.clone() for k, v in net.module_.state_dict().items()}

    X, y = load_breast_cancer(return_X_y=True)
    clf = DistilledClassifier(
        "precomputed", T=T, max_epochs=4, n_iter_no_change=None, student_preprocessor=None,
        solver="numpy", random_state=0, callbacks=[("last", LastWeights())],
    ).fit(StandardScaler().fit_transform(X), y, teacher_proba=np.eye(2)[y] * 0.8 + 0.1)
    last = dict(clf.student_.callbacks_)["last"]
    figures = clf.student_.held_out_figures(last.valid_)
    logged = clf.student_.history[-1]
    assert set(figures) == {"valid_label_loss", "valid_acc"} | (
        {"valid_calibrated_loss"} if T != 1 else set())
    for key, value in figures.items():
        assert value == pytest.approx(logged[key], rel=1e-5)
