"""The teacher-versus-student report, the history plot and the progress bar."""

import io
import pickle
from contextlib import redirect_stderr

import numpy as np
import pytest
from conftest import make_fast
from sklearn.datasets import make_friedman1
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import ProgressBar

from skdistill import DistilledRegressor, plot_history, report
from skdistill.inspection._report import model_complexity


@pytest.fixture(scope="module")
def fitted():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    student = make_fast(
        teacher=RandomForestClassifier(25, random_state=0), student_preprocessor=None
    )
    model = make_pipeline(StandardScaler(), student)
    return model.fit(X[::2], y[::2]), X[1::2], y[1::2]


def test_report_side_by_side_with_ratios(fitted):
    model, X, y = fitted
    figures = report(model, X, y, repeats=1, single_repeats=3).to_dict()
    distiller = model[-1]
    assert figures["accuracy"]["student"] == pytest.approx(model.score(X, y))
    assert figures["accuracy"]["teacher"] == pytest.approx(distiller.teacher_.score(model[0].transform(X), y))
    teacher_pred = distiller.teacher_.predict(model[0].transform(X))
    assert figures["agreement with teacher"]["student"] == pytest.approx(np.mean(model.predict(X) == teacher_pred))
    nodes = sum(t.tree_.node_count for t in distiller.teacher_.estimators_)
    assert figures["parameters / nodes"] == {
        "student": 4 * 16 + 16 + 16 * 3 + 3, "teacher": nodes, "teacher / student": nodes / 131,
    }
    sizes = figures["serialized bytes"]
    assert sizes["teacher"] == len(pickle.dumps(distiller.teacher_))
    assert sizes["teacher / student"] == pytest.approx(sizes["teacher"] / sizes["student"])
    for metric in ("batch latency ms (10,000 rows)", "single-row latency ms"):
        assert figures[metric]["student"] > 0 and figures[metric]["teacher"] > 0
    assert 0 < figures["log loss"]["student"] < 2


def test_report_prints_a_table_and_makes_a_frame(fitted):
    model, X, y = fitted
    rep = report(model, X, y, repeats=1, single_repeats=2)
    text = str(rep)
    assert text.splitlines()[0].split() == ["metric", "teacher", "student", "teacher", "/", "student"]
    assert "agreement with teacher" in text and "n/a" in text
    frame = rep.to_frame()
    assert list(frame.columns) == ["teacher", "student", "teacher / student"]
    assert frame.loc["accuracy", "student"] == pytest.approx(model.score(X, y))


def test_report_with_onnx_columns(fitted):
    model, X, y = fitted
    figures = report(model, X, y, onnx=True, repeats=1, single_repeats=2).to_dict()
    assert figures["accuracy"]["student ONNX"] == pytest.approx(figures["accuracy"]["student"])
    assert figures["serialized bytes"]["student ONNX int8"] > 0
    assert figures["single-row latency ms"]["student ONNX int8"] > 0
    assert abs(figures["accuracy"]["student ONNX int8"] - figures["accuracy"]["student"]) < 0.1


def test_report_for_a_regressor_and_a_precomputed_teacher():
    X, y = make_friedman1(300, random_state=0)
    reg = DistilledRegressor(Ridge(), max_epochs=10, random_state=0).fit(X[:200], y[:200])
    figures = report(reg, X[200:], y[200:], repeats=1, single_repeats=2).to_dict()
    assert figures["R2"]["student"] == pytest.approx(reg.score(X[200:], y[200:]))
    assert figures["parameters / nodes"]["teacher"] == 11  # 10 coefficients + intercept
    pre = DistilledRegressor("precomputed", max_epochs=3).fit(X, y, teacher_predictions=y)
    figures = report(pre, X, y, repeats=1, single_repeats=2).to_dict()
    assert "teacher" not in figures["R2"] and figures["single-row latency ms"]["student"] > 0


def test_model_complexity_counts_nodes_of_boosted_trees():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    gb = GradientBoostingClassifier(n_estimators=3, max_depth=2, random_state=0).fit(X, y)
    count, unit = model_complexity(gb)
    assert unit == "nodes" and count == sum(t.tree_.node_count for t in gb.estimators_.ravel())


def test_plot_history_saves_a_png_and_leaves_the_backend_alone(fitted, tmp_path):
    import matplotlib

    model, _, _ = fitted
    backend = matplotlib.get_backend()
    matplotlib.use("svg")  # as a notebook's inline backend would be: not switched to Agg
    try:
        figure = plot_history(model, tmp_path / "history.png")
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(backend)
    assert (tmp_path / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    loss_axes = figure.axes[0]
    assert [line.get_label() for line in loss_axes.lines] == ["train_loss", "valid_loss"]
    assert len(loss_axes.lines[0].get_xdata()) == len(model[-1].student_.history)


def test_progress_bar_can_be_switched_on(iris):
    X, y = iris
    err = io.StringIO()
    with redirect_stderr(err):
        make_fast(callbacks=[ProgressBar()], max_epochs=2, n_iter_no_change=None,
                  student_preprocessor=None).fit(X, y)  # one student, one bar
    # the bar knows each epoch's length from the batch loader: 135 training rows in batches of
    # 32 (batch_size="auto" on a small set) and 15 validation rows: 5 + 1 batches
    assert err.getvalue().count("| 0/6 [") == 2


def test_report_and_plot_take_any_pipeline_and_note_what_onnx_cannot_convert(tmp_path):
    from sklearn.datasets import load_iris
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    from skdistill import DistilledClassifier

    X, y = load_iris(return_X_y=True)
    from test_export import Halve

    model = make_pipeline(
        MinMaxScaler(), PCA(3),
        DistilledClassifier(LogisticRegression(), max_epochs=3, random_state=0),
    ).fit(X, y)
    table = report(model, X, y, onnx=True, repeats=1, single_repeats=2)
    assert table.columns[2:4] == ["student ONNX", "student ONNX int8"]  # skl2onnx converts it
    assert table.to_dict()["accuracy"]["student ONNX"] == pytest.approx(model.score(X, y))
    model = make_pipeline(
        Halve(), DistilledClassifier(LogisticRegression(), max_epochs=3, random_state=0)
    ).fit(X, y)
    table = report(model, X, y, onnx=True, repeats=1, single_repeats=2)
    assert table.columns == ["teacher", "student", "teacher / student"]
    assert table.notes and "no ONNX columns" in table.notes[0] and "Halve" in table.notes[0]
    assert "note: no ONNX columns" in str(table)
    assert table.to_dict()["accuracy"]["student"] == pytest.approx(model.score(X, y))
    figure = plot_history(model, tmp_path / "history.png")
    assert (tmp_path / "history.png").exists() and len(figure.axes) == 2


def test_a_teacher_with_more_classes_than_the_student_is_reported():
    from sklearn.datasets import load_iris
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    teacher = FrozenEstimator(LogisticRegression(max_iter=500).fit(X, y))  # three classes
    two = y < 2
    clf = make_fast(teacher=teacher, student_preprocessor=None).fit(X[two], y[two])
    figures = report(clf, X[two], y[two], repeats=1, single_repeats=2).to_dict()
    assert figures["accuracy"]["teacher"] == pytest.approx(teacher.score(X[two], y[two]))
    assert figures["log loss"]["teacher"] > 0


def test_sparse_or_integer_rows_are_reported_and_exported_as_the_fit_read_them(tmp_path):
    import onnxruntime
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    from skdistill import DistilledClassifier, export_onnx, onnx_inputs

    rng = np.random.RandomState(0)
    counts = rng.randint(0, 10, size=(60, 4))  # integers: the file still takes float32
    y = (counts[:, 0] > 4).astype(int)
    for X in (counts, sp.csr_matrix(counts)):
        model = DistilledClassifier(LogisticRegression(), max_epochs=2, random_state=0).fit(X, y)
        figures = report(model, X, y, onnx=True, repeats=1, single_repeats=1).to_dict()
        assert figures["accuracy"]["student ONNX"] == pytest.approx(
            figures["accuracy"]["student"])
        session = onnxruntime.InferenceSession(export_onnx(model, tmp_path / "m.onnx", X=X))
        assert [inp.type for inp in session.get_inputs()] == ["tensor(float)"]
        _, proba = session.run(None, onnx_inputs(session, X))
        np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-5)


def test_unlabelled_rows_are_left_out_of_the_report_as_score_leaves_them():
    from sklearn.linear_model import LogisticRegression

    X, y = make_friedman1(n_samples=120, random_state=0)
    partial = y.copy()
    partial[::2] = np.nan
    reg = DistilledRegressor(Ridge(), max_epochs=2, random_state=0).fit(X, partial)
    figures = report(reg, X, partial, repeats=1, single_repeats=1).to_dict()
    assert figures["R2"]["student"] == pytest.approx(reg.score(X[1::2], y[1::2]))
    labels = (X[:, 0] > 0.5).astype(int)
    labels[::3] = -1
    clf = make_fast(LogisticRegression(), unlabeled_label=-1, max_epochs=2).fit(X, labels)
    figures = report(clf, X, labels, repeats=1, single_repeats=1).to_dict()
    assert figures["accuracy"]["student"] == pytest.approx(clf.score(X, labels))


def test_plot_history_draws_a_regressors_held_out_r2():
    from sklearn.datasets import make_regression
    from sklearn.linear_model import Ridge

    X, y = make_regression(120, 4, random_state=0)
    model = DistilledRegressor(Ridge(), max_epochs=4, random_state=0).fit(X, y)
    figure = plot_history(model)
    assert [axes.get_title() for axes in figure.axes] == ["loss", "validation R2"]
    (line,) = figure.axes[1].get_lines()
    assert line.get_label() == "valid_r2"
    np.testing.assert_allclose(line.get_ydata(), model.student_.history[:, "valid_r2"])


def test_a_file_onnxruntime_cannot_load_is_a_note_that_says_why(fitted, monkeypatch):
    import onnxruntime
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail

    def no_locale(path, providers=None):  # as on a machine without the en_US.UTF-8 locale
        raise Fail("Failed to construct locale with name:en_US.UTF-8:locale::facet::_S_create"
                   "_c_locale name not valid:Please install necessary language-pack-XX\n")

    model, X, y = fitted
    monkeypatch.setattr(onnxruntime, "InferenceSession", no_locale)
    table = report(model, X, y, onnx=True, repeats=1, single_repeats=1)
    assert table.columns == ["teacher", "student", "teacher / student"]
    assert table.notes == [
        "no ONNX columns: onnxruntime cannot load the exported file: Failed to construct "
        "locale with name:en_US.UTF-8:locale::facet::_S_create_c_locale name not valid:Please "
        "install necessary language-pack-XX. Export it yourself with the C locale, "
        "options={TfidfVectorizer: {'locale': 'C'}} (see the deployment guide)."]
