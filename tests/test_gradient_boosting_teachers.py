"""XGBoost, LightGBM and CatBoost teachers on a raw frame, and the wrappers that make them fit.

The library tests skip when the library is not installed (the ``teachers`` extra
installs all three).
"""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_iris
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.tree import DecisionTreeClassifier

from skdistill import DistilledClassifier, IntegerLabels
from skdistill.teachers._other_libraries import fresh_copy, needs_class_codes

pd = pytest.importorskip("pandas")

FAST = dict(max_epochs=3, module__hidden_layer_sizes=(16,), random_state=0)


def survey(n=600, seed=0):
    """A frame as surveys come: a string column with missing values, a category, numbers
    with missing values; string labels in three classes."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "income": rng.lognormal(10, 0.6, n),
        "age": rng.integers(18, 80, n).astype(float),
        "region": rng.choice(["north", "south", "east", "west"], n),
        "plan": pd.Categorical(rng.choice(["basic", "plus", "pro"], n)),
    })
    frame.loc[rng.random(n) < 0.1, "income"] = np.nan
    frame.loc[rng.random(n) < 0.05, "region"] = None
    score = (frame["age"] - 45) / 15 + frame["region"].map({"north": 1.0, "south": -1.0}).fillna(0)
    y = np.select([score < -0.5, score < 0.5], ["low", "mid"], "high")
    return frame, y


# ------------------------------------------------------------- IntegerLabels
def test_integer_labels_fits_codes_and_speaks_labels():
    X, y = load_iris(return_X_y=True)
    names = load_iris().target_names[y]
    weights = np.where(y == 0, 0.0, 1.0)
    teacher = IntegerLabels(DecisionTreeClassifier(max_depth=2, random_state=0))
    teacher.fit(X, names, sample_weight=weights)
    assert teacher.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert teacher.estimator_.classes_.tolist() == [0, 1, 2]
    plain = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(teacher.predict_proba(X), plain.predict_proba(X))
    np.testing.assert_array_equal(teacher.predict(X), load_iris().target_names[plain.predict(X)])
    assert teacher.score(X, names) == plain.score(X, y)
    assert teacher.n_features_in_ == 4
    assert hasattr(IntegerLabels(LogisticRegression()), "decision_function")
    assert not hasattr(IntegerLabels(DecisionTreeClassifier()), "decision_function")
    assert clone(teacher).get_params()["estimator"].max_depth == 2


def test_integer_labels_passes_on_the_estimators_input_tags():
    from sklearn.utils import get_tags

    assert get_tags(IntegerLabels(HistGradientBoostingClassifier())).input_tags.allow_nan
    assert not get_tags(IntegerLabels(LogisticRegression())).input_tags.allow_nan


class CopiesItsList(ClassifierMixin, BaseEstimator):
    """Stores a copy of a list parameter (other values as given), as CatBoost's constructor does."""

    def __init__(self, names=None):
        self.names = list(names) if isinstance(names, list) else names


class ChangesItsParameter(ClassifierMixin, BaseEstimator):
    def __init__(self, scale=1.0):
        self.scale = float(scale) * 2


def test_fresh_copy_rebuilds_a_model_whose_constructor_copies_a_list():
    with pytest.raises(RuntimeError, match="Cannot clone object"):
        clone(CopiesItsList(["a", "b"]))
    copied = fresh_copy(CopiesItsList(["a", "b"]))
    assert copied.names == ["a", "b"] and type(copied) is CopiesItsList  # a list stays a list
    again = clone(copied)  # as teacher_cv's folds clone it
    assert again.names == ["a", "b"] and again is not copied and again.names is not copied.names
    assert clone(copied.set_params(names=["c"])).names == ["c"]  # its parameters as they are now
    search = fresh_copy(GridSearchCV(CopiesItsList(["a"]), {"names": [["b"]]}))
    assert clone(search.estimator).names == ["a"]  # a held model clones too, as the search will
    refused = r"ChangesItsParameter cannot be copied with fresh parameters: its constructor " \
              r"changes \['scale'\].*FrozenEstimator"
    with pytest.raises(TypeError, match=refused):
        fresh_copy(ChangesItsParameter(1.0))


def test_a_teacher_fit_on_string_columns_says_how_teachers_read_them():
    X, y = survey()
    with pytest.raises(ValueError) as caught:
        DistilledClassifier(HistGradientBoostingClassifier(categorical_features="from_dtype"),
                            **FAST).fit(X, y)
    notes = " ".join(caught.value.__notes__)
    assert "X's columns ['region'] hold strings" in notes
    assert "X.astype({name: 'category'})" in notes and "X.fillna({name: 'missing'})" in notes
    assert "make_pipeline(make_column_transformer((OneHotEncoder(" in notes
    model = DistilledClassifier(HistGradientBoostingClassifier(categorical_features="from_dtype"),
                                **FAST).fit(X.astype({"region": "category"}), y)
    assert model.feature_kinds_ == {"income": "numeric", "age": "numeric",
                                    "region": "categorical", "plan": "categorical"}
    # the student reads the strings as the categories it was fitted on
    np.testing.assert_array_equal(model.predict_proba(X),
                                  model.predict_proba(X.astype({"region": "category"})))


def test_a_polars_frames_string_columns_are_named_too():
    pl = pytest.importorskip("polars")
    X, y = survey()
    with pytest.raises(ValueError) as caught:
        DistilledClassifier(HistGradientBoostingClassifier(), **FAST).fit(pl.from_pandas(X), y)
    notes = " ".join(caught.value.__notes__)
    assert "X's columns ['region'] hold strings" in notes
    assert "pl.col(name).cast(pl.Categorical)" in notes


@pytest.mark.parametrize("as_array", [False, True], ids=["frame", "array"])
def test_a_teacher_that_refuses_missing_values_in_fit_names_their_columns(as_array):
    from sklearn.linear_model import LogisticRegression

    X, y = survey()
    X = X[["income", "age"]].copy()  # income has missing values; age, some now
    X.loc[[3, 7], "age"] = np.nan
    with pytest.raises(ValueError, match="NaN") as caught:
        DistilledClassifier(LogisticRegression(), **FAST).fit(X.to_numpy() if as_array else X, y)
    named = "[0, 1]" if as_array else "['income', 'age']"
    assert f"X's columns {named} hold missing values" in " ".join(caught.value.__notes__)


# ---------------------------------------------------------------- XGBoost
def test_xgboost_reads_string_labels_through_their_codes():
    xgboost = pytest.importorskip("xgboost")
    X, y = survey()
    X = X.astype({"region": "category"})
    teacher = xgboost.XGBClassifier(n_estimators=30, max_depth=3, enable_categorical=True)
    assert needs_class_codes(teacher, y) and needs_class_codes(make_pipeline(teacher), y)
    assert not needs_class_codes(teacher, np.array([0, 1, 2, 1]))
    assert not needs_class_codes(xgboost.XGBRegressor(), y)
    model = DistilledClassifier(teacher, teacher_cv=3, **FAST).fit(X, y)
    assert isinstance(model.teacher_, IntegerLabels)
    assert model.teacher_.classes_.tolist() == model.classes_.tolist() == ["high", "low", "mid"]
    codes = np.searchsorted(model.classes_, y)
    assert model.teacher_.score(X, y) == model.teacher_.estimator_.score(X, codes) > 0.8
    assert model.fills_missing_ and set(model.predict(X)) <= {"high", "low", "mid"}


def test_a_prefit_xgboost_on_codes_is_told_to_be_given_the_codes():
    xgboost = pytest.importorskip("xgboost")
    from sklearn.frozen import FrozenEstimator

    X, y = survey()
    X = X.astype({"region": "category"})
    codes = np.searchsorted(np.unique(y), y)
    fitted = xgboost.XGBClassifier(n_estimators=5, enable_categorical=True).fit(X, codes)
    with pytest.raises(ValueError, match=r"classes_ are \[0, 1, 2\].*fitted on the class codes"):
        DistilledClassifier(FrozenEstimator(fitted), **FAST).fit(X, y)
    model = DistilledClassifier(FrozenEstimator(fitted), **FAST).fit(X, codes)
    assert model.classes_.tolist() == [0, 1, 2]


# --------------------------------------------------------------- LightGBM
def test_lightgbm_reads_categories_and_missing_values():
    lightgbm = pytest.importorskip("lightgbm")
    X, y = survey()
    teacher = lightgbm.LGBMClassifier(n_estimators=30, verbose=-1)
    with pytest.raises(ValueError, match="pandas dtypes must be int, float or bool") as caught:
        DistilledClassifier(teacher, **FAST).fit(X, y)
    assert "X's columns ['region'] hold strings" in caught.value.__notes__[1]
    model = DistilledClassifier(teacher, **FAST).fit(X.astype({"region": "category"}), y)
    assert model.fills_missing_ and type(model.teacher_) is lightgbm.LGBMClassifier
    assert model.teacher_.score(X.astype({"region": "category"}), y) > 0.8


# --------------------------------------------------------------- CatBoost
def test_catboost_with_cat_features_fits_without_freezing():
    catboost = pytest.importorskip("catboost")
    X, y = survey()
    X = X.fillna({"region": "missing"})
    teacher = catboost.CatBoostClassifier(iterations=30, verbose=0, thread_count=1,
                                          cat_features=["region", "plan"], random_seed=0,
                                          allow_writing_files=False)
    model = DistilledClassifier(teacher, teacher_cv=2, **FAST).fit(X, y)
    assert model.teacher_.get_params()["cat_features"] == ["region", "plan"]
    assert teacher.get_params()["cat_features"] == ["region", "plan"]  # the caller's unchanged
    assert model.teacher_.score(X, y) > 0.8
    assert model.feature_kinds_["region"] == "categorical"


def test_catboost_list_parameters_it_refuses_as_tuples_stay_lists():
    catboost = pytest.importorskip("catboost")
    from skdistill import report

    rng = np.random.default_rng(0)
    X = np.empty((300, 3), dtype=object)  # a category column in an array: cat_features as a list
    X[:, 0], X[:, 1] = rng.normal(size=300), rng.normal(size=300)
    X[:, 2] = rng.choice(list("pqrs"), 300)
    y = np.select([X[:, 0] < -0.4, X[:, 0] < 0.4], ["low", "mid"], "high")
    teacher = catboost.CatBoostClassifier(
        iterations=20, verbose=0, thread_count=1, random_seed=0, allow_writing_files=False,
        cat_features=[2], feature_weights=[1.0, 2.0, 1.0])
    model = DistilledClassifier(teacher, teacher_cv=2, **FAST).fit(X, y)
    params = model.teacher_.get_params()
    assert params["cat_features"] == [2] and params["feature_weights"] == [1.0, 2.0, 1.0]
    weights = {"high": 1.0, "low": 1.0, "mid": 2.0}  # a dict, which CatBoost copies too
    weighted = DistilledClassifier(teacher.copy().set_params(class_weights=weights), **FAST)
    assert weighted.fit(X, y).teacher_.get_params()["class_weights"] == weights
    monotone = teacher.copy().set_params(monotone_constraints=[1, 0, 0])  # binary classes only
    fitted = DistilledClassifier(monotone, teacher_cv=2, **FAST).fit(X, y == "high").teacher_
    assert fitted.get_params()["monotone_constraints"] == [1, 0, 0]
    search = GridSearchCV(teacher, {"depth": [2, 3]}, cv=2)  # clones the CatBoost it holds
    model = DistilledClassifier(search, teacher_cv=2, **FAST).fit(X, y)
    assert model.teacher_.best_estimator_.get_params()["cat_features"] == [2]
    # CatBoost's multiclass predict gives a column: the agreement is still row by row
    assert model.teacher_.predict(X).shape == (300, 1)
    agreement = np.mean(model.predict(X) == model.teacher_.predict(X).ravel())
    assert report(model, X, y).rows["agreement with teacher"]["student"] == pytest.approx(agreement)


def test_xgboost_cross_fitted_with_weights_under_metadata_routing():
    xgboost = pytest.importorskip("xgboost")
    import sklearn

    X, y = survey()
    X = X.astype({"region": "category"})
    weights = np.where(y == "high", 2.0, 1.0)
    teacher = xgboost.XGBClassifier(n_estimators=10, enable_categorical=True)
    with sklearn.config_context(enable_metadata_routing=True):
        model = DistilledClassifier(teacher, teacher_cv=2, **FAST).set_fit_request(
            sample_weight=True).fit(X, y, sample_weight=weights)
    assert isinstance(model.teacher_, IntegerLabels) and model.n_iter_ == 3
    codes = np.searchsorted(np.unique(y), y)
    weighted = xgboost.XGBClassifier(n_estimators=10, enable_categorical=True).fit(
        X, codes, sample_weight=weights)
    np.testing.assert_allclose(model.teacher_.predict_proba(X), weighted.predict_proba(X),
                               rtol=1e-6)  # the weights reached the teacher


def test_catboost_cross_fitted_with_weights_under_metadata_routing():
    catboost = pytest.importorskip("catboost")  # not a scikit-learn estimator: no set_fit_request
    import sklearn
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from skdistill.teachers._adapters import as_teacher

    X, y = load_iris(return_X_y=True)
    weights = np.where(y == 2, 3.0, 1.0)
    teacher = catboost.CatBoostClassifier(iterations=10, verbose=0, thread_count=1,
                                          random_seed=0, allow_writing_files=False)
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        DistilledClassifier(teacher, teacher_cv=3, **FAST).set_fit_request(
            sample_weight=True).fit(X, y, sample_weight=weights)
        logits = as_teacher(teacher).out_of_fold_logits(X, y, np.array([0, 1, 2]), folds,
                                                        sample_weight=weights)
    weighted = cross_val_predict(teacher, X, y, cv=folds, method="predict_proba",
                                 params={"sample_weight": weights})
    unweighted = cross_val_predict(teacher, X, y, cv=folds, method="predict_proba")
    np.testing.assert_allclose(np.exp(logits), weighted, rtol=1e-5)  # the weights reached it
    assert not np.allclose(weighted, unweighted, rtol=1e-3)


@pytest.mark.parametrize("library, make", [
    ("xgboost", lambda xgboost: xgboost.XGBClassifier(n_estimators=20, early_stopping_rounds=5)),
    ("lightgbm", lambda lightgbm: lightgbm.LGBMClassifier(n_estimators=20, early_stopping_round=5,
                                                          verbose=-1)),
])
def test_a_teacher_whose_early_stopping_finds_no_validation_set_says_what_to_do(library, make):
    teacher = make(pytest.importorskip(library))
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError) as caught:
        DistilledClassifier(teacher, **FAST).fit(X, y)
    assert "fit the teacher yourself with its eval_set and pass " \
           "sklearn.frozen.FrozenEstimator(teacher)" in " ".join(caught.value.__notes__)


def test_one_vs_rest_probabilities_are_refused_with_what_to_do_instead():
    lightgbm = pytest.importorskip("lightgbm")
    X, y = load_iris(return_X_y=True)
    teacher = lightgbm.LGBMClassifier(n_estimators=10, objective="multiclassova", verbose=-1)
    assert not np.allclose(teacher.fit(X, y).predict_proba(X).sum(axis=1), 1.0, atol=1e-3)
    with pytest.raises(ValueError, match="not probability distributions.*LightGBM's "
                                         "objective='multiclassova'.*softmax objective"):
        DistilledClassifier(teacher, **FAST).fit(X, y)


def test_subclasses_are_wrapped_and_folds_always_are():
    xgboost = pytest.importorskip("xgboost")

    class MyBooster(xgboost.XGBClassifier):
        pass

    labels, codes = np.array(["a", "b"]), np.array([0, 1])
    assert needs_class_codes(MyBooster(), labels) and not needs_class_codes(MyBooster(), codes)
    assert needs_class_codes(MyBooster(), None)  # a fold of codes may miss one
    assert not needs_class_codes(LogisticRegression(), None)


def test_integer_labels_refuses_weights_its_estimator_cannot_take():
    from sklearn.neighbors import KNeighborsClassifier

    X, y = load_iris(return_X_y=True)
    with pytest.raises(TypeError, match="KNeighborsClassifier.fit does not take sample_weight"):
        IntegerLabels(KNeighborsClassifier()).fit(X, y, sample_weight=np.ones(len(y)))
    with pytest.raises(ValueError, match="Unknown label type"):
        IntegerLabels(LogisticRegression()).fit(X, X[:, 0])  # continuous y
    with pytest.warns(UserWarning, match="does not take sample_weight"):  # the distiller warns
        DistilledClassifier(IntegerLabels(KNeighborsClassifier()), **FAST).fit(
            X, y, sample_weight=np.ones(len(y)))
