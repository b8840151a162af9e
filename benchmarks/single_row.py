"""Prediction latency and artefact size of a distilled student, side by side.

A 32-unit student distilled on digits (64 features, 10 classes) from a 200-tree random
forest, once per candidate encoding of ``student_preprocessor="auto"`` (``"scale"``:
standardised; ``"both"``: standardised and piecewise-linear, 16 bins), each fitted alone.
Prints the pickle of the full model, of ``strip_teacher(model)`` and the student's weight
bytes; then, on one row and on 10,000 rows (medians, one thread for every contender; the
contenders of a line timed in turn within every repeat, their ratio the median of the repeats'
ratios, so that a drift of a shared machine's speed leaves it):

* ``predict_proba`` against calling the raw torch module (``student_.module_``, in
  ``torch.inference_mode``) on the same rows already encoded (``predict_proba`` encodes them
  itself, with the torch encoding the student carries); goals: one row at most 3x, 10,000 rows
  at most 1.2x;
* the file ``export_onnx`` writes (the encoding is its first nodes) against the network alone
  exported to ONNX with the same outputs (softmax probabilities and the argmax) and fed the
  encoded rows, both run by onnxruntime; goal: at most 2x on 10,000 rows.

On 10,000 rows, also the teacher's ``predict_proba`` (the 200-tree forest, one thread);
goal: the student well below it.

Then one row of a mixed DataFrame (4 numeric columns, one with missing values; 3 categorical:
strings, strings with missing values, a pandas category) through the default student's
``predict_proba`` (the frame read into numbers and category codes, encoded by torch) against the
same call through the scikit-learn encoder it was fitted as, and against its teacher, a
``HistGradientBoostingClassifier`` reading the categories from the dtypes; goals: at most
1 ms and 0.2x the teacher. And 10,000 such rows through its exported file (one input per
column, fed by ``onnx_inputs``) against the network alone fed the encoded rows; goal: at most 2x.

Saves what it prints to ``benchmarks/results/single_row.txt``.

Run:  python benchmarks/single_row.py
"""

import io
import os
import pickle
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import onnxruntime
import pandas as pd
import torch
from results_log import machine
from sklearn.datasets import load_digits
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

import skdistill._estimators._prediction as prediction
import skdistill.stages._encoding as encoding_stage
from skdistill import DistilledClassifier, export_onnx, onnx_inputs, strip_teacher

RESULTS = Path(__file__).parent / "results" / "single_row.txt"


def side_by_side(fns, repeats, inner):
    """``(medians, ratios)``: each of ``fns``' median seconds per call, and the median over
    repeats of its time / the first one's. Every repeat times each in turn (``inner`` calls),
    so a drift of the machine's speed moves the contenders alike and leaves their ratios."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for own, fn in zip(times, fns):
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            own.append((time.perf_counter() - start) / inner)
    ratios = [statistics.median(b / a for a, b in zip(times[0], own)) for own in times]
    return [statistics.median(own) for own in times], ratios


def median_seconds(fn, repeats, inner):
    """Median seconds per call of ``fn`` (``inner`` calls per repeat)."""
    return side_by_side([fn], repeats, inner)[0][0]


def session(model_bytes):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def fitted(encoding, X, y):
    """The model with ``encoding`` as the only candidate of ``"auto"``."""
    candidates = encoding_stage.CANDIDATE_ENCODINGS
    encoding_stage.CANDIDATE_ENCODINGS = (encoding,)
    try:
        return DistilledClassifier(
            RandomForestClassifier(200, random_state=0), module__hidden_layer_sizes=(32,),
            random_state=0,
        ).fit(X, y)
    finally:
        encoding_stage.CANDIDATE_ENCODINGS = candidates


class WithOutputs(torch.nn.Module):
    """A classifier's network with the outputs its exported file gives: the label position
    and the probabilities (the file's label lookup and input conversion aside)."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, X):
        probabilities = torch.softmax(self.module(X), dim=1)
        return torch.argmax(probabilities, dim=1), probabilities


def network_alone(module, width):
    """The student's network (no encoding) as an onnxruntime session reading encoded rows,
    giving the labels' positions and the probabilities as the exported file does."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            WithOutputs(module), (torch.zeros(2, width),), dynamo=True, input_names=["X"],
            dynamic_shapes=({0: torch.export.Dim("batch", min=1)},), verbose=False,
        )
    buffer.write(program.model_proto.SerializeToString())
    return session(buffer.getvalue())


def main():
    lines = [
        "Command: python3 benchmarks/single_row.py",
        "Machine: " + machine(f"onnxruntime {onnxruntime.__version__}",
                              "one thread for every contender"),
    ]

    def say(line):
        print(line, flush=True)
        lines.append(line)

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    rng = np.random.RandomState(0)
    for encoding in ("scale", "both"):
        model = fitted(encoding, X, y)
        module = model.student_.module_.eval()
        weights = sum(p.numel() * p.element_size() for p in module.parameters())
        width = model.n_student_features_
        say("")
        say(f"student reads {encoding!r}: 64 features -> {width} -> 32 -> 10; pickle: full "
            f"model {len(pickle.dumps(model)):,} bytes, strip_teacher(model) "
            f"{len(pickle.dumps(strip_teacher(model))):,} bytes, student weights "
            f"{weights:,} bytes")
        with tempfile.TemporaryDirectory() as folder:
            path = export_onnx(model, os.path.join(folder, "student.onnx"))
            whole = session(Path(path).read_bytes())
        alone = network_alone(module, width)
        for label, n_rows, repeats, inner in (
            ("1 row", 1, 15, 2000), ("10,000 rows", 10_000, 15, 5)
        ):
            batch = X[rng.randint(0, len(X), n_rows)]
            encoded = model.student_preprocessor_.transform(batch).astype(np.float32)
            as_tensor = torch.as_tensor(encoded)

            def raw():
                with torch.inference_mode():
                    return torch.softmax(module(as_tensor), dim=1).numpy()

            np.testing.assert_allclose(model.predict_proba(batch), raw(), atol=1e-5)
            feed = {"X": batch.astype(np.float32)}
            np.testing.assert_allclose(whole.run(None, feed)[1], raw(), atol=1e-5)
            (t_raw, t_est), (_, est_ratio) = side_by_side(
                [raw, lambda: model.predict_proba(batch)], repeats, inner)
            (t_alone, t_whole), (_, whole_ratio) = side_by_side(
                [lambda: alone.run(None, {"X": encoded}), lambda: whole.run(None, feed)],
                repeats, inner)
            say(f"  {label:12s} raw module {t_raw * 1e6:9.1f} us   predict_proba "
                f"{t_est * 1e6:9.1f} us   ratio {est_ratio:.2f}x")
            say(f"  {label:12s} ONNX network alone {t_alone * 1e6:9.1f} us   exported file "
                f"{t_whole * 1e6:9.1f} us   ratio {whole_ratio:.2f}x")
            if n_rows > 1:
                (t_teacher, _), (_, student_share) = side_by_side(
                    [lambda: model.teacher_.predict_proba(batch),
                     lambda: model.predict_proba(batch)], repeats, inner)
                say(f"  {label:12s} teacher (200-tree forest) predict_proba "
                    f"{t_teacher * 1e6:9.1f} us   student / teacher {student_share:.2f}x")
    frame_row(say)
    RESULTS.write_text("\n".join(lines) + "\n")


def mixed_frame(n=3000, seed=0):
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame({
        "a": rng.normal(size=n), "b": rng.normal(size=n),
        "c": np.where(rng.rand(n) < 0.1, np.nan, rng.normal(size=n)),
        "d": rng.randint(0, 9, n).astype(float),
        "s1": pd.Categorical(rng.choice(list("abcde"), n)),
        "s2": pd.Categorical(rng.choice(["x", "y", None], n)),
        "s3": pd.Categorical(rng.choice(["p", "q", "r"], n)),
    })
    y = ((frame["a"] > 0) ^ (frame["s1"] == "a") ^ (frame["c"] > 0.5)).astype(int).to_numpy()
    return frame, y


def frame_row(say):
    """One row of a mixed DataFrame: torch's encoding, scikit-learn's encoder, the teacher."""
    frame, y = mixed_frame()
    teacher = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    model = DistilledClassifier(teacher, random_state=0).fit(frame, y)
    row = frame.iloc[:1]
    torch_encoding = prediction.encodable_rows

    def through_sklearn(X):
        prediction.encodable_rows = lambda encoder, X: (None, None)  # the scikit-learn encoder
        try:
            return model.predict_proba(X)
        finally:
            prediction.encodable_rows = torch_encoding

    np.testing.assert_allclose(model.predict_proba(frame), through_sklearn(frame), atol=1e-5)
    (t_torch, t_sklearn, t_teacher), (_, _, teacher_ratio) = side_by_side(
        [lambda: model.predict_proba(row), lambda: through_sklearn(row),
         lambda: model.teacher_.predict_proba(row)], 15, 200)
    say("")
    say(f"one row of a mixed DataFrame (4 numeric, 3 categorical columns; the student reads "
        f"{model.student_encoding_!r}):")
    say(f"  predict_proba {t_torch * 1e6:8.0f} us   through the scikit-learn encoder "
        f"{t_sklearn * 1e6:8.0f} us   teacher {t_teacher * 1e6:8.0f} us   student / teacher "
        f"{1 / teacher_ratio:.2f}x")
    rows, _ = mixed_frame(n=10_000, seed=1)
    with tempfile.TemporaryDirectory() as folder:
        path = export_onnx(model, os.path.join(folder, "student.onnx"), X=frame.iloc[:5])
        whole = session(Path(path).read_bytes())
    feed = onnx_inputs(whole, rows)
    np.testing.assert_allclose(whole.run(None, feed)[1], model.predict_proba(rows), atol=1e-5)
    encoded = model.student_preprocessor_.transform(rows).astype(np.float32)
    alone = network_alone(model.student_.module_.eval(), encoded.shape[1])
    (t_alone, t_whole), (_, whole_ratio) = side_by_side(
        [lambda: alone.run(None, {"X": encoded}), lambda: whole.run(None, feed)], 15, 5)
    say(f"  10,000 rows  ONNX network alone {t_alone * 1e6:9.1f} us   exported file "
        f"{t_whole * 1e6:9.1f} us   ratio {whole_ratio:.2f}x")


if __name__ == "__main__":
    main()
