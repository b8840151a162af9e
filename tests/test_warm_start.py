"""warm_start: a failed warm fit changes nothing; a warm fit uses the current settings."""

import numpy as np
import pytest
import torch
from conftest import RaiseAt, make_fast, rng_data
from skorch.callbacks import Callback

from skdistill import TabularStudent

X, Y = rng_data(n=120)


def fingerprint(clf):
    """Everything a warm fit could change: weights, optimizer state, history, callbacks."""
    net = clf.student_
    optimizer = net.optimizer_.state_dict()
    return {
        "net": id(net),
        "weights": {k: v.clone() for k, v in net.module_.state_dict().items()},
        "optimizer_state": {
            k: {n: t.clone() if torch.is_tensor(t) else t for n, t in v.items()}
            for k, v in optimizer["state"].items()
        },
        "param_groups": [{k: v for k, v in g.items()} for g in optimizer["param_groups"]],
        "history": [dict(row) for row in net.history],
        "callbacks": [name for name, _ in net.callbacks_],
        "proba": clf.predict_proba(X),
    }


def assert_same(before, after):
    assert before["net"] == after["net"]
    for name, value in before["weights"].items():
        assert torch.equal(value, after["weights"][name]), name
    assert before["optimizer_state"].keys() == after["optimizer_state"].keys()
    for key, state in before["optimizer_state"].items():
        for name, value in state.items():
            assert torch.equal(
                torch.as_tensor(value), torch.as_tensor(after["optimizer_state"][key][name])
            )
    assert before["param_groups"] == after["param_groups"]
    assert before["history"] == after["history"]
    assert before["callbacks"] == after["callbacks"]
    np.testing.assert_array_equal(before["proba"], after["proba"])


@pytest.mark.parametrize(
    "change, error",
    [
        ({"lr": 1e9, "optimizer": torch.optim.SGD}, ValueError),  # diverges: NaN loss
        ({"callbacks": [RaiseAt(RuntimeError, epoch=2)]}, RuntimeError),  # any exception
        ({"callbacks": [RaiseAt(KeyboardInterrupt, epoch=1)]}, KeyboardInterrupt),  # Ctrl-C early
        ({"optimizer__weight_decay": -1.0}, ValueError),  # refused by the optimizer
    ],
)
def test_a_failed_warm_fit_leaves_the_model_exactly_as_it_was(change, error):
    clf = make_fast(max_epochs=3, warm_start=True, n_iter_no_change=None, batch_size=16,
                    student_preprocessor=None).fit(X, Y)  # raw rows: X * 1e3 diverges
    before = fingerprint(clf)
    clf.set_params(**change)
    with pytest.raises(error):
        clf.fit(X * 1e3 if "lr" in change else X, Y)
    assert_same(before, fingerprint(clf))


class CountEpochs(Callback):
    def on_train_begin(self, net, **kwargs):
        self.epochs_ = 0

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ += 1


def test_a_warm_fit_takes_every_changed_setting():
    clf = make_fast(max_epochs=2, warm_start=True, batch_size=16, validation_fraction=None).fit(
        X, Y
    )
    assert clf.student_.history[-1, "train_batch_count"] == 8
    clf.set_params(
        batch_size=7,
        optimizer=torch.optim.SGD,
        optimizer__weight_decay=0.5,
        optimizer__momentum=0.9,
        callbacks=[("count", CountEpochs())],
        max_epochs=3,
        iterator_train__shuffle=False,
        lr=0.05,
    )
    clf.fit(X, Y)
    net = clf.student_
    assert net.history[-1, "train_batch_count"] == 18  # ceil(120 / 7)
    assert type(net.optimizer_) is torch.optim.SGD
    group = net.optimizer_.param_groups[0]
    assert (group["weight_decay"], group["momentum"], group["lr"]) == (0.5, 0.9, 0.05)
    assert dict(net.callbacks_)["count"].epochs_ == 3
    assert net.iterator_train__shuffle is False
    assert len(net.history) == 5


def test_same_optimizer_keeps_its_state_with_the_new_hyperparameters():
    clf = make_fast(max_epochs=2, warm_start=True, n_iter_no_change=None).fit(X, Y)
    steps = clf.student_.optimizer_.state_dict()["state"][0]["step"].item()
    clf.set_params(optimizer__weight_decay=0.1, n_iter_no_change=2, max_epochs=50, lr=0.05)
    clf.fit(X, Y)
    net = clf.student_
    assert net.optimizer_.param_groups[0]["weight_decay"] == 0.1
    assert net.optimizer_.state_dict()["state"][0]["step"].item() > steps  # Adam's moments went on
    assert dict(net.callbacks_)["early_stopping"].patience == 2
    assert len(net.history) < 52  # stopped early under the new patience


@pytest.mark.parametrize(
    "change, data, named",
    [
        ({"module__hidden_layer_sizes": (5,)}, (X, Y), "module parameters"),
        ({"student_module": TabularStudent}, (X, Y), "student_module"),
        ({}, (X[:, :3], Y), "input shape"),
    ],
)
def test_a_warm_fit_refuses_a_student_built_otherwise(change, data, named):
    clf = make_fast(max_epochs=2, warm_start=True).fit(X, Y)
    before = fingerprint(clf)
    clf.set_params(**change)
    with pytest.raises(ValueError, match=f"warm_start=True continues the fitted student.*{named}"):
        clf.fit(*data)
    assert_same(before, fingerprint(clf))
    clf.set_params(warm_start=False).fit(*data)  # a new student is built


def test_a_warm_fit_spelling_out_a_default_continues():
    clf = make_fast(student_module=None, max_epochs=2, warm_start=True).fit(X, Y)
    clf.set_params(module__dropout=0.0)
    clf.fit(X, Y)
    assert clf.n_iter_ == 4


def test_a_warm_regressor_follows_targets_that_moved():
    from sklearn.datasets import make_regression
    from sklearn.linear_model import Ridge

    from skdistill import DistilledRegressor

    Xr, yr = make_regression(300, 4, noise=1.0, random_state=0)
    model = DistilledRegressor(Ridge(), max_epochs=30, random_state=0, warm_start=True)
    model.fit(Xr, yr)
    before = model.predict(Xr)
    moved = 5 * yr + 100
    mean, scale = model.target_mean_, model.target_scale_
    model.set_params(max_epochs=1, lr=1e-9)  # one step of nothing: the carried-over student
    model.fit(Xr, moved)
    assert (model.target_mean_, model.target_scale_) != (mean, scale)
    np.testing.assert_allclose(model.predict(Xr), before, rtol=1e-4, atol=1e-3)
    model.set_params(max_epochs=30, lr=3e-3).fit(Xr, moved)
    assert model.score(Xr, moved) > 0.99


def test_a_student_spec_without_a_name_of_today_is_told_as_changed():
    clf = make_fast(max_epochs=2, warm_start=True).fit(X, Y)
    del clf.student_.student_spec_["input shape"]  # as a model of an older version recorded it
    with pytest.raises(ValueError, match=r"input shape: 'not recorded' then, \(68,\) now"):
        clf.fit(X, Y)


@pytest.mark.parametrize("student_preprocessor", [None, "auto"])
def test_a_warm_fit_on_other_columns_is_refused_and_the_model_kept(student_preprocessor):
    import pandas as pd

    frame = pd.DataFrame(X, columns=list("abcd"))
    clf = make_fast(max_epochs=2, warm_start=True, student_preprocessor=student_preprocessor)
    clf.fit(frame, Y)
    proba, epochs = clf.predict_proba(frame), len(clf.student_.history)
    for other in (frame[list("dcba")], frame.rename(columns={"a": "z"})):  # read by position
        with pytest.raises(ValueError, match=r"continues a model fitted on the columns \['a', "
                                             r"'b', 'c', 'd'\], but X has"):
            clf.fit(other, Y)
    np.testing.assert_array_equal(clf.predict_proba(frame), proba)
    assert len(clf.student_.history) == epochs
