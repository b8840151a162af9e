"""ONNX export: onnxruntime matches predict_proba / predict within 1e-5 on fresh rows."""

import os

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


@pytest.mark.parametrize("labels", [[0, 1, 2], [5, 15, 25], ["a", "b", "c"]])
def test_the_label_output_gives_the_class_labels(labels, tmp_path):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    y = np.asarray(labels)[y]
    model = DistilledClassifier(LogisticRegression(max_iter=500), max_epochs=5,
                                random_state=0).fit(X, y)
    path = export_onnx(model, tmp_path / "m.onnx")
    np.testing.assert_array_equal(_run(path, X, "label"), model.predict(X))
    ops = [node.op_type for node in onnx.load(path).graph.node]
    assert ops[-1] == ("ArgMax" if labels[1] == 1 else "Gather")  # positions need no lookup


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


@pytest.mark.parametrize("encoding", ["both", "scale"])
def test_int8_export_of_unscaled_columns_agrees_with_the_float_file(
    encoding, tmp_path, monkeypatch,
):
    import skdistill.stages._encoding as encoding_stage
    from sklearn.datasets import load_breast_cancer

    monkeypatch.setattr(encoding_stage, "CANDIDATE_ENCODINGS", (encoding,))
    X, y = load_breast_cancer(return_X_y=True)  # columns from 1e-3 to 1e3: no scaler before
    model = DistilledClassifier(RandomForestClassifier(20, random_state=0), max_epochs=20,
                                random_state=0).fit(X, y)
    float_path = export_onnx(model, tmp_path / "f.onnx")
    int8_path = export_onnx(model, tmp_path / "q.onnx", int8=True)
    assert "Div" not in {node.op_type for node in onnx.load(float_path).graph.node}  # folded
    agreement = np.mean(_run(int8_path, X).argmax(1) == _run(float_path, X).argmax(1))
    assert agreement > 0.95


@pytest.mark.parametrize("encoding", ["both", "scale"])
def test_float16_export_is_about_half_the_size_and_predicts_as_the_float_file(
    encoding, tmp_path, monkeypatch,
):
    import skdistill.stages._encoding as encoding_stage
    from onnx import TensorProto, numpy_helper
    from sklearn.datasets import load_breast_cancer

    import skdistill.deploy._half as half_module

    monkeypatch.setattr(encoding_stage, "CANDIDATE_ENCODINGS", (encoding,))
    X, y = load_breast_cancer(return_X_y=True)  # columns from 1e-3 to 1e3: weights 1e6 apart
    model = DistilledClassifier(RandomForestClassifier(20, random_state=0), max_epochs=20,
                                random_state=0).fit(X, y)
    float_path = export_onnx(model, tmp_path / "f.onnx")
    half_path = export_onnx(model, tmp_path / "h.onnx", float16=True)
    assert half_path.endswith("h.onnx")
    with monkeypatch.context() as patch:  # the graph the float16 file halves: bins clipped
        patch.setattr(half_module, "half_weights", lambda model: True)  # left in float32
        clipped = onnx.load(export_onnx(model, tmp_path / "c.onnx", float16=True)).graph
    exact = {each.name: numpy_helper.to_array(each) for each in clipped.initializer}
    half = onnx.load(half_path).graph
    stored = {each.name: numpy_helper.to_array(each) for each in half.initializer}
    muls = [node for node in half.node if node.op_type == "Mul" and node.output[0] in exact]
    assert len(muls) >= 2  # the first layer's matrices and the last layer's
    for mul in muls:  # each matrix: within half a float16 step of its column's scale
        cast = next(node for node in half.node if node.output[0] == mul.input[0])
        assert cast.op_type == "Cast" and stored[cast.input[0]].dtype == np.float16
        scale = stored[mul.input[1]]
        assert np.all(np.log2(scale) == np.round(np.log2(scale)))  # powers of two
        weights = exact[mul.output[0]]
        read = stored[cast.input[0]].astype(np.float32) * scale
        assert np.all(np.abs(read - weights) <= 2.0**-11 * scale)
        assert np.all(np.abs(weights) <= scale) and not np.array_equal(read, weights)
    halved = {node.input[0] for node in half.node if node.op_type == "Cast"} & set(stored)
    assert {each.name for each in half.initializer if each.data_type == TensorProto.FLOAT16} == (
        halved)  # biases and the encoding's constants stay float32
    matrix_bytes = sum(exact[mul.output[0]].nbytes for mul in muls)
    saved = (tmp_path / "c.onnx").stat().st_size - (tmp_path / "h.onnx").stat().st_size
    assert saved > 0.35 * matrix_bytes  # half of each matrix, less its scales and two nodes
    labels, proba = _run(half_path, X, "label"), _run(half_path, X)
    assert np.mean(labels == _run(float_path, X, "label")) > 0.99
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=0.05)
    far = X * 10  # beyond the outer bins: clipped bins, no hinge growing with the distance
    np.testing.assert_allclose(_run(half_path, far), model.predict_proba(far), atol=0.05)


@pytest.mark.parametrize("weights_type", ["float16", "int8"])
def test_for_float16_or_int8_weights_the_first_layer_reads_no_hinge(weights_type):
    import torch

    from skdistill import MLPStudent, make_student_encoder
    from skdistill.deploy._hinges import hinged_student
    from skdistill.deploy._weights_type import storing_weights_as
    from skdistill.students._fitted_encoder import numeric_encoding

    X = np.random.RandomState(0).normal(size=(200, 3))
    encoding = numeric_encoding(make_student_encoder(X).fit(X))
    torch.manual_seed(0)
    student = MLPStudent(encoding.n_features_out, 2, hidden_layer_sizes=(8,)).eval()
    assert hinged_student(encoding, student)[0].n_hinges > 0
    with storing_weights_as(weights_type):
        clipped = hinged_student(encoding, student)
    assert hinged_student(encoding, student)[0].n_hinges > 0  # as before, after the block
    n_bins = int(torch.isfinite(encoding.low).sum() + torch.isfinite(encoding.high).sum()) // 2
    assert clipped[0].n_hinges == 0 and len(clipped[0].bin_columns) >= n_bins > 0
    rows = torch.tensor(np.r_[X[:5], X[:5] * 1000], dtype=torch.float32)  # and far beyond
    with torch.no_grad():
        expected = student(encoding(rows))
        assert torch.allclose(clipped(rows), expected, rtol=1e-5, atol=1e-5)


def test_float16_warns_where_no_matrix_is_halved(fitted_pipeline, tmp_path, monkeypatch):
    import skdistill.deploy._half as half

    model, X_new = fitted_pipeline
    monkeypatch.setattr(half, "half_weights", lambda onnx_model: 0)
    with pytest.warns(UserWarning, match="found no weight matrix to store in float16"):
        path = export_onnx(model, tmp_path / "m.onnx", float16=True)
    np.testing.assert_allclose(_run(path, X_new), model.predict_proba(X_new), atol=1e-5)


@pytest.mark.parametrize("int8", [False, True])
def test_a_binary_file_object_receives_the_file_bytes(fitted_pipeline, tmp_path, monkeypatch, int8):
    import io

    model, X_new = fitted_pipeline
    path = export_onnx(model, tmp_path / "m.onnx", int8=int8)
    assert path == str(tmp_path / "m.onnx")
    monkeypatch.chdir(tmp_path)
    buffer = io.BytesIO()
    assert export_onnx(model, buffer, int8=int8) is buffer
    assert buffer.getvalue() == (tmp_path / "m.onnx").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]  # nothing else written
    session = onnxruntime.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    labels = session.run(["label"], {"X": X_new.astype(np.float32)})[0]
    assert np.mean(labels == model.predict(X_new)) > (0.95 if int8 else 0.999)
    with pytest.raises(TypeError, match="path must be a str, a path-like object or a binary file "
                                        "object with a write method; got int"):
        export_onnx(model, 3)
    with pytest.raises(TypeError, match="path is a text file object \\(StringIO\\); an ONNX "
                                        "file is bytes"):
        export_onnx(model, io.StringIO())


def test_float16_and_int8_at_once_is_an_error(fitted_pipeline, tmp_path):
    model, _ = fitted_pipeline
    with pytest.raises(ValueError, match="float16=True or int8=True, not both"):
        export_onnx(model, tmp_path / "m.onnx", float16=True, int8=True)
    assert not (tmp_path / "m.onnx").exists()


def test_float16_halves_only_matrices_every_reader_multiplies():
    from onnx import TensorProto, helper, numpy_helper

    from skdistill.deploy._half import half_weights

    rng = np.random.default_rng(0)
    W = (rng.normal(size=(3, 4)) * [1.0, 1e-6, 1e3, 1e-3]).astype(np.float32)  # (out, in)
    shared = rng.normal(size=(4, 4)).astype(np.float32)  # also added: not a weight
    bad = np.array([[1.0, np.inf], [0.0, 1.0]], np.float32)
    nodes = [
        helper.make_node("Gemm", ["X", "W", "c"], ["h"], transB=1),  # W's axis 1 is summed
        helper.make_node("MatMul", ["X", "shared"], ["s"]),
        helper.make_node("Add", ["shared", "shared"], ["t"]),
        helper.make_node("MatMul", ["Z", "bad"], ["u"]),
        helper.make_node("MatMul", ["Z", "dead"], ["v"]),  # an input whose weights are all 0
    ]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 4]),
         helper.make_tensor_value_info("Z", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in "htuv"],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(np.ones(3, np.float32), "c"),
         numpy_helper.from_array(shared, "shared"), numpy_helper.from_array(bad, "bad"),
         numpy_helper.from_array(np.array([[0, 0, 0], [1, 2, 3]], np.float32), "dead")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    assert half_weights(model) == 2
    types = {each.name: each.data_type for each in model.graph.initializer}
    scales = {each.name: numpy_helper.to_array(each) for each in model.graph.initializer
              if each.name.endswith("_scale")}
    assert scales["W_scale"].shape == (1, 4)  # inputs 1e9 apart: one scale each
    assert scales["dead_scale"].tolist() == [[4.0]]  # the zero input needs none of its own
    assert types["shared"] == types["bad"] == types["c"] == TensorProto.FLOAT
    assert types["W_float16"] == TensorProto.FLOAT16 and "W" not in types
    session = onnxruntime.InferenceSession(model.SerializeToString())
    X = (rng.normal(size=(5, 4)) / [1.0, 1e-6, 1e3, 1e-3]).astype(np.float32)  # each term ~1
    h = session.run(["h"], {"X": X, "Z": np.ones((1, 2), np.float32)})[0]
    np.testing.assert_allclose(h, X @ W.T + 1.0, rtol=0, atol=5e-3)


def test_regressor_export(tmp_path):
    X, y = make_friedman1(300, random_state=0)
    reg = DistilledRegressor(Ridge(), max_epochs=10, random_state=0).fit(X, y * 10 + 3)
    path = export_onnx(reg, tmp_path / "reg.onnx")
    X_new, _ = make_friedman1(50, random_state=1)
    predicted = _run(path, X_new, "variable")[:, 0]
    np.testing.assert_allclose(predicted, reg.predict(X_new), atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("in_pipeline", [False, True], ids=["student_preprocessor", "pipeline"])
def test_documents_export_and_are_fed_by_onnx_inputs(tmp_path, in_pipeline):
    from sklearn.feature_extraction.text import TfidfVectorizer

    from skdistill import onnx_inputs

    docs = np.array(["good fine great", "bad awful poor", "great good day", "poor bad day"] * 10)
    y = np.array([1, 0, 1, 0] * 10)
    teacher = make_pipeline(TfidfVectorizer(), LogisticRegression())
    if in_pipeline:
        model = make_pipeline(TfidfVectorizer(), DistilledClassifier(
            LogisticRegression(), max_epochs=5, random_state=0))
    else:
        model = DistilledClassifier(teacher, student_preprocessor=TfidfVectorizer(), max_epochs=5,
                                    random_state=0)
    model.fit(docs, y)
    path = export_onnx(model, tmp_path / "documents.onnx", X=docs[:5],  # the C locale: en_US
                       options={TfidfVectorizer: {"locale": "C"}})  # may not be installed
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    fresh = ["good day", "awful poor great", "unknown words"]
    label, proba = session.run(None, onnx_inputs(session, fresh))
    np.testing.assert_allclose(proba, model.predict_proba(fresh), atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(fresh))
    pd = pytest.importorskip("pandas")  # documents as a Series: a column, not a frame
    path = export_onnx(model, tmp_path / "series.onnx", X=pd.Series(docs[:5]),
                       options={TfidfVectorizer: {"locale": "C"}})
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    _, from_series = session.run(None, onnx_inputs(session, pd.Series(fresh, index=[7, 3, 5])))
    np.testing.assert_allclose(from_series, proba, atol=1e-6)


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


def _frame_model(frame, y):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DistilledClassifier("precomputed", max_epochs=5, random_state=0).fit(
            frame, y, teacher_proba=np.where(np.eye(2)[y] > 0, 0.8, 0.2))


def _frame_session(model, frame, tmp_path):
    return onnxruntime.InferenceSession(export_onnx(model, tmp_path / "m.onnx", X=frame))


def test_rare_categories_grouped_as_infrequent_export_the_same(tmp_path):
    import pandas as pd

    from skdistill import onnx_inputs

    rng = np.random.RandomState(0)
    cities = np.array([f"city {i}" for i in range(150)])
    n = 600
    frame = pd.DataFrame({
        "income": rng.normal(size=n),
        "city": cities[np.minimum((rng.pareto(1.0, n) * 3).astype(int), 149)],
        "region": rng.choice(["north", "south", None], n),
    })
    y = ((frame["income"] > 0) ^ frame["city"].isin(cities[:3])).astype(int).to_numpy()
    model = _frame_model(frame, y)
    one_hot = model.student_preprocessor_.named_transformers_["categorical"]["one_hot"]
    assert one_hot.infrequent_categories_[0] is not None  # the rare cities are grouped
    fresh = frame.sample(50, random_state=1).reset_index(drop=True)
    fresh.loc[:9, "city"] = "a city never seen"  # no column at all, as predict_proba
    fresh.loc[10:14, "region"] = None
    session = _frame_session(model, frame, tmp_path)
    _, got = session.run(None, onnx_inputs(session, fresh))
    np.testing.assert_allclose(got, model.predict_proba(fresh), atol=1e-5)


def test_a_tables_file_looks_its_categories_up_as_codes_inside_the_students_graph(tmp_path):
    import pandas as pd
    import torch

    from skdistill import onnx_inputs

    rng = np.random.RandomState(0)
    n = 400
    frame = pd.DataFrame({
        "size": np.where(rng.rand(n) < 0.1, np.nan, rng.normal(size=n)),
        "colour": rng.choice(["red", "green", "blue"], n),  # never missing in fit
        "shape": pd.Categorical(rng.choice(["round", "square", None], n)),
    })
    y = ((frame["size"] > 0) ^ (frame["colour"] == "red")).astype(int).to_numpy()
    fresh = frame.sample(60, random_state=1).reset_index(drop=True)
    fresh.loc[:9, "colour"] = None  # missing, unseen in fit: no one-hot column, as predict_proba
    fresh.loc[10:19, "colour"] = "purple"  # unknown
    fresh.loc[20:29, "size"] = np.nan
    for columns in (["size", "colour", "shape"], ["colour", "shape"]):  # the second: codes alone
        model = _frame_model(frame[columns], y)
        torch.manual_seed(0)
        path = export_onnx(model, tmp_path / "m.onnx", X=frame[columns])
        drawn = torch.rand(1)
        torch.manual_seed(0)
        assert torch.rand(1) == drawn  # the export draws nothing from the caller's random state
        ops = [node.op_type for node in onnx.load(path).graph.node]
        assert ops.count("LabelEncoder") == 2 and "OneHotEncoder" not in ops
        session = onnxruntime.InferenceSession(path)
        feed = onnx_inputs(session, fresh[columns])
        assert feed["colour"].dtype == "<U6"  # short strings: fixed width, read faster
        _, got = session.run(None, feed)
        np.testing.assert_allclose(got, model.predict_proba(fresh[columns]), atol=1e-5)
        half = export_onnx(model, tmp_path / "h.onnx", X=frame[columns], float16=True)
        assert "Cast" in {node.op_type for node in onnx.load(half).graph.node}
        half = onnxruntime.InferenceSession(half)  # the one-hot rows' weights in float16 too
        np.testing.assert_allclose(half.run(None, feed)[1], got, atol=0.02)
    long = fresh.assign(colour=fresh["colour"].where(fresh["colour"] != "red", "r" * 17))
    assert onnx_inputs(session, long[columns])["colour"].dtype == object


def test_a_category_spelled_nan_reads_as_missing_in_the_file_and_int8_keeps_the_encoders(
    tmp_path,
):
    import pandas as pd

    from skdistill import onnx_inputs

    rng = np.random.RandomState(0)
    n = 300
    frame = pd.DataFrame({"size": rng.normal(size=n),
                          "word": rng.choice(["nan", "none", "null"], n)})  # no missing value
    y = ((frame["size"] > 0) ^ (frame["word"] == "nan")).astype(int).to_numpy()
    model = _frame_model(frame, y)
    fresh = frame.iloc[:20].copy()
    fresh.loc[:9, "word"] = None  # missing, never seen in fit: no one-hot column
    path = export_onnx(model, tmp_path / "m.onnx", X=frame)
    session = onnxruntime.InferenceSession(path)
    _, got = session.run(None, onnx_inputs(session, fresh))
    np.testing.assert_allclose(got[:10], model.predict_proba(fresh)[:10], atol=1e-5)
    path = export_onnx(model, tmp_path / "m8.onnx", X=frame, int8=True)
    ops = [node.op_type for node in onnx.load(path).graph.node]
    assert "LabelEncoder" not in ops and "OneHotEncoder" in ops  # the encoders' converters
    session = onnxruntime.InferenceSession(path)
    _, got = session.run(None, onnx_inputs(session, frame))
    np.testing.assert_allclose(got, model.predict_proba(frame), atol=0.05)


def test_an_infrequent_if_exist_encoder_of_yours_exports_unknowns_as_infrequent(tmp_path):
    import skl2onnx
    from skl2onnx.common.data_types import StringTensorType
    from sklearn.preprocessing import OneHotEncoder

    from skdistill import register_onnx_converters

    rng = np.random.RandomState(0)
    X = rng.choice(["a", "b", "c", "d"], size=(300, 2), p=[0.5, 0.4, 0.07, 0.03]).astype(object)
    encoder = OneHotEncoder(min_frequency=25, handle_unknown="infrequent_if_exist",
                            sparse_output=False, dtype=np.float32).fit(X)
    register_onnx_converters()
    onx = skl2onnx.to_onnx(encoder, initial_types=[("X", StringTensorType([None, 2]))])
    fresh = np.array([["a", "zz"], ["c", "b"], ["zz", "d"]], dtype=object)
    session = onnxruntime.InferenceSession(onx.SerializeToString())
    np.testing.assert_array_equal(session.run(None, {"X": fresh})[0], encoder.transform(fresh))
    # beside a converter that needs the newer ai.onnx.ml operators, the file still loads
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OrdinalEncoder

    both = ColumnTransformer([
        ("ordinal", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), [0]),
        ("one_hot", OneHotEncoder(min_frequency=25, handle_unknown="ignore",
                                  sparse_output=False), [1]),
    ]).fit(X)
    onx = skl2onnx.to_onnx(both, initial_types=[("X", StringTensorType([None, 2]))])
    session = onnxruntime.InferenceSession(onx.SerializeToString())
    np.testing.assert_array_equal(session.run(None, {"X": fresh})[0], both.transform(fresh))


def test_polars_frames_and_integer_column_names_export_and_feed(tmp_path):
    import pandas as pd

    from skdistill import onnx_inputs

    rng = np.random.RandomState(0)
    n = 200
    values = {0: rng.normal(size=n), 1: rng.choice(["a", "b"], n)}
    y = ((values[0] > 0) ^ (values[1] == "a")).astype(int)
    frame = pd.DataFrame(values)  # column names 0 and 1: skl2onnx names the inputs _0, _1
    model = _frame_model(frame, y)
    session = _frame_session(model, frame, tmp_path)
    assert "LabelEncoder" in [node.op_type for node in onnx.load(tmp_path / "m.onnx").graph.node]
    _, got = session.run(None, onnx_inputs(session, frame))
    np.testing.assert_allclose(got, model.predict_proba(frame), atol=1e-5)

    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({"size": values[0], "colour": values[1]})
    model = _frame_model(frame, y)
    session = _frame_session(model, frame, tmp_path)
    _, got = session.run(None, onnx_inputs(session, frame))
    np.testing.assert_allclose(got, model.predict_proba(frame), atol=1e-5)


@pytest.mark.parametrize("encoding", ["both", "scale"])
def test_the_students_encoding_of_numbers_is_the_first_nodes_of_its_graph(
    encoding, tmp_path, monkeypatch,
):
    import skdistill.stages._encoding as encoding_stage

    monkeypatch.setattr(encoding_stage, "CANDIDATE_ENCODINGS", (encoding,))
    X, y = make_classification(400, 6, n_informative=4, random_state=0)
    X[::9, 2] = np.nan  # flagged in fit
    model = DistilledClassifier(RandomForestClassifier(20, random_state=0), max_epochs=5,
                                random_state=0).fit(X, y)
    assert model.student_encoding_ == encoding
    path = export_onnx(model, tmp_path / "m.onnx")
    ops = [node.op_type for node in onnx.load(path).graph.node]
    # the encoding as torch computes it (fill, gather, affine, flags), not the scikit-learn
    # encoder's converters (Imputer, Scaler, one node set per step); its division by the
    # columns' widths is folded into the student's first layer, and bins are read as hinges
    # (a Max for each run of hinges, the student's own Relu), but for any bin too narrow for
    # them (clipped: a Max and a Min)
    assert {"IsNaN", "Where", "Sub"} <= set(ops) and "Imputer" not in ops and "Div" not in ops
    from skdistill.deploy._hinges import hinged_student
    from skdistill.students._fitted_encoder import numeric_encoding

    first = hinged_student(numeric_encoding(model.student_preprocessor_),
                           model.student_.module_)[0]
    groups, clipped = first.hinge_runs, len(first.bin_columns) > 0
    assert all(group.folded for group in groups) and bool(groups) == (encoding == "both")
    assert ops.count("Relu") == 1 and ops.count("Max") == len(groups) + clipped
    assert ("Min" in ops) == clipped
    fresh = X[:50].copy()
    fresh[1, 0] = np.nan  # a column without missing values in fit: its median
    fresh[2] = fresh[2] * 40  # far beyond the fitted range: clipped bins extrapolate
    np.testing.assert_allclose(_run(path, fresh), model.predict_proba(fresh), atol=1e-5)


@pytest.mark.parametrize("rows_filled", [False, True])
def test_bins_read_as_hinges_give_the_students_outputs(rows_filled):
    import copy

    import torch

    from skdistill import MLPStudent, make_student_encoder
    from skdistill.deploy._hinges import hinged_student
    from skdistill.students._fitted_encoder import numeric_encoding

    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5)) * [1, 50, 1, 1, 1] + [0, 1e3, 0, 0, 0]
    X[:, 2] = rng.randint(0, 3, 300)  # three values: few bins
    X[:, 3] = 7.0  # constant: one bin
    X[::6, 4] = np.nan  # flagged
    encoding = numeric_encoding(make_student_encoder(X).fit(X))
    torch.manual_seed(0)
    student = MLPStudent(encoding.n_features_out, 3, hidden_layer_sizes=(16, 8)).eval()
    hinged = hinged_student(encoding, student, rows_filled)
    rows = np.vstack([X[:40], X[40:60] * 5 - 3])  # within the bins, and far beyond them
    rows = np.nan_to_num(rows, nan=0.25) if rows_filled else rows
    rows = torch.tensor(rows, dtype=torch.float32)
    with torch.no_grad():  # filled rows: every missing flag reads 0
        expected = student(encoding(rows, finite=rows_filled))
        got = hinged(rows)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)  # to float32 rounding
    n_hinges = hinged[0].n_hinges
    assert hinged[0].bin_columns.tolist() == []  # every bin as hinges: precise enough here
    assert n_hinges == encoding.n_features_out - 5 - 5 - encoding.n_flags  # an edge less a column

    scale_only = numeric_encoding(make_student_encoder(X, numeric="scale").fit(X))
    plain = MLPStudent(scale_only.n_features_out, 3).eval()
    lines = hinged_student(scale_only, plain)  # no bin: lines (and flags) alone
    assert lines[0].n_hinges == 0 and len(lines[0].bin_columns) == 0
    with torch.no_grad():
        torch.testing.assert_close(lines(rows), plain(scale_only(rows, finite=rows_filled)),
                                   rtol=1e-5, atol=1e-5)
    assert hinged_student(encoding, torch.nn.Sequential(torch.nn.Linear(
        encoding.n_features_out, 3))) is None  # not a plain MLPStudent
    broken = copy.deepcopy(encoding)
    broken.low[-3] = -1.0  # not a clip the piecewise-linear encoder makes
    assert hinged_student(broken, student) is None


def test_many_hinges_are_computed_in_runs_that_give_the_students_outputs():
    import torch

    from skdistill import MLPStudent, make_student_encoder
    from skdistill.deploy._hinges import RUN_HINGES, hinged_student
    from skdistill.students._fitted_encoder import numeric_encoding

    X = np.random.RandomState(0).normal(size=(500, 20))  # 16 bins each: 300 hinges
    encoding = numeric_encoding(make_student_encoder(X).fit(X))
    torch.manual_seed(0)
    student = MLPStudent(encoding.n_features_out, 3, hidden_layer_sizes=(16,)).eval()
    hinged = hinged_student(encoding, student)
    runs = [len(group.knots) for group in hinged[0].hinge_runs]
    assert runs == [100, 100, 100] and max(runs) <= RUN_HINGES
    rows = torch.tensor(np.vstack([X[:50], X[50:60] * 4]), dtype=torch.float32)
    with torch.no_grad():
        torch.testing.assert_close(hinged(rows), student(encoding(rows)), rtol=1e-5, atol=1e-5)


def test_hinges_are_maxima_where_as_precise_else_relus_of_the_difference(monkeypatch):
    import torch

    import skdistill.deploy._hinges as hinges
    from skdistill import MLPStudent, make_student_encoder
    from skdistill.students._fitted_encoder import numeric_encoding

    X = np.random.RandomState(0).normal(size=(500, 3)) * [1, 30, 1] + [0, 200, 0]
    encoding = numeric_encoding(make_student_encoder(X).fit(X))
    torch.manual_seed(0)
    student = MLPStudent(encoding.n_features_out, 3, hidden_layer_sizes=(16,)).eval()
    rows = torch.tensor(np.vstack([X[:50], (X[50:60] - X.mean(0)) * 4 + X.mean(0)]),
                        dtype=torch.float32)
    with torch.no_grad():
        expected = student(encoding(rows))
    maxima = hinges.hinged_student(encoding, student)  # max(x - m, t - m), the knots in the bias
    precise = hinges._as_precise
    monkeypatch.setattr(hinges, "_as_precise", lambda hinged, *args: (
        not hinged[0].hinge_runs[0].folded and precise(hinged, *args)))
    relus = hinges.hinged_student(encoding, student)  # where the maxima are not precise enough
    assert all(run.folded for run in maxima[0].hinge_runs) and maxima[0].n_hinges > 0
    assert not any(run.folded for run in relus[0].hinge_runs)
    assert relus[0].n_hinges == maxima[0].n_hinges
    for folded, plain in zip(maxima[0].hinge_runs, relus[0].hinge_runs):  # knots t - m
        torch.testing.assert_close(folded.knots, plain.knots - relus[0].centre[plain.columns])
    folded_part = sum(run.weight.double() @ run.knots[:, 0].double()
                      for run in maxima[0].hinge_runs)
    torch.testing.assert_close(maxima[0].bias.double(), relus[0].bias.double() - folded_part,
                               rtol=1e-6, atol=1e-4)  # the bias holds -D @ (t - m)
    with torch.no_grad():
        for hinged in (maxima, relus):
            torch.testing.assert_close(hinged(rows), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("column", ["years", "prices"])
def test_folded_hinges_on_a_column_far_from_zero_are_as_precise_as_relus(column):
    import torch

    import skdistill.deploy._hinges as hinges
    from skdistill import MLPStudent, make_student_encoder
    from skdistill.students._fitted_encoder import numeric_encoding
    from skdistill.training._solver import plain_relu_linears

    rng = np.random.RandomState(1)
    far = (rng.randint(1950, 2021, 2000).astype(float) if column == "years"
           else rng.normal(1e4, 30, 2000))  # knots far from zero, bins narrow beside them
    X = np.c_[far, rng.normal(size=2000)]
    encoding = numeric_encoding(make_student_encoder(X).fit(X))
    torch.manual_seed(1)
    student = MLPStudent(encoding.n_features_out, 3, hidden_layer_sizes=(32,)).eval()
    first = plain_relu_linears(student)[0]
    low, high = X.min(0), X.max(0)
    rows = torch.tensor(np.random.RandomState(2).uniform(
        low - (high - low), high + (high - low), (5000, 2)), dtype=torch.float32)
    errors = []
    with torch.no_grad():
        expected = student(encoding(rows))
        for folded in (True, False):
            layer = hinges._hinged_first_layer(encoding, first, np.inf, False, folded)
            got = torch.nn.Sequential(layer, *list(student.layers)[1:])(rows)
            errors.append(float(((got - expected).abs() / (1 + expected.abs())).max()))
    # the folded form's terms are the size of the span, not of the values: no less precise
    assert errors[0] <= max(1.5 * errors[1], 2e-6)


@pytest.mark.parametrize("seed", [3, 9])
def test_hinges_that_lose_precision_on_ordinary_rows_keep_their_narrow_bins_clipped(seed):
    import torch

    from skdistill import MLPStudent, make_student_encoder
    from skdistill.deploy._hinges import hinged_student
    from skdistill.students._fitted_encoder import numeric_encoding

    rng = np.random.RandomState(seed)
    X = np.c_[rng.normal(size=2000), rng.standard_cauchy(2000),
              rng.exponential(size=2000) ** 3, rng.lognormal(0, 3, 2000)]
    X[::3, 3] = np.nan
    encoding = numeric_encoding(make_student_encoder(X).fit(X))
    torch.manual_seed(seed)
    student = MLPStudent(encoding.n_features_out, 3, hidden_layer_sizes=(32,)).eval()
    hinged = hinged_student(encoding, student)
    # with every bin as hinges, outputs of a few units were off by 3e-3 on these rows, while far
    # rows (large outputs, large errors either way) hid it from a check of the largest errors
    assert len(hinged[0].bin_columns) > 0
    for rows in (X, X * 10):
        rows = torch.tensor(rows, dtype=torch.float32)
        with torch.no_grad():
            expected = student(encoding(rows))
            error = (hinged(rows) - expected).abs()
        assert bool((error <= 1e-5 * (1 + expected.abs())).all())


def test_narrow_bins_stay_clipped_and_the_file_keeps_its_precision(tmp_path, monkeypatch):
    import skdistill.stages._encoding as encoding_stage
    from skdistill.deploy._hinges import hinged_student
    from skdistill.students._fitted_encoder import numeric_encoding

    monkeypatch.setattr(encoding_stage, "CANDIDATE_ENCODINGS", ("both",))
    rng = np.random.RandomState(0)
    X = np.c_[rng.exponential(size=2000) ** 4, rng.lognormal(0, 2, 2000), rng.normal(size=2000)]
    X[::5, 2] = np.nan  # filled with the median: a spike of equal values, a narrow bin
    y = (np.log1p(X[:, 0]) + np.log(X[:, 1]) + np.nan_to_num(X[:, 2]) > 1).astype(int)
    model = DistilledClassifier(RandomForestClassifier(50, random_state=0), max_epochs=20,
                                random_state=0).fit(X, y)
    # bins down to a millionth of their column's span: as hinges they would cancel in float32
    # (the whole first layer as hinges differed from predict_proba by 8e-4 on these rows)
    hinged = hinged_student(numeric_encoding(model.student_preprocessor_), model.student_.module_)
    kept = hinged[0].bin_columns.tolist()
    assert 0 in kept and 1 in kept and 2 in kept and hinged[0].n_hinges > 10
    path = export_onnx(model, tmp_path / "m.onnx")
    ops = [node.op_type for node in onnx.load(path).graph.node]
    # narrow bins (a Max and a Min), and hinges: a Max or a Relu for each run of them, as
    # precision allows; the student's own Relu
    runs = hinged[0].hinge_runs
    assert ops.count("Min") == 1 and ops.count("Relu") == 1 + sum(not r.folded for r in runs)
    assert ops.count("Max") == 1 + sum(run.folded for run in runs)
    for rows in (X, X * 5):
        np.testing.assert_allclose(_run(path, rows), model.predict_proba(rows), atol=1e-5)


@pytest.mark.parametrize("encoding", ["both", "scale"])
def test_without_missing_flags_the_file_fills_missing_values_with_an_imputer(
    encoding, tmp_path, monkeypatch,
):
    import skdistill.stages._encoding as encoding_stage

    monkeypatch.setattr(encoding_stage, "CANDIDATE_ENCODINGS", (encoding,))
    X, y = make_classification(400, 6, n_informative=4, random_state=1)
    model = DistilledClassifier(RandomForestClassifier(20, random_state=0), max_epochs=5,
                                random_state=0).fit(X, y)
    assert model.fills_missing_  # the forest reads missing values: predict fills them
    path = export_onnx(model, tmp_path / "m.onnx")
    ops = [node.op_type for node in onnx.load(path).graph.node]
    assert ops[0] == "Imputer" and "Where" not in ops and "IsNaN" not in ops
    fresh = X[:40].copy()
    fresh[::3, 1] = np.nan  # each column's fitted median, as predict_proba fills it
    fresh[1, 4] = np.nan
    fresh[2] = fresh[2] * 40
    np.testing.assert_allclose(_run(path, fresh), model.predict_proba(fresh), atol=1e-5)


def test_a_frame_of_numbers_labelled_by_integers_exports_one_input_per_column(tmp_path):
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier

    from skdistill import onnx_inputs

    X, y = make_classification(300, 4, random_state=0)
    X[::7, 1] = np.nan  # flagged: the columns must be joined before the encoding reads them
    frame = pd.DataFrame(X)  # labels 0..3, read by position
    model = DistilledClassifier(HistGradientBoostingClassifier(max_iter=20), max_epochs=3,
                                random_state=0).fit(frame, y)
    path = export_onnx(model, tmp_path / "m.onnx", X=frame)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert len(session.get_inputs()) == 4
    proba = session.run(["probabilities"], onnx_inputs(session, frame))[0]
    np.testing.assert_allclose(proba, model.predict_proba(frame), atol=1e-5)


def test_an_unknown_weights_type_is_refused_by_name():
    from skdistill.deploy._weights_type import storing_weights_as

    with pytest.raises(ValueError, match="'bfloat16'"):
        with storing_weights_as("bfloat16"):
            pass


def test_a_missing_value_or_fraction_fed_to_an_integer_input_is_refused_by_name(tmp_path):
    import pandas as pd

    from skdistill import onnx_inputs

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"count": rng.randint(0, 5, 200), "colour": rng.choice(["a", "b"], 200)})
    y = ((frame["count"] > 2) ^ (frame["colour"] == "a")).astype(int).to_numpy()
    model = _frame_model(frame, y)
    session = _frame_session(model, frame, tmp_path)  # "count" is an int64 input
    as_floats = frame.astype({"count": float})  # whole numbers as floats: fed as they are
    _, got = session.run(None, onnx_inputs(session, as_floats))
    np.testing.assert_allclose(got, model.predict_proba(frame), atol=1e-5)
    for bad in (np.nan, 2.5):  # a cast to int64 would change either silently
        changed = as_floats.copy()
        changed.loc[3, "count"] = bad
        with pytest.raises(ValueError, match=r"whole numbers in column 'count'.*astype"):
            onnx_inputs(session, changed)


def test_numbers_fed_to_a_column_of_categories_are_refused_as_predict_proba_refuses_them(
    tmp_path,
):
    import pandas as pd

    from skdistill import onnx_inputs

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"size": rng.normal(size=200),
                          "store": pd.Categorical(rng.choice([101, 102, 103], 200))})
    y = ((frame["size"] > 0) ^ (frame["store"] == 101)).astype(int).to_numpy()
    model = _frame_model(frame, y)
    session = _frame_session(model, frame, tmp_path)
    _, got = session.run(None, onnx_inputs(session, frame))
    np.testing.assert_allclose(got, model.predict_proba(frame), atol=1e-5)
    as_floats = frame.astype({"store": float})  # e.g. read from JSON: 101.0 is not "101"
    with pytest.raises(ValueError, match="dtype"):
        model.predict_proba(as_floats)
    with pytest.raises(ValueError, match=r"column 'store' as categories, but this X holds "
                                         r"numbers \(float64\).*astype"):
        onnx_inputs(session, as_floats)


def test_a_pipeline_set_to_output_pandas_exports_as_it_predicts(tmp_path):
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    from skdistill import onnx_inputs

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200),
                          "c": rng.choice(["x", "y", "z"], 200)})
    y = ((frame["a"] + (frame["c"] == "x")) > 0.3).astype(int)
    columns = ColumnTransformer([("num", StandardScaler(), ["a", "b"]),
                                 ("cat", OneHotEncoder(sparse_output=False), ["c"])])
    model = make_pipeline(columns, DistilledClassifier(LogisticRegression(), max_epochs=3,
                                                       random_state=0))
    model.set_output(transform="pandas").fit(frame, y)  # the distiller sees named columns
    session = onnxruntime.InferenceSession(export_onnx(model, tmp_path / "m.onnx", X=frame))
    _, got = session.run(None, onnx_inputs(session, frame))
    np.testing.assert_allclose(got, model.predict_proba(frame), atol=1e-5)


def test_columns_whose_onnx_names_collide_are_fed_to_their_own_inputs(tmp_path):
    import pandas as pd

    from skdistill import onnx_inputs

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"my col": rng.normal(size=200), "my_col": rng.normal(size=200) * 10,
                          "colour": rng.choice(["a", "b"], 200)})
    y = ((frame["my col"] > 0) ^ (frame["colour"] == "a")).astype(int).to_numpy()
    model = _frame_model(frame, y)
    session = _frame_session(model, frame, tmp_path)  # inputs my_col, my_col1, colour
    feed = onnx_inputs(session, frame)
    np.testing.assert_array_equal(feed["my_col"][:, 0], frame["my col"].to_numpy(np.float32))
    _, got = session.run(None, feed)
    np.testing.assert_allclose(got, model.predict_proba(frame), atol=1e-5)


def test_an_array_fed_to_a_file_of_one_input_per_column_is_told_to_be_a_frame(tmp_path):
    import pandas as pd

    from skdistill import onnx_inputs

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"size": rng.normal(size=100), "colour": rng.choice(["a", "b"], 100)})
    y = (frame["size"] > 0).astype(int).to_numpy()
    session = _frame_session(_frame_model(frame, y), frame, tmp_path)
    with pytest.raises(ValueError, match=r"one input per column \(\['size', 'colour'\]\)"):
        onnx_inputs(session, frame.to_numpy())


def test_float16_stores_convolution_kernels_too(tmp_path):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    images = (X[:400] / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
    proba = np.eye(10)[y[:400]] * 0.9 + 0.01
    model = DistilledClassifier("precomputed", module__channels=(16, 32), max_epochs=2,
                                random_state=0).fit(images, y[:400], teacher_proba=proba)
    full = export_onnx(model, tmp_path / "f.onnx")
    half = export_onnx(model, tmp_path / "h.onnx", float16=True)
    assert os.path.getsize(half) < 0.65 * os.path.getsize(full)  # the kernels are most of it
    kernels = [t for t in onnx.load(half).graph.initializer  # not their 1x1x1x1 scales
               if len(t.dims) == 4 and np.prod(t.dims) > 1]
    assert kernels and all(t.data_type == onnx.TensorProto.FLOAT16 for t in kernels)
    session = onnxruntime.InferenceSession(half, providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"X": images})[1], model.predict_proba(images),
                               atol=2e-3)
