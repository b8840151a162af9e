"""The training engines: which one runs, and the same behaviour from each.

Every behaviour test here runs once per engine (the ``solver`` fixture), and
the equivalence tests fit the same model with both and compare.
"""

import functools
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import make_fast
from sklearn.datasets import load_iris, make_regression
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier, DistilledRegressor, MLPStudent, Pruning
from skdistill.losses._settings import LossSettings
from skdistill.training._numpy._closed_form import ClosedFormStep
from skdistill.training._optimizer import build_optimizer, unwrapped_add_param_group
from skdistill.training._solver import choose_solver, numpy_obstacle


@pytest.fixture(params=["numpy", "torch"])
def solver(request):
    return request.param


@pytest.fixture(scope="module")
def data():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X).astype(np.float32), y


# ------------------------------------------------------------ which engine runs
@pytest.mark.slow  # over 5 s
def test_auto_takes_numpy_for_the_built_in_student_and_torch_elsewhere(data):
    X, y = data
    assert make_fast().fit(X, y).solver_ == "numpy"
    assert make_fast(loss="dkd").fit(X, y).solver_ == "torch"
    assert make_fast(module__dropout=0.1).fit(X, y).solver_ == "torch"
    assert make_fast(optimizer=torch.optim.LBFGS).fit(X, y).solver_ == "torch"


@pytest.mark.parametrize(
    "params, reason",
    [
        (dict(loss="logit_matching"), "soft loss 'logit_matching_loss'"),
        (dict(module__dropout=0.2), "the student MLPStudent"),
        (dict(optimizer=torch.optim.LBFGS), "LBFGS"),
    ],
)
def test_asking_for_numpy_where_it_cannot_apply_says_why(data, params, reason):
    X, y = data
    with pytest.raises(ValueError, match=f"solver='numpy' cannot train this student: .*{reason}"):
        make_fast(solver="numpy", **params).fit(X, y)


def test_an_invalid_solver_is_refused_at_fit(data):
    X, y = data
    with pytest.raises(ValueError, match="'solver' parameter .* among"):
        make_fast(solver="lbfgs").fit(X, y)


def test_the_obstacles_name_what_the_numpy_engine_cannot_train():
    hinton = LossSettings("classifier", alpha=0.5, T=2.0)

    def obstacle(module, settings=hinton, sparse=False):
        return numpy_obstacle(module, settings, torch.optim.Adam(module.parameters()), sparse)

    class Subclass(MLPStudent):
        pass

    hooked = MLPStudent(3, 2, (4,))
    hooked.layers[0].register_forward_hook(lambda *args: None)
    frozen = MLPStudent(3, 2, (4,))
    frozen.layers[0].weight.requires_grad_(False)
    tanh = MLPStudent(3, 2, (4,))
    tanh.layers[1] = torch.nn.Tanh()
    assert obstacle(MLPStudent(3, 2, (4,))) is None
    assert obstacle(MLPStudent(3, 1, (4,)), LossSettings("regressor", alpha=0.5)) is None
    assert "decoupled_kd_loss" in obstacle(MLPStudent(3, 2, (4,)), hinton.replace(loss="dkd"))
    assert "hooks" in obstacle(hooked)
    for module in [MLPStudent(3, 2, (4,), dropout=0.2), Subclass(3, 2, (4,)), frozen, tanh,
                   torch.nn.Linear(3, 2)]:
        assert "the student" in obstacle(module), module
    assert "sparse rows" in obstacle(MLPStudent(3, 2, (4,)), sparse=True)
    assert "float32 or float64" in obstacle(MLPStudent(3, 2, (4,)).half())
    assert choose_solver("auto", "anything") == "torch"
    assert choose_solver("torch", None) == "torch"


# ------------------------------------------------------------ the optimizer
FRESH_FIT = """
import sys
import numpy as np
from sklearn.datasets import load_iris
from skdistill import DistilledClassifier
X, y = load_iris(return_X_y=True)
DistilledClassifier("precomputed", max_epochs=2, random_state=0).fit(
    X, y, teacher_proba=np.eye(3)[y] * 0.8 + 0.2 / 3)
print("torch._dynamo" in sys.modules)
"""


def test_a_numpy_trained_fit_never_imports_torch_dynamo():
    # the import costs about a second, once per process: the first fit's largest cost
    out = subprocess.run([sys.executable, "-c", FRESH_FIT], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False"]


@pytest.mark.parametrize("optimizer", [torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD])
def test_the_optimizer_built_quietly_steps_as_torchs_own(optimizer):
    def trained(build):
        torch.manual_seed(0)
        layer = torch.nn.Linear(3, 2)
        extra = torch.nn.Parameter(torch.ones(2))
        groups = [{"params": layer.parameters()}, {"params": [extra], "lr": 0.5}]
        built = build(optimizer, groups, lr=0.1, weight_decay=0.01)
        for _ in range(3):
            built.zero_grad()
            (layer(torch.ones(4, 3)).square().sum() + extra.sum()).backward()
            built.step()
        return built.state_dict(), [p.detach().clone() for p in (*layer.parameters(), extra)]

    (state, weights), (state_torch, weights_torch) = trained(build_optimizer), trained(
        lambda cls, *args, **kwargs: cls(*args, **kwargs))
    assert state["param_groups"] == state_torch["param_groups"]
    assert all(map(torch.equal, weights, weights_torch))


def test_the_quiet_path_applies_to_this_torch_and_sees_a_patched_method(monkeypatch):
    method = torch.optim.Optimizer.add_param_group
    assert unwrapped_add_param_group() is method.__wrapped__
    calls = []

    def spy(self, param_group):
        calls.append(param_group)
        return method(self, param_group)

    monkeypatch.setattr(torch.optim.Optimizer, "add_param_group", spy)
    assert unwrapped_add_param_group() is None  # not torch's wrapper: built as usual
    build_optimizer(torch.optim.SGD, [torch.nn.Parameter(torch.ones(1))], lr=0.1)
    assert len(calls) == 1


def test_other_optimizer_classes_and_factories_are_built_as_usual():
    class Counting(torch.optim.SGD):
        groups_added = 0

        def add_param_group(self, param_group):
            type(self).groups_added += 1
            super().add_param_group(param_group)

    class TakesParamsInNew(torch.optim.SGD):
        def __new__(cls, params, **kwargs):
            return super().__new__(cls)

    weight = torch.nn.Parameter(torch.ones(1))
    built = build_optimizer(Counting, [weight], lr=0.1)
    assert Counting.groups_added == 1 and "add_param_group" not in vars(built)
    assert type(build_optimizer(TakesParamsInNew, [weight], lr=0.1)) is TakesParamsInNew
    factory = functools.partial(torch.optim.SGD, momentum=0.9)
    assert build_optimizer(factory, [weight], lr=0.1).param_groups[0]["momentum"] == 0.9


def test_a_refused_setting_raises_torchs_own_error():
    weight = torch.nn.Parameter(torch.ones(1))
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        build_optimizer(torch.optim.Adam, [weight], lr=-1)


# ------------------------------------------------- the same model from each engine
@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(T=3.0, alpha=0.9),
        dict(class_weight="balanced"),
        dict(validation_fraction=None, alpha=0.0),
        dict(optimizer=torch.optim.AdamW, optimizer__weight_decay=0.01),
        dict(optimizer=torch.optim.SGD, lr=0.05),
    ],
    ids=["defaults", "T3-alpha0.9", "class_weight", "no-validation", "adamw", "sgd"],
)
def test_auto_and_torch_fit_the_same_classifier(data, params):
    X, y = data
    weights = np.random.RandomState(0).uniform(0.2, 2.0, len(y))
    fast = make_fast(solver="auto", **params).fit(X, y, sample_weight=weights)
    slow = make_fast(solver="torch", **params).fit(X, y, sample_weight=weights)
    assert (fast.solver_, slow.solver_) == ("numpy", "torch")
    assert fast.n_iter_ == slow.n_iter_
    np.testing.assert_allclose(fast.predict_proba(X), slow.predict_proba(X), atol=1e-4)


def test_auto_and_torch_fit_the_same_regressor():
    X, y = make_regression(200, 5, noise=5.0, random_state=0)
    y[:20] = np.nan  # unlabelled rows

    def fit(solver):
        return DistilledRegressor(Ridge(), max_epochs=20, random_state=0, solver=solver).fit(X, y)

    fast, slow = fit("auto"), fit("torch")
    assert (fast.solver_, slow.solver_) == ("numpy", "torch")
    np.testing.assert_allclose(fast.predict(X), slow.predict(X), rtol=1e-4, atol=1e-4)


# --------------------------------------------------- behaviour, once per engine
def test_zero_weights_drop_rows_and_integer_weights_repeat_them(data, solver):
    X, y = data
    weights = np.ones(len(y))
    weights[::3] = 0
    kept = weights > 0
    weighted = make_fast(solver=solver, validation_fraction=None).fit(X, y, sample_weight=weights)
    dropped = make_fast(solver=solver, validation_fraction=None).fit(X[kept], y[kept])
    assert weighted.solver_ == dropped.solver_ == solver
    np.testing.assert_allclose(weighted.predict_proba(X), dropped.predict_proba(X), atol=1e-5)


def test_unlabelled_rows_learn_from_the_teacher_alone(data, solver):
    X, y = data
    proba = np.eye(3)[y] * 0.9 + 0.1 / 3
    partial = np.where(y == 2, -1, y)  # class 2 heard almost only from the teacher
    partial[[100, 101]] = 2

    def fit(alpha):
        return DistilledClassifier(
            "precomputed", unlabeled_label=-1, alpha=alpha, max_epochs=60, lr=0.02,
            random_state=0, solver=solver,
        ).fit(X, partial, teacher_proba=proba)

    taught, deaf = fit(0.5), fit(0.0)
    assert taught.solver_ == deaf.solver_ == solver
    heard = np.mean(taught.predict(X[y == 2]) == 2)
    assert heard > 0.8
    assert np.mean(deaf.predict(X[y == 2]) == 2) < heard - 0.3  # two labels of 2 against 100


def test_class_weight_moves_the_boundary_towards_the_light_class(data, solver):
    X, y = data
    plain = make_fast(solver=solver).fit(X, y)
    heavy = make_fast(solver=solver, class_weight={2: 20.0}).fit(X, y)
    assert heavy.solver_ == solver
    assert (heavy.predict(X) == 2).sum() > (plain.predict(X) == 2).sum()


def test_regression_targets_are_learnt_in_their_units(solver):
    X, y = make_regression(300, 4, noise=1.0, random_state=0)
    y = 1000 + 50 * y / y.std()
    model = DistilledRegressor(Ridge(), max_epochs=60, random_state=0, solver=solver).fit(X, y)
    assert model.solver_ == solver
    assert model.score(X, y) > 0.95
    assert abs(model.predict(X).mean() - y.mean()) < 5


def test_early_stopping_restores_the_best_epoch(data, solver):
    X, y = data
    model = make_fast(solver=solver, max_epochs=200, lr=0.2, n_iter_no_change=3).fit(X, y)
    losses = model.student_.history[:, "valid_label_loss"]
    assert model.solver_ == solver
    assert len(losses) < 200
    best = int(np.argmin(losses))
    assert len(losses) == best + 1 + 3  # patience 3 after the best epoch
    assert model.student_.history[best, "valid_label_loss_best"]


@pytest.mark.parametrize("unfreeze_at", [None, 3])
def test_a_layer_frozen_by_skorchs_freezer_stays_as_it_was(data, unfreeze_at):
    from skorch.callbacks import Freezer, Unfreezer

    X, y = data
    callbacks = [Freezer("layers.0.*")] + (
        [] if unfreeze_at is None else [Unfreezer("layers.0.*", at=unfreeze_at)]
    )
    settings = dict(max_epochs=5, n_iter_no_change=None, student_preprocessor=None)
    untrained = make_fast(max_epochs=1, lr=1e-30, solver="torch", **{
        k: v for k, v in settings.items() if k != "max_epochs"}).fit(X, y)
    first = untrained.student_.module_.layers[0].weight.detach()
    numpy_epochs = []
    trainer = ClosedFormStep.numpy_trainer
    with pytest.MonkeyPatch.context() as patch:  # count the epochs trained in numpy
        patch.setattr(ClosedFormStep, "numpy_trainer",
                      lambda self, *args: numpy_epochs.append(1) or trainer(self, *args))
        fits = {solver: make_fast(solver=solver, callbacks=callbacks, **settings).fit(X, y)
                for solver in ("auto", "torch")}
    assert fits["auto"].solver_ == "numpy"  # the batches of the frozen epochs use autograd
    assert len(numpy_epochs) == (0 if unfreeze_at is None else 5 - unfreeze_at + 1)
    moved = {solver: float((fit.student_.module_.layers[0].weight.detach() - first).abs().max())
             for solver, fit in fits.items()}
    if unfreeze_at is None:
        assert moved == {"auto": 0.0, "torch": 0.0}
    else:
        assert moved["auto"] > 1e-3 and moved["auto"] == pytest.approx(moved["torch"], rel=1e-4)
    np.testing.assert_allclose(fits["auto"].predict_proba(X), fits["torch"].predict_proba(X),
                               atol=1e-5)


def test_warm_start_continues_from_the_fitted_weights(data, solver):
    X, y = data
    model = make_fast(solver=solver, max_epochs=5, warm_start=True, n_iter_no_change=None)
    model.fit(X, y)
    first = [p.detach().clone() for p in model.student_.module_.parameters()]
    model.fit(X, y)
    assert model.n_iter_ == 10 and model.solver_ == solver
    steps = float(model.student_.optimizer_.state[
        next(model.student_.module_.parameters())]["step"])
    assert steps == 10 * model.student_.history[-1, "train_batch_count"]
    assert any(not torch.equal(a, b) for a, b in
               zip(first, model.student_.module_.parameters()))


def test_pruning_cuts_and_fine_tunes_with_either_engine(data, solver):
    X, y = data
    model = make_fast(solver=solver, module__hidden_layer_sizes=(32,),
                      pruning=Pruning(amount=0.5, fine_tune_epochs=3)).fit(X, y)
    assert model.solver_ == solver
    assert model.pruning_["hidden_before"] == [32] and model.pruning_["hidden_after"] == [16]
    assert model.score(X, y) > 0.85
