"""Shared fixtures: small data sets and a fast distiller factory."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from skdistill import DistilledClassifier


@pytest.fixture(scope="session")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def make_fast(teacher=None, **params):
    """A DistilledClassifier that trains in well under a second on iris.

    At ``alpha=0.5``: one student per encoding, where the default ``"auto"`` trains a
    labels-only twin too (tests/test_auto_alpha.py).
    """
    defaults = dict(max_epochs=30, lr=0.02, random_state=0, alpha=0.5)
    if params.get("student_module") is None:
        defaults["module__hidden_layer_sizes"] = (16,)
    defaults.update(params)
    return DistilledClassifier(teacher if teacher is not None else LogisticRegression(), **defaults)


@pytest.fixture
def fast():
    return make_fast


def rng_data(n=60, d=4, k=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    y = np.argmax(X[:, :k] + 0.3 * rng.normal(size=(n, k)), axis=1)
    return X, y


def predict_in_fresh_process(model, method, X, folder, env=None):
    """Pickle ``model``, load it in a new Python process and return ``model.<method>(X)`` there."""
    (folder / "model.pkl").write_bytes(pickle.dumps(model))
    np.save(folder / "X.npy", X)
    code = (
        "import pickle, warnings, numpy as np; warnings.simplefilter('ignore');"
        f"m = pickle.loads(open({str(folder / 'model.pkl')!r}, 'rb').read());"
        f"np.save({str(folder / 'out.npy')!r}, m.{method}(np.load({str(folder / 'X.npy')!r})))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, **(env or {})})
    return np.load(folder / "out.npy")


class RaiseAt(Callback):
    """Raise ``error`` after ``batches`` training batches of the fit's ``epoch``-th new epoch."""

    def __init__(self, error=RuntimeError, epoch=1, batches=2):
        self.error, self.epoch, self.batches = error, epoch, batches

    def on_train_begin(self, net, **kwargs):
        self.start_ = len(net.history)

    def on_epoch_begin(self, net, **kwargs):
        self.seen_ = 0

    def on_batch_end(self, net, training=False, **kwargs):
        self.seen_ += training
        if len(net.history) - self.start_ == self.epoch and self.seen_ == self.batches:
            raise self.error("planted failure")
