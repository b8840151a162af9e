"""The teacher-versus-student report: quality, size and speed side by side.

``report(estimator, X, y)`` measures on held-out rows what distillation bought:
how close the student is to the teacher (accuracy or R², log loss, agreement),
how much smaller it is (parameters or tree nodes, serialized bytes) and how
much faster (``predict_proba`` on a 10 000-row batch, and on one row). With
``onnx=True`` the student is also exported to ONNX, float and int8, and timed
in onnxruntime: distillation and quantization together are what gets a model
onto a phone.
"""

import os
import pickle
import statistics
import tempfile
import timeit

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.base import is_classifier
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score
from sklearn.pipeline import Pipeline

from ..deploy._export import export_onnx, final_distiller, onnx_inputs
from ..teachers._adapters import EstimatorTeacher, as_teacher, flattened

__all__ = ["DistillationReport", "report"]


def _median_seconds(fn, repeats):
    fn()  # warm-up
    return statistics.median(timeit.repeat(fn, number=1, repeat=repeats))


def model_complexity(model):
    """``(count, unit)``: a tree model's nodes, else learned parameters; (None, "") if unknown.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> model_complexity(LogisticRegression().fit([[0.0], [1.0]], [0, 1]))
    (2, 'parameters')
    """
    import torch
    from sklearn.frozen import FrozenEstimator

    if isinstance(model, FrozenEstimator):
        model = model.estimator
    if isinstance(model, torch.nn.Module):
        return sum(p.numel() for p in model.parameters()), "parameters"
    if hasattr(model, "module_") and isinstance(model.module_, torch.nn.Module):
        return model_complexity(model.module_)
    if hasattr(model, "tree_"):
        return int(model.tree_.node_count), "nodes"
    if hasattr(model, "_predictors"):  # HistGradientBoosting
        return sum(len(p.nodes) for stage in model._predictors for p in stage), "nodes"
    if hasattr(model, "estimators_"):
        trees = np.ravel(np.asarray(model.estimators_, dtype=object))
        if len(trees) and all(hasattr(t, "tree_") for t in trees):
            return sum(int(t.tree_.node_count) for t in trees), "nodes"
    if hasattr(model, "support_vectors_"):
        return int(model.support_vectors_.size + model.dual_coef_.size), "parameters"
    if hasattr(model, "coef_"):
        return int(np.size(model.coef_) + np.size(getattr(model, "intercept_", 0))), "parameters"
    return None, ""


class DistillationReport:
    """Teacher and student side by side; print it, or take ``to_dict()`` / ``to_frame()``.

    :func:`report` builds it; there is no need to build one yourself.

    Parameters
    ----------
    rows : dict
        ``{metric: {column: value}}``; columns are ``teacher``, ``student``,
        optionally ``student ONNX`` and ``student ONNX int8``, and ``teacher / student``.
    columns : list of str
        The columns, in the order printed.
    notes : sequence of str, default=()
        What was left out and why (printed under the table).

    See Also
    --------
    report : Measures the figures.

    Examples
    --------
    >>> table = DistillationReport({"accuracy": {"teacher": 0.98, "student": 0.97}},
    ...                            ["teacher", "student"])
    >>> table.to_dict()
    {'accuracy': {'teacher': 0.98, 'student': 0.97}}
    >>> print(table)
    metric    teacher  student
    --------  -------  -------
    accuracy     0.98     0.97
    """

    def __init__(self, rows, columns, notes=()):
        self.rows = rows
        self.columns = columns
        self.notes = list(notes)

    def to_dict(self):
        """The figures as ``{metric: {column: value}}``.

        Returns
        -------
        figures : dict
            Missing values are None.
        """
        return {metric: dict(values) for metric, values in self.rows.items()}

    def to_frame(self):
        """The figures as a pandas DataFrame.

        Returns
        -------
        frame : pandas.DataFrame
            One row per metric, one column per model.
        """
        import pandas as pd

        return pd.DataFrame.from_dict(self.to_dict(), orient="index")[self.columns]

    def __str__(self):
        table = [["metric", *self.columns]]
        for metric, values in self.rows.items():
            table.append([metric, *(_format(values.get(c)) for c in self.columns)])
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        lines = [
            "  ".join(cell.rjust(w) if i else cell.ljust(w)
                      for i, (cell, w) in enumerate(zip(row, widths)))
            for row in table
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines + [f"note: {note}" for note in self.notes])

    def __repr__(self):
        return f"DistillationReport(\n{self}\n)"


def _format(value):
    if value is None:
        return "n/a"
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if isinstance(value, str):
        return value
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def report(estimator, X, y, *, onnx=False, batch_rows=10_000, repeats=5, single_repeats=200):
    """Compare a fitted distiller's student with its teacher on held-out rows.

    Parameters
    ----------
    estimator : DistilledClassifier, DistilledRegressor or Pipeline ending with one
        The fitted model.
        Preprocessing steps are applied before both models, and timed for both.
    X : array-like or DataFrame of shape (n_samples, n_features)
        Held-out rows, as the estimator takes them.
    y : array-like of shape (n_samples,)
        Their targets; rows marked unlabelled (a regressor's NaN, a
        classifier's ``unlabeled_label``) are left out, as ``score`` leaves them.
    onnx : bool, default=False
        Also export the student to ONNX (float and int8) and time it in onnxruntime.
        A model :func:`export_onnx` cannot convert gets no ONNX columns and a
        note saying why (``notes``); everything else is reported.
    batch_rows : int, default=10_000
        Rows of the batch-latency measurement (X is repeated or cut to this size).
    repeats : int, default=5
        Timed repetitions of the batch call; the median is reported.
    single_repeats : int, default=200
        Timed repetitions of the single-row call; the median is reported.

    Returns
    -------
    DistillationReport
        The figures; print it for a table.

    See Also
    --------
    plot_history : The training history.
    export_onnx : The ONNX file the report times.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill import DistilledClassifier, report
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DistilledClassifier(RandomForestClassifier(20, random_state=0), max_epochs=5,
    ...                           random_state=0).fit(X, y)
    >>> figures = report(clf, X, y, repeats=1, single_repeats=3).to_dict()
    >>> figures["parameters / nodes"]["student"]  # 4 features read as 68 numbers
    4227
    >>> sorted(figures["accuracy"])
    ['student', 'teacher', 'teacher / student']
    """
    distiller = final_distiller(estimator)
    X, y, _ = distiller._labelled_only(X, y, None)  # unlabelled rows: as score leaves them
    classifier = is_classifier(distiller)
    preprocess = None
    if isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
        preprocess = Pipeline(estimator.steps[:-1])
    teacher = distiller.teacher_
    X_raw = X if hasattr(X, "columns") or sp.issparse(X) else np.asarray(X)
    y = np.asarray(y)

    def teacher_input(rows):
        return preprocess.transform(rows) if preprocess is not None else rows

    student_scores = estimator.predict_proba if classifier else estimator.predict
    teacher_predict, teacher_proba, teacher_classes = _teacher_methods(
        teacher, classifier, getattr(distiller, "classes_", None), teacher_input
    )
    teacher_scores = teacher_proba or teacher_predict

    columns = ["teacher", "student"]
    rows = {}
    student_pred = estimator.predict(X_raw)
    teacher_pred = None if teacher is None else _one_per_row(teacher_predict(X_raw))
    if classifier:
        rows["accuracy"] = {"student": accuracy_score(y, student_pred)}
        student_proba = estimator.predict_proba(X_raw)
        rows["log loss"] = {"student": log_loss(y, student_proba, labels=distiller.classes_)}
        if teacher is not None:
            rows["accuracy"]["teacher"] = accuracy_score(y, teacher_pred)
            if teacher_proba is not None:
                proba = np.clip(teacher_proba(X_raw), 1e-15, 1)
                rows["log loss"]["teacher"] = log_loss(y, proba, labels=teacher_classes)
            agreement = float(np.mean(student_pred == teacher_pred))
            rows["agreement with teacher"] = {"student": agreement}
    else:
        rows["R2"] = {"student": r2_score(y, student_pred)}
        rows["RMSE"] = {"student": float(np.sqrt(mean_squared_error(y, student_pred)))}
        if teacher is not None:
            rows["R2"]["teacher"] = r2_score(y, teacher_pred)
            rows["RMSE"]["teacher"] = float(np.sqrt(mean_squared_error(y, teacher_pred)))
            rows["R2 of student vs teacher"] = {"student": r2_score(teacher_pred, student_pred)}

    student_count, student_unit = model_complexity(distiller.student_.module_)
    teacher_count, teacher_unit = model_complexity(teacher) if teacher is not None else (None, "")
    rows["parameters / nodes"] = {"student": student_count, "teacher": teacher_count}
    rows["counted as"] = {"student": student_unit, "teacher": teacher_unit or None}
    pruned = getattr(distiller, "pruning_", None)
    if pruned:  # measured at fit time, on the raw module
        for label, key in (("parameters", "parameters"), ("weight bytes", "bytes"),
                           ("single-row forward ms", "latency_ms")):
            rows[f"student {label}, before / after pruning"] = {
                "student": f"{_format(pruned[key + '_before'])} / {_format(pruned[key + '_after'])}"
            }
    rows["serialized bytes"] = {"student": len(pickle.dumps(distiller.student_.module_))}
    if teacher is not None:
        rows["serialized bytes"]["teacher"] = len(pickle.dumps(teacher))

    batch = _take_rows(X_raw, batch_rows)
    single = _take_rows(X_raw, 1)
    rows[f"batch latency ms ({batch_rows:,} rows)"] = {
        "student": 1e3 * _median_seconds(lambda: student_scores(batch), repeats)
    }
    rows["single-row latency ms"] = {
        "student": 1e3 * _median_seconds(lambda: student_scores(single), single_repeats)
    }
    if teacher_scores is not None:
        rows[f"batch latency ms ({batch_rows:,} rows)"]["teacher"] = 1e3 * _median_seconds(
            lambda: teacher_scores(batch), repeats
        )
        rows["single-row latency ms"]["teacher"] = 1e3 * _median_seconds(
            lambda: teacher_scores(single), single_repeats
        )

    notes = []
    if onnx:
        try:
            columns += _add_onnx_columns(rows, estimator, distiller, X_raw, y, batch, single,
                                         batch_rows, repeats, single_repeats, teacher_pred)
        except ValueError as exc:  # a pipeline export_onnx cannot convert
            notes.append(f"no ONNX columns: {exc}")
    columns.append("teacher / student")
    ratio_metrics = ("serialized bytes", "parameters / nodes", "single-row latency ms",
                     f"batch latency ms ({batch_rows:,} rows)", "accuracy", "R2")
    for metric in ratio_metrics:
        values = rows.get(metric, {})
        if values.get("teacher") is not None and values.get("student"):
            values["teacher / student"] = values["teacher"] / values["student"]
    return DistillationReport(rows, columns, notes)


def _teacher_methods(teacher, classifier, classes, transform):
    """``(predict, predict_proba or None, the probabilities' classes)`` of the fitted teacher.

    On the rows given to report; ``transform`` is the pipeline's
    preprocessing. A scikit-learn teacher is called directly (images and
    sequences flattened, as in ``fit``; its probabilities in its own classes);
    a torch module or skorch net through the adapter ``fit`` read it with, its
    logits turned into probabilities of ``classes``. Nones without a teacher.
    """
    if teacher is None:
        return None, None, None
    adapter = as_teacher(teacher)
    if isinstance(adapter, EstimatorTeacher):
        proba = getattr(teacher, "predict_proba", None) if classifier else None
        return (
            lambda rows: teacher.predict(flattened(transform(rows))),
            None if proba is None else lambda rows: proba(flattened(transform(rows))),
            getattr(teacher, "classes_", None),
        )
    if not classifier:
        return lambda rows: adapter.predictions(transform(rows))[:, 0], None, None

    def proba(rows):
        return softmax(adapter.logits(transform(rows), classes), axis=1)

    return lambda rows: classes[proba(rows).argmax(axis=1)], proba, classes


def _take_rows(X, n):
    """``n`` rows of ``X`` (a frame, a sparse matrix, numbers or documents), repeated as
    needed."""
    if hasattr(X, "iloc") or sp.issparse(X):
        reps = -(-n // X.shape[0])
        if sp.issparse(X):
            return sp.vstack([X] * reps, format="csr")[:n]
        import pandas as pd

        return pd.concat([X] * reps).iloc[:n]
    X = np.asarray(X)
    return np.resize(X, (n, *X.shape[1:]))  # rows of numbers, or documents


def _add_onnx_columns(rows, estimator, distiller, X, y, batch, single, batch_rows, repeats,
                      single_repeats, teacher_pred):
    import onnxruntime

    columns = []
    with tempfile.TemporaryDirectory() as folder:
        for label, int8 in (("student ONNX", False), ("student ONNX int8", True)):
            path = export_onnx(estimator, os.path.join(folder, f"{int8}.onnx"), X=X, int8=int8)
            session = _session(onnxruntime, path)
            column = 1 if is_classifier(distiller) else 0  # probabilities / variable

            def run(rows, session=session, column=column):
                return session.run(None, onnx_inputs(session, rows))[column]

            out = run(X)
            if is_classifier(distiller):
                pred = distiller.classes_[out.argmax(axis=1)]
                rows["accuracy"][label] = accuracy_score(y, pred)
                rows["log loss"][label] = log_loss(
                    y, np.clip(out, 1e-15, 1), labels=distiller.classes_
                )
                if teacher_pred is not None:
                    rows["agreement with teacher"][label] = float(np.mean(pred == teacher_pred))
            else:
                out = out[:, 0]
                rows["R2"][label] = r2_score(y, out)
                rows["RMSE"][label] = float(np.sqrt(mean_squared_error(y, out)))
            rows["serialized bytes"][label] = os.path.getsize(path)
            rows[f"batch latency ms ({batch_rows:,} rows)"][label] = 1e3 * _median_seconds(
                lambda: run(batch), repeats)
            rows["single-row latency ms"][label] = 1e3 * _median_seconds(
                lambda: run(single), single_repeats)
            columns.append(label)
    return columns


def _session(onnxruntime, path):
    """An onnxruntime session of the file at ``path``; a ValueError that says why where
    onnxruntime cannot load it (a text model's file asks for a locale the machine may lack)."""
    try:
        return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's own exception types: Fail, InvalidGraph, ...
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = (" Export it yourself with the C locale, options={TfidfVectorizer: {'locale': "
                "'C'}} (see the deployment guide)." if "locale" in reason else "")
        raise ValueError(f"onnxruntime cannot load the exported file: {reason}.{hint}") from exc


def _one_per_row(predictions):
    """A teacher's predictions as one value per row: CatBoost's multiclass ``predict`` gives a
    column, which compared with the student's labels would broadcast to a square."""
    predictions = np.asarray(predictions)
    one_column = predictions.ndim == 2 and predictions.shape[1] == 1
    return predictions.ravel() if one_column else predictions
