"""How the student's encoding reads each column, whatever its dtype, at fit, predict and in ONNX."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from skdistill import DistilledClassifier, export_onnx, onnx_inputs
from skdistill.students._column_reading import CategoriesAsStrings, NumbersAsFloat

N = 240


def labels(n=N):
    return np.arange(n) % 2


def proba(y):
    return np.c_[1 - y * 0.8 - 0.1, y * 0.8 + 0.1]


def fitted(X, **params):
    y = labels(len(X))
    settings = dict(max_epochs=3, random_state=0)
    settings.update(params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DistilledClassifier("precomputed", **settings).fit(X, y, teacher_proba=proba(y))


def frame(**columns):
    rng = np.random.RandomState(0)
    return pd.DataFrame({"size": rng.normal(size=N), **columns})


def strings_with_na():
    column = pd.Series(np.resize(["red", "blue", "green"], N), dtype="string")
    column[::7] = pd.NA
    return column


def test_categories_read_as_strings_with_missing_as_nan():
    X = np.array([["a", 1, True], [None, 2.5, False], [pd.NA, np.nan, None]], dtype=object)
    out = CategoriesAsStrings().fit_transform(X)
    assert out[0].tolist() == ["a", "1", "True"] and out[1, 1:].tolist() == ["2.5", "False"]
    assert all(value != value for value in [out[1, 0], out[2, 0], out[2, 1], out[2, 2]])  # NaN


def test_numbers_read_as_floats_and_refused_beyond_float32_naming_the_column():
    X = pd.DataFrame({"a": pd.array([1, None, 3], dtype="Int64"),
                      "b": pd.Series([1.5, None, 2.0], dtype=object)})
    out = NumbersAsFloat().fit_transform(X)
    np.testing.assert_array_equal(out, [[1.0, 1.5], [np.nan, np.nan], [3.0, 2.0]])
    X["b"] = [1.0, 1e200, 2.0]
    with pytest.raises(ValueError, match=r"Column 'b' holds values too large .*1e\+200"):
        NumbersAsFloat().fit(X).transform(X)
    plain = np.ones((2, 2), dtype=np.float32)
    assert NumbersAsFloat().fit(plain).transform(plain) is plain  # no copy, no conversion


@pytest.mark.parametrize("column", [
    strings_with_na(),  # pandas' string dtype, missing as pd.NA
    pd.Series(np.resize(["a", 1, "b", 2.5], N), dtype=object),  # strings and numbers
    pd.Series(pd.Categorical(np.resize([1, 2, 3, None], N))),  # categories of integers
    pd.Series(pd.Categorical(np.resize([True, False, None], N))),  # categories of booleans
    pd.array(np.resize([True, False, None], N), dtype="boolean"),  # nullable boolean
], ids=["string-NA", "object-mixed", "category-int", "category-bool", "boolean-NA"])
def test_every_categorical_kind_fits_predicts_and_exports_the_same(column, tmp_path):
    import onnxruntime

    X = frame(colour=column)
    model = fitted(X)
    assert model.feature_kinds_ == {"size": "numeric", "colour": "categorical"}
    expected = model.predict_proba(X)
    assert np.isfinite(expected).all()
    session = onnxruntime.InferenceSession(export_onnx(model, tmp_path / "m.onnx", X=X))
    _, got = session.run(None, onnx_inputs(session, X))
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_numbers_with_none_and_nullable_numbers_fit_and_predict_their_own_rows(tmp_path):
    import onnxruntime

    numbers = pd.Series(np.random.RandomState(1).normal(size=N).astype(object))
    numbers[::9] = None
    whole = pd.array(np.resize([1, 2, None, 4], N), dtype="Int64")
    X = frame(numbers=numbers, whole=whole)
    model = fitted(X)
    assert set(model.feature_kinds_.values()) == {"numeric"}
    flags = model.student_preprocessor_.named_transformers_["missing"]["flag"]
    assert sorted(flags.features_.tolist()) == [1, 2]  # None and pd.NA are missing values
    expected = model.predict_proba(X)  # the training rows themselves: not refused
    session = onnxruntime.InferenceSession(export_onnx(model, tmp_path / "m.onnx", X=X))
    _, got = session.run(None, onnx_inputs(session, X))
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("column", [
    np.arange(N, dtype=np.int64) * 7 - 300,
    np.uint64(2**63) + np.arange(N, dtype=np.uint64) * np.uint64(10**15),  # beyond int64
    np.arange(N, dtype=np.uint8),
], ids=["int64", "uint64-beyond-int64", "uint8"])
def test_integer_columns_export_the_same_probabilities(column, tmp_path):
    import onnxruntime

    X = frame(count=column)
    model = fitted(X)
    expected = model.predict_proba(X)
    session = onnxruntime.InferenceSession(export_onnx(model, tmp_path / "m.onnx", X=X))
    _, got = session.run(None, onnx_inputs(session, X))
    # float32 keeps 24 bits of a number near 2**63: the file rounds where predict does not
    np.testing.assert_allclose(got, expected, atol=1e-5 if column.max() < 2**24 else 1e-3)


def test_a_stray_missing_number_is_filled_with_the_median_at_predict_and_in_onnx(tmp_path):
    import onnxruntime

    X = frame(colour=np.resize(["a", "b"], N))  # no missing value anywhere in fit
    model = fitted(X)
    median = model.student_preprocessor_.named_transformers_["numeric"]["fill"].statistics_[0]
    stray, filled = X[:4].copy(), X[:4].copy()
    stray.loc[0, "size"], filled.loc[0, "size"] = np.nan, median
    np.testing.assert_array_equal(model.predict_proba(stray), model.predict_proba(filled))
    session = onnxruntime.InferenceSession(export_onnx(model, tmp_path / "m.onnx", X=X))
    _, got = session.run(None, onnx_inputs(session, stray))
    np.testing.assert_allclose(got, model.predict_proba(filled), atol=1e-5)


def test_a_stray_missing_value_in_a_validation_fold_does_not_sink_a_search():
    from sklearn.model_selection import GridSearchCV

    from skdistill import DistillerGridSearchCV

    X = frame(colour=np.resize(["a", "b", "c"], N))
    X.loc[5, "size"] = np.nan  # one missing value: in one fold's held-out rows only
    y = labels()
    base = DistilledClassifier("precomputed", max_epochs=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = GridSearchCV(base, {"alpha": [0.2, 0.8]}, cv=3, error_score="raise")
        search.fit(X, y, teacher_proba=proba(y))
        assert np.isfinite(search.cv_results_["mean_test_score"]).all()
        cv = DistillerGridSearchCV(base, {"alpha": [0.2, 0.8]}, cv=3)
        cv.fit(X, y, teacher_proba=proba(y))
    assert np.isfinite(cv.cv_results_["mean_test_score"]).all()


def test_huge_numbers_under_the_default_encoding_name_the_column():
    X = frame(money=np.random.RandomState(2).normal(size=N) * 1e200)
    with pytest.raises(ValueError, match=r"Column 'money' holds values too large for the "
                                         r"student .*Rescale the column"):
        fitted(X)
    with pytest.raises(ValueError, match=r"Column 1 holds values too large"):
        fitted(np.c_[np.ones(N), np.full(N, 1e200)])


def test_a_string_column_of_missing_values_only_at_predict_is_read_as_missing():
    X = frame(colour=np.resize(["a", "b"], N))
    model = fitted(X)
    empty = X[:3].copy()
    empty["colour"] = np.nan  # a float column now: all missing, read as the missing category
    assert np.isfinite(model.predict_proba(empty)).all()


def test_a_warm_fit_checks_the_columns_as_predict_does():
    X = frame(colour=np.resize(["a", "b"], N))
    model = fitted(X, warm_start=True)
    changed = X.copy()
    changed["colour"] = np.arange(N, dtype=float)  # numbers where strings were
    with pytest.raises(ValueError, match="Column 'colour' holds numeric values at predict time "
                                         "but held categorical ones in fit"):
        model.fit(changed, labels(), teacher_proba=proba(labels()))
    stray = X.copy()
    stray.loc[3, "size"] = np.nan  # as at predict: filled with the fitted median
    model.fit(stray, labels(), teacher_proba=proba(labels()))
    np.testing.assert_array_equal(model.predict_proba(stray)[3:4],
                                  model.predict_proba(stray[3:4]))


def test_a_dense_fitted_model_given_a_sparse_matrix_says_so():
    X = np.random.RandomState(0).normal(size=(N, 4))
    model = fitted(X)
    with pytest.raises(ValueError, match=r"fitted on dense rows, but X is a sparse matrix; "
                                         r"pass it dense \(X.toarray\(\)\)"):
        model.predict_proba(sp.csr_matrix(X))


def test_onnx_inputs_finds_columns_skl2onnx_renamed_and_names_missing_ones(tmp_path):
    import onnxruntime

    X = pd.DataFrame({"my size": np.random.RandomState(0).normal(size=N),
                      "colour-name.v2": np.resize(["a", "b", "c"], N)})
    model = fitted(X)
    session = onnxruntime.InferenceSession(export_onnx(model, tmp_path / "m.onnx", X=X))
    assert [inp.name for inp in session.get_inputs()] == ["my_size", "colour_name_v2"]
    _, got = session.run(None, onnx_inputs(session, X))
    np.testing.assert_allclose(got, model.predict_proba(X), atol=1e-5)
    with pytest.raises(ValueError, match=r"takes columns \['colour_name_v2'\], which X does "
                                         r"not have \(its columns: \['my size'\]\)"):
        onnx_inputs(session, X[["my size"]])


def wide_frame(n=9000, n_cities=300, seed=0):
    rng = np.random.RandomState(seed)
    city = rng.randint(0, n_cities, n)
    X = pd.DataFrame({"size": rng.normal(size=n),
                      "city": pd.Series([f"c{c}" for c in city], dtype="str")})
    effect = np.random.RandomState(1).normal(size=n_cities)
    return X, (X["size"] + effect[city] > 0).astype(int).to_numpy()


@pytest.fixture
def wide_at_256(monkeypatch):
    """One-hot encodings wider than 256 columns are wide (a smaller frame shows it)."""
    import skdistill.students._student_encoder as student_encoder

    monkeypatch.setattr(student_encoder, "WIDE_ONE_HOT", 256)


def test_a_wide_categorical_column_is_one_hot_encoded_sparsely(tmp_path, wide_at_256):
    import onnxruntime

    from skdistill import make_student_encoder

    X, y = wide_frame()
    encoder = make_student_encoder(X)
    assert sp.issparse(encoder.fit_transform(X))  # 1 + 16 numbers and ~300 cities per row
    narrow = X.assign(city=np.resize(["a", "b", "c"], len(X)))
    assert not sp.issparse(make_student_encoder(narrow).fit_transform(narrow))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = DistilledClassifier("precomputed", max_epochs=3, random_state=0).fit(
            X, y, teacher_proba=proba(y))
    assert model.score(X, y) > 0.75  # the cities were learnt, from sparse rows
    dense = clone_dense(model.student_preprocessor_)
    np.testing.assert_allclose(model.student_preprocessor_.transform(X[:50]).toarray(),
                               dense.transform(X[:50]), atol=0)
    session = onnxruntime.InferenceSession(export_onnx(model, tmp_path / "m.onnx", X=X))
    _, got = session.run(None, onnx_inputs(session, X[:200]))
    np.testing.assert_allclose(got, model.predict_proba(X[:200]), atol=1e-5)


def clone_dense(encoder):
    """The same fitted encoding, giving dense rows."""
    import copy

    dense = copy.deepcopy(encoder)
    dense.sparse_output_ = False
    dense.named_transformers_["categorical"]["one_hot"].sparse_output = False
    return dense


def test_a_sparse_encoding_too_large_to_hold_is_read_a_dense_block_at_a_time(monkeypatch,
                                                                            wide_at_256):
    import skdistill._inputs as inputs

    X, y = wide_frame()
    settings = dict(max_epochs=3, random_state=0, student_preprocessor="auto")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        held = DistilledClassifier("precomputed", **settings).fit(X, y, teacher_proba=proba(y))
        monkeypatch.setattr(inputs, "ENCODED_IN_MEMORY_BYTES", 10_000)  # far below the rows
        lazy = DistilledClassifier("precomputed", **settings).fit(X, y, teacher_proba=proba(y))
    assert held.student_preprocessor_.sparse_output_ and sp.issparse(
        held.student_preprocessor_.transform(X[:5]))
    assert lazy.student_encoding_ == held.student_encoding_
    assert lazy.score(X, y) > 0.75
    np.testing.assert_allclose(lazy.predict_proba(X[:100]), held.predict_proba(X[:100]),
                               atol=0.05)  # the same encoding, read densely by another engine


COLUMN_KINDS = {
    "float with NaN": lambda rng, n: np.where(rng.rand(n) < 0.1, np.nan, rng.normal(size=n)),
    "nullable Int64": lambda rng, n: pd.array(
        np.where(rng.rand(n) < 0.1, None, rng.randint(0, 5, n)).tolist(), dtype="Int64"),
    "object numbers with None": lambda rng, n: pd.Series(
        np.where(rng.rand(n) < 0.1, None, rng.normal(size=n)).tolist(), dtype=object),
    "large uint64": lambda rng, n: np.uint64(2**63) + rng.randint(0, 1000, n).astype(np.uint64),
    "str": lambda rng, n: pd.Series(rng.choice(["a", "b", "c"], n), dtype="str"),
    "string with NA": lambda rng, n: pd.Series(
        np.where(rng.rand(n) < 0.1, None, rng.choice(["a", "b"], n)).tolist(), dtype="string"),
    "category of ints": lambda rng, n: pd.Categorical(rng.choice([1, 2, None], n)),
    "category of bools": lambda rng, n: pd.Categorical(rng.choice([True, False, None], n)),
    "nullable boolean": lambda rng, n: pd.array(rng.choice([True, False, None], n).tolist(),
                                                dtype="boolean"),
    "object mixed": lambda rng, n: pd.Series(rng.choice(["x", 1, 2.5, None], n).tolist(),
                                             dtype=object),
}


@pytest.mark.slow
def test_frames_of_every_column_kind_fit_and_predict_their_rows_row_by_row():
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=12, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.sampled_from(sorted(COLUMN_KINDS)), min_size=1, max_size=4),
           st.integers(0, 1000))
    def check(kinds, seed):
        rng = np.random.RandomState(seed)
        n = 120
        X = pd.DataFrame({f"{kind} {at}": COLUMN_KINDS[kind](rng, n)
                          for at, kind in enumerate(kinds)})
        model = fitted(X)
        whole = model.predict_proba(X)
        assert np.isfinite(whole).all()
        rows = rng.permutation(n)[:7]
        np.testing.assert_allclose(model.predict_proba(X.iloc[rows]), whole[rows], atol=1e-6)
        np.testing.assert_allclose(model.predict_proba(X.iloc[rows[:1]]), whole[rows[:1]],
                                   atol=1e-6)

    check()
