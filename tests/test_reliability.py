"""Teacher faults, exploding training, interrupted training and checkpoints."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from conftest import make_fast, rng_data
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from skorch.callbacks import Callback, Checkpoint

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
        r"Lower the learning rate \(lr=1e\+12\), let the student read standardised features "
        r"\(student_preprocessor='auto', the default, or a scaler as student_preprocessor"
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
    overflow = r"not finite for 1 of 120 rows \(first: row 3\).*: [0-9.]+e\+20"  # encoded
    with pytest.raises(ValueError, match=overflow):
        clf.predict_proba(X_bad)
    few = r"not finite for 1 of 3 rows \(first: row 1\).*: [0-9.]+e\+20"  # one padded tile
    with pytest.raises(ValueError, match=few):
        clf.predict_proba(X_bad[2:5])
    sparse = make_fast(student_module=CubeStudent, student_preprocessor=None,
                       max_epochs=2).fit(sp.csr_matrix(X), Y)
    with pytest.raises(ValueError, match=few):  # sparse rows: the same message
        sparse.predict_proba(sp.csr_matrix(X_bad[2:5]))
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

    # warm start continues from epoch 2 with the current settings: no interrupt now
    clf.set_params(max_epochs=3, callbacks=[("record", RecordWeights())])
    clf.fit(X, Y)
    assert len(clf.student_.history) == 5 and clf.n_iter_ == 5


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
    checkpoint = Checkpoint(monitor="valid_label_loss_best", dirname=str(tmp_path), f_history=None)

    class RecordBest(Callback):
        def on_epoch_end(self, net, **kwargs):
            if net.history[-1, "valid_label_loss_best"]:
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



def test_a_checkpoint_holds_the_kept_student_when_the_fit_trains_several(tmp_path):
    import copy

    checkpoint = Checkpoint(monitor="valid_label_loss_best", dirname=str(tmp_path), f_history=None)
    clf = make_fast(max_epochs=4, alpha="auto", callbacks=[checkpoint])  # twin, encodings
    clf.fit(X, Y)
    assert len(clf.student_encoding_losses_) == 2 and len(clf.alpha_scores_) == 2
    expected = clf.predict_proba(X)
    restored = copy.deepcopy(clf)
    restored.student_.load_params(checkpoint=checkpoint)  # not the last student trained
    np.testing.assert_array_equal(restored.predict_proba(X), expected)

# --- round 2: silent failures made loud --------------------------------------------------


def test_zero_training_steps_are_refused():
    clf = make_fast(batch_size=500, iterator_train__drop_last=True)
    with pytest.raises(ValueError, match="drop_last=True with batch_size=500 above the 108"):
        clf.fit(X, Y)
    assert not hasattr(clf, "student_")


class InterruptAtEpochEnd(Callback):
    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            raise KeyboardInterrupt


def test_ctrl_c_in_a_callbacks_epoch_end_is_not_early_stopping():
    clf = make_fast(max_epochs=8, callbacks=[InterruptAtEpochEnd()], n_iter_no_change=None)
    with pytest.warns(UserWarning, match="interrupted; the student holds the weights of epoch 2"):
        clf.fit(X, Y)
    assert clf.n_iter_ == 2


class InPlaceTeacher(LogisticRegression):
    """A careless teacher: scales its input in place."""

    def fit(self, X, y, **kw):
        X *= 0.0
        return super().fit(X, y, **kw)


class ViewRecorder(LogisticRegression):
    seen = []

    def fit(self, X, y, **kw):
        type(self).seen.append(X)
        return super().fit(X, y, **kw)


def test_the_teacher_never_changes_the_callers_data_and_costs_no_copy():
    data = X.copy()
    with pytest.raises(ValueError, match="read-only") as info:
        make_fast(InPlaceTeacher(), max_epochs=1).fit(data, Y)
    assert any("read-only view of X" in note for note in info.value.__notes__)
    np.testing.assert_array_equal(data, X)
    ViewRecorder.seen = []
    make_fast(ViewRecorder(), max_epochs=1).fit(data, Y)
    (seen,) = ViewRecorder.seen
    assert np.shares_memory(seen, data) and not seen.flags.writeable  # a view: zero bytes copied


def test_a_teacher_writing_into_a_frame_leaves_the_callers_frame_alone():
    import pandas as pd

    class FrameWriter(LogisticRegression):
        def fit(self, X, y, **kw):
            X.iloc[:, 0] = 0.0
            return super().fit(X, y, **kw)

    frame = pd.DataFrame(X, columns=list("abcd"))
    make_fast(FrameWriter(), max_epochs=1).fit(frame, Y)
    np.testing.assert_array_equal(frame.to_numpy(), X)


class WrongShapeInTraining(torch.nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)

    def forward(self, X):
        out = self.linear(X)
        return out[:, :1] if self.training else out


class NoParameters(torch.nn.Module):
    def forward(self, X):
        return X[:, :3]


class IntegerOutputs(torch.nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)

    def forward(self, X):
        return self.linear(X).round().long()


class TupleOutputInTraining(WrongShapeInTraining):
    def forward(self, X):
        out = self.linear(X)
        return (out, out) if self.training else out


class WithBatchNorm(torch.nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(n_features, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, n_classes)
        )

    def forward(self, X):
        return self.net(X)


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(student_module=WrongShapeInTraining), r"WrongShapeInTraining returned outputs of shape \(16, 1\) for a training batch"),
        (dict(student_module=NoParameters), "NoParameters has no trainable parameters"),
        (dict(student_module=IntegerOutputs), "IntegerOutputs returns torch.int64 outputs"),
        (dict(student_module=TupleOutputInTraining), "TupleOutputInTraining returned a tuple in training"),
        (dict(student_module=WithBatchNorm, batch_size=107), "BatchNorm layers.*one row"),
        (dict(optimizer__weight_decay=-1), r"optimizer Adam rejects the settings .*weight_decay.*-1"),
    ],
)
def test_odd_students_and_optimizer_values_are_named_before_torch_fails(params, message):
    clf = make_fast(**{"batch_size": 16, "max_epochs": 2, **params})
    with pytest.raises(ValueError, match=message) as info:
        clf.fit(X, Y)
    assert "torch" not in info.traceback[-1].path.parts
    assert not hasattr(clf, "student_")
    if params.get("student_module") is WithBatchNorm:  # the advice works
        clf.set_params(iterator_train__drop_last=True).fit(X, Y)


def test_routed_parameters_nothing_consumes_are_refused():
    from sklearn.linear_model import Ridge

    from skdistill import DistilledRegressor

    with pytest.raises(TypeError, match=r"'loss__alpha' \(did you mean 'alpha'\?\); nothing in it would use them"):
        DistilledRegressor(Ridge(), loss__alpha=1.0).fit(X, Y.astype(float))
    with pytest.raises(ValueError, match="loss__nckd_weight is not a parameter of the loss hinton_kd_loss"):
        make_fast(loss__nckd_weight=2.0).fit(X, Y)
    make_fast(loss="dkd", loss__nckd_weight=2.0, max_epochs=1).fit(X, Y)


def test_ctrl_c_during_training_skips_the_pruning():
    from skdistill import Pruning

    clf = make_fast(
        max_epochs=10, batch_size=16, n_iter_no_change=None, module__hidden_layer_sizes=(16,),
        pruning=Pruning(amount=0.5, fine_tune_epochs=5), callbacks=[InterruptAt(epoch=3)],
    )
    with pytest.warns(UserWarning, match="interrupted; the student holds the weights of epoch 2"):
        clf.fit(X, Y)
    assert len(clf.student_.history) == 2  # no fine-tuning epochs after the interrupt
    assert clf.student_.module_.layers[0].out_features == 16 and "pruning_" not in vars(clf)


class InterruptFineTuning(Callback):
    """Ctrl-C in the first batch of the first fine-tuning epoch (after ``trained`` epochs)."""

    def __init__(self, trained):
        self.trained = trained

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) == self.trained + 1:
            raise KeyboardInterrupt


def test_ctrl_c_in_the_first_fine_tuning_epoch_keeps_the_trained_student():
    from skdistill import Pruning

    clf = make_fast(
        max_epochs=4, batch_size=16, n_iter_no_change=None, module__hidden_layer_sizes=(16,),
        pruning=Pruning(amount=0.5, fine_tune_epochs=3), callbacks=[InterruptFineTuning(4)],
    )
    with pytest.warns(UserWarning, match="Pruning interrupted in step 1 of 1"):
        clf.fit(X, Y)
    assert len(clf.student_.history) == 4  # the four trained epochs are kept
    assert clf.student_.module_.layers[0].out_features == 8  # cut, not fine-tuned
    assert clf.pruning_["hidden_after"] == [8]
    assert np.isfinite(clf.predict_proba(X)).all()
