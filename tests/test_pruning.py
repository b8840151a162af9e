"""Structured pruning: smaller dense layers, fine-tuned, exported smaller; clear errors."""

import pytest
import torch
from conftest import make_fast, rng_data
from sklearn.linear_model import LogisticRegression, Ridge

from skdistill import DistilledRegressor, MLPStudent, Pruning
from skdistill.training._pruning import prune_hidden_units

X, Y = rng_data(n=300, d=6, k=3)


def test_pruning_keeps_the_strongest_units_and_their_weights():
    torch.manual_seed(0)
    net = MLPStudent(n_features=3, n_outputs=2, hidden_layer_sizes=(4,))
    with torch.no_grad():
        net.layers[0].weight.copy_(
            torch.tensor([[1.0, 0, 0], [0, 0.1, 0], [0, 0, 3.0], [0, 0, 0.2]])
        )
        net.layers[2].weight.copy_(torch.ones(2, 4))
    first, last = net.layers[0].weight.clone(), net.layers[2].weight.clone()
    prune_hidden_units(net, [2])
    assert net.layers[0].weight.shape == (2, 3) and net.layers[2].weight.shape == (2, 2)
    torch.testing.assert_close(net.layers[0].weight, first[[0, 2]])  # units 0 and 2 are strongest
    torch.testing.assert_close(net.layers[2].weight, last[:, [0, 2]])


@pytest.mark.parametrize("steps", [1, 2])
def test_a_pruned_student_is_smaller_fine_tuned_and_accurate(steps, tmp_path):
    base = dict(module__hidden_layer_sizes=(32, 16), max_epochs=60, lr=0.01,
                student_preprocessor=None)  # the widths below count the 6 raw features
    full = make_fast(LogisticRegression(), **base).fit(X, Y)
    pruned = make_fast(
        LogisticRegression(), pruning=Pruning(amount=0.75, steps=steps, fine_tune_epochs=15), **base
    ).fit(X, Y)
    assert pruned.pruning_["hidden_before"] == [32, 16]
    assert pruned.pruning_["hidden_after"] == [8, 4]
    widths = [m.out_features for m in pruned.student_.module_.layers if hasattr(m, "out_features")]
    assert widths == [8, 4, 3]
    params = sum(p.numel() for p in pruned.student_.module_.parameters())
    assert params == pruned.pruning_["parameters_after"] == 6 * 8 + 8 + 8 * 4 + 4 + 4 * 3 + 3
    assert pruned.pruning_["parameters_before"] / params > 5
    assert pruned.n_iter_ == len(pruned.student_.history)  # fine-tuning epochs counted
    assert pruned.score(X, Y) > full.score(X, Y) - 0.05
    from skdistill import export_onnx

    small = export_onnx(pruned, tmp_path / "pruned.onnx")
    large = export_onnx(full, tmp_path / "full.onnx")
    assert (tmp_path / "pruned.onnx").stat().st_size < (tmp_path / "full.onnx").stat().st_size
    assert small and large
    from skdistill import report

    table = report(pruned, X, Y, repeats=1, single_repeats=2).to_dict()
    before_after = table["student parameters, before / after pruning"]["student"]
    assert before_after == f"{pruned.pruning_['parameters_before']:,} / {params:,}"
    assert pruned.pruning_["bytes_after"] == 4 * params  # float32 weights, no file framing
    assert pruned.pruning_["bytes_before"] == 4 * pruned.pruning_["parameters_before"]
    assert pruned.pruning_["latency_ms_before"] > 0 and pruned.pruning_["latency_ms_after"] > 0
    assert table["parameters / nodes"]["student"] == params


def test_regressor_pruning():
    reg = DistilledRegressor(
        Ridge(),
        module__hidden_layer_sizes=(16,),
        pruning=Pruning(amount=0.5, fine_tune_epochs=5),
        max_epochs=10,
        random_state=0,
    ).fit(X, X[:, 0] * 2)
    assert reg.pruning_["hidden_after"] == [8]
    assert reg.predict(X).shape == (300,)


class NotAChain(torch.nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.a = torch.nn.Linear(n_features, 8)
        self.b = torch.nn.Linear(8, n_classes)

    def forward(self, X):
        return self.b(torch.relu(self.a(X)))


@pytest.mark.parametrize(
    "params, error, message",
    [
        (dict(pruning=Pruning(amount=1.0)), ValueError, "'amount' parameter of Pruning"),
        (dict(pruning=Pruning(amount=0.0)), ValueError, "'amount' parameter of Pruning"),
        (
            dict(pruning=Pruning(amount=0.9), module__hidden_layer_sizes=(2,)),
            ValueError,
            "would leave a hidden layer of 2 units empty",
        ),
        (
            dict(pruning=Pruning(), student_module=NotAChain),
            ValueError,
            "NotAChain has no prunable layers",
        ),
        (
            dict(pruning=Pruning(), module__hidden_layer_sizes=()),
            ValueError,
            "no hidden layer to prune",
        ),
        (dict(pruning=0.5), ValueError, "'pruning' parameter"),
    ],
)
def test_bad_pruning_is_a_clear_error_and_nothing_is_fitted(params, error, message):
    clf = make_fast(max_epochs=2, **params)
    with pytest.raises(error, match=message):
        clf.fit(X, Y)
    assert not hasattr(clf, "student_")


def test_a_warm_start_cuts_from_the_widths_before_pruning_not_again_and_again():
    import pickle

    X, y = rng_data(n=150, d=3, k=2)
    model = make_fast(teacher=LogisticRegression(), max_epochs=2,
                      module__hidden_layer_sizes=(64,),
                      pruning=Pruning(amount=0.75, fine_tune_epochs=1))
    model.fit(X, y)
    assert model.pruning_["hidden_after"] == [16]
    model = pickle.loads(pickle.dumps(model)).set_params(warm_start=True)
    for _ in range(2):  # the advice of max_epochs' ConvergenceWarning: fit again
        model.fit(X, y)
        assert model.pruning_["hidden_before"] == [64]
        assert model.pruning_["hidden_after"] == [16]  # not 4, then 1, then an error
    model.set_params(pruning=Pruning(amount=0.875, fine_tune_epochs=1)).fit(X, y)
    assert model.pruning_["hidden_after"] == [8]  # a larger share of the 64 units


@pytest.mark.parametrize("between", [torch.nn.ReLU6, torch.nn.Mish, torch.nn.SELU,
                                     torch.nn.Hardswish, lambda: torch.nn.AlphaDropout(0.1)])
def test_any_weightless_elementwise_layer_may_sit_between_the_pruned_layers(between):
    class Student(torch.nn.Module):
        def __init__(self, n_features, n_classes):
            super().__init__()
            self.layers = torch.nn.Sequential(torch.nn.Linear(n_features, 16), between(),
                                              torch.nn.Linear(16, n_classes))

        def forward(self, X):
            return self.layers(X)

    model = make_fast(LogisticRegression(), student_module=Student, student_preprocessor=None,
                      pruning=Pruning(amount=0.5, fine_tune_epochs=1)).fit(X, Y)
    assert model.pruning_["hidden_after"] == [8]
    assert model.predict_proba(X).shape == (300, 3)


def test_a_cpu_device_with_an_index_pickles_and_loads():
    import pickle

    model = make_fast(LogisticRegression(), device="cpu:0").fit(X, Y)
    assert model.get_params()["device"] == "cpu:0"  # the parameter as given
    loaded = pickle.loads(pickle.dumps(model))
    assert (loaded.predict_proba(X) == model.predict_proba(X)).all()
