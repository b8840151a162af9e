"""sample_weight and class_weight: in the teacher's fit, in both loss terms, through routing."""

import numpy as np
import pytest
import sklearn
import torch
from conftest import make_fast
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from skdistill import (
    DistillationLoss,
    DistilledRegressor,
    hard_label_loss,
    hinton_kd_loss,
)


class WeightRecordingLR(LogisticRegression):
    seen = []

    def fit(self, X, y, sample_weight=None):
        type(self).seen.append(None if sample_weight is None else np.array(sample_weight))
        return super().fit(X, y, sample_weight=sample_weight)


def test_weighted_losses_golden_values():
    s = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    t = torch.log(torch.tensor([[0.75, 0.25], [0.5, 0.5]]))
    target = torch.tensor([0, 1])
    first = hinton_kd_loss(s[:1], t[:1], None, T=1.0)
    weighted = hinton_kd_loss(s, t, None, T=1.0, sample_weight=torch.tensor([1.0, 0.0]))
    assert weighted.item() == pytest.approx(first.item())  # 0.75 ln 1.5 + 0.25 ln 0.5
    assert weighted.item() == pytest.approx(0.130812, abs=1e-6)
    ce = torch.nn.functional.cross_entropy(s, target, reduction="none")
    got = hard_label_loss(s, target, torch.tensor([2.0, 1.0])).item()
    assert got == pytest.approx(((2 * ce[0] + ce[1]) / 3).item())
    ones = DistillationLoss(T=2.0, alpha=0.3)(s, t, target, sample_weight=torch.ones(2))
    assert ones.item() == pytest.approx(DistillationLoss(T=2.0, alpha=0.3)(s, t, target).item())


def test_zero_weights_behave_like_dropped_rows(iris):
    X, y = iris
    rng = np.random.RandomState(0)
    junk = rng.normal(size=(40, 4)) * 5
    X_all, y_all = np.vstack([X, junk]), np.concatenate([y, rng.randint(0, 3, 40)])
    w = np.r_[np.ones(150), np.zeros(40)]
    dropped = make_fast(max_epochs=15).fit(X, y)
    weighted = make_fast(max_epochs=15).fit(X_all, y_all, sample_weight=w)
    np.testing.assert_allclose(weighted.predict_proba(X), dropped.predict_proba(X), atol=1e-3)


def test_integer_weights_behave_like_repeated_rows(iris):
    X, y = iris
    w = np.where(y == 0, 3, 1)
    repeated = make_fast(max_epochs=40).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    weighted = make_fast(max_epochs=40).fit(X, y, sample_weight=w)
    assert np.mean(weighted.predict(X) == repeated.predict(X)) > 0.95
    gap = np.abs(weighted.predict_proba(X) - repeated.predict_proba(X)).mean()
    assert gap < 0.05  # training noise only


def test_weights_change_the_fit_and_reach_the_teacher(iris):
    X, y = iris
    w = np.where(y == 2, 10.0, 1.0)
    WeightRecordingLR.seen = []
    raw = dict(max_epochs=10, student_preprocessor=None)  # one encoding for both
    plain = make_fast(**raw).fit(X, y)
    weighted = make_fast(WeightRecordingLR(), **raw).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(WeightRecordingLR.seen[0], w)
    assert (weighted.predict_proba(X)[:, 2] > plain.predict_proba(X)[:, 2]).mean() > 0.8
    WeightRecordingLR.seen = []
    make_fast(WeightRecordingLR(), teacher_cv=3, max_epochs=1).fit(X, y, sample_weight=w)
    assert sorted(len(s) for s in WeightRecordingLR.seen) == [100, 100, 100, 150]


def test_teacher_without_sample_weight_warns(iris):
    X, y = iris
    with pytest.warns(UserWarning, match="KNeighborsClassifier's fit does not take sample_weight"):
        make_fast(KNeighborsClassifier(), max_epochs=1).fit(X, y, sample_weight=np.arange(150) % 3)


def test_class_weight_balanced_is_the_balanced_sample_weight():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] > 0.8).astype(int)
    by_class = make_fast(max_epochs=10, class_weight="balanced").fit(X, y)
    by_row = make_fast(max_epochs=10).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    np.testing.assert_allclose(by_class.predict_proba(X), by_row.predict_proba(X), rtol=1e-6)
    plain = make_fast(max_epochs=10).fit(X, y)
    assert by_class.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean()
    as_dict = make_fast(max_epochs=10, class_weight={1: 3.0}).fit(X, y)
    assert as_dict.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean()


def test_routing_through_pipeline_grid_search_and_cross_validate(iris):
    X, y = iris
    w = np.where(y == 2, 5.0, 1.0)
    pipe = make_pipeline(StandardScaler(), make_fast(max_epochs=3))
    pipe.fit(X, y, distilledclassifier__sample_weight=w)
    GridSearchCV(make_fast(max_epochs=2), {"alpha": [0.0, 1.0]}, cv=2).fit(X, y, sample_weight=w)
    with sklearn.config_context(enable_metadata_routing=True):
        clf = make_fast(WeightRecordingLR(), max_epochs=2).set_fit_request(sample_weight=True)
        clf.set_score_request(sample_weight=False)
        WeightRecordingLR.seen = []
        cross_validate(clf, X, y, cv=3, params={"sample_weight": w})
        assert len(WeightRecordingLR.seen) == 3
        assert all(seen is not None and set(seen) == {1.0, 5.0} for seen in WeightRecordingLR.seen)
        clf.set_score_request(sample_weight=True)  # weighted CV scores too
        routed = make_pipeline(StandardScaler().set_fit_request(sample_weight=True), clf)
        search = GridSearchCV(
            routed, {"distilledclassifier__alpha": [0.5]}, cv=2, error_score="raise"
        )
        search.fit(X, y, sample_weight=w)
        assert np.isfinite(search.best_score_)


def test_regressor_sample_weight(iris):
    X, y = iris
    target = X[:, 0] * 2
    w = np.r_[np.ones(100), np.zeros(50)]
    weighted = DistilledRegressor(Ridge(), max_epochs=10, random_state=0).fit(
        X, target, sample_weight=w
    )
    dropped = DistilledRegressor(Ridge(), max_epochs=10, random_state=0).fit(X[:100], target[:100])
    np.testing.assert_allclose(weighted.predict(X), dropped.predict(X), atol=1e-3)


@pytest.mark.parametrize(
    "sample_weight, message",
    [
        (-np.ones(150), "Negative values in data passed to `sample_weight`"),
        (np.r_[np.nan, np.ones(149)], "sample_weight contains NaN"),
        (np.ones(149), r"sample_weight.shape == \(149,\), expected \(150,\)"),
        (np.zeros(150), "at least one non-zero"),
    ],
)
def test_bad_sample_weight_is_refused_and_the_model_kept(iris, sample_weight, message):
    X, y = iris
    clf = make_fast(max_epochs=2).fit(X, y)
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y, sample_weight=sample_weight)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_bad_class_weight_and_unweightable_loss(iris):
    X, y = iris
    with pytest.raises(ValueError, match=r"class_weight names the label\(s\) \[7\]"):
        make_fast(class_weight={7: 2.0}).fit(X, y)
    with pytest.raises(ValueError, match="'class_weight' parameter"):
        make_fast(class_weight="balance").fit(X, y)

    def unweighted(student, teacher, target, *, T):
        return hinton_kd_loss(student, teacher, target, T=T)

    with pytest.raises(ValueError, match="does not accept a sample_weight keyword"):
        make_fast(loss=unweighted).fit(X, y, sample_weight=np.arange(150) % 2 + 1)
    make_fast(loss=unweighted, max_epochs=1).fit(X, y)  # fine without weights
    # equal weights reach the teacher only: the student's loss sees none
    make_fast(loss=unweighted, max_epochs=1).fit(X, y, sample_weight=np.full(150, 2.0))
    make_fast(loss=unweighted, max_epochs=1, class_weight="balanced").fit(X, y)  # 50 each
