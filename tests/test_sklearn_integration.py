"""Where scikit-learn users put it: Pipeline, GridSearchCV (n_jobs=2), clone, pickle."""

import pickle

import numpy as np
import torch
from conftest import make_fast, predict_in_fresh_process
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier


def test_pipeline_grid_search_over_T_alpha_and_width_with_two_jobs(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), make_fast(max_epochs=15))
    grid = {
        "distilledclassifier__T": [1.0, 3.0],
        "distilledclassifier__alpha": [0.0, 0.7],
        "distilledclassifier__module__hidden_layer_sizes": [(4,), (16,)],
    }
    search = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 8
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_[-1]
    assert best.T == search.best_params_["distilledclassifier__T"]
    width = search.best_params_["distilledclassifier__module__hidden_layer_sizes"][0]
    assert best.student_.module_.layers[0].out_features == width
    assert search.score(X, y) > 0.9


def test_grid_search_never_refits_a_frozen_teacher(iris):
    X, y = iris
    teacher = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    fitted_tree = teacher.tree_
    search = GridSearchCV(
        make_fast(teacher=FrozenEstimator(teacher), max_epochs=5), {"alpha": [0.2, 0.8]}, cv=2
    ).fit(X, y)
    assert search.best_estimator_.teacher_.estimator.tree_ is fitted_tree


def test_clone_keeps_every_parameter_and_drops_the_fit(iris):
    X, y = iris
    clf = make_fast(T=3.0, module__hidden_layer_sizes=(5,), optimizer__weight_decay=0.1).fit(X, y)
    copy = clone(clf)
    assert copy.get_params()["module__hidden_layer_sizes"] == (5,)
    assert copy.get_params()["optimizer__weight_decay"] == 0.1
    assert copy.T == 3.0
    assert not hasattr(copy, "student_")
    np.testing.assert_array_equal(copy.fit(X, y).predict_proba(X), clf.predict_proba(X))


def test_pickle_round_trip_in_a_fresh_process(iris, tmp_path):
    X, y = iris
    model = make_pipeline(StandardScaler(), make_fast()).fit(X, y)
    fresh = predict_in_fresh_process(model, "predict_proba", X, tmp_path)
    np.testing.assert_array_equal(fresh, model.predict_proba(X))


def test_fitted_model_holds_no_training_data(iris):
    X, y = iris
    clf = make_fast().fit(X, y)
    assert clf.student_.train_split is None
    # the pickle is the student and the (small) teacher, not the rows it saw
    assert len(pickle.dumps(clf)) < len(pickle.dumps(clf.teacher_)) + 60_000


def test_no_tensor_is_left_in_callbacks(iris):
    """Tensors in callback state would pin a GPU-trained pickle to CUDA (found on the GPU run)."""
    import torch

    X, y = iris
    clf = make_fast(max_epochs=3).fit(X, y)
    for name, callback in clf.student_.callbacks_:
        state = callback.__getstate__() if hasattr(callback, "__getstate__") else vars(callback)
        leftovers = [k for k, v in (state or {}).items() if isinstance(v, torch.Tensor)]
        assert not leftovers, f"callback {name} keeps tensors {leftovers}"


def test_every_torch_object_pickles_through_skorchs_device_mapping(iris):
    """module and criterion are passed to skorch as instances; plain pickling them would pin a
    GPU-trained model to CUDA (found on the GPU run). skorch maps only what it lists."""
    X, y = iris
    state = make_fast(max_epochs=2).fit(X, y).student_.__getstate__()
    plain = [k for k, v in state.items() if isinstance(v, torch.nn.Module)]
    assert plain == []
