"""skl2onnx converts whole pipelines ending in a distiller; onnxruntime agrees to 1e-5."""

import numpy as np
import pandas as pd
import pytest
from conftest import make_fast, rng_data
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

from skdistill import DistilledRegressor, register_onnx_converters

skl2onnx = pytest.importorskip("skl2onnx")
onnxruntime = pytest.importorskip("onnxruntime")

register_onnx_converters()


def run(model, X, inputs):
    if hasattr(X, "iloc"):  # float32 columns: skl2onnx declares one typed input per column
        X = X.astype({c: np.float32 for c in X.columns if X[c].dtype.kind == "f"})
    onx = skl2onnx.to_onnx(model, X[:1])
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return onx, session.run(None, inputs)


@pytest.mark.parametrize(
    "steps", [[StandardScaler()], [MinMaxScaler(), PCA(3)]], ids=["scaler", "minmax-pca"]
)
def test_numeric_pipelines(steps):
    X, y = rng_data(n=200, d=5)
    labels = np.array(["cat", "dog", "emu"])[y]
    model = make_pipeline(*steps, make_fast(LogisticRegression(), max_epochs=5)).fit(X, labels)
    fresh = np.random.RandomState(1).normal(size=(50, 5)).astype(np.float32)
    onx, (label, proba) = run(model, fresh, {"X": fresh})
    assert [o.name for o in onx.graph.output] == ["label", "probabilities"]  # no ZipMap
    np.testing.assert_allclose(proba, model.predict_proba(fresh), atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(fresh))


def frame(n=200, seed=0):
    rng = np.random.RandomState(seed)
    data = pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], n),
            "size": rng.normal(size=n),
            "weight": np.where(rng.rand(n) < 0.1, np.nan, rng.normal(size=n)),
        }
    )
    y = ((data["colour"] == "red") ^ (data["size"] > 0)).astype(np.int64).to_numpy()
    return data, y


def frame_inputs(data):
    return {
        "colour": data[["colour"]].to_numpy().astype(object),
        "size": data[["size"]].to_numpy().astype(np.float32),
        "weight": data[["weight"]].to_numpy().astype(np.float32),
    }


ENCODE = ColumnTransformer(
    [
        ("onehot", OneHotEncoder(handle_unknown="ignore"), ["colour"]),
        ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), ["size", "weight"]),
    ]
)


def test_column_transformer_on_a_frame_one_input_per_column():
    data, y = frame()
    model = make_pipeline(ENCODE, make_fast(LogisticRegression(), max_epochs=5)).fit(data, y)
    fresh, _ = frame(seed=1)
    onx, (label, proba) = run(model, data, frame_inputs(fresh))
    assert [i.name for i in onx.graph.input] == ["colour", "size", "weight"]
    np.testing.assert_allclose(proba, model.predict_proba(fresh), atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(fresh))


def test_student_preprocessor_is_converted_with_the_student():
    data, y = frame()
    teacher = make_pipeline(ENCODE, LogisticRegression())
    model = make_fast(teacher, student_preprocessor=ENCODE, max_epochs=5).fit(data, y)
    fresh, _ = frame(seed=2)
    _, (label, proba) = run(model, data, frame_inputs(fresh))
    np.testing.assert_allclose(proba, model.predict_proba(fresh), atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(fresh))


def test_tfidf_on_documents():
    docs = np.array(["good fine great", "bad awful poor", "great good day", "poor bad day"] * 10)
    y = np.array([1, 0, 1, 0] * 10)
    model = make_pipeline(TfidfVectorizer(), make_fast(LogisticRegression(), max_epochs=10)).fit(
        docs, y
    )
    fresh = np.array(["good day", "awful poor great", "unknown words"])
    from skl2onnx.common.data_types import StringTensorType

    onx = skl2onnx.to_onnx(  # the C locale: en_US may not be installed
        model,
        initial_types=[("text", StringTensorType([None, 1]))],
        options={TfidfVectorizer: {"locale": "C"}},
    )
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    label, proba = session.run(None, {"text": fresh.reshape(-1, 1)})
    np.testing.assert_allclose(proba, model.predict_proba(fresh), atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(fresh))


def test_regressor():
    X, y = rng_data(n=200, d=4)
    target = X[:, 0] * 3 + 10
    model = make_pipeline(
        MinMaxScaler(), DistilledRegressor(Ridge(), max_epochs=10, random_state=0)
    ).fit(X, target)
    fresh = np.random.RandomState(3).normal(size=(30, 4)).astype(np.float32)
    onx, (prediction,) = run(model, fresh, {"X": fresh})
    assert prediction.shape == (30, 1)
    np.testing.assert_allclose(prediction[:, 0], model.predict(fresh), rtol=1e-5, atol=1e-4)
