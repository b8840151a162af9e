"""Every kind of teacher end to end: cross-fitted, torch module, skorch net, precomputed."""

import numpy as np
import pytest
import sklearn
import torch
from conftest import make_fast
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from skorch import NeuralNetClassifier

from skdistill import DistilledClassifier
from skdistill.teachers._adapters import as_teacher


class CountingLR(LogisticRegression):
    calls = []

    def fit(self, X, y, **kw):
        type(self).calls.append(len(X))
        return super().fit(X, y, **kw)


def test_teacher_cv_cross_fits_then_fits_on_all_rows(iris):
    X, y = iris
    CountingLR.calls = []
    clf = make_fast(teacher=CountingLR(), teacher_cv=3, max_epochs=2).fit(X, y)
    assert sorted(CountingLR.calls) == [100, 100, 100, 150]  # 3 folds, then every row
    assert clf.teacher_.coef_.shape == (3, 4)


def test_teacher_cv_is_ignored_for_a_frozen_teacher(iris):
    from sklearn.frozen import FrozenEstimator

    X, y = iris
    teacher = CountingLR().fit(X, y)
    CountingLR.calls = []
    make_fast(teacher=FrozenEstimator(teacher), teacher_cv=3, max_epochs=2).fit(X, y)
    assert CountingLR.calls == []


def test_an_unfitted_frozen_teacher_is_told_as_not_fitted(iris):
    from sklearn.exceptions import NotFittedError
    from sklearn.frozen import FrozenEstimator
    from sklearn.base import BaseEstimator

    class ProbabilitiesWithoutClasses(BaseEstimator):
        def fit(self, X, y):
            self.fitted_ = True
            return self

        def predict_proba(self, X):
            return np.full((len(X), 3), 1 / 3)

    X, y = iris
    message = ("The teacher FrozenEstimator is not fitted, so it has no classes_; FrozenEstimator "
               "never fits the LogisticRegression it wraps: fit that first.")
    with pytest.raises(NotFittedError, match=message.replace("(", r"\(").replace(".", r"\.")):
        make_fast(teacher=FrozenEstimator(LogisticRegression()), max_epochs=2).fit(X, y)
    with pytest.raises(TypeError, match="has no classes_ after fitting; is it a classifier"):
        make_fast(teacher=ProbabilitiesWithoutClasses(), max_epochs=2).fit(X, y)


def test_blend_of_teacher_and_own_fit_teaches_its_averaged_probabilities(iris):
    """The README's accuracy-first recipe: a soft-voting blend of two frozen models as teacher."""
    from sklearn.ensemble import RandomForestClassifier, VotingClassifier
    from sklearn.frozen import FrozenEstimator

    from skdistill import PiecewiseLinearEncoder

    X, y = iris
    y = np.array(["setosa", "versicolor", "virginica"])[y]
    teacher = FrozenEstimator(RandomForestClassifier(20, random_state=0).fit(X, y))
    encoded = dict(student_preprocessor=PiecewiseLinearEncoder())
    own = make_fast(teacher=teacher, alpha=0.0, **encoded).fit(X, y)
    blend = VotingClassifier([("teacher", teacher), ("own", FrozenEstimator(own))],
                             voting="soft", weights=[0.7, 0.3]).fit(X, y)
    blended = 0.7 * teacher.predict_proba(X) + 0.3 * own.predict_proba(X)
    np.testing.assert_allclose(blend.predict_proba(X), blended)

    student = make_fast(teacher=FrozenEstimator(blend), **encoded).fit(X, y)
    given = make_fast(teacher="precomputed", **encoded).fit(X, y, teacher_proba=blended)
    assert student.teacher_ is not None and list(student.classes_) == list(blend.classes_)
    np.testing.assert_allclose(student.predict_proba(X), given.predict_proba(X), atol=1e-6)
    assert not np.allclose(student.predict_proba(X), own.predict_proba(X), atol=1e-3)


def test_torch_module_teacher_is_imitated_and_not_refit(iris):
    X, y = iris
    torch.manual_seed(0)
    teacher = torch.nn.Linear(4, 3)
    with torch.no_grad():
        teacher_pred = teacher(torch.as_tensor(X, dtype=torch.float32)).argmax(1).numpy()
    before = teacher.weight.detach().clone()
    clf = make_fast(teacher=teacher, alpha=1.0, max_epochs=80, n_iter_no_change=None).fit(X, y)
    assert clf.teacher_ is teacher and torch.equal(teacher.weight, before)
    assert np.mean(clf.predict(X) == clf.classes_[teacher_pred]) > 0.9


def test_skorch_net_teacher(iris):
    X, y = iris
    torch.manual_seed(0)
    net = NeuralNetClassifier(
        torch.nn.Linear, module__in_features=4, module__out_features=3,
        criterion=torch.nn.CrossEntropyLoss, lr=0.1, max_epochs=30, train_split=None, verbose=0,
    ).fit(X.astype(np.float32), y)
    clf = make_fast(teacher=net, alpha=1.0, max_epochs=60).fit(X, y)
    assert clf.teacher_ is net
    assert np.mean(clf.predict(X) == net.predict(X.astype(np.float32))) > 0.9


def _proba_from_rows(X):
    """A 'remote' teacher whose answer can be recomputed from the row itself."""
    z = X[:, :3] * 2.0
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class RowCheckingDistiller(DistilledClassifier):
    def fit(self, X, y, teacher_proba=None, teacher_logits=None):
        np.testing.assert_allclose(teacher_proba, _proba_from_rows(X))
        type(self).checked += 1
        return super().fit(X, y, teacher_proba=teacher_proba, teacher_logits=teacher_logits)


def test_precomputed_outputs_train_the_student(iris):
    X, y = iris
    proba = _proba_from_rows(X)
    # this teacher ignores the labels: pure imitation trains every epoch (early stopping would
    # stop it where the held-out labels stop improving)
    imitate = dict(teacher="precomputed", alpha=1.0, max_epochs=60, n_iter_no_change=None)
    clf = make_fast(**imitate).fit(X, y, teacher_proba=proba)
    assert clf.teacher_ is None
    assert np.mean(clf.predict(X) == proba.argmax(1)) > 0.9
    logits_clf = make_fast(**imitate)
    logits_clf.fit(X, y, teacher_logits=np.log(proba))
    np.testing.assert_allclose(logits_clf.predict_proba(X), clf.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("routing", [False, True])
def test_precomputed_outputs_follow_rows_through_grid_search(iris, routing):
    X, y = iris
    RowCheckingDistiller.checked = 0
    with sklearn.config_context(enable_metadata_routing=routing):
        clf = RowCheckingDistiller("precomputed", max_epochs=3, random_state=0)
        if routing:
            clf.set_fit_request(teacher_proba=True, teacher_logits=False)
        search = GridSearchCV(clf, {"alpha": [0.5, 1.0]}, cv=3)
        search.fit(X, y, teacher_proba=_proba_from_rows(X))
    assert RowCheckingDistiller.checked == 2 * 3 + 1  # every fold and the refit saw aligned rows


@pytest.mark.parametrize(
    "params, fit_kwargs, message",
    [
        ({"teacher": "precomputed"}, {}, "needs the teacher's outputs passed to fit"),
        ({}, {"teacher_proba": np.full((60, 3), 1 / 3)}, "teacher is not 'precomputed'"),
        ({"teacher": "precomputed"}, {"teacher_proba": np.full((60, 2), 0.5)}, r"shape \(60, 2\); expected \(60, 3\)"),
        ({"teacher": "precomputed"}, {"teacher_proba": np.full((60, 3), 0.5)}, "not probability distributions"),
        (
            {"teacher": "precomputed"},
            {"teacher_proba": np.full((60, 3), 1 / 3), "teacher_logits": np.zeros((60, 3))},
            "not both",
        ),
        ({"teacher": "precomputed", "teacher_cv": 3}, {"teacher_logits": np.zeros((60, 3))}, "teacher_cv=None"),
    ],
)
def test_precomputed_misuse_is_a_clear_error(params, fit_kwargs, message):
    from conftest import rng_data

    X, y = rng_data()
    with pytest.raises(ValueError, match=message):
        make_fast(**params).fit(X, y, **fit_kwargs)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_a_torch_teacher_of_any_float_precision_gives_its_logits(iris, dtype):
    X, y = iris
    teacher = torch.nn.Linear(4, 3).to(dtype)
    model = make_fast(teacher).fit(X, y)
    with torch.no_grad():
        expected = teacher(torch.as_tensor(X[:5], dtype=dtype)).double().numpy()
    logits = as_teacher(teacher).logits(X[:5], model.classes_)
    np.testing.assert_allclose(logits, expected, rtol=1e-6)


class _Pair(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)

    def forward(self, X):
        return self.linear(X), X


@pytest.mark.parametrize(
    "teacher, message",
    [
        (torch.nn.Linear(5, 3), r"teacher module Linear failed on a batch of shape \(150, 4\)"),
        (_Pair(), "teacher module _Pair returned a tuple"),
    ],
)
def test_a_torch_teacher_that_cannot_label_the_rows_is_named(iris, teacher, message):
    X, y = iris
    model = make_fast(teacher)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)
    assert not hasattr(model, "student_")


def test_a_torch_teacher_given_string_columns_is_told_which_they_are():
    import pandas as pd

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"size": rng.normal(size=40), "colour": list("ab") * 20})
    y = (frame["size"] > 0).astype(int).to_numpy()
    with pytest.raises(ValueError, match=r"reads rows of numbers, but X's columns \['colour'\] "
                                         r"are not numbers.*teacher='precomputed'"):
        make_fast(torch.nn.Linear(2, 2), max_epochs=1).fit(frame, y)


def test_precomputed_outputs_in_a_frame_are_matched_to_the_classes_by_column_name():
    import pandas as pd

    from skdistill import DistilledClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3))
    y = np.where(X[:, 0] > 0, "cat", "dog")
    proba = np.c_[1 / (1 + np.exp(-5 * X[:, 0])), 1 / (1 + np.exp(5 * X[:, 0]))]  # cat, dog

    def fitted(outputs):
        return DistilledClassifier("precomputed", max_epochs=3, random_state=0).fit(
            X, y, teacher_proba=outputs)

    expected = fitted(proba).predict_proba(X)
    named = pd.DataFrame(proba[:, ::-1], columns=["dog", "cat"])  # as a library returns them
    np.testing.assert_array_equal(fitted(named).predict_proba(X), expected)
    np.testing.assert_array_equal(fitted(pd.DataFrame(proba)).predict_proba(X), expected)
    with pytest.raises(ValueError, match=r"columns \['p1', 'p2'\] are not the classes"):
        fitted(pd.DataFrame(proba, columns=["p1", "p2"]))


def test_teacher_cv_with_a_teacher_that_is_not_refitted_warns_that_it_is_ignored(iris):
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LogisticRegression

    X, y = iris
    frozen = FrozenEstimator(LogisticRegression(max_iter=500).fit(X, y))
    with pytest.warns(UserWarning, match="teacher_cv=5 is ignored: the teacher is not refitted"):
        make_fast(frozen, teacher_cv=5, max_epochs=1).fit(X, y)
