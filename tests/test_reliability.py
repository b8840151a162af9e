"""Teacher faults, exploding training, interrupted training and checkpoints."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from skorch.callbacks import Callback, Checkpoint

from conftest import make_fast, rng_data

X, Y = rng_data(n=120)


class FaultyTeacher(LogisticRegression):
    """A teacher whose predict_proba can be broken in the ways real teachers break."""

    def __init__(self, fault="none", C=1.0):
        super().__init__(C=C)
        self.fault = fault

    def fit(self, X, y, **kwargs):
        if self.fault == "fit raises":
            raise MemoryError("teacher ran out of memory")
        return super().fit(X, y, **kwargs)

    def predict_proba(self, X):
        proba = super().predict_proba(X)
        if self.fault == "nan":
            proba[0, 0] = np.nan
        elif self.fault == "not normalised":
            proba = proba * 0.5
        elif self.fault == "columns":
            proba = proba[:, :2]
        return proba


@pytest.mark.parametrize(
    "fault, error, message",
    [
        ("fit raises", MemoryError, "teacher ran out of memory"),
        ("nan", ValueError, r"FaultyTeacher.predict_proba holds NaN or infinite values"),
        ("not normalised", ValueError, "not probability distributions"),
        ("columns", ValueError, r"shape \(120, 2\); expected \(120, 3\)"),
    ],
)
def test_teacher_faults_are_clear_errors_and_leave_nothing_fitted(fault, error, message):
    clf = make_fast(teacher=FaultyTeacher(fault))
    with pytest.raises(error, match=message):
        clf.fit(X, Y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_exploding_training_is_detected_with_advice():
    clf = make_fast(optimizer=torch.optim.SGD, lr=1e12, max_epochs=5)
    message = (
        r"Training diverged in epoch \d+: (train|valid)_loss became (nan|inf)\. "
        r"Lower the learning rate \(lr=1e\+12\), standardise the features"
    )
    with pytest.raises(ValueError, match=message):
        clf.fit(X, Y)
    with pytest.raises(NotFittedError):
        clf.predict_proba(X)


class CubeStudent(torch.nn.Module):
    """A student whose outputs overflow float32 for inputs far outside the training range."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)

    def forward(self, X):
        return self.linear(X**3)


def test_outputs_that_overflow_at_predict_are_an_error_not_nan():
    clf = make_fast(student_module=CubeStudent, max_epochs=2).fit(X, Y)
    X_bad = X.copy()
    X_bad[3] = 1e20  # cubed: beyond float32
    with pytest.raises(ValueError, match=r"not finite for 1 of 120 rows \(first: row 3\).*1e\+20"):
        clf.predict_proba(X_bad)
    big_but_fine = X.copy()
    big_but_fine[3] = 1e12  # the default MLP is linear in its input: finite, one-hot
    proba = make_fast(max_epochs=2).fit(X, Y).predict_proba(big_but_fine)
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0)


class InterruptAt(Callback):
    """Simulate Ctrl-C in the given epoch, after a few training batches."""

    def __init__(self, epoch, batch=2):
        self.epoch = epoch
        self.batch = batch

    def on_epoch_begin(self, net, **kwargs):
        self.batches_ = 0

    def on_batch_end(self, net, training=False, **kwargs):
        self.batches_ += training
        if len(net.history) == self.epoch and self.batches_ == self.batch:
            raise KeyboardInterrupt


class RecordWeights(Callback):
    def on_epoch_end(self, net, **kwargs):
        self.weights_ = {k: v.clone() for k, v in net.module_.state_dict().items()}


def test_ctrl_c_keeps_the_last_completed_epoch_and_warm_start_continues():
    clf = make_fast(
        max_epochs=10, batch_size=16, n_iter_no_change=None, warm_start=True,
        callbacks=[("record", RecordWeights()), ("interrupt", InterruptAt(epoch=3))],
    )
    with pytest.warns(UserWarning, match="interrupted; the student holds the weights of epoch 2"):
        clf.fit(X, Y)
    history = clf.student_.history
    record = dict(clf.student_.callbacks_)["record"]  # the fitted net's own copy
    assert len(history) == 2 and "train_loss" in history[-1]
    for name, value in clf.student_.module_.state_dict().items():
        assert torch.equal(value, record.weights_[name])  # not a half-updated epoch 3
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()

    clf.set_params(max_epochs=3)
    net = clf.student_
    # warm start reuses the net: its own callbacks, without the interrupt, go on
    net.callbacks_ = [(n, cb) for n, cb in net.callbacks_ if n != "interrupt"]
    clf.fit(X, Y)
    assert clf.student_ is net and len(net.history) == 5


def test_ctrl_c_before_the_first_epoch_aborts_the_fit():
    clf = make_fast(callbacks=[InterruptAt(epoch=1)], batch_size=16)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, Y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_early_stopping_is_not_mistaken_for_ctrl_c(recwarn):
    clf = make_fast(max_epochs=300, n_iter_no_change=2, lr=0.05).fit(X, Y)
    assert len(clf.student_.history) < 300
    assert not [w for w in recwarn if "interrupted" in str(w.message)]


def test_checkpoint_restores_the_best_epoch_after_an_interrupt(tmp_path):
    checkpoint = Checkpoint(monitor="valid_loss_best", dirname=str(tmp_path), f_history=None)

    class RecordBest(Callback):
        def on_epoch_end(self, net, **kwargs):
            if net.history[-1, "valid_loss_best"]:
                self.best_ = {k: v.clone() for k, v in net.module_.state_dict().items()}

    clf = make_fast(
        max_epochs=20, batch_size=16, n_iter_no_change=None, lr=0.2,
        callbacks=[checkpoint, ("best", RecordBest()), InterruptAt(epoch=8)],
    )
    with pytest.warns(UserWarning, match="interrupted"):
        clf.fit(X, Y)
    best = dict(clf.student_.callbacks_)["best"]
    clf.student_.load_params(checkpoint=checkpoint)
    for name, value in clf.student_.module_.state_dict().items():
        assert torch.equal(value, best.best_[name])
    assert np.isfinite(clf.predict_proba(X)).all()
