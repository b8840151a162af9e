"""Shared fixtures: small data sets and a fast distiller factory."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier


@pytest.fixture(scope="session")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def make_fast(teacher=None, **params):
    """A DistilledClassifier that trains in well under a second on iris."""
    defaults = dict(max_epochs=30, lr=0.02, random_state=0)
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
