"""The closed-form training step equals autograd's, and steps aside where it does not apply."""

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
from skdistill.training._numpy._closed_form import (
    ClosedFormStep,
    distillation_loss_and_gradient,
    regression_loss_and_gradient,
)


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
    loss, grad = distillation_loss_and_gradient(
        logits, teacher, target, T=T, alpha=alpha, sample_weight=weights
    )
    torch.testing.assert_close(loss, expected_loss, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_gradient_equals_autograd(alpha, weighted):
    generator = torch.Generator().manual_seed(3)
    outputs = torch.randn(6, 1, generator=generator)
    teacher = torch.randn(6, 1, generator=generator)
    target = torch.randn(6, generator=generator)
    target[[0, 4]] = float("nan")
    weights = torch.rand(6, generator=generator) if weighted else None
    kwargs = {} if weights is None else {"sample_weight": weights}
    expected_loss, expected_grad = _autograd(
        RegressionDistillationLoss(alpha=alpha), outputs, teacher, target, **kwargs
    )
    loss, grad = regression_loss_and_gradient(
        outputs, teacher, target, alpha=alpha, sample_weight=weights
    )
    torch.testing.assert_close(loss, expected_loss, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-5, atol=1e-6)


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
    loss, outputs = ClosedFormStep.for_net(student, criterion)(X, teacher, target)
    torch.testing.assert_close(outputs, student(X).detach())
    torch.testing.assert_close(loss, criterion(outputs, teacher, target))
    for got, want in zip([p.grad for p in student.parameters()], expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_step_applies_only_to_plain_relu_mlps_and_built_in_losses():
    plain = MLPStudent(3, 2, (4,))
    hinton = DistillationLoss(T=2.0, alpha=0.5)
    assert ClosedFormStep.for_net(plain, hinton) is not None
    assert ClosedFormStep.for_net(plain, RegressionDistillationLoss(alpha=0.5)) is not None

    class Subclass(MLPStudent):
        pass

    hooked = MLPStudent(3, 2, (4,))
    hooked.layers[0].register_forward_hook(lambda *args: None)
    frozen = MLPStudent(3, 2, (4,))
    frozen.layers[0].weight.requires_grad_(False)
    tanh = MLPStudent(3, 2, (4,))
    tanh.layers[1] = torch.nn.Tanh()
    for module in [MLPStudent(3, 2, (4,), dropout=0.2), Subclass(3, 2, (4,)), hooked, frozen,
                   tanh, torch.nn.Linear(3, 2)]:
        assert ClosedFormStep.for_net(module, hinton) is None, module
    assert ClosedFormStep.for_net(plain, DistillationLoss(loss="dkd")) is None


class _GradientNorms(Callback):
    """Record the gradient norm skorch's ``on_grad_computed`` sees at every step."""

    def initialize(self):
        self.norms = []
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.norms.append(sum(float(p.grad.norm()) ** 2 for _, p in named_parameters) ** 0.5)


def _fit_both_ways(monkeypatch, fit):
    """``fit()`` with closed-form steps (checked), then with autograd steps only."""
    built, for_net = [], ClosedFormStep.for_net
    monkeypatch.setattr(
        ClosedFormStep, "for_net",
        classmethod(lambda cls, module, loss: built.append(for_net(module, loss)) or built[-1]),
    )
    fast = fit()
    assert built and None not in built
    monkeypatch.setattr(ClosedFormStep, "for_net", classmethod(lambda cls, module, loss: None))
    return fast, fit()


def test_fit_with_closed_form_steps_equals_autograd_fit(monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    y[:10] = -1  # unlabelled rows: the teacher term only
    logits = (2 * np.eye(3)[y.clip(0)] + rng.normal(size=(120, 3))).astype(np.float32)

    def fit():
        model = DistilledClassifier(
            "precomputed", T=2.0, alpha=0.7, max_epochs=4, batch_size=16, random_state=0,
            unlabeled_label=-1, callbacks=[("norms", _GradientNorms())],
        )
        return model.fit(X, y, teacher_logits=logits)

    fast, slow = _fit_both_ways(monkeypatch, fit)
    norms = [dict(model.student_.callbacks_)["norms"].norms for model in (fast, slow)]
    assert len(norms[0]) == 4 * 7 and np.all(np.asarray(norms[0]) > 0)
    np.testing.assert_allclose(norms[0], norms[1], rtol=1e-4)
    np.testing.assert_allclose(
        fast.student_.history[:, "train_loss"], slow.student_.history[:, "train_loss"], rtol=1e-5
    )
    np.testing.assert_allclose(fast.predict_proba(X), slow.predict_proba(X), atol=1e-5)


def test_regressor_fit_with_closed_form_steps_equals_autograd_fit(monkeypatch):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(90, 4)).astype(np.float32)
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=90)
    outputs = (y + 0.3 * rng.normal(size=90)).astype(np.float32)
    weights = rng.rand(90)

    def fit():
        model = DistilledRegressor(
            "precomputed", alpha=0.5, max_epochs=3, batch_size=16, random_state=0
        )
        return model.fit(X, y, teacher_predictions=outputs, sample_weight=weights)

    fast, slow = _fit_both_ways(monkeypatch, fit)
    np.testing.assert_allclose(
        fast.student_.history[:, "train_loss"], slow.student_.history[:, "train_loss"], rtol=1e-5
    )
    np.testing.assert_allclose(fast.predict(X), slow.predict(X), atol=1e-5)


def test_per_batch_hooks_reach_callbacks_that_define_them_on_the_class_or_instance(iris):
    X, y = iris
    heard = []
    on_instance = Callback()
    on_instance.on_batch_begin = lambda net, training=False, **kwargs: heard.append(training)
    model = DistilledClassifier(
        "precomputed", max_epochs=2, batch_size=50, random_state=0,
        callbacks=[("instance", on_instance), ("norms", _GradientNorms())],
    ).fit(X, y, teacher_proba=np.eye(3)[y] * 0.8 + 0.2 / 3)
    # 135 training rows in 3 batches and 15 validation rows in 1, per epoch
    assert heard == [True, True, True, False] * 2
    assert len(dict(model.student_.callbacks_)["norms"].norms) == 6
