"""Rows beyond memory: unlabelled transfer sets, dask collections streamed, lazy prediction.

Most tests use dask's local threads (the default scheduler without a client);
the last ones run the same path on a real ``LocalCluster`` of worker processes,
one of which dies mid-labelling.
"""

import os
import sys
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skdistill import DistilledClassifier, DistilledRegressor
from skdistill.stages._transfer import dask_transfer_chunks
from skdistill.teachers._adapters import as_teacher
from skdistill.training._stream import StreamedRows

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        yield


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(1200, 6, n_informative=4, n_classes=3, random_state=0)
    X = X.astype(np.float32)
    unlabelled = np.random.RandomState(1).normal(size=(900, 6)).astype(np.float32)
    teacher = LogisticRegression().fit(X, y)
    return X, y, unlabelled, teacher


def fast(teacher, **params):
    defaults = dict(max_epochs=4, batch_size=128, lr=0.01, random_state=0,
                    module__hidden_layer_sizes=(8,), student_preprocessor=None)  # rows as given
    return DistilledClassifier(teacher, **{**defaults, **params})


# ---------------------------------------------------------- unlabelled rows
def test_unlabelled_array_equals_unlabelled_rows_given_to_fit(data):
    X, y, U, teacher = data
    as_transfer = fast(FrozenEstimator(teacher), transfer_set=U).fit(X, y)
    stacked = fast(FrozenEstimator(teacher), unlabeled_label=-1).fit(
        np.vstack([X, U]), np.concatenate([y, np.full(len(U), -1)])
    )
    np.testing.assert_array_equal(as_transfer.predict_proba(X), stacked.predict_proba(X))


@pytest.mark.parametrize("encoding", [None, "auto"])
def test_sparse_unlabelled_rows_join_dense_training_rows(data, encoding):
    import scipy.sparse as sp

    X, y, U, teacher = data
    teacher = FrozenEstimator(teacher)
    sparse = fast(teacher, transfer_set=sp.csr_matrix(U), student_preprocessor=encoding).fit(X, y)
    dense = fast(teacher, transfer_set=U, student_preprocessor=encoding).fit(X, y)
    np.testing.assert_allclose(sparse.predict_proba(X), dense.predict_proba(X), atol=1e-5)


def test_unlabelled_dataframe_needs_the_training_columns(data):
    X, y, U, teacher = data
    columns = [f"f{i}" for i in range(6)]
    frame = pd.DataFrame(X, columns=columns)
    wrong = pd.DataFrame(U, columns=[*columns[:-1], "other"])
    with pytest.raises(ValueError, match=r"transfer_set have the columns .*'other'"):
        fast(FrozenEstimator(teacher), transfer_set=wrong).fit(frame, y)
    with pytest.raises(ValueError, match="rows of transfer_set have 5 columns"):
        fast(FrozenEstimator(teacher), transfer_set=U[:, :5]).fit(X, y)


# ------------------------------------------------------------ the stream
class Block:
    """A chunk of rows numbered from ``start``: the feature holds the row's number."""

    def __init__(self, start, n):
        self.start, self.n_rows = start, n

    def load(self):
        ids = np.arange(self.start, self.start + self.n_rows, dtype=np.float32)[:, None]
        return ids, np.zeros((self.n_rows, 2), np.float32), np.full(self.n_rows, -1), None


def _epoch(rows, seed, batch_size=32):
    generator = torch.Generator().manual_seed(seed)
    return [xb["X"][:, 0].long().tolist() for xb, _ in rows.batches(batch_size, generator)]


def test_stream_sees_every_row_once_per_epoch_in_full_shuffled_batches():
    from skdistill.training._data import DistillationDataset

    resident = DistillationDataset(
        torch.arange(1000, 1050, dtype=torch.float32)[:, None], torch.zeros(50, 2),
        torch.zeros(50, dtype=torch.long),
    )
    rows = StreamedRows([Block(0, 100), Block(100, 70), Block(170, 130)], resident)
    batches = _epoch(rows, seed=0)
    seen = [i for batch in batches for i in batch]
    assert sorted(seen) == [*range(300), *range(1000, 1050)]
    assert [len(b) for b in batches[:-1]] == [32] * (len(batches) - 1)
    assert len(batches) == -(-350 // 32)
    first = batches[0]
    assert len({i // 100 for i in first if i < 300}) > 1  # a batch mixes chunks
    assert any(i >= 1000 for i in seen[:175])  # resident rows spread over the epoch
    assert _epoch(rows, seed=0) == batches  # a seed gives the same epoch
    assert _epoch(rows, seed=1) != batches


def test_stream_without_generator_keeps_the_order():
    rows = StreamedRows([Block(0, 40), Block(40, 30)])
    generator = None
    batches = [xb["X"][:, 0].long().tolist() for xb, _ in rows.batches(25, generator)]
    assert batches == [list(range(0, 25)), list(range(25, 50)), list(range(50, 70))]


# ------------------------------------------------- dask rows: the teacher's outputs
def transfer_chunks(model, teacher, rows):
    """The chunks a fitted model's transfer stage streams for dask ``rows``."""
    fitted = {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("_")}
    task = model._task_class.for_estimator(model, fitted)
    return dask_transfer_chunks(model, task, fitted, teacher, rows)


def test_dask_transfer_set_is_labelled_by_the_teacher(data):
    X, y, U, teacher = data
    U_dask = da.from_array(U, chunks=200)
    model = fast(FrozenEstimator(teacher), transfer_set=U_dask).fit(X, y)
    chunks = transfer_chunks(model, as_teacher(FrozenEstimator(teacher)), U_dask)
    assert [c.n_rows for c in chunks] == [200, 200, 200, 200, 100]
    rows, logits, target, weights = chunks[1].load()
    np.testing.assert_array_equal(rows, U[200:400])
    expected = np.log(np.clip(teacher.predict_proba(U[200:400]), 1e-7, None))
    np.testing.assert_allclose(logits, expected, rtol=1e-6)
    assert (target == -1).all() and weights is None
    assert model.score(X, y) > 0.6


def test_unknown_chunk_sizes_give_the_same_fit(data):
    X, y, U, teacher = data
    known = da.from_array(U, chunks=300)
    unknown = known[known[:, 0] > -np.inf]  # the same rows, chunk sizes unknown
    assert np.isnan(unknown.shape[0])
    a = fast(FrozenEstimator(teacher), transfer_set=known).fit(X, y)
    b = fast(FrozenEstimator(teacher), transfer_set=unknown).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_dask_dataframe_partitions_must_have_the_training_columns(data):
    X, y, U, teacher = data
    columns = [f"f{i}" for i in range(6)]
    frame = pd.DataFrame(X, columns=columns)
    good = dd.from_pandas(pd.DataFrame(U, columns=columns), npartitions=3)
    frame_teacher = FrozenEstimator(LogisticRegression().fit(frame, y))
    model = fast(frame_teacher, transfer_set=good).fit(frame, y)
    assert model.score(frame, y) > 0.6
    before = model.predict_proba(frame)
    with pytest.raises(ValueError, match=r"rows of transfer_set have the columns .*'g'"):
        model.set_params(transfer_set=good.rename(columns={"f5": "g"})).fit(frame, y)
    # a partition that differs from what the collection declares: dask names it at compute
    lying = good.map_partitions(lambda p: p.rename(columns={"f5": "g"}) if p.index[0] > 500 else p)
    with pytest.raises(ValueError, match=r"do not match the columns .*\n.*Extra: +\['g'\]"):
        model.set_params(transfer_set=lying).fit(frame, y)
    np.testing.assert_array_equal(model.predict_proba(frame), before)  # nothing half-fitted


def test_a_failing_partition_leaves_the_fitted_model_as_it_was(data):
    X, y, U, teacher = data
    model = fast(FrozenEstimator(teacher), transfer_set=U).fit(X, y)
    before = model.predict_proba(X)
    poisoned = da.from_array(U, chunks=300).map_blocks(
        lambda b: b * np.where(b[:, :1] > 1.5, np.nan, 1.0).astype(np.float32)
    )
    with pytest.raises(ValueError, match="NaN"):
        model.set_params(transfer_set=poisoned).fit(X, y)
    np.testing.assert_array_equal(model.predict_proba(X), before)
    assert model.transfer_set is poisoned


# ------------------------------------------------------------ dask X and y
def test_dask_X_and_y_with_a_frozen_teacher(data):
    X, y, _, teacher = data
    Xd, yd = da.from_array(X, chunks=200), da.from_array(y, chunks=300)  # rechunked to X's
    model = fast(FrozenEstimator(teacher), max_epochs=8).fit(Xd, yd)
    assert model.n_features_in_ == 6 and model.classes_.tolist() == [0, 1, 2]
    assert len(model.student_.history) == 8 and "valid_acc" in model.student_.history[-1]
    assert model.score(X, y) > 0.7
    given = fast("precomputed", max_epochs=8).fit(
        Xd, yd, teacher_proba=da.from_array(teacher.predict_proba(X), chunks=100)
    )
    np.testing.assert_allclose(given.predict_proba(X), model.predict_proba(X), atol=1e-6)


def test_dask_X_and_y_with_a_torch_teacher_give_its_logits(data):
    X, y, _, teacher = data
    module = torch.nn.Linear(6, 3)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(teacher.coef_).float())
        module.bias.copy_(torch.from_numpy(teacher.intercept_).float())
    model = fast(module, max_epochs=8).fit(da.from_array(X, chunks=300), da.from_array(y, 300))
    assert model.teacher_ is module
    chunk = transfer_chunks(model, as_teacher(module), da.from_array(X[:50], 50))[0]
    with torch.no_grad():
        expected = module(torch.from_numpy(X[:50])).numpy()
    np.testing.assert_allclose(chunk.load()[1], expected, rtol=1e-5, atol=1e-6)
    assert model.score(X, y) > 0.7


def test_regressor_streams_a_dask_transfer_set():
    X, y = make_regression(600, 4, noise=1.0, random_state=0)
    teacher = HistGradientBoostingRegressor(max_iter=30)
    unlabelled = da.random.RandomState(0).normal(size=(2000, 4), chunks=500)
    model = DistilledRegressor(teacher, transfer_set=unlabelled, max_epochs=3,
                               student_preprocessor=None, random_state=0).fit(X, y)
    chunk = transfer_chunks(model, as_teacher(model.teacher_), unlabelled)[0]
    rows, outputs, target, _ = chunk.load()
    expected = (model.teacher_.predict(rows) - model.target_mean_) / model.target_scale_
    np.testing.assert_allclose(outputs[:, 0], expected, rtol=1e-4, atol=1e-5)
    assert np.isnan(target).all() and target.dtype == np.float32


def test_dask_frames_with_string_labels(data):
    X, y, _, teacher = data
    labels = np.array(["ant", "bee", "cat"])[y]
    frame = pd.DataFrame(X, columns=list("abcdef"))
    frozen = FrozenEstimator(LogisticRegression().fit(frame, labels))
    model = fast(frozen, max_epochs=12).fit(
        dd.from_pandas(frame, npartitions=4), dd.from_pandas(pd.Series(labels), npartitions=4)
    )
    assert model.feature_names_in_.tolist() == list("abcdef")
    assert model.classes_.tolist() == ["ant", "bee", "cat"]
    assert (model.predict(frame) == labels).mean() > 0.7


def test_dask_regression_standardises_over_every_partition():
    X, y = make_regression(900, 5, noise=1.0, random_state=0)
    teacher = FrozenEstimator(HistGradientBoostingRegressor(max_iter=30).fit(X, y))
    model = DistilledRegressor(teacher, max_epochs=3, random_state=0).fit(
        da.from_array(X, chunks=200), da.from_array(y, chunks=200)
    )
    assert model.target_mean_ == pytest.approx(y.mean())
    assert model.target_scale_ == pytest.approx(y.std())
    assert model.predict(X).shape == (900,)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)])  # a dask Series y: no lengths
    from_frames = DistilledRegressor(teacher, max_epochs=3, random_state=0).fit(
        dd.from_pandas(frame, npartitions=3), dd.from_pandas(pd.Series(y), npartitions=3)
    )
    assert from_frames.target_mean_ == pytest.approx(y.mean())
    assert from_frames.target_scale_ == pytest.approx(y.std())
    unknown = dd.from_pandas(pd.Series(y), npartitions=3).to_dask_array()  # chunks unknown
    from_array = DistilledRegressor(teacher, max_epochs=3, random_state=0).fit(
        dd.from_pandas(frame, npartitions=3), unknown)
    assert from_array.target_scale_ == pytest.approx(y.std())


def test_dask_fit_refuses_what_it_cannot_do(data):
    X, y, U, teacher = data
    Xd, yd = da.from_array(X, chunks=300), da.from_array(y, chunks=300)
    with pytest.raises(ValueError, match="teacher must need no fitting.*FrozenEstimator"):
        fast(LogisticRegression()).fit(Xd, yd)
    with pytest.raises(ValueError, match="both be dask collections"):
        fast(FrozenEstimator(teacher)).fit(Xd, y)
    with pytest.raises(ValueError, match="class_weight cannot be used with dask"):
        fast(FrozenEstimator(teacher), class_weight="balanced").fit(Xd, yd)
    with pytest.raises(ValueError, match="X has 4 partitions and y 2"):
        fast(FrozenEstimator(teacher)).fit(
            dd.from_array(X, chunksize=300), dd.from_array(y, chunksize=600)
        )
    with pytest.raises(ValueError, match="unknown number of columns"):
        fast(FrozenEstimator(teacher)).fit(Xd[:, Xd[0] > -np.inf], yd)


# ------------------------------------------------------------- prediction
def test_prediction_on_dask_collections_is_lazy_and_exact(data):
    X, y, _, teacher = data
    model = fast(FrozenEstimator(teacher)).fit(X, y)
    Xd = da.from_array(X, chunks=250)

    def explode(block):
        raise RuntimeError("computed")

    untouchable = Xd.map_blocks(explode, dtype=np.float32)
    lazy = model.predict_proba(untouchable)  # builds a graph, computes nothing
    assert lazy.shape == (1200, 3)
    with pytest.raises(RuntimeError, match="computed"):
        lazy.compute()
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        out = getattr(model, method)(Xd)
        assert isinstance(out, da.Array)
        np.testing.assert_array_equal(out.compute(), getattr(model, method)(X))
    frame = dd.from_array(X, chunksize=500)
    np.testing.assert_array_equal(model.predict(frame).compute(), model.predict(X))
    import scipy.sparse as sp

    rows = sp.csr_matrix(np.where(np.abs(X) > 1, X, 0))  # blocks of sparse rows
    sparse_chunks = da.from_array(rows, chunks=(250, 6), asarray=False)
    np.testing.assert_array_equal(model.predict_proba(sparse_chunks).compute(),
                                  model.predict_proba(rows))


def test_prediction_on_a_dask_array_of_documents_is_lazy_and_exact():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    docs = np.array(["good fine great", "bad awful poor", "great good day", "poor bad day"] * 30,
                    dtype=object)
    y = np.array([1, 0, 1, 0] * 30)
    model = DistilledClassifier(make_pipeline(TfidfVectorizer(), LogisticRegression()),
                                student_preprocessor=TfidfVectorizer(), max_epochs=3,
                                random_state=0).fit(docs, y)
    lazy = da.from_array(docs, chunks=50)
    for method in ("predict", "predict_proba"):
        out = getattr(model, method)(lazy)
        assert isinstance(out, da.Array)
        np.testing.assert_array_equal(out.compute(), getattr(model, method)(docs))
    with pytest.raises(ValueError, match="X must be 2-d rows; got 1 dimension"):
        model.predict(da.from_array(np.arange(4.0), chunks=2))  # numbers: rows of one value?


# ------------------------------------------------------ on a real cluster
class DiesOnceOnAWorker(LogisticRegression):
    """A fitted model whose first predict_proba on a dask worker kills that worker's process."""

    marker = None

    def predict_proba(self, X):
        import distributed

        try:
            distributed.get_worker()
        except ValueError:
            return super().predict_proba(X)
        if not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os._exit(1)
        return super().predict_proba(X)


@pytest.fixture(scope="module")
def cluster_client():
    distributed = pytest.importorskip("distributed")
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.mark.slow
def test_local_cluster_gives_the_local_result_even_when_a_worker_dies(
    data, cluster_client, tmp_path
):
    import distributed

    X, y, U, teacher = data
    dying = DiesOnceOnAWorker().fit(X, y)
    dying.marker = str(tmp_path / "died")
    rows = da.from_array(U, chunks=150)
    with distributed.get_task_stream(cluster_client) as tasks:
        remote = fast(FrozenEstimator(dying), transfer_set=rows).fit(X, y)
    assert os.path.exists(dying.marker)  # a worker did die mid-labelling
    assert len({t["worker"] for t in tasks.data}) >= 2
    with dask.config.set(scheduler="threads"):  # the same fit without the cluster
        local = fast(FrozenEstimator(teacher), transfer_set=rows).fit(X, y)
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))
    lazy = remote.predict_proba(da.from_array(X, chunks=400))
    np.testing.assert_array_equal(lazy.compute(), local.predict_proba(X))


def test_partitions_without_rows_are_skipped_everywhere():
    import dask.dataframe as dd
    import pandas as pd

    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame(X.astype(np.float32), columns=list("abcd")).assign(y=y, i=np.arange(150))
    parts = dd.from_pandas(frame, npartitions=3)
    parts = parts[(parts.i < 40) | (parts.i >= 100)]  # the middle partition holds no row
    assert [len(p) for p in parts.partitions] == [40, 0, 50]
    X_dask, y_dask = parts[list("abcd")], parts["y"]
    teacher = FrozenEstimator(LogisticRegression(max_iter=500).fit(frame[list("abcd")], y))
    model = fast(teacher, max_epochs=3).fit(X_dask, y_dask)  # as X and y
    expected = model.predict_proba(frame[list("abcd")].iloc[np.r_[0:40, 100:150]])
    np.testing.assert_allclose(model.predict_proba(X_dask).compute(), expected)  # at predict
    streamed = fast(teacher, max_epochs=3, transfer_set=X_dask).fit(frame[list("abcd")], y)
    assert streamed.predict(X_dask).compute().shape == (90,)  # as a transfer set
