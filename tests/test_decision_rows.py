"""On many rows, the choices of "auto" are made on a sample and the kept student trains on all."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification

from skdistill import DistilledClassifier
from skdistill.stages import _fit

SAMPLE = 300


@pytest.fixture
def calls(monkeypatch):
    """Each student the fit trains: its training rows, held-out rows, alpha and encoding."""
    monkeypatch.setattr("skdistill.stages._decision_rows.DECISION_ROWS", SAMPLE)
    recorded = []
    train_student = _fit.train_student

    def recording(params, task, data, rows, train_idx, valid_idx, *args, **kwargs):
        n_valid = 0 if valid_idx is None else len(valid_idx)
        recorded.append((len(train_idx), n_valid, task.loss_settings.alpha,
                         data["student_encoding_"]))
        return train_student(params, task, data, rows, train_idx, valid_idx, *args, **kwargs)

    monkeypatch.setattr(_fit, "train_student", recording)
    return recorded


def fitted(alpha, proba, **params):
    X, y = make_classification(1200, 8, n_informative=5, random_state=0)
    settings = dict(student_preprocessor=None, max_epochs=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DistilledClassifier("precomputed", alpha=alpha, **{**settings, **params}).fit(
            X, y, teacher_proba=proba(y))


def always_wrong(y):  # sure of the wrong class: at alpha 0.5 the two terms nearly cancel
    return np.eye(2)[1 - y] * 0.998 + 0.001


def always_right(y):
    return np.eye(2)[y] * 0.9 + 0.05


@pytest.mark.parametrize("teacher, kept_alpha", [(always_wrong, 0.0), (always_right, 0.5)])
def test_alpha_is_chosen_on_a_sample_and_the_kept_one_trains_on_every_row(
        calls, teacher, kept_alpha):
    auto = fitted("auto", teacher)
    n_train, n_valid = 1080, 120  # the default 10 % held out
    assert calls == [(SAMPLE, 33, 0.5, None), (SAMPLE, 33, 0.0, None),
                     (n_train, n_valid, kept_alpha, None)]
    assert auto.alpha_ == kept_alpha and set(auto.alpha_scores_) == {0.0, 0.5}
    assert auto.n_iter_ == len(auto.student_.history)
    calls.clear()
    fixed = fitted(kept_alpha, teacher)  # the same student, trained at that alpha from the start
    assert calls == [(n_train, n_valid, kept_alpha, None)]
    X, _ = make_classification(1200, 8, n_informative=5, random_state=0)
    np.testing.assert_array_equal(auto.predict_proba(X), fixed.predict_proba(X))


def test_the_encoding_is_chosen_on_the_sample_too(calls):
    auto = fitted(0.5, always_right, student_preprocessor="auto")
    chosen = auto.student_encoding_
    assert chosen == "both"  # the first candidate: the rows are read through it once more
    assert [call[:2] for call in calls[:-1]] == [(SAMPLE, 33)] * 2
    assert [call[3] for call in calls[:-1]] == ["both", "scale"]
    assert calls[-1] == (1080, 120, 0.5, chosen)
    assert set(auto.student_encoding_losses_) == {"both", "scale"}
    assert auto.n_iter_ == len(auto.student_.history)


def test_nothing_to_choose_or_few_rows_train_one_student_on_every_row(calls, monkeypatch):
    fitted(0.5, always_right)
    fitted("auto", always_right, validation_fraction=None, n_iter_no_change=None, max_epochs=3)
    monkeypatch.setattr("skdistill.stages._decision_rows.DECISION_ROWS", 1080)
    fitted("auto", always_right)
    assert calls == [(1080, 120, 0.5, None), (1200, 0, 0.5, None),
                     (1080, 120, 0.5, None), (1080, 120, 0.0, None)]


def test_ctrl_c_before_the_student_on_every_row_keeps_the_choices_student(calls, monkeypatch):
    recording = _fit.train_student

    def interrupted_on_every_row(params, task, data, rows, train_idx, *args, **kwargs):
        if len(train_idx) > SAMPLE:
            raise KeyboardInterrupt("fit interrupted before its first epoch completed")
        return recording(params, task, data, rows, train_idx, *args, **kwargs)

    monkeypatch.setattr(_fit, "train_student", interrupted_on_every_row)
    X, y = make_classification(1200, 8, n_informative=5, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        auto = DistilledClassifier("precomputed", student_preprocessor=None, max_epochs=30,
                                   random_state=0).fit(X, y, teacher_proba=always_wrong(y))
    assert any("trained on a sample of the rows" in str(w.message) for w in caught)
    assert [call[:3] for call in calls] == [(SAMPLE, 33, 0.5), (SAMPLE, 33, 0.0)]
    assert auto.alpha_ == 0.0 and set(auto.alpha_scores_) == {0.0, 0.5}
    assert auto.score(X, y) > 0.7  # the sample's labels-only student, not the wrong teacher
