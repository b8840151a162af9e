"""Sparse X end to end: the teacher gets it sparse, the student never densifies all of it."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from conftest import make_fast
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline

from skdistill import DistilledRegressor


class SparseCheckingLR(LogisticRegression):
    def fit(self, X, y, **kw):
        assert sp.issparse(X), type(X)
        return super().fit(X, y, **kw)

    def predict_proba(self, X):
        assert sp.issparse(X), type(X)
        return super().predict_proba(X)


class LayoutRecorder(torch.nn.Module):
    """A student that records the layout of every batch it sees."""

    layouts = []

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)

    def forward(self, X):
        type(self).layouts.append(X.layout)
        if X.layout != torch.strided:
            return torch.sparse.mm(X, self.linear.weight.t()) + self.linear.bias
        return self.linear(X)


class SparseLayoutRecorder(LayoutRecorder):
    accepts_sparse = True


@pytest.mark.parametrize("kind", [sp.csr_matrix, sp.csc_matrix, sp.coo_array, sp.csr_array])
def test_sparse_input_gives_the_dense_fit(iris, kind):
    X, y = iris
    raw = dict(max_epochs=10, student_preprocessor=None)  # "auto" encodes the two differently
    dense = make_fast(**raw).fit(X, y)
    sparse = make_fast(SparseCheckingLR(), **raw).fit(kind(X), y)
    np.testing.assert_allclose(sparse.predict_proba(kind(X)), dense.predict_proba(X), atol=1e-4)
    np.testing.assert_allclose(
        sparse.predict_proba(kind(X)), sparse.predict_proba(X), rtol=1e-5, atol=1e-6
    )


def test_students_get_sparse_batches_only_when_they_ask():
    X, y = sp.random(60, 30, density=0.2, format="csr", random_state=0), np.arange(60) % 2
    LayoutRecorder.layouts = []
    make_fast(student_module=LayoutRecorder, max_epochs=2).fit(X, y)
    assert set(LayoutRecorder.layouts) == {torch.strided}
    SparseLayoutRecorder.layouts = []
    clf = make_fast(student_module=SparseLayoutRecorder, max_epochs=2).fit(X, y)
    clf.predict(X)
    assert torch.sparse_coo in SparseLayoutRecorder.layouts
    # the shape check at build time is the only dense batch
    assert SparseLayoutRecorder.layouts.count(torch.strided) == 1


@pytest.mark.slow
def test_a_matrix_far_too_wide_to_densify_trains():
    # dense float32 would need 300 x 2,000,000 x 4 bytes = 2.4 GB; the student never builds it
    rng = np.random.RandomState(0)
    X = sp.random(300, 2_000_000, density=2e-5, format="csr", random_state=0)
    signal = rng.randint(0, 2, 300)
    X = sp.hstack([X, sp.csr_matrix(signal[:, None].astype(float))], format="csr")
    clf = make_fast(max_epochs=5, module__hidden_layer_sizes=(4,)).fit(X, signal)
    assert clf.n_student_features_ == 2_000_001
    assert clf.predict_proba(X[:5]).shape == (5, 2)


def test_tfidf_in_front_of_the_distiller():
    docs = ["good fine great", "bad awful poor", "great good", "poor bad"] * 15
    y = np.array([1, 0, 1, 0] * 15)
    model = make_pipeline(TfidfVectorizer(), make_fast(LogisticRegression(), max_epochs=30))
    model.fit(docs, y)
    assert model.score(docs, y) == 1.0


def test_sparse_regressor_and_refused_transfer_set(iris):
    X, y = iris
    reg = DistilledRegressor(Ridge(), max_epochs=10, random_state=0).fit(sp.csr_matrix(X), y)
    assert reg.predict(sp.csr_matrix(X)).shape == (150,)
    from skdistill import Munge

    with pytest.raises(ValueError, match="Munge cannot sample sparse rows"):
        make_fast(transfer_set=Munge(n_copies=1), max_epochs=1).fit(sp.csr_matrix(X), y)


class ClaimsSparse(torch.nn.Module):
    accepts_sparse = True

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)

    def forward(self, X):
        return self.linear(X.view(len(X), -1))  # a sparse tensor has no view


def test_a_student_that_claims_sparse_but_fails_is_named(iris):
    X, y = iris
    clf = make_fast(student_module=ClaimsSparse, max_epochs=1)
    with pytest.raises(ValueError, match="(?s)ClaimsSparse fails on a sparse batch.*remove that"):
        clf.fit(sp.csr_matrix(X), y)
    assert not hasattr(clf, "student_")
    clf.fit(X, y)  # dense input never reaches the sparse path


def test_sparse_rows_with_missing_values_are_filled_flagged_and_exported(tmp_path):
    import onnxruntime
    from sklearn.impute import SimpleImputer

    from skdistill import export_onnx, onnx_inputs

    X = sp.random(300, 8, density=0.3, format="csr", random_state=0)
    y = np.asarray(X @ np.arange(8.0)).ravel()
    X.data[::5] = np.nan
    model = DistilledRegressor(make_pipeline(SimpleImputer(), Ridge()), max_epochs=3,
                               random_state=0).fit(X, y)
    assert model.fills_missing_ and model.n_student_features_ == 8 + len(
        np.unique(X.indices[np.isnan(X.data)]))  # the columns, then a flag per column with NaN
    predicted = model.predict(X)
    assert np.isfinite(predicted).all()
    session = onnxruntime.InferenceSession(export_onnx(model, tmp_path / "sparse.onnx"))
    from_file = session.run(None, onnx_inputs(session, X))[0][:, 0]
    np.testing.assert_allclose(from_file, predicted, rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="Ridge does not accept missing values"):
        DistilledRegressor(Ridge(), max_epochs=2).fit(X, y)  # the teacher's own refusal


def test_sparse_rows_with_missing_values_the_fit_had_none_of_are_refused_by_name():
    X = sp.random(200, 6, density=0.3, format="csr", random_state=0)
    y = np.asarray(X @ np.arange(6.0)).ravel()
    with_nan = X.copy()
    with_nan.data[::4] = np.nan
    model = DistilledRegressor("precomputed", max_epochs=2, warm_start=True,  # reads NaN
                               random_state=0).fit(X, y, teacher_predictions=y)
    message = r"X holds missing values \(NaN\) in column\(s\) \[.*\], which the sparse rows"
    with pytest.raises(ValueError, match=message):
        model.predict(with_nan)
    with pytest.raises(ValueError, match=message):  # a warm start goes on with the encoding
        model.fit(with_nan, y, teacher_predictions=y)
    plain = DistilledRegressor(Ridge(), max_epochs=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="this model's teacher cannot read missing values"):
        plain.predict(with_nan)  # the teacher's limit first: filling would not help
