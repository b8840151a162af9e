"""The rest of the classifier surface: log-probabilities, decision values, n_iter_, warnings."""

import io
from contextlib import redirect_stdout

import numpy as np
import pytest
from conftest import make_fast
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.multioutput import MultiOutputClassifier

from skdistill import DistilledRegressor


def test_predict_log_proba_and_decision_function_multiclass(iris):
    X, y = iris
    clf = make_fast().fit(X, y)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X), rtol=1e-10)
    logits = clf.decision_function(X)
    assert logits.shape == (150, 3)
    np.testing.assert_array_equal(clf.classes_[logits.argmax(axis=1)], clf.predict(X))
    far = X * 1e4  # probabilities underflow to 0; their logarithm stays finite
    assert np.isfinite(clf.predict_log_proba(far)).all()


def test_binary_decision_function_is_one_column_like_logistic_regression(iris):
    X, y = iris
    labels = np.where(y == 0, "yes", "no")
    clf = make_fast().fit(X, labels)
    scores = clf.decision_function(X)
    assert scores.shape == (150,)
    np.testing.assert_array_equal(clf.classes_[(scores > 0).astype(int)], clf.predict(X))
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(scores, np.log(proba[:, 1]) - np.log(proba[:, 0]), atol=1e-8)


def test_n_iter_counts_epochs_and_warm_starts(iris):
    X, y = iris
    clf = make_fast(max_epochs=4, n_iter_no_change=None, warm_start=True).fit(X, y)
    assert clf.n_iter_ == 4
    clf.fit(X, y)
    assert clf.n_iter_ == 8
    stopped = make_fast(max_epochs=500, n_iter_no_change=2, lr=0.05).fit(X, y)
    assert stopped.n_iter_ == len(stopped.student_.history) < 500


def test_convergence_warning_only_when_max_epochs_cut_an_improving_fit(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="max_epochs=3 ended the fit while valid_label_loss"):
        make_fast(max_epochs=3).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="while train_loss was still improving"):
        make_fast(max_epochs=3, validation_fraction=None).fit(X, y)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        make_fast(max_epochs=500, n_iter_no_change=2, lr=0.05).fit(X, y)  # early stopping


def test_a_fit_warns_of_convergence_once_for_the_student_it_keeps(iris):
    import warnings

    X, y = iris
    model = make_fast(max_epochs=3, alpha="auto")  # students: two encodings and a twin
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    assert len(model.student_encoding_losses_) == 2 and len(model.alpha_scores_) == 2
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(convergence) == 1
    kept = model.student_.history[:, "valid_label_loss"]
    best = int(np.argmin(kept)) + 1
    assert f"(best in epoch {best} of 3)" in str(convergence[0].message)
    assert "unconverged" not in vars(model)  # the message is no fitted attribute


def test_two_dimensional_y_names_the_multi_output_wrappers(iris):
    X, y = iris
    Y = np.column_stack([y, y == 0])
    with pytest.raises(ValueError, match="MultiOutputClassifier"):
        make_fast().fit(X, Y)
    with pytest.raises(ValueError, match="MultiOutputRegressor"):
        DistilledRegressor(Ridge()).fit(X, Y.astype(float))
    wrapped = MultiOutputClassifier(make_fast(max_epochs=5)).fit(X, Y)
    assert wrapped.predict(X).shape == (150, 2)


def test_verbose_log_in_a_file_or_pipe_has_no_colour_codes(iris):
    X, y = iris
    out = io.StringIO()
    with redirect_stdout(out):
        make_fast(LogisticRegression(), max_epochs=3, verbose=1).fit(X, y)
    text = out.getvalue()
    assert "valid_loss" in text and "\x1b[" not in text


@pytest.mark.parametrize(
    "n_rows, batch_size, expected",
    [(150, "auto", 32), (1000, "auto", 56), (6000, "auto", 256), (150, 10, 10)],
)
def test_auto_batch_size_is_a_sixteenth_of_the_training_rows_within_32_and_256(
    n_rows, batch_size, expected
):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n_rows, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    # validation_fraction=0.1 holds out a tenth: 900 of 1000 rows train, 900 // 16 = 56
    model = make_fast(batch_size=batch_size, max_epochs=1).fit(X, y)
    assert model.student_.batch_size == expected
    assert model.get_params()["batch_size"] == batch_size
    regressor = DistilledRegressor(Ridge(), batch_size=batch_size, max_epochs=1).fit(X, X[:, 1])
    assert regressor.student_.batch_size == expected


def test_batch_size_must_be_a_positive_int_or_auto(iris):
    X, y = iris
    with pytest.raises(ValueError, match=r"'batch_size' parameter .* among {'auto'}. Got 'big'"):
        make_fast(batch_size="big").fit(X, y)


def test_fit_teacher_leaves_the_estimator_as_it_was_and_its_training_set_makes_models():
    import torch
    from sklearn.datasets import load_iris
    from sklearn.exceptions import NotFittedError

    from skdistill import DistilledClassifier, TrainingSet

    X, y = load_iris(return_X_y=True)
    proba = np.eye(3)[y] * 0.8 + 0.2 / 3
    clf = DistilledClassifier("precomputed", max_epochs=3, random_state=0)
    training = clf.fit_teacher(X, y, teacher_proba=proba)
    assert isinstance(training, TrainingSet)
    assert not [name for name in vars(clf) if name.endswith("_")]  # nothing fitted on it
    with pytest.raises(NotFittedError):
        clf.predict(X)
    fitted = DistilledClassifier("precomputed", max_epochs=3, random_state=0).fit(
        X, y, teacher_proba=proba)
    before = fitted.predict_proba(X)
    fitted.fit_teacher(X[::2], y[::2], teacher_proba=proba[::2])
    np.testing.assert_array_equal(fitted.predict_proba(X), before)
    clf.set_params(module__hidden_layer_sizes=(5,), max_epochs=9)  # after fit_teacher: not seen
    assert training.new_student().layers[0].out_features != 5
    student = training.new_student()
    with torch.no_grad():
        for parameter in student.parameters():
            parameter.zero_()
    model = training.with_student(student.eval(), n_iter=7)
    assert model is not clf and model.n_iter_ == 7 and model.max_epochs == 3
    np.testing.assert_allclose(model.predict_proba(X), 1 / 3)  # zero weights: uniform
    assert list(model.classes_) == [0, 1, 2]


def test_a_student_put_in_place_reports_the_engine_and_batch_size_resolved():
    from sklearn.datasets import load_iris

    from skdistill import DistilledClassifier

    X, y = load_iris(return_X_y=True)
    proba = np.eye(3)[y] * 0.8 + 0.2 / 3
    fitted = DistilledClassifier("precomputed", max_epochs=3, random_state=0).fit(
        X, y, teacher_proba=proba)
    assert (fitted.solver_, fitted.student_.batch_size) == ("numpy", 32)
    swapped = fitted.with_student(fitted.student_.module_)
    assert (swapped.solver_, swapped.student_.batch_size) == ("numpy", 32)  # not "auto"
    training = DistilledClassifier(
        "precomputed", max_epochs=3, loss="dkd", random_state=0
    ).fit_teacher(X, y, teacher_proba=proba)
    placed = training.with_student(training.new_student().eval())
    assert (placed.solver_, placed.student_.batch_size) == ("torch", training.batch_size)
