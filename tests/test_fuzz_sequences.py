"""Property-based sequences of fit / warm fit / set_params / failing, interrupted and odd fits.

After every step the model is either exactly the one before the step (weights,
optimizer state, history and predictions) or a complete new one (finite
probabilities summing to 1, a history whose epochs all completed, ``n_iter_``
equal to its length); the caller's rows are never written. A warm fit after a
new width or on fewer columns must refuse and leave the model as it was.
Derandomized, so CI runs the same sequences every time.
"""

import warnings

import numpy as np
import pytest
import torch
from conftest import RaiseAt, make_fast, rng_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import StandardScaler

from skdistill import Pruning

X, Y = rng_data(n=80)
X_ORIGINAL = X.copy()
SEQUENCES = 60


STEPS = {
    "fit": lambda clf: clf.fit(X, Y),
    "warm on": lambda clf: clf.set_params(warm_start=True),
    "warm off": lambda clf: clf.set_params(warm_start=False),
    "new batch size": lambda clf: clf.set_params(batch_size=7),
    "new optimizer": lambda clf: clf.set_params(optimizer=torch.optim.SGD, lr=0.05),
    "weight decay": lambda clf: clf.set_params(optimizer__weight_decay=0.01),
    "diverging fit": lambda clf: clf.set_params(lr=1e9, optimizer=torch.optim.SGD).fit(X * 1e3, Y),
    "bad weights fit": lambda clf: clf.fit(X, Y, sample_weight=-np.ones(len(Y))),
    "ctrl-c in first epoch": lambda clf: clf.set_params(
        callbacks=[RaiseAt(KeyboardInterrupt, epoch=1)]
    ).fit(X, Y),
    "ctrl-c in second epoch": lambda clf: clf.set_params(
        callbacks=[RaiseAt(KeyboardInterrupt, epoch=2)]
    ).fit(X, Y),
    "new width": lambda clf: clf.set_params(module__hidden_layer_sizes=(5,)),
    "fewer columns fit": lambda clf: clf.fit(X[:, :3], Y),
    "prune fit": lambda clf: clf.set_params(
        pruning=Pruning(amount=0.5, fine_tune_epochs=1)
    ).fit(X, Y),
    "in-place preprocessor fit": lambda clf: clf.set_params(
        student_preprocessor=StandardScaler(copy=False)
    ).fit(X, Y),
}


def rows_for(clf):
    """The rows the model was fitted on: all columns, or the first three after a narrow fit."""
    return X[:, : clf.n_features_in_]


def snapshot(clf):
    if not hasattr(clf, "student_"):
        return None
    net = clf.student_
    return {
        "weights": [v.clone() for v in net.module_.state_dict().values()],
        "optimizer": repr(net.optimizer_.state_dict()),
        "history": [dict(row) for row in net.history],
        "proba": clf.predict_proba(rows_for(clf)),
    }


def same(a, b):
    if a is None or b is None:
        return a is b
    return (
        all(torch.equal(x, y) for x, y in zip(a["weights"], b["weights"]))
        and a["optimizer"] == b["optimizer"]
        and a["history"] == b["history"]
        and np.array_equal(a["proba"], b["proba"])
    )


def complete(clf):
    proba = clf.predict_proba(rows_for(clf))
    history = clf.student_.history
    return (
        np.isfinite(proba).all()
        and np.allclose(proba.sum(axis=1), 1.0)
        and all("train_loss" in row for row in history)
        and clf.n_iter_ == len(history)
    )


@pytest.mark.slow  # over 5 s
@settings(
    max_examples=SEQUENCES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(st.sampled_from(sorted(STEPS)), min_size=2, max_size=6))
def test_every_step_leaves_the_previous_model_or_a_complete_new_one(steps):
    clf = make_fast(max_epochs=3, n_iter_no_change=None, batch_size=16)
    for step in ["fit", *steps]:
        before = snapshot(clf)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                STEPS[step](clf)
        except (ValueError, KeyboardInterrupt):
            assert same(before, snapshot(clf)), f"{step} failed and changed the model"
        else:
            if hasattr(clf, "student_") and not same(before, snapshot(clf)):
                assert complete(clf), f"{step} left an incomplete model"
        np.testing.assert_array_equal(X, X_ORIGINAL)  # the caller's rows are never written
        # undo the settings that only exist to make one step fail, or to run once
        clf.set_params(callbacks=None, lr=0.02, optimizer=torch.optim.Adam, pruning=None,
                       student_preprocessor=None)
