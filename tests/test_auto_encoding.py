"""student_preprocessor="auto": one teacher fit, a student per candidate encoding, the best kept."""

import warnings

import numpy as np
import torch
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import RaiseAt
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from skorch.callbacks import Callback
from test_student_encoder import mixed_frame

from skdistill import DistilledClassifier, DistilledRegressor
from skdistill.stages import _encoding as encoding_stage
from skdistill.training._data import EncodedOnDevice


class CountingTeacher(HistGradientBoostingClassifier):
    fits = 0

    def fit(self, X, y, **kwargs):
        type(self).fits += 1
        return super().fit(X, y, **kwargs)


def rows(n=600, seed=0):
    X, y = make_classification(n, 6, n_informative=4, random_state=seed)
    X[::11, 1] = np.nan
    return X, y


def settings(**extra):
    return dict(max_epochs=15, random_state=0, **extra)


def test_the_student_with_the_lower_held_out_loss_is_kept_and_the_teacher_fits_once(
    monkeypatch,
):
    X, y = rows()
    CountingTeacher.fits = 0
    auto = DistilledClassifier(CountingTeacher(), student_preprocessor="auto", **settings())
    auto.fit(X, y)
    assert CountingTeacher.fits == 1
    losses = auto.student_encoding_losses_
    assert set(losses) == {"both", "scale"}
    assert auto.student_encoding_ == min(losses, key=losses.get)
    # the kept student is exactly the one a fit with that encoding alone gives
    monkeypatch.setattr(encoding_stage, "CANDIDATE_ENCODINGS", (auto.student_encoding_,))
    alone = DistilledClassifier(CountingTeacher(), student_preprocessor="auto", **settings())
    alone.fit(X, y)
    assert list(alone.student_encoding_losses_) == [auto.student_encoding_]
    np.testing.assert_array_equal(auto.predict_proba(X), alone.predict_proba(X))
    assert auto.n_student_features_ == alone.n_student_features_
    assert auto.n_iter_ == len(auto.student_.history)


def test_without_held_out_rows_the_first_encoding_trains_alone():
    X, y = rows()
    clf = DistilledClassifier(
        HistGradientBoostingClassifier(), student_preprocessor="auto",
        validation_fraction=None, **settings(n_iter_no_change=None),
    ).fit(X, y)
    assert clf.student_encoding_ == "both"
    assert list(clf.student_encoding_losses_) == ["both"]


def test_a_frame_with_strings_and_missing_values_fits_with_auto():
    frame, y = mixed_frame(n=300)
    teacher = HistGradientBoostingClassifier(categorical_features="from_dtype")
    frame_for_teacher = frame.astype({"colour": "category", "shape": "category"})
    clf = DistilledClassifier(teacher, student_preprocessor="auto", **settings())
    clf.fit(frame_for_teacher, y)
    assert clf.student_encoding_ in ("both", "scale")
    assert clf.score(frame_for_teacher, y) > 0.8
    assert list(clf.feature_names_in_) == list(frame.columns)


def test_a_warm_start_continues_the_chosen_encoding_only():
    X, y = rows()
    clf = DistilledClassifier(
        HistGradientBoostingClassifier(), student_preprocessor="auto", warm_start=True,
        **settings(),
    ).fit(X, y)
    chosen, epochs = clf.student_encoding_, clf.n_iter_
    clf.fit(X, y)
    assert clf.student_encoding_ == chosen
    assert list(clf.student_encoding_losses_) == [chosen]
    assert clf.n_iter_ > epochs


def test_ctrl_c_keeps_the_student_being_trained_and_trains_no_other():
    X, y = rows()
    clf = DistilledClassifier(
        HistGradientBoostingClassifier(), student_preprocessor="auto",
        callbacks=[RaiseAt(KeyboardInterrupt, epoch=2)], **settings(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    assert list(clf.student_encoding_losses_) == ["both"]
    assert clf.n_iter_ == 1


def test_sparse_rows_have_one_encoding_and_documents_need_their_own():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    X, y = rows()
    sparse = DistilledClassifier(
        LogisticRegression(), student_preprocessor="auto", **settings()
    ).fit(sp.csr_matrix(np.nan_to_num(X)), y)
    assert sparse.student_encoding_ == "max-abs"
    documents = ["good film", "bad film", "good plot", "bad plot"] * 10
    labels = [1, 0, 1, 0] * 10
    teacher = make_pipeline(TfidfVectorizer(), LogisticRegression())
    with pytest.raises(ValueError, match="student_preprocessor='auto' encodes tables"):
        DistilledClassifier(teacher, student_preprocessor="auto", **settings()).fit(
            documents, labels
        )


def test_the_regressor_chooses_too():
    X, y = make_regression(500, 5, noise=5.0, random_state=0)
    reg = DistilledRegressor(
        HistGradientBoostingRegressor(), student_preprocessor="auto", **settings()
    ).fit(X, y)
    assert set(reg.student_encoding_losses_) == {"both", "scale"}
    assert reg.score(X, y) > 0.8


def test_dask_rows_are_read_as_given():
    da = pytest.importorskip("dask.array")
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(400, 5, random_state=0)
    teacher = FrozenEstimator(LogisticRegression().fit(X, y))
    clf = DistilledClassifier(teacher, student_preprocessor="auto", **settings()).fit(
        da.from_array(X, chunks=100), da.from_array(y, chunks=100)
    )
    assert clf.student_encoding_ is None and clf.n_student_features_ == 5
    assert "student_preprocessor_" not in vars(clf)


def test_a_frame_whose_column_kinds_change_at_predict_is_refused_naming_them():
    frame, y = mixed_frame(n=200)
    clf = DistilledClassifier(
        "precomputed", student_preprocessor="auto", max_epochs=2, random_state=0
    ).fit(frame, y, teacher_proba=np.eye(2)[y] * 0.8 + 0.1)
    assert clf.feature_kinds_["colour"] == "categorical"
    numbers_for_strings = frame.assign(colour=np.arange(len(frame), dtype=float))
    with pytest.raises(ValueError, match="Column 'colour' holds numeric values at predict"):
        clf.predict(numbers_for_strings)
    strings_for_numbers = frame.assign(size=frame["size"].astype(str))
    with pytest.raises(ValueError, match="Column 'size' holds categorical values"):
        clf.predict_proba(strings_for_numbers)
    one_category = frame.assign(shape="round")  # a single category at predict time works
    assert clf.predict(one_category).shape == (len(frame),)
    clf.set_params(student_preprocessor=None, teacher=HistGradientBoostingClassifier())
    clf.fit(frame[["size"]].fillna(0), y)
    assert "feature_kinds_" not in vars(clf) and "student_encoding_losses_" not in vars(clf)


class InterruptSecondStudent(Callback):
    """Ctrl-C as the second student's training begins."""

    trains = 0

    def on_train_begin(self, net, **kwargs):
        type(self).trains += 1

    def on_epoch_begin(self, net, **kwargs):
        if type(self).trains == 2:
            raise KeyboardInterrupt


def test_ctrl_c_before_the_second_student_keeps_the_first():
    X, y = rows()
    InterruptSecondStudent.trains = 0
    clf = DistilledClassifier(
        HistGradientBoostingClassifier(), student_preprocessor="auto",
        callbacks=[InterruptSecondStudent()], **settings(),
    )
    with pytest.warns(UserWarning, match="Interrupted before the 'scale' encoding"):
        clf.fit(X, y)
    assert clf.student_encoding_ == "both"
    assert list(clf.student_encoding_losses_) == ["both"]
    assert clf.n_iter_ == len(clf.student_.history) > 0


def test_the_loss_compared_is_the_kept_weights_and_nan_counts_as_infinite():
    from skdistill.losses._settings import LossSettings
    from skdistill.training._early_stopping import kept_held_out_loss as held_out_label_loss

    class Net:
        loss_settings = LossSettings("classifier", alpha=0.5, T=1.0)
        history = [{"valid_label_loss": 0.5}, {"valid_label_loss": 0.2},
                   {"valid_label_loss": 0.4}]

    assert held_out_label_loss(Net()) == 0.2  # early stopping restored epoch 2
    assert held_out_label_loss(Net(), best_restored=False) == 0.4  # the last epoch's weights
    assert held_out_label_loss(Net(), epochs_before=2) == 0.4  # a warm start's own epochs
    Net.history = [{"valid_label_loss": float("nan")}]
    assert held_out_label_loss(Net()) == float("inf")
    Net.loss_settings = LossSettings("classifier", alpha=0.5, T=4.0)  # the loss early stopping watched at T = 4
    Net.history = [{"valid_label_loss": 0.3, "valid_calibrated_loss": 0.25}]
    assert held_out_label_loss(Net()) == 0.25


def test_a_one_row_prediction_with_a_missing_category_is_not_refused():
    frame, y = mixed_frame(n=200)
    clf = DistilledClassifier(
        "precomputed", student_preprocessor="auto", max_epochs=2, random_state=0
    ).fit(frame, y, teacher_proba=np.eye(2)[y] * 0.8 + 0.1)
    row = frame.iloc[[11]]  # colour is missing in row 11
    assert row["colour"].isna().all()
    assert clf.predict_proba(row).shape == (1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the refusal alone: not scikit-learn's warning beside it
        with pytest.raises(ValueError, match="fitted on a DataFrame"):
            clf.predict(frame.to_numpy())


def test_numbers_without_names_are_read_by_position_as_scikit_learn_reads_them(iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=["sepal length", "sepal width", "petal length", "petal width"])
    on_frame = DistilledClassifier(LogisticRegression(), max_epochs=3, random_state=0).fit(frame, y)
    assert on_frame.student_encoding_ is not None  # the package's own encoding of the numbers
    with pytest.warns(UserWarning, match="does not have valid feature names") as caught:
        from_array = on_frame.predict_proba(X)
    assert len(caught) == 1
    np.testing.assert_array_equal(from_array, on_frame.predict_proba(frame))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_objects = on_frame.predict_proba(X.astype(object))  # numbers, as objects
    np.testing.assert_array_equal(from_objects, from_array)
    on_array = DistilledClassifier(LogisticRegression(), max_epochs=3, random_state=0).fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from_frame = on_array.predict_proba(frame)
    assert [str(each.message) for each in caught] == [  # the estimator's, not its encoding's
        "X has feature names, but DistilledClassifier was fitted without feature names"]
    np.testing.assert_array_equal(from_frame, on_array.predict_proba(X))
    pl = pytest.importorskip("polars")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from_polars = on_array.predict_proba(pl.from_pandas(frame))
    assert len(caught) == 1
    np.testing.assert_array_equal(from_polars, from_frame)


def test_a_polars_frame_is_encoded_checked_and_predicted():
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({
        "size": [1.0, None, 3.0, 4.0] * 25, "colour": ["red", "blue", None, "red"] * 25,
        "flag": [True, False, True, True] * 25, "count": [1, 2, 3, 4] * 25,
    })
    y = np.array([0, 1, 0, 1] * 25)
    clf = DistilledClassifier(
        "precomputed", student_preprocessor="auto", max_epochs=2, random_state=0
    ).fit(frame, y, teacher_proba=np.eye(2)[y] * 0.8 + 0.1)
    assert clf.feature_kinds_ == {
        "size": "numeric", "colour": "categorical", "flag": "categorical", "count": "numeric",
    }
    assert clf.predict_proba(frame[:3]).shape == (3, 2)
    with pytest.raises(ValueError, match="Column 'size' holds categorical values"):
        clf.predict(frame.with_columns(pl.Series("size", ["1"] * 100)))


class CountingRowsTeacher(HistGradientBoostingClassifier):
    rows_labelled = 0

    def predict_proba(self, X):
        type(self).rows_labelled += len(X)
        return super().predict_proba(X)


def test_the_teacher_labels_a_transfer_set_once_for_both_encodings():
    from skdistill import Munge

    X, y = rows(n=300)
    CountingRowsTeacher.rows_labelled = 0
    clf = DistilledClassifier(
        CountingRowsTeacher(), student_preprocessor="auto", transfer_set=Munge(n_copies=2),
        **settings(),
    ).fit(np.nan_to_num(X), y)
    assert set(clf.student_encoding_losses_) == {"both", "scale"}
    n_train = int(round(300 * 0.9))  # Munge draws from the training rows, not the held-out
    assert CountingRowsTeacher.rows_labelled == 300 + 2 * n_train


def test_a_large_encoding_is_computed_a_batch_at_a_time_and_gives_the_same_model(monkeypatch):
    X, y = rows()
    X32 = X.astype(np.float32)
    stored = DistilledClassifier(HistGradientBoostingClassifier(), student_preprocessor="auto",
                                 **settings()).fit(X32, y)
    monkeypatch.setattr(encoding_stage, "ENCODED_IN_MEMORY_BYTES", 1024)  # every one "large"
    lazy = DistilledClassifier(HistGradientBoostingClassifier(), student_preprocessor="auto",
                               **settings())
    training = lazy.fit_teacher(X32, y)
    read = training.rows[0]  # the caller's rows, encoded batch by batch: no encoded copy
    assert isinstance(read, EncodedOnDevice) and np.shares_memory(read.raw.numpy(), X32)
    assert read.shape == (len(X), training.fitted["n_student_features_"])
    encoder = training.fitted["student_preprocessor_"]
    np.testing.assert_allclose(read[5:7].numpy(), encoder.transform(X32[5:7]), atol=1e-5)
    lazy.fit(X32, y)
    assert lazy.student_encoding_losses_ == stored.student_encoding_losses_
    np.testing.assert_array_equal(lazy.predict_proba(X), stored.predict_proba(X))


def test_float64_rows_encoded_a_batch_at_a_time_are_read_as_float32_once(monkeypatch):
    X, y = rows()
    monkeypatch.setattr(encoding_stage, "ENCODED_IN_MEMORY_BYTES", 1024)
    training = DistilledClassifier("precomputed", **settings()).fit_teacher(
        X, y, teacher_proba=np.eye(2)[y])
    read = training.rows[0]
    assert read.raw.dtype == torch.float32 and not np.shares_memory(read.raw.numpy(), X)
    np.testing.assert_array_equal(read.raw.numpy(), X.astype(np.float32))
    too_large = X.copy()
    too_large[3, 4] = 1e300
    with pytest.raises(ValueError, match="Column 4 holds values too large"):
        DistilledClassifier("precomputed", **settings()).fit(
            too_large, y, teacher_proba=np.eye(2)[y])


def test_the_encoding_fits_on_a_sample_of_the_rows_that_count(monkeypatch):
    import skdistill.stages._encoding as auto_encoding

    X, y = rows()
    weights = np.ones(len(y))
    weights[:100] = 0.0
    X[:100, 0] = 1e6  # rows of zero weight: they must not shape the scaling
    model = DistilledClassifier(HistGradientBoostingClassifier(), student_preprocessor="auto",
                                max_epochs=2, random_state=0).fit(X, y, sample_weight=weights)
    scaler = model.student_preprocessor_.named_transformers_["numeric"][-1]
    scaler = getattr(scaler, "transformer_list", [("scale", scaler)])[0][1]
    assert scaler.n_samples_seen_ == 500
    assert abs(scaler.mean_[0]) < 10
    monkeypatch.setattr(auto_encoding, "ENCODER_FIT_ROWS", 50)
    model.fit(X, y)
    scaler = model.student_preprocessor_.named_transformers_["numeric"][-1]
    scaler = getattr(scaler, "transformer_list", [("scale", scaler)])[0][1]
    assert scaler.n_samples_seen_ == 50


def _median_of(model, column):
    """The median the fitted encoding fills column ``column`` with."""
    return model.student_preprocessor_.named_transformers_["numeric"]["fill"].statistics_[column]


def test_missing_values_at_predict_are_filled_with_the_fitted_median():
    X, y = rows()  # column 1 has missing values, the others none
    model = DistilledClassifier(HistGradientBoostingClassifier(), student_preprocessor="auto",
                                max_epochs=2, random_state=0).fit(X, y)
    assert model.__sklearn_tags__().input_tags.allow_nan
    fresh = X[:3].copy()
    fresh[:, 1] = np.nan
    assert np.isfinite(model.predict_proba(fresh)).all()
    fresh[0, 4] = np.nan  # no missing value there in fit: filled as an imputer fills it
    filled = fresh.copy()
    filled[0, 4] = _median_of(model, 4)
    np.testing.assert_array_equal(model.predict_proba(fresh), model.predict_proba(filled))
    big = np.tile(fresh, (20_000, 1))  # many rows: the same numbers, read in blocks
    np.testing.assert_allclose(model.predict_proba(big)[:3], model.predict_proba(filled),
                               atol=1e-6)
    with pytest.raises(ValueError, match="X has 5 features, but DistilledClassifier is expecting"):
        model.predict(X[:, :5])


def test_auto_checks_the_rows_as_a_table_first():
    from sklearn.linear_model import LogisticRegression

    X, y = rows()
    X = np.nan_to_num(X)
    model = DistilledClassifier(LogisticRegression(), student_preprocessor="auto",
                                max_epochs=2, random_state=0)
    assert not model.__sklearn_tags__().input_tags.allow_nan  # its teacher refuses NaN
    model.fit(X.tolist(), y.tolist())
    assert model.n_features_in_ == 6 and model.student_encoding_ in ("both", "scale")
    with pytest.raises(ValueError, match="Complex data not supported"):
        model.fit(X + 1j, y)
    with pytest.raises(ValueError, match="requires y to be passed"):
        model.fit(X, None)
    with pytest.raises(ValueError, match="Reshape your data"):
        model.fit(X[:, 0], y)


def test_a_pipeline_step_before_auto_exports_to_onnx(tmp_path):
    import onnxruntime
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    from skdistill import export_onnx

    X, y = rows()
    X = np.nan_to_num(X).astype(np.float32)
    pipeline = make_pipeline(MinMaxScaler(), DistilledClassifier(
        HistGradientBoostingClassifier(), student_preprocessor="auto", max_epochs=3, random_state=0
    )).fit(X, y)
    path = export_onnx(pipeline, tmp_path / "model.onnx")
    _, proba = onnxruntime.InferenceSession(path).run(None, {"X": X[:20]})
    np.testing.assert_allclose(proba, pipeline.predict_proba(X[:20]), atol=1e-4)


def test_rows_read_from_one_block_beside_an_encoded_block():
    import torch
    from sklearn.preprocessing import StandardScaler

    from skdistill._inputs import EncodedRows
    from skdistill.training._data import RowBlocks

    X = np.arange(40.0).reshape(20, 2)
    blocks = RowBlocks([EncodedRows(X, StandardScaler().fit(X), 2), torch.ones(3, 2)])
    assert blocks[torch.tensor([21, 22])].tolist() == [[1.0, 1.0], [1.0, 1.0]]  # none encoded


def test_frame_columns_labelled_by_integers_are_read_by_position():
    import pandas as pd

    X, y = rows()
    frame = pd.DataFrame(np.nan_to_num(X)).drop(columns=0)  # labels 1..5 at positions 0..4
    model = DistilledClassifier(HistGradientBoostingClassifier(), max_epochs=2,
                                random_state=0).fit(frame, y)
    assert model.n_features_in_ == 5 and model.predict(frame).shape == (len(y),)


def test_a_warm_start_reads_the_same_fitted_encoding():
    X, y = rows()
    model = DistilledClassifier(HistGradientBoostingClassifier(), max_epochs=2, warm_start=True,
                                random_state=0).fit(X, y)
    encoder = model.student_preprocessor_
    model.fit(X[:300], y[:300])  # other rows: the encoding is not fitted again
    assert model.student_preprocessor_ is encoder


def test_missing_values_only_in_rows_of_zero_weight_are_filled_at_predict():
    X, y = rows()
    X = np.nan_to_num(X)
    X[:10, 2] = np.nan
    weights = np.ones(len(y))
    weights[:10] = 0.0  # the rows with missing values do not count
    model = DistilledClassifier(HistGradientBoostingClassifier(), max_epochs=2,
                                random_state=0).fit(X, y, sample_weight=weights)
    flags = model.student_preprocessor_.named_transformers_["missing"]["flag"]
    assert flags.features_.tolist() == []  # fitted on the rows that count: none flagged
    filled = X[:3].copy()
    filled[:, 2] = _median_of(model, 2)
    np.testing.assert_array_equal(model.predict_proba(X[:3]), model.predict_proba(filled))


def object_rows(n=300):
    rng = np.random.default_rng(0)
    X = np.empty((n, 2), dtype=object)
    X[:, 0] = rng.normal(size=n)
    X[:, 1] = rng.choice(["a", "b", None], size=n)
    y = (X[:, 0].astype(float) > 0).astype(int)
    return X, y, np.c_[1 - y, y] * 0.8 + 0.1


def test_an_object_array_keeps_its_fitted_column_kinds_at_predict():
    X, y, proba = object_rows()
    clf = DistilledClassifier("precomputed", **settings()).fit(X, y, teacher_proba=proba)
    assert clf.feature_kinds_ == {0: "numeric", 1: "categorical"}
    only_missing = np.flatnonzero(X[:, 1] == None)[:5]  # noqa: E711 (elementwise)
    # the categorical column holds only None in these rows: still read as categories
    np.testing.assert_array_equal(
        clf.predict_proba(X[only_missing]), clf.predict_proba(X)[only_missing]
    )
    strings = X[:5].copy()
    strings[:, 0] = "s"
    with pytest.raises(ValueError, match="Column 0 holds categorical values at predict time"):
        clf.predict(strings)


def test_every_candidate_encoding_is_fitted_on_the_same_sample_of_the_kept_rows(monkeypatch):
    import skdistill.stages._encoding as auto_encoding

    monkeypatch.setattr(auto_encoding, "ENCODER_FIT_ROWS", 100)
    X, y = rows()
    weight = np.where(np.arange(len(y)) % 3 == 0, 0.0, 1.0) * np.where(y == 1, 5.0, 1.0)
    clf = DistilledClassifier("precomputed", random_state=None)
    training = clf.fit_teacher(X, y, teacher_proba=np.eye(2)[y] * 0.8 + 0.1, sample_weight=weight)
    scalers = {}
    for name in ("both", "scale"):
        training.encode_with(name)
        numeric = training.encoder.named_transformers_["numeric"]
        scaler = numeric[-1].transformer_list[0][1] if name == "both" else numeric[-1]
        scalers[name] = scaler
    kept = weight > 0
    assert scalers["both"].n_samples_seen_.max() == 100 < kept.sum()
    np.testing.assert_array_equal(scalers["both"].mean_, scalers["scale"].mean_)


def test_a_model_fitted_on_an_object_array_checks_a_frame_by_position():
    import pandas as pd

    X, y, proba = object_rows()
    clf = DistilledClassifier("precomputed", **settings()).fit(X, y, teacher_proba=proba)
    frame = pd.DataFrame({"a": ["s"] * 5, "b": X[:5, 1]})  # numbers arrive as strings
    with pytest.raises(ValueError, match="Column 0 holds categorical values"):
        clf.predict(frame)


def test_a_candidate_that_cannot_catch_the_first_stops_early_and_the_choice_stands(monkeypatch):
    import skdistill.stages._encoding_choice as choice_stage
    import skdistill.stages._fit as fit_stage

    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(1500, 4))
    y = ((X[:, 0] > 0.3) ^ (X[:, 1] > -0.5) ^ (X[:, 2] > 1.2)).astype(int)  # steps: bins win
    trained = []

    def spied(*args, **kwargs):
        out = trained_on(*args, **kwargs)
        trained.append(out[0]["student_"])
        return out

    trained_on = fit_stage._trained_on
    monkeypatch.setattr(fit_stage, "_trained_on", spied)
    raced = DistilledClassifier(HistGradientBoostingClassifier(), alpha=0.5, random_state=0)
    raced.fit(X, y)
    leader, challenger = trained
    assert raced.student_encoding_ == "both" and raced.student_ is leader
    monkeypatch.setattr(choice_stage, "RACE", False)
    trained.clear()
    full = DistilledClassifier(HistGradientBoostingClassifier(), alpha=0.5, random_state=0)
    full.fit(X, y)
    assert full.student_encoding_ == "both"
    np.testing.assert_array_equal(raced.predict_proba(X), full.predict_proba(X))
    # the loser ran part of its course; its loss is that of the weights it kept by then
    assert len(challenger.history) < len(trained[1].history)
    assert raced.student_encoding_losses_["both"] == full.student_encoding_losses_["both"]
    assert raced.student_encoding_losses_["scale"] >= full.student_encoding_losses_["scale"]
    assert "race" in dict(challenger.callbacks_)
    assert "race" not in dict(raced.student_.callbacks_)  # the kept one runs on its own


def test_a_candidate_that_wins_the_race_keeps_no_trace_of_it():
    from sklearn.datasets import make_classification

    X, y = make_classification(800, 8, random_state=3)
    model = DistilledClassifier(HistGradientBoostingClassifier(max_iter=30), alpha=0.5,
                                random_state=2).fit(X, y)
    assert model.student_encoding_ == "scale"  # the second candidate, which raced the first
    assert "race" not in dict(model.student_.callbacks_)
    assert all(not (isinstance(c, tuple) and c[0] == "race") for c in model.student_.callbacks)


def test_a_categorical_column_missing_in_every_fitted_row_reads_as_in_fit():
    import pandas as pd

    from skdistill.students._encoding_module import encode_in_chunks
    from skdistill.students._fitted_encoder import encodable_rows

    X, y = rows(n=300)
    frame = pd.DataFrame(np.nan_to_num(X), columns=list("abcdef"))
    frame["kind"] = pd.Categorical([None] * len(frame), categories=["p", "q"])
    model = DistilledClassifier("precomputed", max_epochs=2, random_state=0).fit(
        frame, y, teacher_proba=np.eye(2)[y])
    fresh = pd.concat([frame] * 2, ignore_index=True)  # more rows than are looked up one by one
    fresh["kind"] = pd.Categorical(["p", None] * len(frame), categories=["p", "q"])
    encoder = model.student_preprocessor_
    encoding, read = encodable_rows(encoder, fresh)  # "p" never seen: no column; missing: one
    np.testing.assert_allclose(encode_in_chunks(encoding, read), encoder.transform(fresh),
                               atol=1e-6)
    assert model.predict_proba(fresh).shape == (len(fresh), 2)


def test_a_column_float32_reads_too_coarsely_is_named_in_a_warning():
    X, y = rows(n=300)
    X = np.nan_to_num(X)
    X[:, 4] = 1.7e9 + 60 * X[:, 4]  # timestamps in seconds: a minute's spread
    with pytest.warns(UserWarning, match=r"Column\(s\) \[4\] have values far from zero"):
        DistilledClassifier("precomputed", max_epochs=2, random_state=0).fit(
            X, y, teacher_proba=np.eye(2)[y])
    X[:, 4] -= 1.7e9  # shifted: nothing to say
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        DistilledClassifier("precomputed", max_epochs=2, random_state=0).fit(
            X, y, teacher_proba=np.eye(2)[y])
    assert not [w for w in caught if "far from zero" in str(w.message)]
