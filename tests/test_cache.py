"""memory=: a grid search fits the teacher once per training fold, also with n_jobs=2."""

import joblib
import numpy as np
import pytest
from conftest import make_fast
from countingteacher import FileCountingTree, count_fits
from sklearn.model_selection import GridSearchCV

GRID = {"T": [1.0, 2.0, 4.0], "alpha": [0.3, 0.9]}  # 6 candidates


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_fits_the_teacher_once_per_fold(iris, tmp_path, n_jobs):
    X, y = iris
    log = tmp_path / "fits.log"
    clf = make_fast(teacher=FileCountingTree(str(log)), max_epochs=2, memory=str(tmp_path / "cache"))
    search = GridSearchCV(clf, GRID, cv=3, n_jobs=n_jobs).fit(X, y)
    assert count_fits(log) == 3 + 1  # one per fold, plus the refit on all rows
    cached_scores = search.cv_results_["mean_test_score"]

    log.unlink()
    uncached = GridSearchCV(make_fast(teacher=FileCountingTree(str(log)), max_epochs=2), GRID, cv=3)
    uncached.fit(X, y)
    assert count_fits(log) == 6 * 3 + 1
    np.testing.assert_array_equal(uncached.cv_results_["mean_test_score"], cached_scores)


def test_memory_object_and_cache_hits_give_identical_models(iris, tmp_path):
    X, y = iris
    log = tmp_path / "fits.log"
    memory = joblib.Memory(tmp_path / "cache", verbose=0)
    first = make_fast(teacher=FileCountingTree(str(log)), memory=memory).fit(X, y)
    second = make_fast(teacher=FileCountingTree(str(log)), memory=memory).fit(X, y)
    assert count_fits(log) == 1
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    make_fast(teacher=FileCountingTree(str(log), max_depth=2), memory=memory).fit(X, y)
    assert count_fits(log) == 2  # other teacher parameters: a new entry


def test_bad_memory_is_a_clear_error(iris):
    X, y = iris
    with pytest.raises(ValueError, match="'memory' parameter"):
        make_fast(memory=3).fit(X, y)


def test_an_unhashable_teacher_falls_back_to_no_cache_with_a_warning(iris, tmp_path):
    X, y = iris

    class LocalTree(FileCountingTree):  # a class pickle cannot find by name
        pass

    log = tmp_path / "fits.log"
    clf = make_fast(teacher=LocalTree(str(log)), max_epochs=2, memory=str(tmp_path / "cache"))
    with pytest.warns(UserWarning, match="cannot be hashed.*without the cache"):
        clf.fit(X, y)
    assert count_fits(log) == 1 and clf.score(X, y) > 0.5


# --- round 2: code changes, privacy, symlinks, unwritable folders ------------------------


def test_a_changed_teacher_class_is_not_served_from_the_cache(iris, tmp_path, monkeypatch):
    import importlib
    import sys

    X, y = iris
    module = tmp_path / "myteacher.py"
    source = (
        "from sklearn.tree import DecisionTreeClassifier\n"
        "class MyTree(DecisionTreeClassifier):\n"
        "    def fit(self, X, y, **kw):\n"
        "        open({log!r}, 'a').write('fit\\n')\n"
        "        return super().fit(X, y, **kw)  # {version}\n"
    )
    log = tmp_path / "fits.log"
    module.write_text(source.format(log=str(log), version="v1"))
    monkeypatch.syspath_prepend(str(tmp_path))
    myteacher = importlib.import_module("myteacher")
    cache = str(tmp_path / "cache")
    make_fast(teacher=myteacher.MyTree(max_depth=2), max_epochs=1, memory=cache).fit(X, y)
    make_fast(teacher=myteacher.MyTree(max_depth=2), max_epochs=1, memory=cache).fit(X, y)
    assert count_fits(log) == 1  # a hit
    module.write_text(source.format(log=str(log), version="v2"))  # the class's code changed
    myteacher = importlib.reload(myteacher)
    make_fast(teacher=myteacher.MyTree(max_depth=2), max_epochs=1, memory=cache).fit(X, y)
    assert count_fits(log) == 2
    sys.modules.pop("myteacher")


def test_the_cache_is_private_and_refuses_symlinks(iris, tmp_path):
    import os
    import stat

    X, y = iris
    cache = tmp_path / "cache"
    make_fast(teacher=FileCountingTree(str(tmp_path / "log")), max_epochs=1, memory=str(cache)).fit(X, y)
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    locks = list((cache / "skdistill-locks").iterdir())
    assert locks and all(stat.S_IMODE(os.stat(lock).st_mode) == 0o600 for lock in locks)
    (cache / "planted.pkl").symlink_to(tmp_path / "elsewhere.pkl")
    with pytest.raises(ValueError, match="holds a symlink.*refuses symlinked entries"):
        make_fast(teacher=FileCountingTree(str(tmp_path / "log")), max_epochs=1, memory=str(cache)).fit(X, y)


def test_unusable_cache_paths_name_memory(iris, tmp_path, monkeypatch):
    import skdistill.teachers._cache as cache_module

    X, y = iris
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    with pytest.raises(ValueError, match="memory=.*afile' is a file, not a folder"):
        make_fast(max_epochs=1, memory=str(afile)).fit(X, y)

    def no_permission(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(cache_module, "_file_lock", no_permission)  # a read-only folder
    with pytest.warns(UserWarning, match="cannot be written.*without the cache"):
        clf = make_fast(max_epochs=1, memory=str(tmp_path / "ro")).fit(X, y)
    assert clf.score(X, y) > 0.3


def test_a_lock_path_that_is_a_folder_names_memory(iris, tmp_path, monkeypatch):
    import os

    import skdistill.teachers._cache as cache_module

    X, y = iris
    real_join = os.path.join

    def folder_lock(*parts):
        path = real_join(*parts)
        if path.endswith(".lock"):
            os.makedirs(path, exist_ok=True)
        return path

    monkeypatch.setattr(cache_module.os.path, "join", folder_lock)
    with pytest.raises(ValueError, match="memory=.*the lock path .* is a folder"):
        make_fast(max_epochs=1, memory=str(tmp_path / "cache")).fit(X, y)
