"""Feature distillation: hints and attention transfer on named layers of a torch teacher."""

import warnings

import numpy as np
import onnxruntime
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from skdistill import (
    ConvStudent,
    DistilledClassifier,
    FeatureDistillation,
    MLPStudent,
    export_onnx,
)
from skdistill.losses._features import _attention, _same_size

PAIRS = [("features.2", "features.2")]  # after the first block's pooling, in both


@pytest.fixture(scope="module")
def images():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)[:600]
    return X, y[:600]


@pytest.fixture(scope="module")
def teacher(images):
    X, y = images
    torch.manual_seed(0)
    model = ConvStudent((1, 8, 8), 10, channels=(16, 32))
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    for _ in range(40):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(torch.as_tensor(X)), torch.as_tensor(y)).backward()
        optimizer.step()
    return model.eval()


def distiller(teacher, **params):
    defaults = dict(student_module=ConvStudent, max_epochs=3, random_state=0)
    return DistilledClassifier(teacher, **{**defaults, **params})


def test_a_zero_weight_trains_exactly_the_logits_only_student(images, teacher):
    X, y = images
    plain = distiller(teacher).fit(X, y)
    zero = distiller(teacher, feature_distillation=FeatureDistillation(PAIRS, weight=0.0))
    zero.fit(X, y)
    np.testing.assert_array_equal(zero.predict_proba(X), plain.predict_proba(X))
    assert [e["train_feature_loss"] for e in zero.student_.history] == [0.0] * 3


@pytest.mark.parametrize("kind", ["hint", "attention"])
def test_the_feature_term_trains_and_leaves_a_plain_student(images, teacher, kind, tmp_path):
    X, y = images
    clf = distiller(teacher, max_epochs=6,
                    feature_distillation=FeatureDistillation(PAIRS, kind=kind, weight=10.0))
    clf.fit(X, y)
    losses = [epoch["train_feature_loss"] for epoch in clf.student_.history]
    assert losses[-1] < losses[0] and clf.solver_ == "torch"
    assert clf.alpha_ == 0.5 and not hasattr(clf, "alpha_scores_")  # no labels-only twin
    module = clf.student_.module_
    assert all(not m._forward_hooks for m in module.modules())  # hooks removed
    assert len(clf.student_.optimizer_.param_groups) == 1  # the projection's group dropped
    assert all(not m._forward_hooks for m in teacher.modules())
    session = onnxruntime.InferenceSession(export_onnx(clf, tmp_path / "s.onnx"))
    np.testing.assert_allclose(session.run(None, {"X": X[:7]})[1], clf.predict_proba(X[:7]),
                               atol=1e-5)
    warm = clone(clf).set_params(warm_start=True)
    warm.fit(X, y).fit(X, y)  # a warm start trains a new projection
    assert warm.n_iter_ == 12


def test_grid_search_tunes_the_feature_weight(images, teacher):
    X, y = images
    clf = distiller(teacher, max_epochs=2, feature_distillation=FeatureDistillation(PAIRS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = GridSearchCV(clf, {"feature_distillation__weight": [0.0, 5.0]}, cv=2).fit(X, y)
    assert search.best_params_["feature_distillation__weight"] in (0.0, 5.0)
    assert search.best_estimator_.feature_distillation.weight == search.best_params_[
        "feature_distillation__weight"]


def test_what_feature_distillation_cannot_read_is_refused(images, teacher):
    X, y = images
    with pytest.raises(ValueError, match=r"no such layer; its layers are \['features', "
                                         r"'features.0'"):
        distiller(teacher, feature_distillation=FeatureDistillation(
            [("features.9", "features.2")])).fit(X, y)
    with pytest.raises(ValueError, match="the teacher must be a torch module or a fitted "
                                         "skorch net; it is a LogisticRegression"):
        distiller(LogisticRegression(max_iter=50),
                  feature_distillation=FeatureDistillation(PAIRS)).fit(X, y)
    rows = X.reshape(len(X), -1)
    flat_teacher = torch.nn.Sequential(torch.nn.Linear(64, 10))
    with pytest.raises(ValueError, match="the student reads its own encoding of X"):
        DistilledClassifier(flat_teacher, max_epochs=1, feature_distillation=FeatureDistillation(
            [("0", "layers.0")])).fit(rows, y)
    with pytest.raises(ValueError, match="feature_distillation"):
        distiller(teacher, solver="numpy", student_module=MLPStudent,
                  feature_distillation=FeatureDistillation([("features.2", "layers.0")])).fit(X, y)
    with pytest.raises(ValueError, match="must list pairs of layer names"):
        distiller(teacher, feature_distillation=FeatureDistillation(["features.2"])).fit(X, y)


def test_rows_of_a_table_and_different_map_sizes_compare():
    teacher = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    X = np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    clf = DistilledClassifier(teacher, student_preprocessor=None, max_epochs=2, random_state=0,
                              module__hidden_layer_sizes=(8,),
                              feature_distillation=FeatureDistillation([("1", "layers.1")]))
    clf.fit(X, y)  # a hint from 8 hidden units to the teacher's 16, through a linear map
    assert clf.solver_ == "torch" and clf.student_.history[-1]["train_feature_loss"] > 0
    big, small = torch.ones(2, 3, 8, 8), torch.ones(2, 5, 4, 4)
    a, b = _same_size(big, small)
    assert a.shape == (2, 3, 4, 4) and b.shape == (2, 5, 4, 4)
    maps = _attention(torch.rand(2, 3, 4, 4))
    np.testing.assert_allclose(maps.flatten(1).norm(dim=1).numpy(), [1.0, 1.0], rtol=1e-6)


def test_the_teacher_is_read_where_it_is_and_never_trained(images):
    X, y = images
    torch.manual_seed(0)
    teacher = ConvStudent((1, 8, 8), 10, channels=(4, 8)).double().eval()  # a float64 teacher
    before = [p.detach().clone() for p in teacher.parameters()]
    clf = distiller(teacher, max_epochs=2, feature_distillation=FeatureDistillation(
        PAIRS, kind="attention"))
    clf.fit(X, y)
    assert all(p.dtype == torch.float64 for p in teacher.parameters())  # not moved or cast
    assert all(torch.equal(a, b) for a, b in zip(before, teacher.parameters()))
    assert all(p.grad is None for p in teacher.parameters())
    assert len(clf.student_.optimizer_.param_groups) == 1


def test_a_projection_that_cannot_be_built_leaves_no_hook():
    from skdistill.losses._features import FeatureMatcher

    teacher = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 8))
    student = ConvStudent((1, 8, 8), 10)
    with pytest.raises(ValueError, match="must have as many axes"):  # rows against a map
        FeatureMatcher(FeatureDistillation([("1", "features.2")]), teacher, student,
                       torch.zeros(2, 1, 8, 8))
    assert all(not m._forward_hooks for m in student.modules())
    with pytest.raises(RuntimeError):  # the teacher fails on the batch
        FeatureMatcher(FeatureDistillation([("1", "features.2")]), teacher[1:], student,
                       torch.zeros(2, 1, 8, 8))
    assert all(not m._forward_hooks for m in student.modules())


def test_a_hint_stage_then_a_warm_start_without_it(images, teacher):
    X, y = images
    clf = distiller(teacher, alpha=0.0, n_iter_no_change=None,
                    feature_distillation=FeatureDistillation(PAIRS, weight=100.0)).fit(X, y)
    assert clf.n_iter_ == 3 and "train_feature_loss" in clf.student_.history[-1]
    first_layer = clf.student_.module_.features[0].weight.detach().clone()
    clf.set_params(feature_distillation=None, alpha=0.9, warm_start=True).fit(X, y)
    assert clf.n_iter_ == 6 and "train_feature_loss" not in clf.student_.history[-1]
    assert not torch.equal(first_layer, clf.student_.module_.features[0].weight)


def test_a_stripped_model_refits_on_given_outputs_without_the_feature_term(images, teacher):
    from skdistill import strip_teacher

    X, y = images
    model = distiller(teacher, max_epochs=1, feature_distillation=FeatureDistillation(PAIRS))
    stripped = strip_teacher(model.fit(X, y))
    assert stripped.feature_distillation is None  # it reads the teacher module, gone here
    with torch.inference_mode():
        logits = teacher(torch.as_tensor(X)).numpy()
    clone(stripped).fit(X, y, teacher_logits=logits)  # as the deployment guide promises
