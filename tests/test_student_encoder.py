"""make_student_encoder: the student's encoding of a table's columns, built from the table."""

import os

import numpy as np
import onnxruntime
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

from skdistill import DistilledClassifier, export_onnx, make_student_encoder, onnx_inputs
from skdistill.students._student_encoder import column_kinds


def mixed_frame(n=200, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "size": rng.normal(size=n),
        "count": pd.array(rng.integers(0, 5, n), dtype="Int64"),
        "colour": rng.choice(["red", "green", "blue"], n),  # pandas' str dtype
        "shape": pd.Series(rng.choice(["round", "square"], n), dtype=object),
        "grade": pd.Categorical(rng.choice(["a", "b"], n)),
        "flag": rng.random(n) < 0.5,
    })
    frame.loc[::9, "size"] = np.nan
    frame.loc[::11, "colour"] = None
    y = (np.nan_to_num(frame["size"].to_numpy(float)) + (frame["colour"] == "red") > 0.3)
    return frame, y.astype(int)


def test_each_dtype_has_its_kind_and_other_dtypes_are_named():
    frame, _ = mixed_frame()
    assert column_kinds(frame) == [
        "numeric", "numeric", "categorical", "categorical", "categorical", "categorical",
    ]
    assert column_kinds(np.zeros((2, 3))) == ["numeric"] * 3
    assert column_kinds(np.array([[1.0, "a"]], dtype=object)) == ["numeric", "categorical"]
    dates = pd.DataFrame({"when": pd.to_datetime(["2020-01-01", "2021-01-01"])})
    with pytest.raises(TypeError, match="Column 'when' has dtype datetime64"):
        make_student_encoder(dates)


def test_a_polars_frame_s_columns_have_the_kinds_of_pandas_ones():
    import datetime

    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({
        "size": [1.5, 2.0], "count": pl.Series([1, 2], dtype=pl.UInt8), "flag": [True, False],
        "colour": ["red", "blue"], "grade": pl.Series(["a", "b"], dtype=pl.Categorical),
    })
    assert column_kinds(frame) == column_kinds(frame.to_pandas()) == [
        "numeric", "numeric", "categorical", "categorical", "categorical"]
    for name, values in (("when", [datetime.date(2020, 1, 1)] * 2),  # not one-hot days
                         ("took", [datetime.timedelta(days=1)] * 2)):
        with pytest.raises(TypeError, match=f"Column '{name}' has dtype"):
            make_student_encoder(pl.DataFrame({name: values}))


@pytest.mark.parametrize("cells", [[[1, 2], [3]], [(1, 2), (3, 4)], [np.zeros(2), np.ones(2)]])
def test_a_column_of_sequences_is_named(cells):
    frame = pd.DataFrame({"x": [0.0, 1.0], "tags": pd.Series(cells, dtype=object)})
    with pytest.raises(TypeError, match="Column 'tags' holds sequences"):
        make_student_encoder(frame).fit(frame)


@pytest.mark.parametrize(("numeric", "numeric_width"), [("scale", 2), ("piecewise", None),
                                                         ("both", None)])
def test_columns_numbers_flags_and_one_hot(numeric, numeric_width):
    frame, _ = mixed_frame()
    encoder = make_student_encoder(frame, numeric=numeric)
    out = encoder.fit_transform(frame)
    names = list(encoder.get_feature_names_out())
    one_hot = [name for name in names if name.startswith(("colour_", "shape_", "grade_",
                                                           "flag_"))]
    # colour: 3 colours and a missing one; shape, grade and flag: 2 each
    assert len(one_hot) == 4 + 2 + 2 + 2
    assert names.count("missingindicator_size") == 1  # size has missing values, count none
    piecewise = [name for name in names if "_bin" in name]
    assert (len(piecewise) > 0) == (numeric != "scale")
    if numeric_width is not None:
        assert len(names) - len(one_hot) - 1 == numeric_width
    assert out.shape == (len(frame), len(names)) and np.isfinite(out).all()


def test_rare_categories_share_a_column_and_unseen_ones_are_all_zeros():
    frame, _ = mixed_frame()
    frame.loc[:4, "shape"] = "triangle"  # 5 rows: below min_frequency=10
    encoder = make_student_encoder(frame).fit(frame)
    names = list(encoder.get_feature_names_out())
    assert "shape_infrequent_sklearn" in names
    new = frame.iloc[:3].copy()
    new["shape"] = ["hexagon", "triangle", "round"]
    out = pd.DataFrame(encoder.transform(new), columns=names)
    assert out["shape_infrequent_sklearn"].tolist() == [0.0, 1.0, 0.0]
    shape_columns = [name for name in names if name.startswith("shape_")]
    assert out[shape_columns].sum(axis=1).tolist() == [0.0, 1.0, 1.0]
    assert out["shape_round"].tolist() == [0.0, 0.0, 1.0]


def test_an_empty_or_constant_column_encodes_to_finite_numbers():
    X = np.c_[np.full(50, np.nan), np.full(50, 3.0), np.arange(50.0)]
    out = make_student_encoder(X).fit_transform(X)
    assert np.isfinite(out).all()


@pytest.mark.parametrize("numeric", ["scale", "both"])
def test_a_column_with_no_value_in_fit_is_left_out_and_later_values_change_nothing(numeric):
    X = np.c_[np.arange(50.0), np.full(50, np.nan), np.arange(50.0) % 7]
    encoder = make_student_encoder(X, numeric=numeric).fit(X)
    without = make_student_encoder(X[:, [0, 2]], numeric=numeric).fit(X[:, [0, 2]])
    np.testing.assert_array_equal(encoder.transform(X), without.transform(X[:, [0, 2]]))
    filled = X.copy()
    filled[:, 1] = [100.0, -3.0] * 25
    np.testing.assert_array_equal(encoder.transform(filled), encoder.transform(X))
    only_empty = np.full((5, 2), np.nan)  # nothing else to read: kept, not an empty encoding
    assert make_student_encoder(only_empty).fit_transform(only_empty).shape[1] > 0


def test_a_column_of_categories_with_no_value_in_fit_is_left_out_too():
    frame = pd.DataFrame({"size": np.arange(40.0), "colour": ["red", "blue"] * 20,
                          "never": pd.array([pd.NA] * 40, dtype="string")})
    encoder = make_student_encoder(frame, min_frequency=1).fit(frame)
    assert encoder.transform(frame).shape == (40, 1 + 16 + 2)  # size both ways, two colours
    later = frame.assign(never=["seen"] * 40)
    np.testing.assert_array_equal(encoder.transform(later), encoder.transform(frame))
    model = DistilledClassifier("precomputed", max_epochs=2, random_state=0).fit(
        frame, [0, 1] * 20, teacher_proba=np.tile([[0.8, 0.2], [0.3, 0.7]], (20, 1)))
    expected = model.predict_proba(frame)
    for value in ("seen", 3.5):  # categories, or numbers: the column is not read
        np.testing.assert_array_equal(model.predict_proba(frame.assign(never=value)), expected)


@pytest.mark.parametrize("as_frame", [False, True], ids=["array", "frame"])
def test_a_column_with_no_value_in_fit_changes_no_prediction_nor_the_file(as_frame, tmp_path):
    from skdistill import DistilledRegressor

    rng = np.random.RandomState(0)
    X = np.c_[rng.randn(400, 2), np.full(400, np.nan), rng.randn(400)]
    y = 2 * X[:, 0] + X[:, 1]
    if as_frame:
        X = pd.DataFrame(X, columns=["a", "b", "empty", "d"])
    model = DistilledRegressor("precomputed", max_epochs=5, random_state=0).fit(
        X, y, teacher_predictions=y)
    session = onnxruntime.InferenceSession(
        export_onnx(model, os.path.join(tmp_path, "student.onnx"), X=X[:5] if as_frame else None))
    expected = model.predict(X)
    for value in (0.0, 100.0, -1e6):
        changed = X.copy()
        if as_frame:
            changed["empty"] = value
        else:
            changed[:, 2] = value
        np.testing.assert_array_equal(model.predict(changed), expected)
        from_file = session.run(None, onnx_inputs(session, changed))[0][:, 0]
        np.testing.assert_allclose(from_file, expected, rtol=1e-5, atol=1e-4)
    beyond = X.copy()  # beyond float32, where no column read is: nothing to refuse
    if as_frame:
        beyond["empty"] = 1e300
    else:
        beyond[:, 2] = 1e300
    np.testing.assert_array_equal(model.predict(beyond), expected)


def test_a_pipeline_with_a_column_left_out_exports_after_a_step_that_outputs_pandas(tmp_path):
    from sklearn.preprocessing import StandardScaler

    from skdistill import DistilledRegressor

    rng = np.random.RandomState(0)
    X = np.c_[rng.randn(300, 2), np.full(300, np.nan), rng.randn(300)]
    y = X[:, 0] + X[:, 3]
    pipeline = make_pipeline(StandardScaler().set_output(transform="pandas"),
                             DistilledRegressor("precomputed", max_epochs=2, random_state=0))
    pipeline.fit(X, y, distilledregressor__teacher_predictions=y)
    session = onnxruntime.InferenceSession(
        export_onnx(pipeline, os.path.join(tmp_path, "pipeline.onnx")))
    from_file = session.run(None, onnx_inputs(session, X))[0][:, 0]
    np.testing.assert_allclose(from_file, pipeline.predict(X), rtol=1e-5, atol=1e-5)


def test_sparse_rows_stay_sparse_and_are_scaled_by_their_largest_magnitude():
    X = sp.random(40, 6, density=0.3, format="csr", random_state=0) * 5
    out = make_student_encoder(X).fit_transform(X)
    assert sp.issparse(out)
    assert np.allclose(abs(out).max(axis=0).toarray(), (abs(X).max(axis=0).toarray() > 0))


def test_a_distiller_reads_a_frame_with_strings_and_missing_values():
    frame, y = mixed_frame(n=300)
    teacher = make_pipeline(
        make_column_transformer(
            (OrdinalEncoder(), ["colour", "shape", "grade", "flag"]), remainder="passthrough"
        ),
        HistGradientBoostingClassifier(random_state=0),
    )
    clf = DistilledClassifier(
        teacher, student_preprocessor=make_student_encoder(frame), max_epochs=20, random_state=0
    ).fit(frame, y)
    assert clf.score(frame, y) > 0.8
    proba = clf.predict_proba(frame.iloc[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="colour"):
        clf.predict(frame.drop(columns="colour"))


@pytest.mark.parametrize("numeric", ["scale", "piecewise", "both"])
def test_numeric_rows_with_missing_values_export_to_onnx(numeric, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) > 0).astype(int)
    clf = DistilledClassifier(
        HistGradientBoostingClassifier(random_state=0),
        student_preprocessor=make_student_encoder(X, numeric=numeric),
        max_epochs=3, random_state=0,
    ).fit(X, y)
    path = export_onnx(clf, os.path.join(tmp_path, "student.onnx"))
    session = onnxruntime.InferenceSession(path)
    _, proba = session.run(None, {"X": X[:40].astype(np.float32)})
    np.testing.assert_allclose(proba, clf.predict_proba(X[:40]), atol=1e-5)


def test_a_frame_with_strings_and_missing_values_exports_and_runs_on_a_frame(tmp_path):
    frame, y = mixed_frame(n=300)
    teacher = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    for_teacher = frame.astype({"colour": "category", "shape": "category"})
    clf = DistilledClassifier(
        teacher, student_preprocessor="auto", max_epochs=5, random_state=0
    ).fit(for_teacher, y)
    session = onnxruntime.InferenceSession(
        export_onnx(clf, os.path.join(tmp_path, "student.onnx"), X=for_teacher)
    )
    assert [i.name for i in session.get_inputs()] == list(frame.columns)
    fresh, _ = mixed_frame(n=50, seed=1)
    fresh = fresh.astype({"colour": "category", "shape": "category"})
    fresh.loc[0, "shape"] = np.nan  # missing where training had none
    labels, proba = session.run(None, onnx_inputs(session, fresh))
    np.testing.assert_allclose(proba, clf.predict_proba(fresh), atol=1e-4)
    np.testing.assert_array_equal(labels, clf.predict(fresh))


def test_a_list_of_rows_is_encoded_as_the_array_it_makes():
    rows = [[1.0, "red"], [3.0, "blue"], [2.0, "red"]]
    as_list = make_student_encoder(rows, min_frequency=1).fit_transform(rows)
    as_array = np.array(rows, dtype=object)
    expected = make_student_encoder(as_array, min_frequency=1).fit_transform(as_array)
    np.testing.assert_array_equal(as_list, expected)
    numbers = [[1.0, 2.0], [3.0, 4.0], [5.0, 1.0]]
    np.testing.assert_array_equal(
        make_student_encoder(numbers).fit_transform(numbers),
        make_student_encoder(np.array(numbers)).fit_transform(np.array(numbers)))


@pytest.mark.parametrize("output", ["pandas", "polars"])
def test_a_global_dataframe_output_setting_leaves_the_student_s_encoding_as_arrays(output):
    import sklearn

    if output == "polars":
        pytest.importorskip("polars")
    frame, y = mixed_frame()
    proba = np.where(np.eye(2)[y] > 0, 0.8, 0.2)

    def fitted():
        return DistilledClassifier("precomputed", max_epochs=2, random_state=0).fit(
            frame, y, teacher_proba=proba)

    expected = fitted().predict_proba(frame)
    with sklearn.config_context(transform_output=output):  # a notebook's habit
        model = fitted()
        np.testing.assert_array_equal(model.predict_proba(frame), expected)


def test_a_warm_start_says_a_column_left_out_now_holds_values():
    from skdistill import DistilledRegressor

    rng = np.random.RandomState(0)
    X = np.c_[rng.randn(300, 2), np.full(300, np.nan)]
    y = X[:, 0] + X[:, 1]
    model = DistilledRegressor("precomputed", max_epochs=2, warm_start=True,
                               random_state=0).fit(X, y, teacher_predictions=y)
    filled = X.copy()
    filled[:, 2] = rng.randn(300)
    with pytest.warns(UserWarning, match=r"Column\(s\) \[2\] held no value in the fit this "
                                         "warm start continues"):
        model.fit(filled, y, teacher_predictions=y)
    np.testing.assert_array_equal(model.predict(filled), model.predict(X))
    filled[:, 2] = 1e300  # beyond float32 in the column left out: unread, no overflow warning
    with pytest.warns(UserWarning, match="held no value") as caught:
        model.fit(filled, y, teacher_predictions=y)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_a_column_with_values_only_in_rows_the_encoding_is_not_fitted_on_is_left_out():
    from skdistill import DistilledRegressor

    rng = np.random.RandomState(0)
    X = np.c_[rng.randn(400, 2), np.full(400, np.nan)]
    X[:20, 2] = rng.randn(20)  # values only in rows of weight 0
    weights = np.r_[np.zeros(20), np.ones(380)]
    y = X[:, 0] + X[:, 1]
    model = DistilledRegressor("precomputed", max_epochs=3, random_state=0).fit(
        X, y, teacher_predictions=y, sample_weight=weights)
    changed = X.copy()
    changed[:, 2] = 100.0
    np.testing.assert_array_equal(model.predict(changed), model.predict(X))
