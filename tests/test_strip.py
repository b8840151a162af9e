"""Lean artefacts: no per-batch history, strip_teacher's pickle near the student's weights."""

import pickle

import numpy as np
import pytest
from conftest import make_fast, predict_in_fresh_process, rng_data
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier, DistilledRegressor, strip_teacher


def weight_bytes(model):
    module = (model.steps[-1][1] if hasattr(model, "steps") else model).student_.module_
    return sum(p.numel() * p.element_size() for p in module.parameters())


def test_the_pickle_does_not_grow_with_rows_times_epochs():
    small_X, small_y = rng_data(n=500)
    big_X, big_y = rng_data(n=20_000)
    sizes = []
    for X, y in ((small_X, small_y), (big_X, big_y)):
        model = make_fast(LogisticRegression(), max_epochs=3, n_iter_no_change=None,
                          student_preprocessor=None).fit(X, y)  # the same encoding for both
        assert all(len(epoch["batches"]) == 1 for epoch in model.student_.history)
        sizes.append(len(pickle.dumps(strip_teacher(model))))
        assert len(model.student_.history) == 3 and "train_loss" in model.student_.history[-1]
    assert abs(sizes[1] - sizes[0]) < 200  # 40x the rows: the same size


def test_strip_teacher_on_a_pipeline_predicts_the_same_in_a_fresh_process(tmp_path):
    X, y = load_digits(return_X_y=True)
    forest = RandomForestClassifier(100, random_state=0).fit(X, y)
    full = make_pipeline(
        StandardScaler(),
        DistilledClassifier(forest, module__hidden_layer_sizes=(32,), max_epochs=5, random_state=0),
    ).fit(X, y)
    lean = strip_teacher(full)
    distiller = lean.steps[-1][1]
    assert distiller.teacher == "precomputed" and distiller.teacher_ is None
    assert full.steps[-1][1].teacher_ is not None  # the original keeps its teacher
    np.testing.assert_array_equal(lean.predict_proba(X), full.predict_proba(X))
    size = len(pickle.dumps(lean))
    assert size < 2 * weight_bytes(full) + 8_000, size
    assert len(pickle.dumps(full)) > 100 * size
    again = predict_in_fresh_process(lean, "predict_proba", X[:20], tmp_path)
    np.testing.assert_array_equal(again, full.predict_proba(X[:20]))


def test_strip_teacher_regressor_and_unfitted():
    X, y = rng_data(n=200)
    from sklearn.linear_model import Ridge

    reg = DistilledRegressor(Ridge(), max_epochs=3, random_state=0).fit(X, y.astype(float))
    np.testing.assert_array_equal(strip_teacher(reg).predict(X), reg.predict(X))
    with pytest.raises(NotFittedError):
        strip_teacher(DistilledClassifier(LogisticRegression()))
    with pytest.raises(TypeError, match="ending with one"):
        strip_teacher(LogisticRegression())


def test_a_stripped_model_fills_missing_values_as_the_full_one_does():
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = rng_data(n=400)
    X[::7, 1] = np.nan
    full = make_fast(HistGradientBoostingClassifier(max_iter=20), max_epochs=2).fit(X, y)
    lean = strip_teacher(full)
    assert full.fills_missing_ and lean.fills_missing_ and lean.teacher == "precomputed"
    rows = X[:40].copy()
    rows[:, 0] = np.nan
    for few_or_many in (rows, np.tile(rows, (600, 1))):  # the fast path and the full one
        np.testing.assert_array_equal(lean.predict_proba(few_or_many),
                                      full.predict_proba(few_or_many))
    refusing = make_fast(LogisticRegression(), max_epochs=2).fit(np.nan_to_num(X), y)
    assert not strip_teacher(refusing).fills_missing_
    with pytest.raises(ValueError, match=r"contains NaN in column\(s\) \[0, 1\]; this model's"):
        strip_teacher(refusing).predict_proba(rows)


def test_a_stripped_model_keeps_its_epochs_and_refits_on_given_teacher_outputs():
    from sklearn.base import clone

    X, y = rng_data(n=300)
    full = make_fast(LogisticRegression(), max_epochs=4, n_iter_no_change=None).fit(X, y)
    lean = strip_teacher(full)
    assert lean.n_iter_ == len(lean.student_.history) == 4
    assert lean.loss_curve_ == full.loss_curve_ and len(lean.loss_curve_) == 4
    assert lean.validation_scores_ == full.validation_scores_
    assert all("batches" not in epoch for epoch in lean.student_.history)
    for refit in (clone(lean), clone(lean).set_params(warm_start=True)):
        with pytest.raises(ValueError, match="teacher='precomputed' needs the teacher's outputs"):
            refit.fit(X, y)
    np.testing.assert_array_equal(lean.predict_proba(X), full.predict_proba(X))  # unchanged
    proba = full.teacher_.predict_proba(X)
    again = clone(lean).fit(X, y, teacher_proba=proba)
    given = clone(full).set_params(teacher="precomputed").fit(X, y, teacher_proba=proba)
    np.testing.assert_array_equal(again.predict_proba(X), given.predict_proba(X))
    continued = lean.set_params(warm_start=True).fit(X, y, teacher_proba=proba)
    assert continued.n_iter_ == 8  # four more epochs on the stripped student's four
