"""ONNX export: onnxruntime matches predict_proba / predict within 1e-5 on fresh rows."""

import numpy as np
import onnx
import onnxruntime
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.datasets import make_classification, make_friedman1
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier, DistilledRegressor, export_onnx


class Halve(TransformerMixin, BaseEstimator):
    """A transformer skl2onnx has no converter for."""

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        return np.asarray(X) / 2


@pytest.fixture(scope="module")
def fitted_pipeline():
    X, y = make_classification(600, 12, n_informative=8, n_classes=4, random_state=0)
    X = X * 50 + 10  # raw features far from standardised: the folded scaler matters
    model = make_pipeline(
        StandardScaler(),
        DistilledClassifier(RandomForestClassifier(30, random_state=0), max_epochs=15, random_state=0),
    )
    return model.fit(X[:400], y[:400]), X[400:]


def _run(path, X, output="probabilities"):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run([output], {"X": np.asarray(X, dtype=np.float32)})[0]


def test_float_export_matches_predict_proba_on_fresh_rows(fitted_pipeline, tmp_path):
    model, X_new = fitted_pipeline
    path = export_onnx(model, tmp_path / "student.onnx")
    for batch in (X_new, X_new[:1], X_new[:7]):  # dynamic batch dimension
        np.testing.assert_allclose(_run(path, batch), model.predict_proba(batch), atol=1e-5)
    np.testing.assert_array_equal(_run(path, X_new, "label"), model.predict(X_new))
    graph = onnx.load(path).graph
    assert graph.input[0].name == "X"
    assert [o.name for o in graph.output] == ["label", "probabilities"]
    dims = graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_value == 0 and dims[1].dim_value == 12  # a dynamic batch dimension
    assert not list((tmp_path).glob("*.data"))  # one self-contained file


def test_int8_export_is_smaller_and_close(fitted_pipeline, tmp_path):
    model, X_new = fitted_pipeline
    float_path = export_onnx(model, tmp_path / "f.onnx")
    int8_path = export_onnx(model, tmp_path / "q.onnx", int8=True)
    assert (tmp_path / "q.onnx").stat().st_size < (tmp_path / "f.onnx").stat().st_size
    ops = {node.op_type for node in onnx.load(int8_path).graph.node}
    assert "MatMulInteger" in ops or "DynamicQuantizeLinear" in ops
    quantized = _run(int8_path, X_new)
    np.testing.assert_allclose(quantized.sum(axis=1), 1.0, atol=1e-5)
    assert np.mean(quantized.argmax(1) == _run(float_path, X_new).argmax(1)) > 0.95


def test_regressor_export(tmp_path):
    X, y = make_friedman1(300, random_state=0)
    reg = DistilledRegressor(Ridge(), max_epochs=10, random_state=0).fit(X, y * 10 + 3)
    path = export_onnx(reg, tmp_path / "reg.onnx")
    X_new, _ = make_friedman1(50, random_state=1)
    predicted = _run(path, X_new, "variable")[:, 0]
    np.testing.assert_allclose(predicted, reg.predict(X_new), atol=1e-4, rtol=1e-5)


def test_what_cannot_be_exported_is_a_clear_error(tmp_path):
    X, y = make_classification(100, 4, random_state=0)
    with pytest.raises(ValueError, match="(?s)skl2onnx cannot convert.*Halve.*plot_icustom_converter"):
        model = make_pipeline(Halve(), DistilledClassifier(LogisticRegression(), max_epochs=2))
        export_onnx(model.fit(X, y), tmp_path / "x.onnx", X=X)
    with pytest.raises(TypeError, match="Expected a fitted DistilledClassifier"):
        export_onnx(LogisticRegression().fit(X, y), tmp_path / "x.onnx")
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        export_onnx(DistilledClassifier(LogisticRegression()), tmp_path / "x.onnx")
