"""DistilledClassifier end to end: fitting, labels, inputs, teachers, students, skorch knobs."""

import io
from contextlib import redirect_stdout

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from skorch.callbacks import Callback
from torch import nn

from skdistill import MLPStudent


def test_fit_predict_proba_score(iris, fast):
    X, y = iris
    clf = fast().fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert set(clf.predict(X)) <= set(clf.classes_)
    assert clf.score(X, y) > 0.9
    assert clf.n_features_in_ == 4
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert isinstance(clf.student_.module_, MLPStudent)
    assert clf.student_.module_.layers[0].out_features == 16


def test_history_logs_validation_accuracy_and_agreement(iris, fast):
    X, y = iris
    clf = fast(max_epochs=5, n_iter_no_change=None).fit(X, y)
    history = clf.student_.history
    assert len(history) == 5
    for key in ("train_loss", "valid_loss", "valid_acc", "valid_agreement"):
        values = history[:, key]
        assert len(values) == 5 and all(0 <= v for v in values)
    assert all(0 <= v <= 1 for v in history[:, "valid_agreement"])
    # valid_acc is the hard-label accuracy on the 10% hold-out (15 rows, stratified)
    assert all(abs(v * 15 - round(v * 15)) < 1e-9 for v in history[:, "valid_acc"])


def test_agreement_is_student_argmax_equal_to_teacher_argmax(iris, fast):
    X, y = iris
    clf = fast(max_epochs=3, validation_fraction=0.5, n_iter_no_change=None, random_state=3)
    clf.fit(X, y)
    # Recompute on the validation rows: fit_teacher returns the split the net used.
    valid_idx = clf.fit_teacher(X, y).valid_idx
    student = clf.predict(X[valid_idx])
    teacher = clf.teacher_.predict(X[valid_idx])
    assert clf.student_.history[-1, "valid_agreement"] == pytest.approx(np.mean(student == teacher))
    assert clf.student_.history[-1, "valid_acc"] == pytest.approx(np.mean(student == y[valid_idx]))


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["setosa", "versicolor", "virginica"]),
        np.array([-5, 10, 1000]),
        np.array([2.0, -1.0, 7.0]),
    ],
)
def test_any_label_type_round_trips(iris, fast, labels):
    X, y = iris
    y_labels = labels[y]
    clf = fast().fit(X, y_labels)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    pred = clf.predict(X)
    assert pred.dtype == y_labels.dtype
    assert np.mean(pred == y_labels) > 0.9


def test_boolean_labels(iris, fast):
    X, y = iris
    y_bool = y == 0
    clf = fast().fit(X, y_bool)
    assert clf.predict(X).dtype == bool
    assert clf.score(X, y_bool) > 0.95


def test_dataframe_input_sets_feature_names(iris, fast):
    X, y = iris
    df = pd.DataFrame(X, columns=["sepal length", "sepal width", "petal length", "petal width"])
    clf = fast(teacher=RandomForestClassifier(10, random_state=0), student_preprocessor=None)
    clf.fit(df, y)
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = clf.predict_proba(X)
    np.testing.assert_allclose(clf.predict_proba(df), from_array, rtol=1e-12)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(df.rename(columns={"petal width": "other"}))


def test_float64_float32_and_int_inputs_agree(fast):
    X = np.random.RandomState(0).randint(0, 5, size=(80, 3))
    y = (X[:, 0] + X[:, 1] > 4).astype(int)
    clf_int = fast().fit(X, y)
    clf_f64 = fast().fit(X.astype(np.float64), y)
    clf_f32 = fast().fit(X.astype(np.float32), y)
    np.testing.assert_array_equal(clf_int.predict_proba(X), clf_f64.predict_proba(X))
    # the teacher sees float32 as given, so its fit (and the student) differ only slightly
    np.testing.assert_allclose(clf_f64.predict_proba(X), clf_f32.predict_proba(X), atol=1e-3)


def test_same_seed_same_predictions_different_seed_different(iris, fast):
    X, y = iris
    a = fast(random_state=7).fit(X, y).predict_proba(X)
    b = fast(random_state=7).fit(X, y).predict_proba(X)
    c = fast(random_state=8).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_does_not_touch_global_torch_rng(iris, fast):
    X, y = iris
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    fast(max_epochs=2).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_unfitted_teacher_is_cloned_and_fitted(iris, fast):
    X, y = iris
    teacher = LogisticRegression()
    clf = fast(teacher=teacher, max_epochs=2).fit(X, y)
    assert not hasattr(teacher, "coef_")
    assert clf.teacher_ is not teacher and hasattr(clf.teacher_, "coef_")


class CountingLR(LogisticRegression):
    fits = 0

    def fit(self, X, y, **kw):
        type(self).fits += 1
        return super().fit(X, y, **kw)


def test_frozen_teacher_is_never_refit(iris, fast):
    X, y = iris
    teacher = CountingLR().fit(X, y)
    CountingLR.fits = 0
    coef = teacher.coef_.copy()
    clf = fast(teacher=FrozenEstimator(teacher), max_epochs=2).fit(X[:100], y[:100])
    clone(clf).fit(X, y)
    assert CountingLR.fits == 0
    np.testing.assert_array_equal(teacher.coef_, coef)
    assert clf.teacher_.estimator is teacher


def test_frozen_teacher_with_more_classes_in_another_order(iris, fast):
    X, y = iris
    labels = np.array(["a", "b", "c"])
    teacher = LogisticRegression().fit(X, labels[y])
    keep = y > 0  # y seen at fit holds only "b" and "c"
    clf = fast(teacher=FrozenEstimator(teacher), alpha=1.0).fit(X[keep], labels[y][keep])
    np.testing.assert_array_equal(clf.classes_, ["b", "c"])
    assert clf.score(X[keep], labels[y][keep]) > 0.85


def test_frozen_teacher_lacking_a_label_is_a_clear_error(iris, fast):
    X, y = iris
    teacher = LogisticRegression().fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match=r"does not know the label\(s\) \[2\]"):
        fast(teacher=FrozenEstimator(teacher)).fit(X, y)


def test_decision_function_only_teacher(iris, fast):
    X, y = iris
    assert not hasattr(LinearSVC(), "predict_proba")
    clf = fast(teacher=LinearSVC(), alpha=1.0).fit(X, y)
    assert clf.score(X, y) > 0.85
    binary = fast(teacher=LinearSVC(), alpha=1.0).fit(X, y == 2)
    assert binary.score(X, y == 2) > 0.9


def test_soft_targets_come_from_the_training_rows_themselves(iris, fast):
    """Bug 2 of the blog post: soft targets computed on other rows than the student trains on."""
    X, y = iris
    asked = []

    class Spy(LogisticRegression):
        def predict_proba(self, X):
            asked.append(np.asarray(X).copy())
            return super().predict_proba(X)

    clf = fast(teacher=Spy(), max_epochs=2).fit(X, y)
    assert len(asked) == 1
    np.testing.assert_array_equal(asked[0], X)  # every training row, in order
    assert clf.student_.history[-1, "valid_agreement"] > 0


class WidthStudent(nn.Module):
    def __init__(self, n_features, n_classes, width=8):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, width), nn.Tanh(), nn.Linear(width, n_classes))

    def forward(self, X):
        return self.body(X)


def test_student_class_gets_data_shapes_and_module_params(iris, fast):
    X, y = iris
    clf = fast(student_module=WidthStudent, module__width=5, student_preprocessor=None).fit(X, y)
    first = clf.student_.module_.body[0]
    assert (first.in_features, first.out_features) == (4, 5)
    clf.set_params(module__width=3).fit(X[:, :2], y)
    assert clf.student_.module_.body[0].in_features == 2
    assert clf.student_.module_.body[0].out_features == 3


def test_student_instance_is_copied_not_trained_in_place(iris, fast):
    X, y = iris
    student = WidthStudent(4, 3)
    before = [p.detach().clone() for p in student.parameters()]
    clf = fast(student_module=student).fit(X, y)
    for p, q in zip(student.parameters(), before):
        assert torch.equal(p, q)
    assert clf.student_.module_ is not student


def test_skorch_knobs_reach_the_net(iris, fast):
    X, y = iris
    seen = {}

    class Record(Callback):
        def on_train_begin(self, net, **kwargs):
            seen["optimizer"] = net.optimizer_

        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            if training:
                seen.setdefault("sizes", []).append(len(batch[1]))

    clf = fast(
        optimizer=torch.optim.SGD,
        lr=0.05,
        optimizer__momentum=0.9,
        optimizer__weight_decay=1e-3,
        batch_size=32,
        iterator_train__drop_last=True,
        max_epochs=3,
        n_iter_no_change=None,
        callbacks=[("record", Record())],
        student_preprocessor=None,  # one student: "auto" would train one per encoding
    ).fit(X, y)  # (fast() fixes alpha=0.5: no labels-only twin either)
    group = seen["optimizer"].param_groups[0]
    assert isinstance(seen["optimizer"], torch.optim.SGD)
    assert (group["lr"], group["momentum"], group["weight_decay"]) == (0.05, 0.9, 1e-3)
    assert set(seen["sizes"]) == {32}  # 135 training rows, last partial batch dropped
    assert len(seen["sizes"]) == 3 * (135 // 32)
    assert len(clf.student_.history) == 3


@pytest.mark.parametrize("solver", ["torch", "numpy"])
def test_skorch_scoring_callbacks_score_the_student_as_a_classifier(iris, fast, solver):
    from skorch.callbacks import EpochScoring

    X, y = iris
    clf = fast(
        solver=solver, max_epochs=4, n_iter_no_change=None,
        callbacks=[EpochScoring("accuracy", lower_is_better=False, name="accuracy"),
                   EpochScoring("neg_log_loss", lower_is_better=False, name="log_loss")],
    ).fit(X, y)
    for epoch in clf.student_.history:  # the net's own held-out figures, by sklearn's metrics
        assert epoch["accuracy"] == pytest.approx(epoch["valid_acc"])
        assert -epoch["log_loss"] == pytest.approx(epoch["valid_label_loss"], rel=1e-5)


def test_batches_are_shuffled_each_epoch():
    from skdistill.training._data import DistillationDataset, TensorBatchLoader

    rows = DistillationDataset(torch.arange(100.0).view(100, 1), torch.zeros(100, 2), torch.zeros(100))
    loader = TensorBatchLoader(rows, batch_size=100, shuffle=True, seed=0)
    first, second = [batch[0]["X"].view(-1) for batch in loader], [b[0]["X"].view(-1) for b in loader]
    assert not torch.equal(first[0], torch.arange(100.0))
    assert not torch.equal(first[0], second[0])
    assert torch.equal(first[0].sort().values, torch.arange(100.0))


@pytest.mark.parametrize("gathered_rows", [1, 4, 7, 1000])
@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffled_batches_gathered_in_blocks_are_the_permutation_cut_in_order(
    monkeypatch, gathered_rows, drop_last
):
    from skdistill.training import _data
    from skdistill.training._data import DistillationDataset, TensorBatchLoader

    monkeypatch.setattr(_data, "_GATHERED_ROWS", gathered_rows)
    X = torch.arange(11.0).view(11, 1)
    rows = DistillationDataset(X, torch.cat([X, -X], dim=1), torch.arange(11), X.view(-1) / 10)
    loader = TensorBatchLoader(rows, batch_size=3, shuffle=True, seed=4, drop_last=drop_last)
    order = torch.randperm(11, generator=torch.Generator().manual_seed(4))
    expected = [order[i : i + 3].tolist() for i in range(0, 9 if drop_last else 11, 3)]
    batches = list(loader)
    assert [xb["X"].view(-1).long().tolist() for xb, _ in batches] == expected
    for xb, yb in batches:
        assert torch.equal(xb["teacher_logits"][:, 1], -xb["X"][:, 0])
        assert torch.equal(yb.float(), xb["X"][:, 0])
        assert torch.equal(xb["sample_weight"], xb["X"][:, 0] / 10)


def test_teacher_logits_stay_aligned_with_rows_through_the_split():
    from torch.utils.data import Subset

    from skdistill.training._data import DistillationDataset, TensorBatchLoader

    X = torch.arange(50.0).view(50, 1)
    rows = DistillationDataset(X, torch.cat([X, -X], dim=1), torch.arange(50))
    subset = Subset(rows, [3, 17, 42, 8])
    for Xb, yb in TensorBatchLoader(subset, batch_size=3, shuffle=True, seed=1):
        assert torch.equal(Xb["teacher_logits"][:, 0], Xb["X"][:, 0])
        assert torch.equal(yb.float(), Xb["X"][:, 0])


def test_early_stopping_restores_best_epoch(iris, fast):
    X, y = iris
    clf = fast(max_epochs=200, n_iter_no_change=3, lr=0.05).fit(X, y)
    history = clf.student_.history
    assert len(history) < 200
    best = int(np.argmin(history[:, "valid_label_loss"]))
    assert len(history) == best + 1 + 3


def test_labels_only_validation_loss_is_the_valid_loss_at_alpha_zero(iris, fast):
    X, y = iris
    history = fast(alpha=0.0, max_epochs=5).fit(X, y).student_.history
    assert history[:, "valid_label_loss"] == history[:, "valid_loss"]
    mixed = fast(alpha=0.5, max_epochs=5).fit(X, y).student_.history
    assert all(a != b for a, b in zip(mixed[:, "valid_label_loss"], mixed[:, "valid_loss"]))


def test_early_stopping_judges_by_the_labels_not_the_teacher(iris, fast):
    # a teacher that is sure of the next class: imitating it keeps lowering valid_loss
    # while the held-out labels get worse, and the labels decide when to stop
    X, y = iris
    wrong = np.eye(3)[(y + 1) % 3] * 8.0
    clf = fast("precomputed", alpha=0.9, max_epochs=200, n_iter_no_change=5, lr=0.05,
               student_preprocessor=None)
    with pytest.warns(UserWarning, match="no better than chance"):
        history = clf.fit(X, y, teacher_logits=wrong).student_.history
    label_losses, mixed_losses = history[:, "valid_label_loss"], history[:, "valid_loss"]
    best = int(np.argmin(label_losses))
    assert len(history) == best + 1 + 5 < 200
    assert mixed_losses[-1] < mixed_losses[best]  # valid_loss alone would have trained on


def test_verbose_prints_the_epoch_table(iris, fast):
    X, y = iris
    out = io.StringIO()
    with redirect_stdout(out):
        fast(max_epochs=2, verbose=1).fit(X, y)
    text = out.getvalue()
    assert "valid_agreement" in text and "valid_acc" in text


def test_quiet_fit_builds_no_epoch_table(iris, fast, monkeypatch):
    from skorch.callbacks import PrintLog

    def table(self, row):
        raise AssertionError("table built with verbose=0")

    monkeypatch.setattr(PrintLog, "table", table)
    X, y = iris
    out = io.StringIO()
    with redirect_stdout(out):
        fast(max_epochs=2).fit(X, y)
    assert out.getvalue() == ""
    with pytest.raises(AssertionError, match="verbose=0"):
        fast(max_epochs=2, verbose=1).fit(X, y)


def test_warm_start_continues_training(iris, fast):
    X, y = iris
    clf = fast(max_epochs=3, n_iter_no_change=None, warm_start=True).fit(X, y)
    first = clf.student_
    first_weights = {k: v.clone() for k, v in first.module_.state_dict().items()}
    clf.fit(X, y)
    net = clf.student_
    assert len(net.history) == 6 and len(first.history) == 3  # a copy continued
    assert not torch.equal(net.module_.layers[0].weight, first_weights["layers.0.weight"])
    assert all(torch.equal(v, first_weights[k]) for k, v in first.module_.state_dict().items())
    with pytest.raises(ValueError, match="warm_start=True but y has classes"):
        clf.fit(X, np.where(y == 2, 5, y))
    assert clf.student_ is net and list(clf.classes_) == [0, 1, 2]  # state kept on failure


def test_cold_start_refits_from_scratch(iris, fast):
    X, y = iris
    clf = fast(max_epochs=3, n_iter_no_change=None).fit(X, y)
    first = clf.student_
    clf.fit(X, y)
    assert clf.student_ is not first and len(clf.student_.history) == 3
