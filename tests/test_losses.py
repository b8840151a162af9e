"""Golden values and properties of the distillation losses (computed by hand)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skdistill import DistillationLoss, hard_label_loss, hinton_kd_loss
from skdistill.losses._soft import resolve_soft_loss
from skdistill.teachers._adapters import teacher_logits


def _kl(p, q):
    return sum(pi * math.log(pi / qi) for pi, qi in zip(p, q))


def _softmax(z):
    e = [math.exp(v) for v in z]
    return [v / sum(e) for v in e]


@pytest.mark.parametrize("T", [1.0, 2.0, 4.0])
def test_hinton_golden_value_one_row(T):
    student = [1.0, 0.0, -1.0]
    teacher = [0.5, 2.0, 0.0]
    expected = T * T * _kl(_softmax([t / T for t in teacher]), _softmax([s / T for s in student]))
    got = hinton_kd_loss(torch.tensor([student]), torch.tensor([teacher]), None, T=T)
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_hinton_known_number():
    # T=2: p_t = softmax([0, ln 9] / 2) = [1/4, 3/4]; p_s = [1/2, 1/2].
    # KL = 1/4 ln(1/2) + 3/4 ln(3/2) = 0.130812...; times T^2 = 4 -> 0.523248.
    got = hinton_kd_loss(torch.tensor([[0.0, 0.0]]), torch.tensor([[0.0, math.log(9.0)]]), None, T=2.0)
    assert got.item() == pytest.approx(0.523248, abs=1e-6)


def test_hinton_is_batchmean_not_elementwise_mean():
    s = torch.tensor([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    t = torch.tensor([[0.0, 3.0, 0.0], [2.0, 0.0, 0.0]])
    per_row = [hinton_kd_loss(s[i : i + 1], t[i : i + 1], None, T=1.0).item() for i in range(2)]
    assert hinton_kd_loss(s, t, None, T=1.0).item() == pytest.approx(sum(per_row) / 2, rel=1e-6)


def test_hinton_t_squared_keeps_gradient_scale():
    # For large T the gradient of KL alone shrinks like 1/T^2; with the T^2 factor it
    # tends to a constant: (z_s - z_t) / (n_classes * batch) in the high-T limit.
    t = torch.tensor([[1.0, 0.0, -1.0]])
    grads = []
    for T in (10.0, 100.0):
        s = torch.zeros(1, 3, requires_grad=True)
        hinton_kd_loss(s, t, None, T=T).backward()
        grads.append(s.grad.clone())
    limit = (torch.zeros(1, 3) - (t - t.mean())) / 3
    assert torch.allclose(grads[1], limit, atol=2e-3)
    assert torch.allclose(grads[0], grads[1], atol=2e-2)


def test_hinton_zero_when_student_equals_teacher():
    z = torch.tensor([[3.0, -1.0, 0.5]])
    assert hinton_kd_loss(z, z + 7.0, None, T=3.0).item() == pytest.approx(0.0, abs=1e-6)


def test_hard_label_loss_golden_and_unlabelled_rows():
    z = torch.tensor([[2.0, 0.0], [0.0, 0.0], [9.0, -9.0]])
    y = torch.tensor([0, 1, -1])
    expected = (math.log(1 + math.exp(-2.0)) + math.log(2.0)) / 2
    assert hard_label_loss(z, y).item() == pytest.approx(expected, rel=1e-6)
    assert hard_label_loss(z, torch.tensor([-1, -1, -1])).item() == 0.0


def test_distillation_loss_mixes_with_alpha_on_the_teacher_term():
    s = torch.tensor([[1.0, 0.0, -1.0], [0.2, 0.1, 0.0]])
    t = torch.tensor([[0.0, 2.0, 0.0], [1.0, 0.0, 0.0]])
    y = torch.tensor([2, 0])
    soft = hinton_kd_loss(s, t, y, T=2.0).item()
    hard = F.cross_entropy(s, y).item()
    for alpha in (0.0, 0.3, 1.0):
        got = DistillationLoss(T=2.0, alpha=alpha)(s, t, y).item()
        assert got == pytest.approx(alpha * soft + (1 - alpha) * hard, rel=1e-6)


def test_alpha_zero_ignores_the_teacher_completely():
    s = torch.tensor([[1.0, 0.0]])
    y = torch.tensor([0])
    a = DistillationLoss(T=1.0, alpha=0.0)(s, torch.tensor([[50.0, -50.0]]), y)
    b = DistillationLoss(T=1.0, alpha=0.0)(s, torch.tensor([[float("nan"), 0.0]]), y)
    assert a.item() == b.item()


def test_unknown_loss_name_is_a_clear_error():
    with pytest.raises(ValueError, match="not a known distillation loss"):
        resolve_soft_loss("hintn")


# --- the two bugs of the blog-post recipe (DESIGN.md section 2) ----------------------


def test_soft_targets_are_powers_of_probabilities_not_softmax_of_probabilities():
    """Bug 1: softmax(p / T) flattens targets; the right target is p^(1/T), renormalised."""

    class Fixed:
        classes_ = np.array([0, 1, 2])

        def predict_proba(self, X):
            return np.tile([0.7, 0.2, 0.1], (len(X), 1))

    T = 2.0
    logits = torch.from_numpy(teacher_logits(Fixed(), np.zeros((1, 1)), np.array([0, 1, 2])))
    soft = torch.softmax(logits / T, dim=1).numpy()[0]
    right = np.array([0.7, 0.2, 0.1]) ** (1 / T)
    right /= right.sum()
    wrong = torch.softmax(torch.tensor([0.7, 0.2, 0.1]) / T, dim=0).numpy()
    np.testing.assert_allclose(soft, right, rtol=1e-5)
    assert np.abs(soft - wrong).max() > 0.1  # the buggy target is nearly uniform
    assert wrong.max() < 0.4 < soft.max()


# --- the rest of the loss family ------------------------------------------------------


def test_logit_matching_golden_value():
    from skdistill import logit_matching_loss

    s = torch.tensor([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    t = torch.tensor([[3.0, 2.0, 1.0], [0.0, 3.0, 0.0]])  # centred: [1, 0, -1] and [-1, 2, -1]
    expected = (0 + 0 + 0 + 1 + 4 + 1) / 6
    assert logit_matching_loss(s, t, None).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("T", [1.0, 3.0])
def test_decoupled_kd_golden_value(T):
    from skdistill import decoupled_kd_loss

    s, t, target = [1.0, 0.0, -1.0], [0.5, 2.0, 0.0], 0
    ps, pt = _softmax([v / T for v in s]), _softmax([v / T for v in t])
    tckd = _kl([pt[0], 1 - pt[0]], [ps[0], 1 - ps[0]])
    nckd = _kl(_softmax([v / T for v in t[1:]]), _softmax([v / T for v in s[1:]]))
    expected = (1.0 * tckd + 8.0 * nckd) * T * T
    got = decoupled_kd_loss(torch.tensor([s]), torch.tensor([t]), torch.tensor([target]), T=T)
    assert got.item() == pytest.approx(expected, rel=1e-5)
    if T == 1.0:
        assert expected == pytest.approx(1.07198, abs=1e-4)  # worked by hand in the PR notes
    weighted = decoupled_kd_loss(
        torch.tensor([s]), torch.tensor([t]), torch.tensor([target]), T=T, tckd_weight=2.0, nckd_weight=0.0
    )
    assert weighted.item() == pytest.approx(2 * tckd * T * T, rel=1e-5)


def test_decoupled_kd_unlabelled_rows_use_the_teacher_argmax():
    from skdistill import decoupled_kd_loss

    s, t = torch.tensor([[1.0, 0.0, -1.0]]), torch.tensor([[0.5, 2.0, 0.0]])
    unlabelled = decoupled_kd_loss(s, t, torch.tensor([-1]), T=1.0)
    as_argmax = decoupled_kd_loss(s, t, torch.tensor([1]), T=1.0)
    assert unlabelled.item() == pytest.approx(as_argmax.item())


def test_decoupled_kd_gradients_are_finite():
    from skdistill import decoupled_kd_loss

    s = torch.randn(8, 4, requires_grad=True)
    t = torch.randn(8, 4) * 20
    decoupled_kd_loss(s, t, torch.randint(0, 4, (8,)), T=2.0).backward()
    assert torch.isfinite(s.grad).all()


def test_loss_params_and_callables_reach_the_soft_term():
    seen = {}

    def my_loss(student_logits, teacher_logits, target, *, T, scale=1.0):
        seen.update(T=T, scale=scale)
        return scale * (student_logits - teacher_logits).pow(2).mean()

    criterion = DistillationLoss(T=3.0, alpha=1.0, loss=my_loss, loss_params={"scale": 2.0})
    got = criterion(torch.ones(2, 2), torch.zeros(2, 2), torch.tensor([0, 1]))
    assert got.item() == 2.0 and seen == {"T": 3.0, "scale": 2.0}


def test_regression_distillation_loss_golden():
    from skdistill import RegressionDistillationLoss

    s = torch.tensor([[1.0], [2.0], [0.0]])
    t = torch.tensor([[0.0], [2.0], [2.0]])
    y = torch.tensor([3.0, float("nan"), 1.0])
    teacher_term = (1 + 0 + 4) / 3
    label_term = (4 + 1) / 2  # the NaN row has no label
    got = RegressionDistillationLoss(alpha=0.3)(s, t, y).item()
    assert got == pytest.approx(0.3 * teacher_term + 0.7 * label_term, rel=1e-6)


@pytest.mark.parametrize(
    "soft, message",
    [
        (lambda s, t, y, *, T: ((s - t) ** 2).mean(1), r"returned \(\d+,\); it must return a scalar"),
        (lambda s, t, y, *, T: float(((s - t) ** 2).mean()), "returned float; it must return"),
        (lambda s, t, y, *, T: torch.tensor(float(((s - t) ** 2).mean())),
         "does not depend on student_logits through torch"),
    ],
)
def test_a_callable_loss_that_cannot_train_the_student_is_named(iris, soft, message):
    from conftest import make_fast

    X, y = iris
    with pytest.raises(ValueError, match=message):
        make_fast(loss=soft, max_epochs=1).fit(X, y)


def test_an_unknown_loss_name_says_where_registered_names_are_known(iris, monkeypatch):
    from sklearn.linear_model import LogisticRegression
    from sklearn.utils._param_validation import InvalidParameterError

    from skdistill import DistilledClassifier, register_soft_loss
    from skdistill.losses import _soft

    # the built-in losses alone, as in a parallel search's worker where "cosine" was never
    # registered (whatever other tests left registered)
    monkeypatch.setattr(_soft, "SOFT_LOSSES", {name: _soft.SOFT_LOSSES[name]
                                               for name in _soft._BUILT_IN})
    X, y = iris
    with pytest.raises(InvalidParameterError, match="pass the registered function itself"):
        DistilledClassifier(LogisticRegression(), loss="cosine", max_epochs=1).fit(X, y)
    with pytest.raises(TypeError, match=r"decorate with @register_soft_loss\('cosine'\)"):
        @register_soft_loss
        def cosine(student_logits, teacher_logits, target, *, T):
            return student_logits.sum()
    assert "cosine" not in _soft.SOFT_LOSSES


@pytest.mark.parametrize("weight", ["a", -1, float("nan"), float("inf"), True])
def test_a_dkd_term_weight_that_is_not_a_finite_non_negative_number_is_refused(iris, weight):
    from sklearn.linear_model import LogisticRegression

    from skdistill import DistilledClassifier

    X, y = iris
    with pytest.raises(ValueError, match="loss__nckd_weight weighs a term of the loss"):
        DistilledClassifier(LogisticRegression(), loss="dkd", loss__nckd_weight=weight,
                            max_epochs=1).fit(X, y)
