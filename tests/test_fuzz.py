"""Property-based bad input: every call either works or raises a clear scikit-learn style error.

"Works" means finite probabilities whose rows sum to 1 and labels from ``classes_``.
"Clear" means a ValueError or TypeError raised by skdistill or scikit-learn (never from
inside torch), with a message, and no fitted state left behind by a failed fit.
Refusing is not a way to pass: a drawn case that is valid (finite numbers, at least two
classes among plain labels) must fit, and a minimum share of all drawn cases must fit.
The cases are derandomized, so CI runs the same ones every time.
"""

import traceback
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from skdistill import DistilledClassifier, DistilledRegressor

FIT_CASES = 200
PREDICT_CASES = 100
REGRESSOR_CASES = 60
MIN_FITTED_SHARE = 0.3
"""Share of the drawn fit cases that must fit (most draws are bad on purpose)."""
VALID_VALUES = {"normal", "tiny", "constant column", "duplicate rows"}
VALID_LABELS = {"ints", "non-contiguous", "strings", "bools", "minus one"}


def fuzz(max_examples):
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )

VALUE_KINDS = ["normal", "huge", "overflow", "tiny", "constant column", "duplicate rows", "nan", "inf"]
DTYPES = [np.float64, np.float32, np.int64, np.int8, bool, object]
LABEL_KINDS = ["ints", "non-contiguous", "strings", "bools", "minus one", "floats"]
ODD_NAMES = ["a b", "ü", "x-y", "1", "None", "", "__init__", "日本"]


def make_X(draw, n, d, rng):
    """Drawn rows, and whether every value in them is a finite number."""
    kind = draw(st.sampled_from(VALUE_KINDS))
    numbers = kind in VALID_VALUES
    X = rng.normal(size=(n, d))
    if kind == "huge":
        X *= 1e30
    elif kind == "overflow":
        X *= 1e39
    elif kind == "tiny":
        X *= 1e-30
    elif kind == "constant column":
        X[:, 0] = 7.0
    elif kind == "duplicate rows":
        X = np.resize(np.repeat(X[: max(1, n // 3)], 3, axis=0), (n, d))
    elif kind in ("nan", "inf"):
        X[rng.randint(n), rng.randint(d)] = np.nan if kind == "nan" else -np.inf
    dtype = draw(st.sampled_from(DTYPES))
    if dtype is bool:
        X = X > 0
    elif dtype is object:
        X = X.astype(object)
        if draw(st.booleans()):
            X[0, 0] = "text"
            numbers = False
    elif np.issubdtype(dtype, np.integer):
        with np.errstate(invalid="ignore", over="ignore"):
            X = np.nan_to_num(X, nan=0, posinf=0, neginf=0).clip(-100, 100).astype(dtype)
    else:
        with np.errstate(over="ignore"):
            X = X.astype(dtype)
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from(ODD_NAMES), min_size=d, max_size=d, unique=True))
        X = pd.DataFrame(X, columns=names)
    return X, numbers


def make_y(draw, n, rng):
    """Drawn labels, and whether they are plain labels of at least two classes."""
    n_classes = draw(st.integers(1, 4))
    codes = rng.randint(0, n_classes, size=n)
    kind = draw(st.sampled_from(LABEL_KINDS))
    plain = kind in VALID_LABELS and len(np.unique(codes % 2 if kind == "bools" else codes)) > 1
    if kind == "non-contiguous":
        return codes * 7 - 3, plain
    if kind == "strings":
        return np.array(["cat", "dog", "emu", "gnu"], dtype=object)[codes], plain
    if kind == "bools":
        return codes % 2 == 0, plain
    if kind == "minus one":
        return np.where(codes == 0, -1, codes), plain
    if kind == "floats":
        return codes + rng.normal(size=n), plain  # a regression target: must be refused
    return codes, plain


@st.composite
def datasets(draw):
    """``(X, y, valid)``: valid when a classifier must fit them."""
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    n = draw(st.integers(1, 30))
    d = draw(st.integers(1, 5))
    (X, numbers), (y, plain) = make_X(draw, n, d, rng), make_y(draw, n, rng)
    return X, y, numbers and plain and n >= 4


def fast_classifier():
    return DistilledClassifier(
        LogisticRegression(max_iter=50), max_epochs=2, random_state=0,
        module__hidden_layer_sizes=(4,),
    )


def assert_clear(exc):
    event(f"refused: {str(exc)[:45]}")
    assert isinstance(exc, (ValueError, TypeError)), f"{type(exc).__name__}: {exc}"
    assert str(exc).strip(), "an error without a message"
    innermost = traceback.extract_tb(exc.__traceback__)[-1].filename
    assert "/torch/" not in innermost, f"raised from inside torch: {innermost}: {exc}"


def assert_works(clf, X):
    event("fitted and predicted")
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all(), "NaN or infinite probabilities"
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert set(clf.predict(X)) <= set(clf.classes_)


def assert_not_fitted(clf):
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)


def fit_or_refuse(estimator, X, y, valid=False):
    """Fit; a refusal must be clear, leave nothing fitted and not be of valid data.

    Returns True when it fitted.
    """
    try:
        estimator.fit(X, y)
    except (ValueError, TypeError) as exc:
        assert not valid, f"valid data refused: {type(exc).__name__}: {exc}"
        assert_clear(exc)
        assert_not_fitted(estimator)
        return False
    return True


@pytest.fixture(scope="module")
def fit_outcomes():
    """Whether each drawn fit case fitted; at the end, a minimum share must have."""
    outcomes = []
    yield outcomes
    if len(outcomes) >= FIT_CASES // 2:  # the whole test ran (not one example of it)
        share = np.mean(outcomes)
        assert share >= MIN_FITTED_SHARE, f"only {share:.0%} of the drawn cases fitted"


@pytest.mark.slow  # over 5 s
@fuzz(FIT_CASES)
@given(data=datasets())
def test_fit_works_or_fails_clearly(fit_outcomes, data):
    X, y, valid = data
    clf = fast_classifier()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = fit_or_refuse(clf, X, y, valid)
        fit_outcomes.append(fitted)
        if not fitted:
            return
        assert_works(clf, X)
        score = clf.score(X, y)
    assert 0.0 <= score <= 1.0


@pytest.fixture(scope="module")
def fitted_on_frame():
    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a b", "ü", "x-y"])
    y = np.array(["no", "yes"], dtype=object)[(X.iloc[:, 0] > 0).astype(int)]
    return fast_classifier().fit(X, y)


@fuzz(PREDICT_CASES)
@given(data=datasets(), method=st.sampled_from(["predict", "predict_proba", "score"]),
       shape=st.sampled_from(["as drawn", "1-d", "empty", "3 features", "the fitted columns"]))
def test_mismatched_inputs_at_predict_time(fitted_on_frame, data, method, shape):
    X, y, valid = data
    if shape == "the fitted columns":  # a valid call: it must work
        rows = np.random.RandomState(len(y)).normal(size=(len(y), 3))
        X, y = pd.DataFrame(rows, columns=["a b", "ü", "x-y"]), np.resize(["no", "yes"], len(y))
    if shape == "1-d":
        X = np.asarray(X)[:, 0]
    elif shape == "empty":
        X = np.empty((0, 3))
    elif shape == "3 features" and np.asarray(X).shape[1] != 3:
        X = np.resize(np.asarray(X), (np.asarray(X).shape[0], 3))
    before = fitted_on_frame.predict_proba(pd.DataFrame(np.ones((1, 3)), columns=["a b", "ü", "x-y"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if method == "score":
                result = fitted_on_frame.score(X, np.resize(y, len(np.asarray(X))))
                assert 0.0 <= result <= 1.0
            else:
                result = getattr(fitted_on_frame, method)(X)
                if method == "predict_proba":
                    assert np.isfinite(result).all()
                    np.testing.assert_allclose(result.sum(axis=1), 1.0, atol=1e-9)
        except (ValueError, TypeError) as exc:
            assert shape != "the fitted columns", f"a valid call refused: {exc}"
            assert_clear(exc)
    after = fitted_on_frame.predict_proba(pd.DataFrame(np.ones((1, 3)), columns=["a b", "ü", "x-y"]))
    np.testing.assert_array_equal(before, after)  # a bad call never changes the model


@fuzz(REGRESSOR_CASES)
@given(data=datasets())
def test_regressor_fit_works_or_fails_clearly(data):
    from sklearn.linear_model import Ridge

    X, y, _ = data
    y = np.asarray(y)
    reg = DistilledRegressor(Ridge(), max_epochs=2, random_state=0, module__hidden_layer_sizes=(4,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not fit_or_refuse(reg, X, y):
            return
        event("fitted and predicted")
        assert np.isfinite(reg.predict(X)).all()
