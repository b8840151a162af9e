"""Images and sequences: X of 3 or more axes through the whole estimator contract."""

import os
import pickle
import warnings

import dask.array as da
import numpy as np
import onnxruntime
import pytest
import torch
from conftest import predict_in_fresh_process
from image_modules import TinyCNN, TinyGRU, trained_cnn
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV

from skdistill import (
    ConvStudent,
    DistilledClassifier,
    DistillerGridSearchCV,
    DistilledRegressor,
    Mixup,
    MLPStudent,
    Munge,
    Shift,
    export_onnx,
    report,
    strip_teacher,
)


@pytest.fixture(scope="module")
def digits_images():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    return X[:1200], y[:1200], X[1200:], y[1200:]


@pytest.fixture(scope="module")
def cnn_teacher(digits_images):
    X, y, _, _ = digits_images
    return trained_cnn(X, y)


@pytest.fixture(scope="module")
def fitted(digits_images, cnn_teacher):
    X, y, _, _ = digits_images
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DistilledClassifier(
            cnn_teacher, student_module=TinyCNN, T=4.0, alpha=0.7, max_epochs=15,
            random_state=0,
        ).fit(X, y)


def test_a_cnn_teacher_is_distilled_into_a_cnn_student_built_from_the_sample_shape(
    digits_images, cnn_teacher, fitted
):
    X, y, X_test, y_test = digits_images
    assert fitted.input_shape_ == (1, 8, 8) and fitted.n_features_in_ == 64
    assert isinstance(fitted.student_.module_, TinyCNN)
    assert fitted.student_.module_.head.in_features == 4 * 4 * 4  # built for (1, 8, 8)
    assert fitted.predict_proba(X_test).shape == (len(X_test), 10)
    with torch.no_grad():
        teacher_accuracy = (cnn_teacher(torch.as_tensor(X_test)).argmax(1).numpy() == y_test).mean()
    assert teacher_accuracy > 0.9
    assert fitted.score(X_test, y_test) > 0.8


def test_the_fitted_sample_shape_is_checked_at_predict(digits_images, fitted):
    _, _, X_test, _ = digits_images
    with pytest.raises(ValueError, match=r"samples of shape \(1, 7, 8\), but DistilledClassifier "
                                         r"was fitted on samples of shape \(1, 8, 8\)"):
        fitted.predict(X_test[:, :, :7])
    with pytest.raises(ValueError, match=r"pass X of shape \(n_samples, 1, 8, 8\)"):
        fitted.predict(X_test.reshape(len(X_test), -1))
    table = DistilledClassifier(LogisticRegression(), max_epochs=2, random_state=0)
    table.fit(X_test.reshape(len(X_test), -1), np.arange(len(X_test)) % 2)
    with pytest.raises(ValueError, match="X has 4 axes, but DistilledClassifier was fitted on a "
                                         "table of 64 features"):
        table.predict(X_test)
    with pytest.raises(ValueError, match="NaN"):
        bad = X_test[:3].copy()
        bad[0, 0, 0, 0] = np.nan
        fitted.predict(bad)


def test_the_default_student_of_images_is_a_cnn_and_of_sequences_an_mlp(digits_images):
    X, y, _, _ = digits_images
    proba = np.full((len(y), 10), 0.02)
    proba[np.arange(len(y)), y] = 0.82
    images = DistilledClassifier("precomputed", max_epochs=1, random_state=0)
    images.fit(X, y, teacher_proba=proba)
    assert isinstance(images.student_.module_, ConvStudent) and images.solver_ == "torch"
    sequences = DistilledClassifier("precomputed", max_epochs=1, random_state=0)
    sequences.fit(X[:, 0], y, teacher_proba=proba)  # 8 steps of 8 numbers
    assert isinstance(sequences.student_.module_, MLPStudent)


def test_the_mlp_student_reads_images_flattened_exactly_as_the_rows(digits_images):
    X, y, X_test, _ = digits_images
    proba = np.full((len(y), 10), 0.02)
    proba[np.arange(len(y)), y] = 0.82
    images = DistilledClassifier("precomputed", student_module=MLPStudent, max_epochs=4,
                                 random_state=0)
    images.fit(X, y, teacher_proba=proba)
    rows = DistilledClassifier(
        "precomputed", max_epochs=4, random_state=0, student_preprocessor=None
    ).fit(X.reshape(len(X), -1), y, teacher_proba=proba)
    assert images.solver_ == "numpy"
    np.testing.assert_array_equal(
        images.predict_proba(X_test), rows.predict_proba(X_test.reshape(len(X_test), -1))
    )


def test_a_scikit_learn_teacher_reads_each_image_as_one_row(digits_images):
    X, y, X_test, y_test = digits_images
    clf = DistilledClassifier(LogisticRegression(max_iter=300), max_epochs=3, random_state=0)
    clf.fit(X, y)
    assert clf.teacher_.n_features_in_ == 64
    figures = report(clf, X_test, y_test, repeats=1, single_repeats=2).to_dict()
    flat = X_test.reshape(len(X_test), -1)
    assert figures["accuracy"]["teacher"] == pytest.approx(clf.teacher_.score(flat, y_test))


def test_report_reads_a_module_teacher_through_its_logits(digits_images, cnn_teacher, fitted):
    _, _, X_test, y_test = digits_images
    figures = report(fitted, X_test, y_test, repeats=1, single_repeats=2).to_dict()
    with torch.no_grad():
        expected = (cnn_teacher(torch.as_tensor(X_test)).argmax(1).numpy() == y_test).mean()
    assert figures["accuracy"]["teacher"] == pytest.approx(expected)
    assert figures["parameters / nodes"]["student"] == sum(
        p.numel() for p in fitted.student_.module_.parameters()
    )


def test_pickles_strips_and_predicts_the_same_in_a_fresh_process(digits_images, fitted, tmp_path):
    _, _, X_test, _ = digits_images
    expected = fitted.predict_proba(X_test)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).predict_proba(X_test),
                                  expected)
    np.testing.assert_array_equal(strip_teacher(fitted).predict_proba(X_test), expected)
    here = os.path.dirname(__file__)
    fresh = predict_in_fresh_process(
        fitted, "predict_proba", X_test, tmp_path,
        env={"PYTHONPATH": os.pathsep.join([here, os.environ.get("PYTHONPATH", "")])},
    )
    np.testing.assert_array_equal(fresh, expected)


def test_onnx_file_takes_images_of_the_fitted_shape_in_batches_of_any_size(
    digits_images, fitted, tmp_path
):
    _, _, X_test, _ = digits_images
    path = export_onnx(fitted, tmp_path / "student.onnx")
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[1:] == [1, 8, 8]
    for n in (1, 7, 200):
        labels, proba = session.run(None, {"X": X_test[:n]})
        np.testing.assert_allclose(proba, fitted.predict_proba(X_test[:n]), atol=1e-5)
        np.testing.assert_array_equal(labels, fitted.predict(X_test[:n]))


def test_grid_search_and_the_cv_search_split_images_along_the_first_axis(
    digits_images, cnn_teacher
):
    X, y, _, _ = digits_images
    X, y = X[:600], y[:600]
    base = DistilledClassifier(cnn_teacher, student_module=TinyCNN, max_epochs=3, random_state=0)
    grid = {"T": [1.0, 4.0]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        searched = GridSearchCV(clone(base), grid, cv=2).fit(X, y)
        cv = DistillerGridSearchCV(clone(base), param_grid=grid, cv=2).fit(X, y)
    assert searched.best_estimator_.input_shape_ == (1, 8, 8)
    np.testing.assert_allclose(
        cv.cv_results_["mean_test_score"], searched.cv_results_["mean_test_score"]
    )


def test_a_warm_start_continues_the_image_student(digits_images):
    X, y, _, _ = digits_images
    clf = DistilledClassifier(LogisticRegression(max_iter=200), student_module=TinyCNN,
                              max_epochs=2, warm_start=True, n_iter_no_change=None,
                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y).fit(X, y)
        assert clf.n_iter_ == 4
        with pytest.raises(ValueError, match="input shape changed"):
            clf.fit(X[:, :, :6, :6], y)


def test_sequences_train_a_recurrent_student_and_a_regressor(digits_images):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 12, 3)).astype(np.float32)
    y = (X[:, -4:, 0].sum(axis=1) > 0).astype(int)
    proba = np.c_[1 - y, y] * 0.8 + 0.1
    clf = DistilledClassifier("precomputed", student_module=TinyGRU, max_epochs=3,
                              random_state=0).fit(X, y, teacher_proba=proba)
    assert clf.input_shape_ == (12, 3) and clf.predict_proba(X[:5]).shape == (5, 2)
    target = X[:, -4:, 0].sum(axis=1)
    reg = DistilledRegressor(Ridge(), student_module=TinyGRU, max_epochs=3, random_state=0)
    reg.fit(X, target)
    assert reg.teacher_.n_features_in_ == 36 and reg.predict(X[:5]).shape == (5,)


def test_mixup_mixes_whole_images_one_weight_per_image():
    rng = np.random.default_rng(0)
    images = rng.random((40, 2, 4, 4))
    mixed = Mixup(n_copies=2, random_state=0).generate(images)
    assert mixed.shape == (80, 2, 4, 4)
    # each new image is lam * a + (1 - lam) * b with one lam: its first copy of image 0
    # lies on the segment between image 0 and some other image
    first = mixed[0].ravel()
    ratios = [(first - b.ravel()) / (images[0].ravel() - b.ravel()) for b in images[1:]]
    assert any(np.allclose(r, r[0]) for r in ratios)
    with pytest.raises(ValueError, match="images cannot be perturbed.*use Mixup"):
        Munge().generate(images)


def _moved(image, offsets, max_shift):
    """``image`` moved by ``offsets`` along its last axes, emptied entries zero."""
    k = max_shift
    padded = np.pad(image, [(0, 0)] * (image.ndim - len(offsets)) + [(k, k)] * len(offsets))
    cut = tuple(slice(k - o, k - o + n) for o, n in zip(offsets, image.shape[-len(offsets):]))
    return padded[(..., *cut)]


def test_shift_moves_each_image_by_at_most_max_shift_pixels_and_fills_zeros():
    rng = np.random.default_rng(0)
    images = rng.random((3, 2, 5, 6)).astype(np.float32) + 1.0  # no zero pixel of their own
    moved = Shift(n_copies=40, max_shift=2, random_state=0).generate(images)
    assert moved.shape == (120, 2, 5, 6) and moved.dtype == np.float32
    seen = set()
    for at, image in enumerate(moved):
        source = images[at % 3]
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if np.array_equal(image, _moved(source, (dy, dx), 2))]
        assert len(matches) == 1, at
        seen.add(matches[0])
    assert len(seen) == 25  # every move from -2 to 2 along both axes is drawn


def test_shift_moves_sequences_along_their_steps_only():
    sequences = np.arange(2 * 6 * 3, dtype=np.float32).reshape(2, 6, 3) + 1.0
    moved = Shift(n_copies=20, max_shift=1, random_state=0).generate(sequences)
    seen = set()
    for at, sequence in enumerate(moved):  # (steps, features): moved along the steps
        steps_last = sequences[at % 2].T
        matches = [s for s in (-1, 0, 1)
                   if np.array_equal(sequence.T, _moved(steps_last, (s,), 1))]
        assert len(matches) == 1, at
        seen.add(matches[0])
    assert seen == {-1, 0, 1}


def test_shift_moves_volumes_along_every_axis_after_the_channels():
    volumes = np.random.default_rng(2).random((1, 2, 3, 4, 5)).astype(np.float32) + 1.0
    moved = Shift(n_copies=60, max_shift=1, random_state=0).generate(volumes)
    seen = set()
    for volume in moved:
        matches = [(a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)
                   if np.array_equal(volume, _moved(volumes[0], (a, b, c), 1))]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) > 20  # moves along all three spatial axes; the channels stay together


def test_shift_with_a_concentration_mixes_the_moved_images():
    images = np.random.default_rng(1).random((30, 1, 4, 4)).astype(np.float32)
    pure = Shift(n_copies=2, max_shift=1, random_state=0).generate(images)
    mixed = Shift(n_copies=2, max_shift=1, concentration=1.0, random_state=0).generate(images)
    assert mixed.shape == pure.shape and not np.allclose(mixed, pure)
    assert mixed.min() >= 0.0 and mixed.max() <= images.max()
    # a mixed image is lam * (its own image, moved) + (1 - lam) * (another image, moved)
    moves = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    for at in range(3):
        target = mixed[at].ravel().astype(np.float64)
        found = False
        for a in (_moved(images[at], m, 1).ravel() for m in moves):
            for b in (_moved(other, m, 1).ravel() for other in images for m in moves):
                lam = np.dot(target - b, a - b) / max(np.dot(a - b, a - b), 1e-12)
                found |= 0 <= lam <= 1 and np.allclose(lam * a + (1 - lam) * b, target,
                                                       atol=1e-5)
        assert found, at
    with pytest.raises(ValueError, match=r"got X of shape \(30, 16\), which has no axis"):
        Shift().generate(images.reshape(30, 16))
    with pytest.raises(ValueError, match="max_shift"):
        Shift(max_shift=0).generate(images)
    with pytest.raises(ValueError, match=r"max_shift=4 moves samples of shape \(1, 4, 4\)"):
        Shift(max_shift=4).generate(images)
    with pytest.raises(TypeError, match="max_shift must be an int"):
        Shift(max_shift=True).generate(images)
    with pytest.raises(ValueError, match="Pass the images as numbers"):
        Shift().generate(np.full((3, 1, 4, 4), "a"))


@pytest.mark.parametrize("transfer", ["mixup", "fresh mixup", "fresh shift", "array",
                                      "dask array"])
def test_transfer_rows_of_images_are_labelled_by_the_teacher(
    digits_images, cnn_teacher, transfer
):
    X, y, X_test, _ = digits_images
    X, y = X[:400], y[:400]
    transfer_set = {
        "mixup": Mixup(n_copies=1, random_state=0),
        "fresh mixup": Mixup(n_copies=1, random_state=0, fresh_each_epoch=True),
        "fresh shift": Shift(concentration=1.0, random_state=0, fresh_each_epoch=True),
        "array": X_test[:200],
        "dask array": da.from_array(X_test[:200], chunks=(64, 1, 8, 8)),
    }[transfer]
    clf = DistilledClassifier(cnn_teacher, student_module=TinyCNN, transfer_set=transfer_set,
                              max_epochs=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    assert clf.n_iter_ == 2 and clf.predict(X_test[:3]).shape == (3,)
    wrong = DistilledClassifier(cnn_teacher, student_module=TinyCNN,
                                transfer_set=X_test[:50, :, 1:], max_epochs=2, random_state=0)
    with pytest.raises(ValueError, match=r"samples of transfer_set have the shape \(1, 7, 8\)"):
        wrong.fit(X, y)


def test_unlabelled_images_and_dask_images_fit_and_predict(digits_images, cnn_teacher):
    X, y, X_test, _ = digits_images
    partly = y[:400].copy()
    partly[::3] = -1
    clf = DistilledClassifier(cnn_teacher, student_module=TinyCNN, unlabeled_label=-1,
                              max_epochs=2, random_state=0).fit(X[:400], partly)
    assert clf.n_iter_ == 2
    on_dask = DistilledClassifier(cnn_teacher, student_module=TinyCNN, max_epochs=2,
                                  random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        on_dask.fit(da.from_array(X[:400], chunks=(100, 1, 8, 8)), da.from_array(y[:400], 100))
    assert on_dask.input_shape_ == (1, 8, 8)
    lazy = on_dask.predict_proba(da.from_array(X_test, chunks=(100, 1, 4, 8)))
    np.testing.assert_array_equal(lazy.compute(), on_dask.predict_proba(X_test))


def test_conv_student_is_built_for_the_images_and_refuses_sequences(digits_images):
    X, y, X_test, _ = digits_images
    proba = np.full((len(y), 10), 0.02)
    proba[np.arange(len(y)), y] = 0.82
    clf = DistilledClassifier("precomputed", student_module=ConvStudent, module__channels=(2,),
                              max_epochs=2, random_state=0).fit(X, y, teacher_proba=proba)
    assert clf.student_.module_.head.in_features == 2 * 4 * 4
    sequences = np.zeros((20, 5, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"ConvStudent reads images of shape \(channels, height, "
                                         r"width\); the samples have the shape \(5, 3\)"):
        DistilledClassifier("precomputed", student_module=ConvStudent, max_epochs=1).fit(
            sequences, np.arange(20) % 2, teacher_proba=np.full((20, 2), 0.5))


def test_nested_lists_of_images_fit_as_arrays_do(digits_images):
    X, y, _, _ = digits_images
    X, y = X[:100], y[:100]
    proba = np.full((len(y), 10), 0.02)
    proba[np.arange(len(y)), y] = 0.82
    params = dict(max_epochs=2, random_state=0)
    listed = DistilledClassifier("precomputed", **params).fit(X.tolist(), y, teacher_proba=proba)
    array = DistilledClassifier("precomputed", **params).fit(X, y, teacher_proba=proba)
    assert listed.input_shape_ == (1, 8, 8)
    np.testing.assert_array_equal(listed.predict_proba(X[:5].tolist()), array.predict_proba(X[:5]))


def test_side_by_side_candidates_read_images_flattened_as_single_fits_do(digits_images):
    X, y, _, _ = digits_images
    X, y = X[:600], y[:600]
    base = DistilledClassifier(LogisticRegression(max_iter=300), student_module=MLPStudent,
                               max_epochs=10, random_state=0)
    grid = {"T": [1.0, 4.0], "alpha": [0.5, 0.9]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = GridSearchCV(clone(base), grid, cv=3).fit(X, y)
        stacked = DistillerGridSearchCV(clone(base), param_grid=grid, cv=3).fit(X, y)
    assert stacked.side_by_side_
    np.testing.assert_array_equal(
        stacked.cv_results_["mean_test_score"], single.cv_results_["mean_test_score"]
    )
