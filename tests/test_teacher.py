"""Teacher adapters: logits from probabilities or decision functions, aligned by label."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from skdistill.teachers._adapters import PROBA_EPS, as_teacher, teacher_logits
from skdistill.teachers._cross_fit import cross_fitted

X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5], [3.0, 3.0], [0.5, 2.5], [2.5, 2.0]])


def test_probabilities_become_clipped_log_probabilities():
    y = np.array([0, 0, 1, 1, 2, 2])
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    proba = forest.predict_proba(X)
    assert (proba == 0).any()  # forests say exactly 0: the log must be clipped
    logits = teacher_logits(forest, X, np.array([0, 1, 2]))
    assert logits.dtype == np.float32
    np.testing.assert_allclose(logits, np.log(np.clip(proba, PROBA_EPS, None)), rtol=1e-6)
    assert np.isfinite(logits).all()


def test_binary_decision_function_means_logits_zero_and_d():
    y = np.array([0, 0, 0, 1, 1, 1])
    svm = LinearSVC().fit(X, y)
    d = svm.decision_function(X)
    logits = teacher_logits(svm, X, np.array([0, 1]))
    np.testing.assert_allclose(logits, np.column_stack([np.zeros_like(d), d]), rtol=1e-6)


def test_multiclass_decision_function_is_used_as_is():
    y = np.array([0, 0, 1, 1, 2, 2])
    svm = LinearSVC().fit(X, y)
    np.testing.assert_allclose(
        teacher_logits(svm, X, np.array([0, 1, 2])), svm.decision_function(X), rtol=1e-6
    )


def test_columns_are_matched_by_label_not_position():
    y = np.array(["cat", "cat", "dog", "dog", "emu", "emu"])
    lr = LogisticRegression().fit(X, y)
    reordered = teacher_logits(lr, X, np.array(["emu", "cat"]))  # subset, other order
    full = np.log(lr.predict_proba(X))
    np.testing.assert_allclose(reordered, full[:, [2, 0]], rtol=1e-5)


def test_a_label_the_teacher_does_not_know_is_a_clear_error():
    lr = LogisticRegression().fit(X, np.array([0, 0, 1, 1, 0, 1]))
    with pytest.raises(ValueError, match=r"does not know the label\(s\) \[7\]"):
        teacher_logits(lr, X, np.array([0, 1, 7]))


def test_a_stack_whose_scores_appear_once_fitted_teaches():
    from sklearn.datasets import load_iris
    from sklearn.ensemble import StackingClassifier
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skdistill import DistilledClassifier

    X_iris, y_iris = load_iris(return_X_y=True)
    stack = StackingClassifier([("lr", LogisticRegression(max_iter=300))])
    assert not hasattr(stack, "predict_proba")  # until fit makes its final estimator
    for teacher in (stack, make_pipeline(StandardScaler(), stack)):
        clf = DistilledClassifier(teacher, max_epochs=30, random_state=0).fit(X_iris, y_iris)
        assert clf.score(X_iris, y_iris) > 0.9
    with pytest.raises(TypeError, match="Pipeline has neither predict_proba"):
        as_teacher(make_pipeline(StandardScaler(), Ridge())).check("classifier")


def test_teachers_that_will_never_give_scores_are_refused_before_fitting():
    from sklearn.ensemble import VotingClassifier
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    hard_vote = VotingClassifier([("lr", LogisticRegression())])  # voting="hard"
    for teacher in (hard_vote, make_pipeline(StandardScaler(), hard_vote),
                    GridSearchCV(Ridge(), {"alpha": [1.0]})):
        with pytest.raises(TypeError, match="neither predict_proba nor decision_function"):
            as_teacher(teacher).check("classifier")


@pytest.mark.parametrize("teacher_cv", [None, 3])
def test_one_vs_one_decision_values_are_refused_not_read_as_one_per_class(teacher_cv):
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC

    from skdistill import DistilledClassifier

    from sklearn.model_selection import GridSearchCV

    class CountedSVC(SVC):
        fits = 0

        def fit(self, X, y, sample_weight=None):
            type(self).fits += 1
            return super().fit(X, y, sample_weight)

    X_iris, y_iris = load_iris(return_X_y=True)  # three classes: three pairs, three columns
    ovo = DistilledClassifier(CountedSVC(decision_function_shape="ovo"), max_epochs=2,
                              teacher_cv=teacher_cv)
    for teacher in (ovo.teacher, GridSearchCV(ovo.teacher, {"C": [1.0]}, cv=2)):
        with pytest.raises(ValueError, match="one-vs-one decision values"):
            ovo.set_params(teacher=teacher).fit(X_iris, y_iris)
    assert CountedSVC.fits == 0  # refused before the teacher's fit
    ovo.set_params(teacher=CountedSVC(decision_function_shape="ovo"))
    two = y_iris < 2  # two classes: one column either way
    ovo.set_params(teacher_cv=None).fit(X_iris[two], y_iris[two])


def test_teacher_without_scores_is_rejected_before_fitting():
    class OnlyPredict:
        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.zeros(len(X))

    with pytest.raises(TypeError, match="neither predict_proba nor decision_function"):
        as_teacher(OnlyPredict()).check("classifier")
    with pytest.raises(TypeError, match="fit method"):
        as_teacher(object())
    with pytest.raises(ValueError, match="only string accepted is 'precomputed'"):
        as_teacher("precomputd")


class _BadProba:
    classes_ = np.array([0, 1])

    def __init__(self, proba):
        self.proba = np.asarray(proba, dtype=float)

    def predict_proba(self, X):
        return self.proba


@pytest.mark.parametrize(
    "proba, message",
    [
        ([[np.nan, 1.0]], "NaN or infinite"),
        ([[-0.5, 1.5]], "not probability distributions"),
        ([[0.2, 0.2]], "not probability distributions"),
        ([[0.2, 0.3, 0.5]], r"shape \(1, 3\); expected \(1, 2\)"),
    ],
)
def test_broken_teacher_outputs_are_clear_errors(proba, message):
    with pytest.raises(ValueError, match=message):
        teacher_logits(_BadProba(proba), np.zeros((1, 2)), np.array([0, 1]))


# --- teachers that are not scikit-learn estimators, and cross-fitting -----------------

import torch  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_predict  # noqa: E402
from skorch import NeuralNetClassifier  # noqa: E402


def test_torch_module_teacher_outputs_are_its_logits():
    module = torch.nn.Linear(2, 3)
    logits = teacher_logits(module, X, np.array(["a", "b", "c"]))
    with torch.no_grad():
        expected = module(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(logits, expected, rtol=1e-6)
    with pytest.raises(ValueError, match=r"shape \(6, 3\); expected \(6, 2\)"):
        teacher_logits(module, X, np.array(["a", "b"]))


def test_fitted_skorch_net_teacher_gives_its_logits():
    torch.manual_seed(0)
    y = np.array([0, 0, 1, 1, 2, 2])
    net = NeuralNetClassifier(
        torch.nn.Linear, module__in_features=2, module__out_features=3,
        criterion=torch.nn.CrossEntropyLoss, max_epochs=3, train_split=None, verbose=0,
    ).fit(X.astype(np.float32), y)
    logits = teacher_logits(net, X, np.array([2, 0]))  # columns picked by label
    raw = net.forward(X.astype(np.float32)).numpy()
    np.testing.assert_allclose(logits, raw[:, [2, 0]], rtol=1e-6)


def test_out_of_fold_logits_equal_cross_val_predict():
    from sklearn.datasets import load_iris

    Xi, yi = load_iris(return_X_y=True)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    teacher = as_teacher(LogisticRegression(max_iter=1000))
    got = teacher.out_of_fold_logits(Xi, yi, np.array([0, 1, 2]), cv)
    proba = cross_val_predict(LogisticRegression(max_iter=1000), Xi, yi, cv=cv, method="predict_proba")
    expected = np.log(np.clip(proba, 1e-7, None))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    in_sample = np.log(LogisticRegression(max_iter=1000).fit(Xi, yi).predict_proba(Xi))
    assert not np.allclose(got, in_sample, rtol=1e-3)


def test_stacks_with_their_default_final_estimator_are_cross_fitted():
    # scikit-learn's cross_val_predict refuses such a stack: no predict until it is fitted
    from sklearn.datasets import load_diabetes, load_iris
    from sklearn.ensemble import StackingClassifier, StackingRegressor
    from sklearn.linear_model import Ridge, RidgeCV
    from sklearn.model_selection import KFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skdistill import DistilledRegressor

    Xi, yi = load_iris(return_X_y=True)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    members = [("lr", LogisticRegression(max_iter=300))]
    for wrap in (lambda stack: stack, lambda stack: make_pipeline(StandardScaler(), stack)):
        named = wrap(StackingClassifier(members, final_estimator=LogisticRegression()))
        proba = cross_val_predict(named, Xi, yi, cv=cv, method="predict_proba")
        stack = StackingClassifier(members)
        got = as_teacher(wrap(stack)).out_of_fold_logits(Xi, yi, np.array([0, 1, 2]), cv)
        np.testing.assert_allclose(got, np.log(np.clip(proba, 1e-7, None)), rtol=1e-5)
        assert stack.final_estimator is None  # the user's teacher is left as given

    Xd, yd = load_diabetes(return_X_y=True)
    folds = KFold(3, shuffle=True, random_state=0)
    expected = cross_val_predict(StackingRegressor([("r", Ridge())], final_estimator=RidgeCV()),
                                 Xd, yd, cv=folds)
    got = as_teacher(StackingRegressor([("r", Ridge())])).out_of_fold_predictions(Xd, yd, folds)
    np.testing.assert_allclose(got.ravel(), expected, rtol=1e-6)
    for teacher_cv in (None, 3):  # end to end: judged by its default final estimator
        for teacher in (StackingRegressor([("r", Ridge())]),
                        make_pipeline(StandardScaler(), StackingRegressor([("r", Ridge())]))):
            model = DistilledRegressor(teacher, teacher_cv=teacher_cv, max_epochs=2).fit(Xd, yd)
            fitted = model.teacher_[-1] if hasattr(model.teacher_, "steps") else model.teacher_
            assert type(fitted.final_estimator_) is RidgeCV


def test_cross_fitting_under_metadata_routing_honours_the_teachers_requests():
    import sklearn
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.datasets import load_iris

    Xi, yi = load_iris(return_X_y=True)
    weights = np.where(yi == 2, 5.0, 1.0)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        # the inner model declines the weights; the calibration takes them
        inner = LogisticRegression(max_iter=500).set_fit_request(sample_weight=False)
        teacher = CalibratedClassifierCV(inner, cv=2)
        got = as_teacher(teacher).out_of_fold_logits(Xi, yi, np.array([0, 1, 2]), cv,
                                                     sample_weight=weights)
        routed = cross_val_predict(teacher.set_fit_request(sample_weight=True), Xi, yi, cv=cv,
                                   method="predict_proba", params={"sample_weight": weights})
    np.testing.assert_allclose(got, np.log(np.clip(routed, 1e-7, None)), rtol=1e-6)


def test_cross_fitting_gives_the_teacher_the_labels_its_parameters_name():
    # cross_val_predict gives a classifier codes 0..n-1: class_weight={"b": 3} failed in it
    from sklearn.datasets import load_iris

    Xi, codes = load_iris(return_X_y=True)
    labels = np.array(["a", "b", "c"])[codes]
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    teacher = as_teacher(LogisticRegression(class_weight={"a": 1.0, "b": 3.0, "c": 1.0}))
    got = teacher.out_of_fold_logits(Xi, labels, np.array(["a", "b", "c"]), cv)
    by_codes = LogisticRegression(class_weight={0: 1.0, 1: 3.0, 2: 1.0})
    proba = cross_val_predict(by_codes, Xi, codes, cv=cv, method="predict_proba")
    np.testing.assert_allclose(got, np.log(np.clip(proba, 1e-7, None)), rtol=1e-6)
    # a fold that never saw a class gives it probability 0 (the clipped log), as
    # cross_val_predict does
    rare = np.where(np.arange(150) == 0, "rare", labels)
    folds = [(np.arange(1, 150), np.array([0])), (np.arange(75), np.arange(75, 150)),
             (np.arange(75, 150), np.arange(1, 75))]
    logits = as_teacher(LogisticRegression()).out_of_fold_logits(
        Xi, rare, np.unique(rare), folds)
    assert logits.shape == (150, 4)
    np.testing.assert_allclose(logits[1:75, 3], np.log(1e-7), rtol=1e-6)  # fitted without "rare"
    assert (logits[75:, 3] > np.log(1e-7)).all()  # fitted with it


def test_cross_fitting_reads_a_folds_scores_by_label():
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.datasets import make_classification
    from sklearn.model_selection import ShuffleSplit
    from sklearn.svm import LinearSVC

    from skdistill import DistilledClassifier

    Xc, codes = make_classification(200, 6, n_informative=4, n_classes=4, random_state=0)
    y = np.array(list("abcd"))[codes]
    y[:3] = "z"  # a class the teacher that scores rows 0-99 never sees
    rows = np.arange(200)
    halves = [(rows[100:], rows[:100]), (rows[:100], rows[100:])]
    model = DistilledClassifier(LinearSVC(), teacher_cv=halves, max_epochs=3, random_state=0)
    logits = as_teacher(LinearSVC()).out_of_fold_logits(Xc, y, np.unique(y), halves)
    assert np.isfinite(logits.astype(np.float32)).all()  # a finite floor, also in float32
    assert (logits[:100, 4] < logits[:100, :4].min(axis=1) - 16).all()  # "z": far below
    model.fit(Xc, y)  # trains: no -inf target

    class Reversed(ClassifierMixin, BaseEstimator):  # classes_ in another order, one extra
        def fit(self, X, y):
            self.lr_ = LogisticRegression().fit(X, y)
            self.classes_ = np.array([*self.lr_.classes_[::-1], "extra"])
            return self

        def predict_proba(self, X):
            return np.column_stack([self.lr_.predict_proba(X)[:, ::-1], np.zeros(len(X))])

    class Flipped(Reversed):  # binary decision values, positive for its classes_[1]
        def fit(self, X, y):
            super().fit(X, y)
            self.classes_ = self.classes_[:2]
            return self

        def decision_function(self, X):
            return -self.lr_.decision_function(X)

    two = np.isin(y, ["a", "b"])
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    for teacher, method in ((Reversed(), "predict_proba"), (Flipped(), "decision_function")):
        expected = cross_val_predict(LogisticRegression(), Xc[two], y[two], cv=cv, method=method)
        got = cross_fitted(teacher, Xc[two], y[two], cv, method, {})
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    with pytest.raises(ValueError, match="must score every row once"):
        cross_fitted(CountingFits(), Xc, y, ShuffleSplit(3, random_state=0), "predict_proba", {})
    assert CountingFits.fits == 0  # refused before any fit


class CountingFits(LogisticRegression):
    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight)


def test_a_teacher_that_read_missing_values_in_fit_lets_predict_fill_them():
    # a Pipeline's tags are its first step's: they say nothing of the forest reading NaN
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from skdistill import DistilledClassifier

    rng = np.random.RandomState(0)
    X = pd.DataFrame({"city": rng.choice(["lyon", "paris", None], 200), "x": rng.randn(200)})
    X.loc[::7, "x"] = np.nan
    y = (X["x"].fillna(0) > 0).astype(int)
    teacher = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["city"]),
                                remainder="passthrough"),
        RandomForestClassifier(20, random_state=0),
    )
    model = DistilledClassifier(teacher, max_epochs=3, random_state=0).fit(X, y)
    assert model.fills_missing_
    assert np.isfinite(model.predict_proba(X.iloc[::7])).all()  # rows with x missing
    complete = X.dropna()
    refusing = DistilledClassifier(teacher, max_epochs=3, random_state=0).fit(
        complete, y[complete.index])
    assert not refusing.fills_missing_  # it never read a missing value: predict refuses them
    with pytest.raises(ValueError, match=r"contains NaN in column\(s\) \['x'\]"):
        refusing.predict_proba(X.iloc[[0]])
