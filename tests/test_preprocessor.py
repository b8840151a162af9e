"""student_preprocessor: the teacher reads raw data, the student its own numeric features."""

import pickle

import numpy as np
import pandas as pd
import pytest
from conftest import make_fast
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skdistill import DistilledRegressor, Munge


def mixed_frame(n=300, seed=0):
    """Two numeric columns and a category column; the label needs the category."""
    rng = np.random.RandomState(seed)
    colour = rng.choice(["red", "green", "blue"], size=n)
    a, b = rng.normal(50, 10, n), rng.normal(size=n)
    y = np.where(colour == "red", a > 50, b > 0).astype(int)
    frame = pd.DataFrame({"a": a, "b": b, "colour": pd.Categorical(colour)})
    return frame, y


ONE_HOT = ColumnTransformer(
    [("cat", OneHotEncoder(), ["colour"]), ("num", StandardScaler(), ["a", "b"])]
)


class RecordingTree(DecisionTreeClassifier):
    """Remembers the type of every X it is given."""

    seen = []

    def fit(self, X, y, **kw):
        type(self).seen.append(type(X).__name__)
        return super().fit(X, y, **kw)

    def predict_proba(self, X):
        type(self).seen.append(type(X).__name__)
        return super().predict_proba(X)


def test_category_native_teacher_reads_the_raw_frame_student_reads_one_hot():
    X, y = mixed_frame()
    teacher = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    clf = make_fast(teacher, student_preprocessor=ONE_HOT, max_epochs=60, lr=0.02).fit(X, y)
    assert clf.n_student_features_ == 5  # three colours + two numbers
    assert clf.n_features_in_ == 3
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "colour"])
    assert clf.teacher_.score(X, y) > 0.95  # it read the category column natively
    assert clf.score(X, y) > 0.85
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert clf.student_preprocessor is ONE_HOT and not hasattr(ONE_HOT, "transformers_")


def test_teacher_receives_x_exactly_as_given():
    X, y = mixed_frame(n=80)
    RecordingTree.seen = []
    teacher = make_pipeline(
        ColumnTransformer([("cat", OneHotEncoder(), ["colour"])], remainder="passthrough"),
        RecordingTree(max_depth=3),
    )
    make_fast(teacher, student_preprocessor=ONE_HOT, max_epochs=2).fit(X, y)
    assert set(RecordingTree.seen) == {"ndarray"}  # after the teacher's own encoder...

    RecordingTree.seen = []
    numeric = X[["a", "b"]]
    make_fast(RecordingTree(max_depth=3), student_preprocessor=StandardScaler(), max_epochs=2).fit(
        numeric, y
    )
    assert set(RecordingTree.seen) == {"DataFrame"}  # ...and the frame itself without one


def test_text_teacher_reads_documents_student_reads_tfidf():
    rng = np.random.RandomState(0)
    words = np.array(["alpha", "beta", "gamma", "delta", "omega", "sigma"])
    y = rng.randint(0, 2, 120)
    docs = np.array([" ".join(rng.choice(words[3 * c : 3 * c + 3], 5)) for c in y])
    teacher = make_pipeline(TfidfVectorizer(), LogisticRegression())
    clf = make_fast(teacher, student_preprocessor=TfidfVectorizer(), max_epochs=40).fit(docs, y)
    assert clf.n_student_features_ == 6
    assert not hasattr(clf, "n_features_in_")  # TfidfVectorizer reports none, as in a Pipeline
    assert clf.score(docs, y) == 1.0
    assert clf.predict(["alpha beta beta", "omega sigma delta"]).tolist() == [0, 1]


def test_prefit_teacher_behind_a_scaler_warns_and_student_preprocessor_fixes_it():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.normal(100, 10, 200), rng.normal(size=200)])
    y = (X[:, 0] > 100).astype(int)
    teacher = FrozenEstimator(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y))
    wrong = make_pipeline(StandardScaler(), make_fast(teacher, max_epochs=5))
    with pytest.warns(UserWarning, match="no better than chance.*student_preprocessor") as caught:
        wrong.fit(X, y)
    about_the_teacher = [w for w in caught if "The teacher's accuracy" in str(w.message)]
    assert len(about_the_teacher) == 1  # one warning for one problem, not also "far below"
    right = make_fast(teacher, student_preprocessor=StandardScaler(), max_epochs=60)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        right.fit(X, y)
    assert right.score(X, y) > 0.95


def test_regressor_takes_a_preprocessor():
    X, y = mixed_frame(n=200)
    target = X["a"].to_numpy() + 10 * (X["colour"] == "red")
    reg = DistilledRegressor(
        make_pipeline(
            ColumnTransformer([("cat", OneHotEncoder(), ["colour"])], remainder="passthrough"),
            Ridge(),
        ),
        student_preprocessor=ONE_HOT,
        max_epochs=80,
        lr=0.02,
        random_state=0,
    ).fit(X, target)
    assert reg.score(X, target) > 0.9


def test_transfer_set_is_drawn_in_the_callers_space():
    X, y = mixed_frame(n=100)
    teacher = make_pipeline(
        ColumnTransformer([("cat", OneHotEncoder(), ["colour"])], remainder="passthrough"),
        RandomForestClassifier(20, random_state=0),
    )
    clf = make_fast(
        teacher,
        student_preprocessor=ONE_HOT,
        transfer_set=Munge(n_copies=2),
        max_epochs=2,
        batch_size=10,
        n_iter_no_change=None,
    ).fit(X, y)
    assert clf.student_.history[-1, "train_batch_count"] == 27  # 90 real + 180 synthetic rows


def test_munge_swaps_nominal_values_with_the_neighbours():
    X, _ = mixed_frame(n=50)
    X["flag"] = X["b"] > 0
    X["count"] = np.arange(50, dtype=np.int64)
    rows = Munge(n_copies=4, p=0.5, random_state=0).generate(X)
    assert rows.shape == (200, 5)
    assert (rows.dtypes == X.dtypes).all()
    assert set(rows["colour"].cat.categories) == {"blue", "green", "red"}
    assert set(rows["colour"]) <= {"blue", "green", "red"}
    changed = (rows["colour"].to_numpy() != np.tile(X["colour"].to_numpy(), 4)).mean()
    assert 0.05 < changed < 0.5  # swapped with probability p, and only where neighbours differ
    pinned = Munge(n_copies=1, p=1e-12, random_state=0).generate(X)
    pd.testing.assert_frame_equal(pinned, X)


@pytest.mark.parametrize(
    "make_X, message",
    [
        (lambda X: X.assign(when=pd.Timestamp("2024-01-01")), "cannot sample the column"),
        (lambda X: X.assign(a=np.where(np.arange(len(X)) == 3, np.nan, X["a"])), "missing"),
        (lambda X: np.array(["some text"] * len(X)), "1-d array"),
    ],
)
def test_munge_refuses_what_it_cannot_sample(make_X, message):
    X, _ = mixed_frame(n=20)
    with pytest.raises(ValueError, match=message):
        Munge(n_copies=1, random_state=0).generate(make_X(X))


def test_non_numeric_preprocessor_output_is_a_clear_error_and_nothing_is_fitted():
    X, y = mixed_frame(n=40)
    clf = make_fast(LogisticRegression(), student_preprocessor=FunctionTransformer(), max_epochs=2)
    with pytest.raises(
        ValueError, match="student_preprocessor FunctionTransformer must output numbers"
    ):
        clf.fit(X[["a", "colour"]].astype({"colour": str}), y)
    assert not hasattr(clf, "student_")
    assert not hasattr(clf, "student_preprocessor_")


def test_predict_width_mismatch_from_the_preprocessor():
    X, y = mixed_frame(n=60)
    clf = make_fast(
        make_pipeline(
            ColumnTransformer([("c", OneHotEncoder(), ["colour"])]), LogisticRegression()
        ),
        student_preprocessor=ColumnTransformer(
            [("c", OneHotEncoder(handle_unknown="ignore"), ["colour"])]
        ),
        max_epochs=2,
    ).fit(X, y)
    # a fresh, wider encoder fitted elsewhere cannot be slipped in
    clf.student_preprocessor_ = ColumnTransformer([("n", "passthrough", ["a", "b"])]).fit(X)
    with pytest.raises(ValueError, match="made 2 features from X; the student was trained on 3"):
        clf.predict(X)


def test_report_with_a_student_preprocessor_has_onnx_columns():
    from skdistill import report

    X, y = mixed_frame(n=80)
    X = X.astype({"a": np.float32, "b": np.float32, "colour": str})
    teacher = make_pipeline(
        ColumnTransformer([("cat", OneHotEncoder(), ["colour"])], remainder="passthrough"),
        LogisticRegression(),
    )
    encode = ColumnTransformer(
        [("cat", OneHotEncoder(), ["colour"]), ("num", StandardScaler(), ["a", "b"])]
    )
    clf = make_fast(teacher, student_preprocessor=encode, max_epochs=3).fit(X, y)
    table = report(clf, X, y, onnx=True, repeats=1, single_repeats=2).to_dict()
    assert table["accuracy"]["student"] == pytest.approx(clf.score(X, y))
    assert table["accuracy"]["student ONNX"] == pytest.approx(clf.score(X, y))


class _Recorder(LogisticRegression):
    """A teacher that keeps a copy of the rows it was fitted on."""

    def fit(self, X, y, sample_weight=None):
        self.seen_ = np.array(X, copy=True)
        return super().fit(X, y, sample_weight)


def _add_one_in_place(X):
    X += 1.0
    return X


@pytest.mark.parametrize(
    "preprocessor",
    [StandardScaler(copy=False), FunctionTransformer(_add_one_in_place, validate=False)],
    ids=["scaler copy=False", "function writing in place"],
)
@pytest.mark.parametrize("as_frame", [False, True])
def test_an_in_place_preprocessor_never_writes_the_callers_rows(preprocessor, as_frame):
    rng = np.random.RandomState(0)
    X = rng.normal(3.0, 2.0, size=(80, 3))
    y = (X[:, 0] > 3).astype(int)
    if as_frame:
        X = pd.DataFrame(X, columns=["a", "b", "c"])
    original = np.array(X, copy=True)
    try:
        model = make_fast(_Recorder(), student_preprocessor=preprocessor).fit(X, y)
    except ValueError as exc:  # writing into a read-only view: refused, never silent
        assert "read-only" in str(exc)
        np.testing.assert_array_equal(np.asarray(X), original)
        return
    np.testing.assert_array_equal(np.asarray(X), original)
    np.testing.assert_array_equal(model.teacher_.seen_, original)  # the teacher read them as given
    model.predict(X)
    np.testing.assert_array_equal(np.asarray(X), original)


def test_a_prefit_teacher_a_student_imitates_is_compared_with_the_labels_alone():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    teacher = FrozenEstimator(RandomForestClassifier(50, random_state=0).fit(X, y))
    wrong = make_pipeline(  # pure imitation: the student falls with the teacher
        StandardScaler(), make_fast(teacher, alpha=1.0, max_epochs=20,
                                    module__hidden_layer_sizes=(32,))
    )
    with pytest.warns(UserWarning, match=r"far below the 0\.9\d+ a linear model on the labels "
                                         "alone reaches on held-out rows.*behind a scaler"):
        wrong.fit(X, y)
    assert wrong.score(X, y) < 0.5  # the student copied a teacher that reads the wrong features


def test_a_prefit_teacher_above_chance_but_far_below_the_student_is_named():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    teacher = FrozenEstimator(RandomForestClassifier(50, random_state=0).fit(X, y))
    wrong = make_pipeline(
        StandardScaler(), make_fast(teacher, max_epochs=40, module__hidden_layer_sizes=(32,))
    )
    with pytest.warns(UserWarning, match="far below the .* reaches on held-out rows"):
        wrong.fit(X, y)
    distiller = wrong[-1]
    assert 0.1 < distiller.teacher_.score(wrong[0].transform(X), y) < 0.5  # above chance
    right = make_fast(teacher, student_preprocessor=StandardScaler(), max_epochs=40,
                      module__hidden_layer_sizes=(32,))
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="The teacher's accuracy")
        right.fit(X, y)


def test_frames_sharing_memory_are_locked_and_released_in_any_order():
    from skdistill._inputs import frame_locked

    memory = np.random.RandomState(0).normal(size=(100, 3))
    first, second = pd.DataFrame(memory[:60], copy=False), pd.DataFrame(memory[60:], copy=False)
    original = memory.copy()
    with frame_locked(first), frame_locked(second):  # as fit locks X, then the transfer set
        for frame in (first, second):
            scaled = StandardScaler(copy=False).fit_transform(frame.copy(deep=False))
            assert not np.shares_memory(scaled, memory)
    np.testing.assert_array_equal(memory, original)
    first.iloc[0, 0], second.iloc[0, 0] = 5.0, 7.0  # both writeable again afterwards
    assert memory.flags.writeable and (first.iloc[0, 0], second.iloc[0, 0]) == (5.0, 7.0)
