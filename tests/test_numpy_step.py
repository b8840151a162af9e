"""The numpy engine: its losses, its Adam and its quiet training epoch equal torch's."""

import numpy as np
import pytest
import torch
from test_closed_form import _autograd, _classification_batch, _fit_both_ways, _numpy

from skdistill import DistilledClassifier
from skdistill.training._numpy._adam import NumpyAdam
from skdistill.training._numpy._step import (
    numpy_distillation_loss_and_gradient,
)


def _parameters(seed):
    generator = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(4, 3, generator=generator)),
            torch.nn.Parameter(torch.randn(4, generator=generator))]


@pytest.mark.parametrize(
    "optimizer, settings",
    [
        (torch.optim.Adam, dict(lr=0.05)),
        (torch.optim.Adam, dict(lr=0.05, weight_decay=0.1, betas=(0.8, 0.99), eps=1e-6)),
        (torch.optim.Adam, dict(lr=0.05, fused=True)),
        (torch.optim.AdamW, dict(lr=0.05, weight_decay=0.1)),
    ],
)
def test_numpy_adam_takes_torchs_steps_and_leaves_its_state(optimizer, settings):
    ours, theirs = _parameters(0), _parameters(0)
    ours_optimizer, their_optimizer = optimizer(ours, **settings), optimizer(theirs, **settings)
    numpy_adam = NumpyAdam.for_optimizer(ours_optimizer, ours)
    generator = torch.Generator().manual_seed(1)
    for _ in range(5):
        gradients = [torch.randn(p.shape, generator=generator) for p in ours]
        numpy_adam.step([g.numpy() for g in gradients])
        for parameter, gradient in zip(theirs, gradients):
            parameter.grad = gradient
        their_optimizer.step()
    numpy_adam.flush()
    for mine, reference in zip(ours, theirs):
        torch.testing.assert_close(mine.detach(), reference.detach(), rtol=1e-5, atol=1e-6)
        for key in ("step", "exp_avg", "exp_avg_sq"):
            torch.testing.assert_close(
                ours_optimizer.state[mine][key], their_optimizer.state[reference][key]
            )
    # torch carries on from the state the numpy steps left
    for mine, reference in zip(ours, theirs):
        mine.grad = reference.grad = torch.ones_like(mine)
    ours_optimizer.step()
    their_optimizer.step()
    for mine, reference in zip(ours, theirs):
        torch.testing.assert_close(mine.detach(), reference.detach(), rtol=1e-5, atol=1e-6)


def test_numpy_adam_steps_aside_where_torch_must_step():
    parameters = _parameters(0)
    assert NumpyAdam.for_optimizer(torch.optim.Adam(parameters), parameters) is not None
    for optimizer in [
        torch.optim.SGD(parameters, lr=0.1),
        torch.optim.Adam(parameters, amsgrad=True),
        torch.optim.Adam(parameters, maximize=True),
        torch.optim.Adam(parameters, lr=torch.tensor(0.01)),
        torch.optim.Adam(parameters[:1]),  # a parameter it does not hold
    ]:
        assert NumpyAdam.for_optimizer(optimizer, parameters) is None, optimizer
    hooked = torch.optim.Adam(parameters)
    hooked.register_step_post_hook(lambda *args: None)
    assert NumpyAdam.for_optimizer(hooked, parameters) is None
    double = [p.detach().double().requires_grad_() for p in parameters]
    assert NumpyAdam.for_optimizer(torch.optim.Adam(double), double) is not None
    half = [p.detach().half().requires_grad_() for p in parameters]
    assert NumpyAdam.for_optimizer(torch.optim.Adam(half), half) is None


@pytest.mark.parametrize("optimizer", [torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD])
def test_quiet_numpy_epochs_equal_autograd_fit(monkeypatch, optimizer):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    logits = (2 * np.eye(3)[y] + rng.normal(size=(120, 3))).astype(np.float32)
    numpy_steps = []
    numpy_step = NumpyAdam.step
    monkeypatch.setattr(
        NumpyAdam, "step", lambda self, gradients: numpy_steps.append(1) or numpy_step(
            self, gradients)
    )

    def fit(solver):
        model = DistilledClassifier(
            "precomputed", T=2.0, alpha=0.5, max_epochs=4, batch_size=16, random_state=0,
            optimizer=optimizer, lr=0.01, solver=solver, student_preprocessor=None,
        )
        return model.fit(X, y, teacher_logits=logits)

    fast, slow = _fit_both_ways(fit)
    # 108 training rows (a tenth held out) in 7 batches, 4 epochs; none in the autograd fit
    assert len(numpy_steps) == (28 if optimizer is not torch.optim.SGD else 0)
    assert fast.student_.history[:, "train_batch_count"] == [7] * 4
    np.testing.assert_allclose(
        fast.student_.history[:, "train_loss"], slow.student_.history[:, "train_loss"], rtol=1e-5
    )
    np.testing.assert_allclose(fast.predict_proba(X), slow.predict_proba(X), atol=1e-5)
    if optimizer is not torch.optim.SGD:
        state = fast.student_.optimizer_.state
        assert [float(state[p]["step"]) for p in fast.student_.module_.parameters()] == [28.0] * 4


def test_numpy_loss_of_stacked_candidates_equals_autograd():
    from skdistill import DistillationLoss

    logits, teacher, target, weights = _classification_batch(2, unlabelled=2)
    stacked = torch.stack([logits, 2 * logits, -logits])
    T, alpha = np.array([1.0, 2.0, 4.0]), np.array([0.0, 0.5, 1.0])
    loss, grad = numpy_distillation_loss_and_gradient(
        *_numpy(stacked, teacher, target), T=T.reshape(-1, 1, 1).astype(np.float32),
        alpha=alpha.reshape(-1, 1, 1).astype(np.float32), sample_weight=weights.numpy(),
    )
    assert loss.shape == (3,) and grad.shape == stacked.shape
    for candidate in range(3):  # each candidate's loss is its own single loss
        criterion = DistillationLoss(T=T[candidate], alpha=alpha[candidate])
        expected_loss, expected_grad = _autograd(
            criterion, stacked[candidate], teacher, target, sample_weight=weights
        )
        np.testing.assert_allclose(loss[candidate], expected_loss.item(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(grad[candidate], expected_grad.numpy(), rtol=1e-5, atol=1e-6)


def test_side_by_side_candidates_train_in_numpy(monkeypatch):
    from skdistill import MLPStudent
    from skdistill.losses._settings import LossSettings
    from skdistill.training._data import DistillationDataset
    from skdistill.training._candidates import train_side_by_side

    steps = []
    numpy_step = NumpyAdam.step
    monkeypatch.setattr(NumpyAdam, "step", lambda self, g: steps.append(1) or numpy_step(self, g))
    generator = torch.Generator().manual_seed(0)
    data = DistillationDataset(torch.randn(40, 3, generator=generator),
                               torch.randn(40, 2, generator=generator),
                               torch.randint(0, 2, (40,), generator=generator))
    students = [MLPStudent(3, 2, (4,)) for _ in range(2)]
    settings = [LossSettings("classifier", 0.5), LossSettings("classifier", 0.9, T=4.0)]
    train_side_by_side(students, settings, data, None, max_epochs=2,
                       batch_size=16, optimizer=torch.optim.Adam, seed=0, patience=None)
    assert len(steps) == 2 * 3  # 40 rows in batches of 16, two epochs


def test_numpy_steps_and_torch_steps_share_one_optimizer_state():
    import copy

    from skdistill import MLPStudent
    from skdistill.losses._settings import LossSettings
    from skdistill.training._numpy._closed_form import ClosedFormStep

    torch.manual_seed(0)
    mixed, reference = MLPStudent(3, 2, (4,)), None
    reference = copy.deepcopy(mixed)
    settings = LossSettings("classifier", alpha=0.5, T=2.0)
    optimizers = [torch.optim.Adam(m.parameters(), lr=0.05) for m in (mixed, reference)]
    steps = [ClosedFormStep.for_net(m, settings) for m in (mixed, reference)]
    generator = torch.Generator().manual_seed(1)
    batches = [(torch.randn(8, 3, generator=generator), torch.randn(8, 2, generator=generator),
                torch.randint(0, 2, (8,), generator=generator), None) for _ in range(5)]
    with steps[0].numpy_trainer(optimizers[0]) as train:
        for i, batch in enumerate(batches):
            if i == 2:  # a torch step in the middle reads and writes the same state
                train.flush()
                steps[0](*batch)
                optimizers[0].step()
            else:
                train(*batch)
    for batch in batches:
        steps[1](*batch)
        optimizers[1].step()
    for mine, theirs in zip(mixed.parameters(), reference.parameters()):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)
        for key in ("step", "exp_avg", "exp_avg_sq"):
            torch.testing.assert_close(
                optimizers[0].state[mine][key], optimizers[1].state[theirs][key],
                rtol=1e-5, atol=1e-7,
            )


def test_numpy_steps_run_blas_on_one_thread_then_restore_it():
    from concurrent.futures import ThreadPoolExecutor

    from skorch.callbacks import Callback
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]

    seen = []

    class Look(Callback):  # an epoch-end callback: the epochs still run in numpy
        def on_epoch_end(self, net, **kwargs):
            seen.append(blas_threads())

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(80, 4)).astype(np.float32), rng.randint(0, 2, 80)
    before = blas_threads()

    def fit(seed):
        return DistilledClassifier(
            "precomputed", max_epochs=3, random_state=seed, callbacks=[("look", Look())],
            student_preprocessor=None, alpha=0.5,  # one student: three epochs seen
        ).fit(X, y, teacher_proba=np.eye(2)[y] * 0.8 + 0.1)

    fit(0)
    assert len(seen) == 3 and all(threads == [1] * len(before) for threads in seen)
    assert blas_threads() == before
    with ThreadPoolExecutor(max_workers=2) as pool:  # overlapping fits leave it as it was
        list(pool.map(fit, [1, 2, 3]))
    assert blas_threads() == before
