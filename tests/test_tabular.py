"""TabularStudent: periodic feature embeddings under an MLP, routed, exported and pruned."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

from skdistill import DistilledClassifier, PeriodicEmbedding, Pruning, TabularStudent


def test_embedding_is_the_formula():
    torch.manual_seed(0)
    embed = PeriodicEmbedding(2, n_frequencies=3, embedding_dim=4, sigma=1.0)
    X = torch.tensor([[0.5, -1.0]])
    out = embed(X)
    j = 1  # feature 1 by hand: ReLU(W_j [cos 2 pi c x, sin 2 pi c x] + b_j)
    angles = 2 * np.pi * embed.frequencies[j] * X[0, j]
    periodic = torch.cat([torch.cos(angles), torch.sin(angles)])
    expected = torch.relu(periodic @ embed.weight[j] + embed.bias[j])
    torch.testing.assert_close(out[0, j], expected)
    assert out.shape == (1, 2, 4)


def test_parameters_are_counted_and_routed():
    X, y = make_classification(300, 5, n_informative=3, random_state=0)
    model = DistilledClassifier(
        RandomForestClassifier(20, random_state=0), TabularStudent, max_epochs=3,
        module__hidden_layer_sizes=(16,), module__n_frequencies=4, module__embedding_dim=3,
        random_state=0,
    ).fit(X, y)
    net = model.student_.module_
    assert isinstance(net, TabularStudent)
    # frequencies 5x4, W 5x8x3, b 5x3; then 15 -> 16 -> 2
    expected = 5 * 4 + 5 * 8 * 3 + 5 * 3 + (15 * 16 + 16) + (16 * 2 + 2)
    assert sum(p.numel() for p in net.parameters()) == expected
    assert model.predict_proba(X).shape == (300, 2)


def test_tabular_student_prunes_and_exports(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    from skdistill import export_onnx

    X, y = make_classification(400, 6, n_informative=4, n_classes=3, random_state=0)
    X = X.astype(np.float32)
    model = DistilledClassifier(
        RandomForestClassifier(20, random_state=0), TabularStudent, max_epochs=4,
        module__hidden_layer_sizes=(16,), pruning=Pruning(amount=0.5, fine_tune_epochs=2),
        random_state=0,
    ).fit(X, y)
    assert model.pruning_["hidden_before"] == [16] and model.pruning_["hidden_after"] == [8]
    path = export_onnx(model, tmp_path / "tabular.onnx")
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {"X": X})
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(X))
