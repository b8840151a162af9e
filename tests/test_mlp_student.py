"""MLPStudent's forward pass: its layers applied as functions, and every hook still run."""

import pytest
import torch
from torch import nn

from skdistill import MLPStudent


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


def test_dropout_and_other_layers_are_called_as_modules(rows):
    torch.manual_seed(0)
    student = MLPStudent(5, 3, hidden_layer_sizes=(8,), dropout=0.5).train()
    student.layers.append(nn.Tanh())
    torch.manual_seed(1)
    out = student(rows)
    torch.manual_seed(1)
    assert torch.equal(out, student.layers(rows))
    assert float(out.detach().abs().max()) <= 1.0  # the appended Tanh ran
