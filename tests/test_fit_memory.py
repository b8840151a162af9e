"""A fit reads the caller's rows through indices: no full copy of X, and predictions in chunks.

The memory checks run ``benchmarks/fit_memory.py``'s measurement in a fresh
process, on 400,000 x 50 rows: the kernel's high-water mark of resident memory,
reset just before the fit. A full copy of the rows -- by the validation split,
the batches, the float32 conversion or the teacher's outputs -- would add at
least 0.9x the data.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import rng_data

from skdistill import DistilledClassifier
from skdistill.training._data import DistillationDataset

BENCHMARK = Path(__file__).parents[1] / "benchmarks" / "fit_memory.py"


@pytest.mark.slow  # over 5 s
@pytest.mark.parametrize(("dtype", "fit_budget"), [("float32", 0.6), ("float64", 1.0)])
def test_a_fit_costs_less_memory_than_a_copy_of_the_data(dtype, fit_budget):
    out = subprocess.run(
        [sys.executable, str(BENCHMARK), "--worker", f"distilled {dtype}", "--rows", "400000"],
        capture_output=True, text=True, check=True,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    if not figures["exact_peak"]:
        pytest.skip("needs Linux's resettable peak of resident memory")
    fit_share = figures["extra_bytes"] / figures["data_bytes"]
    assert fit_share < fit_budget, f"fit held {fit_share:.2f}x the data on top of it"
    # beside the output, one chunk's work (a full float32 copy alone would be 0.5x or 1x)
    predict_share = figures["predict_extra_bytes"] / figures["data_bytes"]
    assert predict_share < 0.25, f"predict_proba held {predict_share:.2f}x the data"


def test_the_student_trains_on_the_callers_float32_rows_and_parts_share_them():
    X, y = rng_data(n=200)
    X = X.astype(np.float32)
    raw = DistilledClassifier("precomputed", student_preprocessor=None, random_state=0)
    training = raw.fit_teacher(
        X, y, teacher_logits=np.eye(3, dtype=np.float32)[y]
    )
    assert np.shares_memory(training.X, X)
    assert not training.X.flags.writeable  # training never writes the caller's rows
    rows = DistillationDataset.from_arrays(*training.rows)
    train, valid = rows.subset(training.train_idx), rows.subset(training.valid_idx)
    assert train.X is valid.X is rows.X
    assert np.shares_memory(rows.X.numpy(), X)
    batch, _ = train.batch(slice(0, 3))  # a batch is gathered from the caller's rows
    np.testing.assert_array_equal(batch["X"].numpy(), X[training.train_idx[:3]])


def test_zero_weight_rows_are_left_out_by_index_with_the_same_model():
    X, y = rng_data(n=120)
    weights = np.ones(len(y))
    weights[::4] = 0.0
    kept = weights > 0
    settings = dict(teacher="precomputed", max_epochs=3, random_state=0)
    logits = np.eye(3, dtype=np.float32)[y] * 2
    weighted = DistilledClassifier(**settings).fit(X, y, teacher_logits=logits,
                                                   sample_weight=weights)
    dropped = DistilledClassifier(**settings).fit(X[kept], y[kept], teacher_logits=logits[kept])
    training = DistilledClassifier(**settings).fit_teacher(X, y, teacher_logits=logits,
                                                           sample_weight=weights)
    held_or_trained = set(training.train_idx) | set(training.valid_idx)
    assert held_or_trained == set(np.flatnonzero(kept))
    np.testing.assert_array_equal(weighted.predict_proba(X), dropped.predict_proba(X))


def test_predictions_in_chunks_equal_one_pass(monkeypatch):
    X, y = rng_data(n=300)
    clf = DistilledClassifier("precomputed", max_epochs=2, random_state=0).fit(
        X, y, teacher_logits=np.eye(3, dtype=np.float32)[y]
    )
    whole = clf.predict_proba(X), clf.predict_log_proba(X), clf.decision_function(X)
    monkeypatch.setattr("skdistill._estimators._prediction.PREDICT_CHUNK_ROWS", 7)
    chunked = clf.predict_proba(X), clf.predict_log_proba(X), clf.decision_function(X)
    for one, other in zip(whole, chunked):
        np.testing.assert_array_equal(one, other)
    np.testing.assert_allclose(whole[0], torch.softmax(torch.from_numpy(whole[2]), 1).numpy())
