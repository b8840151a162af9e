"""The numpy engine's closed-form gradients and steps equal autograd's."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skdistill import (
    DistillationLoss,
    DistilledClassifier,
    DistilledRegressor,
    MLPStudent,
    RegressionDistillationLoss,
)
from skdistill.losses._settings import LossSettings
from skdistill.training._numpy._closed_form import ClosedFormStep
from skdistill.training._numpy._step import (
    numpy_distillation_loss_and_gradient,
    numpy_regression_loss_and_gradient,
)


def _numpy(*tensors):
    return [None if t is None else t.numpy() for t in tensors]


def _autograd(criterion, outputs, *args, **kwargs):
    outputs = outputs.clone().requires_grad_(True)
    loss = criterion(outputs, *args, **kwargs)
    loss.backward()
    return loss.detach(), outputs.grad


def _classification_batch(seed, n_rows=7, n_classes=3, unlabelled=2):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(n_rows, n_classes, generator=generator) * 3
    teacher = torch.randn(n_rows, n_classes, generator=generator) * 3
    target = torch.randint(0, n_classes, (n_rows,), generator=generator)
    target[:unlabelled] = -1
    weights = torch.rand(n_rows, generator=generator) * 2
    weights[-1] = 0.0
    return logits, teacher, target, weights


@pytest.mark.parametrize("T", [1.0, 2.5])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("unlabelled", [0, 2, 7])
def test_distillation_gradient_equals_autograd(T, alpha, weighted, unlabelled):
    seed = int(T * 10 + alpha * 7)
    logits, teacher, target, weights = _classification_batch(seed, unlabelled=unlabelled)
    weights = weights if weighted else None
    kwargs = {} if weights is None else {"sample_weight": weights}
    expected_loss, expected_grad = _autograd(
        DistillationLoss(T=T, alpha=alpha), logits, teacher, target, **kwargs
    )
    loss, grad = numpy_distillation_loss_and_gradient(
        *_numpy(logits, teacher, target), T=T, alpha=alpha, sample_weight=_numpy(weights)[0]
    )
    assert isinstance(loss, float) and grad.dtype == np.float32
    np.testing.assert_allclose(loss, expected_loss.item(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad, expected_grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("missing", [[], [0, 4]])
def test_regression_gradient_equals_autograd(alpha, weighted, missing):
    generator = torch.Generator().manual_seed(3)
    outputs = torch.randn(6, 1, generator=generator)
    teacher = torch.randn(6, 1, generator=generator)
    target = torch.randn(6, generator=generator)
    target[missing] = float("nan")
    weights = torch.rand(6, generator=generator) if weighted else None
    kwargs = {} if weights is None else {"sample_weight": weights}
    expected_loss, expected_grad = _autograd(
        RegressionDistillationLoss(alpha=alpha), outputs, teacher, target, **kwargs
    )
    loss, grad = numpy_regression_loss_and_gradient(
        *_numpy(outputs, teacher, target), alpha=alpha, sample_weight=_numpy(weights)[0]
    )
    np.testing.assert_allclose(loss, expected_loss.item(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad, expected_grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("hidden", [(), (5,), (6, 4)])
def test_step_sets_the_gradients_autograd_would(hidden):
    torch.manual_seed(0)
    student = MLPStudent(n_features=4, n_outputs=3, hidden_layer_sizes=hidden)
    criterion = DistillationLoss(T=2.0, alpha=0.4)
    logits, teacher, target, _ = _classification_batch(1)
    X = torch.randn(len(target), 4)
    criterion(student(X), teacher, target).backward()
    expected = [p.grad.clone() for p in student.parameters()]
    for p in student.parameters():
        p.grad = None
    settings = LossSettings("classifier", alpha=0.4, T=2.0)
    loss, outputs = ClosedFormStep.for_net(student, settings)(X, teacher, target)
    torch.testing.assert_close(outputs, student(X).detach())
    torch.testing.assert_close(loss, criterion(outputs, teacher, target))
    for got, want in zip([p.grad for p in student.parameters()], expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


class _GradientNorms(Callback):
    """Record the gradient norm skorch's ``on_grad_computed`` sees at every step."""

    def initialize(self):
        self.norms = []
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.norms.append(sum(float(p.grad.norm()) ** 2 for _, p in named_parameters) ** 0.5)


def _fit_both_ways(fit):
    """``fit(solver)`` with the numpy engine (checked), then with torch's."""
    fast, slow = fit("numpy"), fit("torch")
    assert (fast.solver_, slow.solver_) == ("numpy", "torch")
    return fast, slow


def test_numpy_engine_fit_equals_torch_fit():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    y[:10] = -1  # unlabelled rows: the teacher term only
    logits = (2 * np.eye(3)[y.clip(0)] + rng.normal(size=(120, 3))).astype(np.float32)

    def fit(solver):
        model = DistilledClassifier(
            "precomputed", T=2.0, alpha=0.7, max_epochs=4, batch_size=16, random_state=0,
            unlabeled_label=-1, callbacks=[("norms", _GradientNorms())], solver=solver,
        )
        return model.fit(X, y, teacher_logits=logits)

    fast, slow = _fit_both_ways(fit)
    norms = [dict(model.student_.callbacks_)["norms"].norms for model in (fast, slow)]
    assert len(norms[0]) == 4 * 7 and np.all(np.asarray(norms[0]) > 0)
    np.testing.assert_allclose(norms[0], norms[1], rtol=1e-4)
    _assert_same_histories(fast, slow, "train_loss", "valid_loss", "valid_label_loss",
                           "valid_calibrated_loss", "valid_acc", "valid_agreement")
    np.testing.assert_allclose(fast.predict_proba(X), slow.predict_proba(X), atol=1e-5)


def test_regressor_numpy_engine_fit_equals_torch_fit():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(90, 4)).astype(np.float32)
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=90)
    outputs = (y + 0.3 * rng.normal(size=90)).astype(np.float32)
    weights = rng.rand(90)

    def fit(solver):
        model = DistilledRegressor(
            "precomputed", alpha=0.5, max_epochs=3, batch_size=16, random_state=0, solver=solver
        )
        return model.fit(X, y, teacher_predictions=outputs, sample_weight=weights)

    fast, slow = _fit_both_ways(fit)
    _assert_same_histories(fast, slow, "train_loss", "valid_loss", "valid_label_loss", "valid_r2")
    np.testing.assert_allclose(fast.predict(X), slow.predict(X), atol=1e-5)


def _assert_same_histories(fast, slow, *keys):
    """The two fits logged every key at every epoch, the same to float rounding (the numpy
    engine computes the held-out batches too)."""
    for key in keys:
        values = [model.student_.history[:, key] for model in (fast, slow)]
        assert len(values[0]) == len(fast.student_.history) > 1
        np.testing.assert_allclose(*values, rtol=1e-5, err_msg=key)


@pytest.mark.parametrize("settings", [
    LossSettings("classifier", alpha=0.4, T=2.0), LossSettings("classifier", alpha=1.0),
    LossSettings("classifier", alpha=0.0, T=2.0), LossSettings("regressor", alpha=0.6),
])
def test_a_held_out_batch_scores_as_the_criterion_does(settings):
    torch.manual_seed(0)
    classifies = settings.classifies
    student = MLPStudent(n_features=4, n_outputs=3 if classifies else 1, hidden_layer_sizes=(5,))
    if classifies:
        _, teacher, target, weights = _classification_batch(2)
        criterion = DistillationLoss(T=settings.T, alpha=settings.alpha)
    else:
        teacher, target, weights = torch.randn(7, 1), torch.randn(7), torch.rand(7)
        target[1] = float("nan")
        criterion = RegressionDistillationLoss(alpha=settings.alpha)
    X = torch.randn(len(target), 4)
    loss, label_loss, outputs = ClosedFormStep.for_net(student, settings).evaluate(
        X, teacher, target, weights)
    with torch.no_grad():
        expected = student(X)
        torch.testing.assert_close(outputs, expected)
        assert loss == pytest.approx(criterion(expected, teacher, target, weights).item(),
                                     rel=1e-5)
        assert label_loss == pytest.approx(
            criterion.label_loss(expected, target, weights).item(), rel=1e-5)
    assert all(p.grad is None for p in student.parameters())  # nothing trained


def test_per_batch_hooks_reach_callbacks_that_define_them_on_the_class_or_instance(iris):
    X, y = iris
    heard = []
    on_instance = Callback()
    on_instance.on_batch_begin = lambda net, training=False, **kwargs: heard.append(training)
    model = DistilledClassifier(
        "precomputed", max_epochs=2, batch_size=50, random_state=0, student_preprocessor=None,
        alpha=0.5,  # one student: "auto" would train a labels-only twin too
        callbacks=[("instance", on_instance), ("norms", _GradientNorms())],
    ).fit(X, y, teacher_proba=np.eye(3)[y] * 0.8 + 0.2 / 3)
    # 135 training rows in 3 batches and 15 validation rows in 1, per epoch
    assert heard == [True, True, True, False] * 2
    assert len(dict(model.student_.callbacks_)["norms"].norms) == 6
