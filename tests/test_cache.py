"""memory=: a grid search fits the teacher once per training fold, also with n_jobs=2."""

import warnings

import joblib
import numpy as np
import pytest
from conftest import make_fast
from countingteacher import FileCountingTree, count_fits
from sklearn.model_selection import GridSearchCV

GRID = {"T": [1.0, 2.0, 4.0], "alpha": [0.3, 0.9]}  # 6 candidates


@pytest.mark.slow  # over 5 s
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


def test_a_lambda_in_the_teacher_is_named_briefly_without_the_rows(iris, tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y = iris
    teacher = make_pipeline(FunctionTransformer(lambda rows: rows * 2), LogisticRegression())
    clf = make_fast(teacher=teacher, max_epochs=2, memory=str(tmp_path / "cache"))
    with pytest.warns(UserWarning, match="cannot be hashed") as caught:
        clf.fit(X, y)
    (message,) = [str(w.message) for w in caught if "cannot be hashed" in str(w.message)]
    assert "lambda" in message and "define it with def at the top level" in message
    assert len(message) < 500 and "array(" not in message  # the rows are not in it


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
    (cache / "joblib" / "planted.pkl").symlink_to(tmp_path / "elsewhere.pkl")
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


# --- round 3: code the teacher calls, folders that exist, damaged entries -------------------


def _write_module(folder, name, body):
    (folder / f"{name}.py").write_text(body)


def test_an_edited_function_the_teacher_is_given_is_not_served_from_the_cache(
    iris, tmp_path, monkeypatch
):
    import importlib
    import sys

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.tree import DecisionTreeClassifier

    X, y = iris
    monkeypatch.syspath_prepend(str(tmp_path))
    source = "def scale(X):\n    return helper(X)\n\ndef helper(X):\n    return X * {factor}\n"
    _write_module(tmp_path, "myfeatures", source.format(factor=1.0))
    features = importlib.import_module("myfeatures")
    cache = str(tmp_path / "cache")

    def teacher_accuracy():
        teacher = make_pipeline(
            FunctionTransformer(features.scale), DecisionTreeClassifier(max_depth=3, random_state=0)
        )
        model = make_fast(teacher=teacher, max_epochs=1, memory=cache).fit(X, y)
        return model.teacher_.score(X, y)

    def entries():
        return len(list((tmp_path / "cache").rglob("output.pkl")))

    first = teacher_accuracy()
    assert teacher_accuracy() == first and entries() == 1  # unchanged: served from the cache
    _write_module(tmp_path, "myfeatures", source.format(factor=-1.0))  # the helper changed
    features = importlib.reload(features)
    assert teacher_accuracy() == first  # a stale tree would read mirrored features at ~0.3
    assert entries() == 2
    sys.modules.pop("myfeatures")


def test_an_existing_folder_keeps_its_mode_and_its_entries_are_private(iris, tmp_path):
    import os
    import stat

    X, y = iris
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    (tmp_path / "elsewhere").mkdir()
    (shared / ".venv").symlink_to(tmp_path / "elsewhere")  # outside the entries: not read
    make_fast(max_epochs=1, memory=str(shared)).fit(X, y)
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o755
    entries = [path for top in ("joblib", "skdistill-locks") for path in (shared / top).rglob("*")]
    assert any(path.name == "output.pkl" for path in entries)
    for path in entries + [shared / "joblib", shared / "skdistill-locks"]:
        expected = 0o700 if path.is_dir() else 0o600  # readable by the owner only
        assert stat.S_IMODE(os.stat(path).st_mode) == expected, path
    (shared / "joblib" / "planted").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="holds a symlink.*refuses symlinked entries"):
        make_fast(max_epochs=1, memory=str(shared)).fit(X, y)


def test_entries_another_process_renames_while_the_cache_is_walked_are_skipped(
    iris, tmp_path, monkeypatch,
):
    import os

    X, y = iris
    cache = tmp_path / "cache"
    make_fast(max_epochs=1, memory=str(cache)).fit(X, y)
    vanishing = cache / "joblib" / "metadata.json.tmp-of-another-process"
    vanishing.write_text("{}")
    os.chmod(vanishing, 0o644)  # would be made private, if it were still there
    real_lstat = os.lstat

    def lstat(path, *args, **kwargs):  # renamed by its writer between the listing and here
        if str(path) == str(vanishing):
            raise FileNotFoundError(path)
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", lstat)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = make_fast(max_epochs=1, memory=str(cache)).fit(X, y)
    assert not [w for w in caught if "memory=" in str(w.message)]  # the cache was used
    assert model.score(X, y) > 0.5 and vanishing.exists()  # (only lstat said it was gone)


def _planted_entry(cache, iris, tmp_path):
    """Fill ``cache`` with a teacher's entry, then plant a pickle that runs code at its place."""
    import pickle

    X, y = iris
    make_fast(teacher=FileCountingTree(str(tmp_path / "log")), max_epochs=1,
              memory=str(cache)).fit(X, y)
    marker = tmp_path / "planted-code-ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    for entry in cache.rglob("output.pkl"):
        entry.write_bytes(pickle.dumps(Payload()))
    return marker


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o1777])
def test_a_folder_others_may_write_to_is_not_used(iris, tmp_path, mode):
    import os

    X, y = iris
    cache = tmp_path / "cache"
    marker = _planted_entry(cache, iris, tmp_path)
    os.chmod(cache, mode)  # e.g. created first by someone else in the shared temporary folder
    log = tmp_path / "log"
    with pytest.warns(UserWarning, match=r"is not used: others may write to .*cache \(mode "
                                         r".*without the cache.*user_cache_dir"):
        model = make_fast(teacher=FileCountingTree(str(log)), max_epochs=1,
                          memory=str(cache)).fit(X, y)
    assert not marker.exists()  # the planted pickle was never loaded
    assert count_fits(log) == 2 and model.score(X, y) > 0.5


def test_an_entry_others_may_write_to_is_not_used(iris, tmp_path):
    import os

    X, y = iris
    cache = tmp_path / "cache"
    marker = _planted_entry(cache, iris, tmp_path)
    entry = next(cache.rglob("output.pkl"))
    os.chmod(entry, 0o666)
    with pytest.warns(UserWarning, match="is not used: others may write to .*output.pkl"):
        make_fast(teacher=FileCountingTree(str(tmp_path / "log")), max_epochs=1,
                  memory=str(cache)).fit(X, y)
    assert not marker.exists()


def test_a_folder_owned_by_someone_else_is_not_used(iris, tmp_path, monkeypatch):
    import os

    X, y = iris
    cache = tmp_path / "cache"
    marker = _planted_entry(cache, iris, tmp_path)
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(cache).st_uid + 1)  # another user
    with pytest.warns(UserWarning, match=r"is not used: .*cache is owned by user id \d+, not "
                                         r"by you"):
        make_fast(teacher=FileCountingTree(str(tmp_path / "log")), max_epochs=1,
                  memory=str(cache)).fit(X, y)
    assert not marker.exists()


def test_an_entry_holding_something_else_is_refitted_with_a_warning(iris, tmp_path):
    import pickle

    X, y = iris
    cache = tmp_path / "cache"
    log = tmp_path / "log"
    first = make_fast(teacher=FileCountingTree(str(log)), max_epochs=1, memory=str(cache))
    first.fit(X, y)
    for entry in cache.rglob("output.pkl"):
        entry.write_bytes(pickle.dumps({"not": "a teacher"}))
    with pytest.warns(UserWarning, match="a cached teacher could not be read .*holding "
                                         "something else.*written anew"):
        again = make_fast(teacher=FileCountingTree(str(log)), max_epochs=1,
                          memory=str(cache)).fit(X, y)
    assert count_fits(log) == 2
    np.testing.assert_array_equal(again.predict_proba(X), first.predict_proba(X))
    make_fast(teacher=FileCountingTree(str(log)), max_epochs=1, memory=str(cache)).fit(X, y)
    assert count_fits(log) == 2  # the entry was written anew: a hit


def test_user_cache_dir_follows_xdg_and_is_created_private(iris, tmp_path, monkeypatch):
    import os
    import stat

    from skdistill import user_cache_dir

    X, y = iris
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir() == str(tmp_path / "xdg" / "skdistill")
    assert user_cache_dir("mine") == str(tmp_path / "xdg" / "mine")
    (tmp_path / "xdg").mkdir()
    make_fast(max_epochs=1, memory=user_cache_dir()).fit(X, y)
    assert stat.S_IMODE(os.stat(user_cache_dir()).st_mode) == 0o700


def test_unusable_memory_values_are_named(iris, tmp_path, monkeypatch):
    import skdistill.teachers._cache as cache_module

    X, y = iris
    with pytest.raises(ValueError, match="memory='' names no folder"):
        make_fast(max_epochs=1, memory="").fit(X, y)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "skdistill-locks").write_text("a file where the locks go")
    with pytest.raises(ValueError, match="skdistill-locks is a symlink or a file"):
        make_fast(max_epochs=1, memory=str(cache)).fit(X, y)

    def read_only(memory, *how_made):
        raise PermissionError(13, "Permission denied", str(memory.location))

    monkeypatch.setattr(cache_module, "_checked_location", read_only)
    with pytest.warns(UserWarning, match="cannot be written.*without the cache"):
        assert make_fast(max_epochs=1, memory=str(tmp_path / "ro")).fit(X, y).score(X, y) > 0.3


def test_a_damaged_entry_is_refitted_quietly_with_one_warning(iris, tmp_path, capfd):
    X, y = iris
    cache = tmp_path / "cache"
    log = tmp_path / "fits.log"
    make_fast(teacher=FileCountingTree(str(log)), max_epochs=1, memory=str(cache)).fit(X, y)
    outputs = list(cache.rglob("output.pkl"))
    assert outputs
    for path in outputs:
        path.write_bytes(b"garbage")
    capfd.readouterr()
    with pytest.warns(UserWarning, match="a cached teacher could not be read"):
        make_fast(teacher=FileCountingTree(str(log)), max_epochs=1, memory=str(cache)).fit(X, y)
    assert count_fits(log) == 2
    assert "Exception while loading" not in capfd.readouterr().err  # no traceback of the rows


def test_the_cache_works_under_a_umask_that_lets_the_group_write(iris, tmp_path):
    import os
    import stat

    X, y = iris
    cache, log = tmp_path / "cache", tmp_path / "log"
    previous = os.umask(0o002)  # Debian's and Fedora's default for users: folders 775
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*is not used")
            for _ in range(2):
                make_fast(teacher=FileCountingTree(str(log)), max_epochs=1,
                          memory=str(cache)).fit(X, y)
        shared = tmp_path / "shared"  # an existing folder of the user's, not writable by others
        shared.mkdir()
        os.chmod(shared, 0o755)
        make_fast(max_epochs=1, memory=str(shared)).fit(X, y)
    finally:
        os.umask(previous)
    assert count_fits(log) == 1  # the second fit was served from the cache
    for folder in (cache, cache / "joblib", shared / "joblib"):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder


def test_a_permission_error_of_the_teachers_own_is_raised_once_not_blamed_on_the_cache(
    tmp_path,
):
    from skdistill.teachers._cache import cached_call

    calls = []

    def fit_teacher(x):
        calls.append(x)
        raise PermissionError("the teacher cannot write its checkpoint")

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*cannot be written")
        with pytest.raises(PermissionError, match="the teacher cannot write its checkpoint"):
            cached_call(str(tmp_path / "cache"), fit_teacher, 3)
    assert calls == [3]  # fitted once, not again "without the cache"
