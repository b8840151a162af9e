"""PiecewiseLinearEncoder: exact encodings, errors, a student reading it, ONNX round trip."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import make_fast, rng_data
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdistill import PiecewiseLinearEncoder


@parametrize_with_checks([PiecewiseLinearEncoder()])
def test_scikit_learn_conventions(estimator, check):
    check(estimator)


def test_bins_are_the_training_quantiles_and_values_climb_through_them():
    X = np.arange(9.0).reshape(9, 1)  # quantiles at 0, 2, 4, 6, 8
    encoder = PiecewiseLinearEncoder(n_bins=4).fit(X)
    np.testing.assert_array_equal(encoder.bin_edges_[0], [0.0, 2.0, 4.0, 6.0, 8.0])
    encoded = encoder.transform(np.array([[-2.0], [0.0], [3.0], [6.0], [11.0]]))
    np.testing.assert_array_equal(encoded, [
        [-1.0, 0.0, 0.0, 0.0],  # below the range: the first bin extrapolates
        [0.0, 0.0, 0.0, 0.0],
        [1.0, 0.5, 0.0, 0.0],
        [1.0, 1.0, 1.0, 0.0],
        [1.0, 1.0, 1.0, 2.5],  # above the range: the last bin extrapolates
    ])


def test_pickle_stores_the_bin_edges_only_and_rebuilds_the_encoding():
    import copy
    import pickle

    X, _ = rng_data(n=200, d=6)
    encoder = PiecewiseLinearEncoder().fit(X)
    stored = pickle.dumps(encoder)
    edges_only = pickle.dumps(encoder.bin_edges_)
    assert len(stored) < len(edges_only) + 600  # the derived arrays are not stored
    for restored in (pickle.loads(stored), copy.deepcopy(encoder)):
        for mine, theirs in zip(restored.onnx_constants(), encoder.onnx_constants()):
            np.testing.assert_array_equal(mine, theirs)
        np.testing.assert_array_equal(restored.transform(X), encoder.transform(X))
    assert "_constants" in encoder.__dict__  # pickling left the fitted encoder whole
    assert "_constants" not in pickle.loads(pickle.dumps(PiecewiseLinearEncoder())).__dict__


def test_discrete_and_constant_features_get_fewer_bins():
    X = np.column_stack([np.repeat([0.0, 1.0, 5.0], 10), np.full(30, 7.0)])
    encoder = PiecewiseLinearEncoder(n_bins=16).fit(X)
    np.testing.assert_array_equal(encoder.bin_edges_[0], [0.0, 1.0, 5.0])
    np.testing.assert_array_equal(encoder.bin_edges_[1], [7.0, 8.0])  # one bin of unit width
    np.testing.assert_array_equal(
        encoder.transform(np.array([[3.0, 7.0], [5.0, 9.0]])), [[1.0, 0.5, 0.0], [1.0, 1.0, 2.0]]
    )
    assert list(encoder.get_feature_names_out(["a", "b"])) == ["a_bin0", "a_bin1", "b_bin0"]


def test_keeps_float32_and_frame_column_names():
    frame = pd.DataFrame({"price": np.arange(10.0, dtype=np.float32), "carat": np.ones(10)})
    encoder = PiecewiseLinearEncoder(n_bins=2).fit(frame)
    assert encoder.transform(frame.astype(np.float32)).dtype == np.float32
    assert list(encoder.get_feature_names_out()) == ["price_bin0", "price_bin1", "carat_bin0"]


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.array([[0.0], [np.nan]]), ValueError, "NaN"),
        (sp.csr_matrix(np.eye(3)), TypeError, "dense data is required"),
    ],
    ids=["nan", "sparse"],
)
def test_bad_input_is_refused_by_name(X, error, match):
    with pytest.raises(error, match=match):
        PiecewiseLinearEncoder().fit(X)


def test_bad_parameters_and_feature_counts_are_refused():
    with pytest.raises(ValueError, match="n_bins"):
        PiecewiseLinearEncoder(n_bins=0).fit(np.ones((3, 1)))
    encoder = PiecewiseLinearEncoder().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="3 features"):
        encoder.transform(np.ones((3, 3)))


def test_student_reads_the_encoding_and_the_teacher_the_features():
    X, y = rng_data(n=200, d=4)
    model = make_fast(
        LogisticRegression(), student_preprocessor=PiecewiseLinearEncoder(n_bins=4), max_epochs=3
    ).fit(X, y)
    assert model.n_student_features_ == 16 and model.n_features_in_ == 4
    assert model.student_.module_.layers[0].in_features == 16
    assert model.teacher_.n_features_in_ == 4


def test_pipeline_with_the_encoder_round_trips_through_onnx():
    skl2onnx = pytest.importorskip("skl2onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    from skdistill import register_onnx_converters

    register_onnx_converters()
    X, y = rng_data(n=200, d=4)
    model = make_pipeline(StandardScaler(), make_fast(
        LogisticRegression(), student_preprocessor=PiecewiseLinearEncoder(n_bins=8), max_epochs=5
    )).fit(X, y)
    onx = skl2onnx.to_onnx(model, X[:1].astype(np.float32))
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    fresh = 4 * np.random.RandomState(1).normal(size=(50, 4)).astype(np.float32)  # beyond range
    label, proba = session.run(None, {"X": fresh})
    np.testing.assert_allclose(proba, model.predict_proba(fresh), atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(fresh))


def test_candidates_train_side_by_side_and_the_student_prunes_with_the_encoder():
    from skdistill import DistilledClassifier, DistillerGridSearchCV, Pruning

    X, y = rng_data(n=150, d=4)
    encoded = dict(student_preprocessor=PiecewiseLinearEncoder(n_bins=4), max_epochs=5)
    search = DistillerGridSearchCV(
        DistilledClassifier(LogisticRegression(), random_state=0, **encoded),
        {"alpha": [0.0, 0.5]}, cv=3,
    ).fit(X, y)
    assert search.side_by_side_
    assert search.best_estimator_.n_student_features_ == 16
    pruned = make_fast(
        LogisticRegression(), pruning=Pruning(0.5, fine_tune_epochs=2), **encoded
    ).fit(X, y)
    assert pruned.pruning_["hidden_before"] == [16] and pruned.pruning_["hidden_after"] == [8]
    assert pruned.student_.module_.layers[0].in_features == 16


def test_values_that_differ_by_rounding_share_a_bin():
    X = np.array([[0.1 + 0.2], [0.3], [1.0], [2.0]] * 5)  # 0.30000000000000004 and 0.3
    encoder = PiecewiseLinearEncoder(n_bins=8).fit(X)
    assert np.diff(encoder.bin_edges_[0]).min() > 0.5
    outside = encoder.transform(np.array([[0.29], [0.3], [2.5]]))
    assert np.abs(outside).max() < 2  # a row just outside the range stays near the bins
    np.testing.assert_allclose(outside[:, 0], [-1 / 70, 0.0, 1.0])
