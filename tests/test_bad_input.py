"""Bad input ends in a clear scikit-learn style error that names the problem."""

import numpy as np
import pytest
import torch
from conftest import rng_data
from sklearn.exceptions import NotFittedError
from torch import nn

X, Y = rng_data()


@pytest.mark.parametrize(
    "X_bad, message, encoding",
    [
        (np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X), "Input X contains NaN",
         "auto"),
        (np.where(np.arange(X.size).reshape(X.shape) == 5, np.inf, X), "Input X contains infinity",
         "auto"),
        (np.full_like(X, 1e39), "too large for float32", None),  # rows the student reads as given
        (np.empty((0, 4)), "0 sample", "auto"),
    ],
)
def test_bad_X_at_fit(fast, X_bad, message, encoding):
    with pytest.raises((ValueError, TypeError), match=message):
        fast(student_preprocessor=encoding).fit(X_bad, Y[: X_bad.shape[0]])


def test_one_class_is_rejected(fast):
    with pytest.raises(ValueError, match="only one class"):
        fast().fit(X, np.zeros(len(X)))


def test_regression_target_is_rejected(fast):
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        fast().fit(X, np.linspace(0, 1, len(X)))


def test_wrong_number_of_features_at_predict(fast):
    clf = fast(max_epochs=2).fit(X, Y)
    with pytest.raises(ValueError, match="X has 3 features, but DistilledClassifier is expecting 4"):
        clf.predict_proba(X[:, :3])


def test_predict_before_fit(fast):
    with pytest.raises(NotFittedError):
        fast().predict(X)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"T": 0}, r"'T' parameter of DistilledClassifier must be a float in the range \(0.0, inf\)"),
        ({"T": -1.0}, "'T' parameter"),
        ({"alpha": 1.5}, r"'alpha' parameter of DistilledClassifier must be a float in the range \[0.0, 1.0\]"),
        ({"alpha": -0.1}, "'alpha' parameter"),
        ({"loss": "hintn"}, "'loss' parameter"),
        ({"max_epochs": 0}, "'max_epochs' parameter"),
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter"),
        ({"max_epoch": 5}, r"unexpected parameter\(s\) 'max_epoch' \(did you mean 'max_epochs'\?\)"),
        ({"hidden_layer_sizes": (8,)}, r"'hidden_layer_sizes' \(did you mean 'module__hidden_layer_sizes'\?\)"),
        ({"weight_decay": 1e-4}, r"'weight_decay' \(did you mean 'optimizer__weight_decay'\?\)"),
        (
            {"iterator_train_shuffle": False},
            r"did you mean 'iterator_train__shuffle'\?",
        ),
        ({"device": "bogus"}, r"device='bogus' is not a torch device"),
        pytest.param({"device": "mps"}, r"device='mps' but MPS is not available on this machine",
                     marks=pytest.mark.skipif(torch.backends.mps.is_available(),
                                              reason="MPS is available here")),
        ({"callbacks": [1]}, r"callbacks holds 1; each entry must be a skorch callback"),
        ({"callbacks": [("name", "print")]}, r"callbacks holds \('name', 'print'\)"),
        ({"solver": "adam"}, "'solver' parameter"),
    ],
)
def test_bad_parameters_fail_at_fit_with_the_name(fast, params, message):
    clf = fast(**params)  # never at construction, as scikit-learn requires
    with pytest.raises((ValueError, TypeError), match=message):
        clf.fit(X, Y)


def test_teacher_with_neither_proba_nor_decision_function(fast):
    class Predictor:
        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.zeros(len(X))

        def get_params(self, deep=True):
            return {}

    with pytest.raises(TypeError, match="neither predict_proba nor decision_function"):
        fast(teacher=Predictor()).fit(X, Y)


class NeedsWidth(nn.Module):
    def __init__(self, n_features, n_classes, width):
        super().__init__()
        self.layer = nn.Linear(n_features, n_classes)

    def forward(self, X):
        return self.layer(X)


class WrongOutput(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.layer = nn.Linear(n_features, 7)

    def forward(self, X):
        return self.layer(X)


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"student_module": NeedsWidth}, ValueError, r"could not be built with arguments .*width"),
        ({"student_module": NeedsWidth, "module__depth": 2}, ValueError, "unexpected keyword argument 'depth'"),
        ({"student_module": WrongOutput}, ValueError, r"logits of shape \(n_samples, 3\).*\(2, 7\)"),
        ({"student_module": "mlp"}, TypeError, "student_module must be None, a torch.nn.Module"),
        ({"student_module": nn.Linear(4, 3), "module__bias": False}, ValueError, "need student_module to be a class"),
        ({"device": "cuda:0" if not torch.cuda.is_available() else "nonsense"}, (ValueError, RuntimeError), "device"),
    ],
)
def test_student_that_cannot_be_built(fast, params, error, message):
    with pytest.raises(error, match=message):
        fast(**params).fit(X, Y)


def test_failed_fit_leaves_no_half_fitted_estimator(fast):
    clf = fast(max_epochs=2)
    with pytest.raises(ValueError):
        clf.fit(X, np.zeros(len(X)))
    assert not any(k.endswith("_") and not k.startswith("_") for k in vars(clf))
    clf.fit(X, Y)
    proba = clf.predict_proba(X)
    with pytest.raises(ValueError):
        clf.fit(np.c_[X, X], np.zeros(len(X)))  # new shape, then failure
    assert clf.n_features_in_ == 4  # the earlier fitted model is intact
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_teacher_fit_error_names_the_teacher(fast):
    from sklearn.linear_model import LogisticRegression

    class Broken(LogisticRegression):
        def fit(self, X, y):
            raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError, match="out of memory") as info:
        fast(teacher=Broken()).fit(X, Y)
    assert "while fitting the teacher Broken" in "".join(info.value.__notes__)
