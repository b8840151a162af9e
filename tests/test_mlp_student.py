"""MLPStudent's forward pass: its layers' forward called directly, and every hook still run."""

import warnings

import pytest
import torch
from torch import nn

from skdistill import MLPStudent, TabularStudent


@pytest.fixture
def student():
    torch.manual_seed(0)
    return MLPStudent(5, 3, hidden_layer_sizes=(8, 4)).eval()


@pytest.fixture
def rows():
    return torch.randn(7, 5)


def test_the_forward_pass_gives_the_layers_own_outputs_bit_for_bit(student, rows):
    assert torch.equal(student(rows), student.layers(rows))
    images = rows.reshape(7, 5, 1)  # more than two axes: read flattened
    assert torch.equal(student(images), student.layers(rows))


def test_the_gradients_are_the_layers_own(student, rows):
    student(rows).sum().backward()
    functional = [p.grad.clone() for p in student.parameters()]
    student.zero_grad()
    student.layers(rows).sum().backward()
    assert all(torch.equal(a, p.grad) for a, p in zip(functional, student.parameters()))


@pytest.fixture
def module_calls(monkeypatch):
    """The types of the modules called as modules (``Module.__call__``), in order."""
    calls = []
    call = nn.Module._call_impl

    def counted(self, *args, **kwargs):
        calls.append(type(self).__name__)
        return call(self, *args, **kwargs)

    monkeypatch.setattr(nn.Module, "_call_impl", counted)
    return calls


def test_unwatched_layers_are_not_called_as_modules(student, rows, module_calls):
    student(rows)
    assert module_calls == ["MLPStudent"]
    handle = student.layers[2].register_forward_hook(lambda module, args, out: None)
    try:
        student(rows)
    finally:
        handle.remove()
    assert module_calls[1:] == ["MLPStudent", "Linear"]  # the watched layer alone
    handle = student.layers.register_forward_hook(lambda module, args, out: None)
    try:
        student(rows)
    finally:
        handle.remove()
    assert module_calls[3:] == ["MLPStudent", "Sequential", "Linear", "ReLU", "Linear", "ReLU",
                                "Linear"]


def test_tracing_and_export_see_every_layer_as_a_module(student, rows, module_calls):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit, still supported
        torch.jit.trace(student, rows, check_trace=False)
    assert module_calls.count("Linear") == 3
    exported = torch.export.export(student, (rows,))
    scopes = {str(node.meta.get("nn_module_stack", {})) for node in exported.graph.nodes}
    assert any("layers.0" in scope for scope in scopes)


def test_a_layer_or_layers_with_a_forward_of_its_own_keep_it(student, rows):
    expected = student(rows)
    student.layers[0].forward = lambda X: torch.zeros(len(X), 8)
    assert torch.allclose(student(rows), student.layers[2:](torch.zeros(7, 8)))
    del student.layers[0].forward

    class Doubling(nn.Sequential):
        def forward(self, X):
            return 2 * super().forward(X)

    student.layers = Doubling(*student.layers)
    assert torch.allclose(student(rows), 2 * expected)


@pytest.mark.parametrize("kind", ["pre-hook with kwargs", "always-called hook",
                                  "backward hook", "backward pre-hook"])
def test_every_kind_of_hook_on_a_layer_runs(student, rows, kind):
    seen = []
    layer = student.layers[2]
    if kind == "pre-hook with kwargs":
        handle = layer.register_forward_pre_hook(
            lambda module, args, kwargs: seen.append(kind), with_kwargs=True)
    elif kind == "always-called hook":
        handle = layer.register_forward_hook(
            lambda module, args, out: seen.append(kind), always_call=True)
    elif kind == "backward hook":
        handle = layer.register_full_backward_hook(lambda module, gin, gout: seen.append(kind))
    else:
        handle = layer.register_full_backward_pre_hook(lambda module, gout: seen.append(kind))
    try:
        student(rows).sum().backward()
    finally:
        handle.remove()
    assert seen == [kind]


@pytest.mark.parametrize("watched", ["first linear", "relu", "last linear", "sequential"])
def test_a_hook_on_a_layer_or_on_the_layers_still_runs(student, rows, watched):
    layer = {"first linear": student.layers[0], "relu": student.layers[1],
             "last linear": student.layers[-1], "sequential": student.layers}[watched]
    expected = student(rows)
    handle = layer.register_forward_hook(lambda module, args, out: out * 2)
    try:
        doubled = student(rows)
    finally:
        handle.remove()
    assert not torch.allclose(doubled, expected)
    if watched in ("last linear", "sequential"):  # the outputs themselves doubled
        assert torch.allclose(doubled, 2 * expected)


def test_a_pre_hook_that_changes_the_input_is_applied(student, rows):
    handle = student.layers[0].register_forward_pre_hook(lambda module, args: (args[0] * 0,))
    try:
        out = student(rows)
    finally:
        handle.remove()
    assert torch.allclose(out, student(torch.zeros_like(rows)))


def test_a_global_hook_sees_every_layer(student, rows):
    seen = []
    handle = nn.modules.module.register_module_forward_hook(
        lambda module, args, out: seen.append(type(module).__name__))
    try:
        student(rows)
    finally:
        handle.remove()
    assert seen == ["Linear", "ReLU", "Linear", "ReLU", "Linear", "Sequential", "MLPStudent"]


def test_dropout_and_other_layers_compute_as_their_modules(rows):
    torch.manual_seed(0)
    student = MLPStudent(5, 3, hidden_layer_sizes=(8,), dropout=0.5).train()
    student.layers.append(nn.Tanh())
    torch.manual_seed(1)
    out = student(rows)
    torch.manual_seed(1)
    assert torch.equal(out, student.layers(rows))
    assert float(out.detach().abs().max()) <= 1.0  # the appended Tanh ran


@pytest.mark.parametrize(
    "student, bad",
    [(MLPStudent, {"hidden_layer_sizes": (8, 0)}), (MLPStudent, {"hidden_layer_sizes": (-4,)}),
     (TabularStudent, {"embedding_dim": 0}), (TabularStudent, {"n_frequencies": 0})],
)
def test_a_layer_or_embedding_of_width_zero_is_refused_by_name(student, bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=f"{name}=.*at least 1"):
        student(4, 2, **bad)  # else a student that ignores X: one answer for every row


def test_an_int_is_one_hidden_layer_as_in_mlp_classifier():
    widths = [layer.out_features for layer in MLPStudent(4, 2, 16).layers
              if isinstance(layer, torch.nn.Linear)]
    assert widths == [16, 2]


def test_a_float64_student_is_told_the_rows_are_float32():
    import numpy as np

    from skdistill import DistilledClassifier

    X = np.random.RandomState(0).normal(size=(40, 4))
    y = (X[:, 0] > 0).astype(int)
    model = DistilledClassifier("precomputed", student_preprocessor=None, max_epochs=2,
                                student_module=MLPStudent(4, 2, (8,)).double())
    with pytest.raises(ValueError, match=r"parameters are \['torch.float64'\].*build it in "
                                         r"float32"):
        model.fit(X, y, teacher_proba=np.eye(2)[y] * 0.8 + 0.1)
