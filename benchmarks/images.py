"""Distilling convolutional networks on images made from scikit-learn's digits.

Parts, torch on one thread for every contender:

1. Digits as 8x8 images: a ConvNet teacher (widths 64, 128) trained by a hand-written loop,
   distilled through the plain call ``DistilledClassifier(teacher, student_module=ConvNet,
   module__widths=(8, 16))`` and compared with the same student on the labels alone
   (``alpha=0``): test accuracy, parameters, bytes of the weights, one-image latency of
   ``predict_proba`` and of the exported ONNX file, over --seeds splits.
2. A harder task (``image_tasks.shifted_digits``: digits placed at random on 16x16 canvases,
   half turned, noise): a ConvNet teacher (32, 64, 64) and a tiny student (4, 8, 16), trained
   on the labels alone and distilled from the teacher's logits at several T, over --seeds
   seeds, with feature terms (FitNets hints, attention transfer) beside the logits, and with
   a fresh Mixup of the training images each epoch labelled by the teacher (function
   matching), and the plain call with its default student: how much of the gap between the
   labels-only student and the teacher distillation closes.
3. With ``--patient EPOCHS`` instead: function matching on the harder task trained for a
   fixed number of epochs without early stopping, on a fresh ``Mixup`` or a fresh ``Shift``
   (moved by up to --max-shift pixels, then mixed) each epoch, beside the labels-only student
   given the same epochs, and given images moved the same way (not mixed) with their labels
   (``benchmarks/results/images_patient.md``; the seeds run in parallel processes).
4. Per-epoch time of the distiller's student against a hand-written torch loop doing the same
   work (same module, batches, Adam and distillation loss on precomputed teacher logits).

Saves the tables to ``benchmarks/results/images.md``.

Run:  python benchmarks/images.py            (about 25 minutes on 2 cores)
"""

import argparse
import io
import multiprocessing
import os
import statistics
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import onnxruntime
import torch
from image_tasks import (
    ConvNet,
    accuracy,
    digits_images,
    gap_table,
    n_parameters,
    shifted_digits,
    train_on_labels,
)
from results_log import machine
from sklearn.model_selection import train_test_split

from skdistill import (
    DistillationLoss,
    DistilledClassifier,
    FeatureDistillation,
    Mixup,
    Shift,
    export_onnx,
)

RESULTS = Path(__file__).parent / "results" / "images.md"
PATIENT_RESULTS = RESULTS.with_name("images_patient.md")
BLOCKS = [(f"features.{i}", f"features.{i}") for i in (2, 5, 8)]  # after each pooling
FEATURES = {
    "hints on the middle block": FeatureDistillation(BLOCKS[1:2], kind="hint", weight=1.0),
    "attention on every block": FeatureDistillation(BLOCKS, kind="attention", weight=100.0),
}
"""The feature terms tried beside the logits on the harder task (teacher and student share
the block structure, so their layers pair by name)."""
PATIENT_TEACHER = "teacher ConvNet (32, 64, 64)"
PATIENT_ALONE = "student (4, 8, 16), labels alone (alpha=0)"
PATIENT_SHIFTED_ALONE = ("student (4, 8, 16), labels alone, hand-written loop, with a copy of the "
                         "images moved by up to")
PLAIN_CALL = "plain call DistilledClassifier(teacher): its default student, ConvStudent (8, 16)"


def weight_bytes(module):
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def median_seconds(fn, repeats=200):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def distil(teacher, X, y, widths, seed, **params):
    return DistilledClassifier(teacher, student_module=ConvNet, module__widths=widths,
                               random_state=seed, **params).fit(X, y)


def digits_part(seeds):
    X, y = digits_images()
    runs = []
    for seed in range(seeds):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=seed, stratify=y)
        teacher = train_on_labels(X_train, y_train, widths=(64, 128), epochs=40, seed=seed)
        student = distil(teacher, X_train, y_train, (8, 16), seed)
        alone = distil(teacher, X_train, y_train, (8, 16), seed, alpha=0.0)
        runs.append((accuracy(teacher, X_test, y_test), student.score(X_test, y_test),
                     alone.score(X_test, y_test)))
    one = X_test[:1]
    with tempfile.TemporaryDirectory() as folder:
        session = onnxruntime.InferenceSession(export_onnx(student, os.path.join(folder, "s.onnx")))
        onnx_ms = 1e3 * median_seconds(lambda: session.run(None, {"X": one}))
    api_ms = 1e3 * median_seconds(lambda: student.predict_proba(one))
    with torch.inference_mode():
        teacher_ms = 1e3 * median_seconds(lambda: teacher(torch.as_tensor(one)))
    teacher_acc, student_acc, alone_acc = (statistics.mean(r[i] for r in runs) for i in range(3))
    module = student.student_.module_
    return [
        f"Digits as 8x8 images, {seeds} splits (75 % train), mean test accuracy:",
        "",
        "| model | parameters | weight bytes | test accuracy | of the teacher | one image, ms |",
        "|---|---|---|---|---|---|",
        f"| teacher ConvNet (64, 128) | {n_parameters(teacher):,} | {weight_bytes(teacher):,} "
        f"| {teacher_acc:.4f} | 100 % | {teacher_ms:.3f} (module) |",
        f"| student ConvNet (8, 16), distilled (defaults) | {n_parameters(module):,} "
        f"| {weight_bytes(module):,} | {student_acc:.4f} | {100 * student_acc / teacher_acc:.1f} % "
        f"| {api_ms:.3f} (predict_proba), {onnx_ms:.3f} (ONNX) |",
        f"| same student, labels alone (alpha=0) | {n_parameters(module):,} "
        f"| {weight_bytes(module):,} | {alone_acc:.4f} | {100 * alone_acc / teacher_acc:.1f} % | |",
        "",
        f"The student is {n_parameters(teacher) / n_parameters(module):.0f}x smaller than the "
        "teacher.",
    ]


def shifted_part(seeds, temperatures):
    rows = {}
    for seed in range(seeds):
        X_train, X_test, y_train, y_test = shifted_digits(seed=seed)
        teacher = train_on_labels(X_train, y_train, widths=(32, 64, 64), epochs=30, seed=seed)
        rows.setdefault("teacher ConvNet (32, 64, 64)", []).append(
            (accuracy(teacher, X_test, y_test), n_parameters(teacher)))
        contenders = {"student (4, 8, 16), labels alone (alpha=0)": dict(alpha=0.0)}
        for T in temperatures:
            contenders[f"student (4, 8, 16), logits, T={T:g}, alpha=0.7"] = dict(T=T, alpha=0.7)
        for name, features in FEATURES.items():
            contenders[f"student (4, 8, 16), logits T=4 + {name}"] = dict(
                T=4.0, alpha=0.7, feature_distillation=features)
        contenders["student (4, 8, 16), logits, alpha=0.9 + fresh Mixup each epoch"] = dict(
            alpha=0.9, transfer_set=Mixup(n_copies=1, fresh_each_epoch=True, random_state=seed))
        contenders[PLAIN_CALL] = {}
        for name, params in contenders.items():
            if name == PLAIN_CALL:
                clf = DistilledClassifier(teacher, random_state=seed).fit(X_train, y_train)
            else:
                clf = distil(teacher, X_train, y_train, (4, 8, 16), seed, **params)
            rows.setdefault(name, []).append(
                (clf.score(X_test, y_test), n_parameters(clf.student_.module_), clf.n_iter_))
            print(name, seed, rows[name][-1], flush=True)
    return [
        f"Shifted, turned and noised digits on 16x16 canvases, {seeds} seeds, mean test "
        "accuracy; gap closed = (student - labels alone) / (teacher - labels alone):",
        "",
        *gap_table(rows, "teacher ConvNet (32, 64, 64)",
                   "student (4, 8, 16), labels alone (alpha=0)"),
    ]


def patient_seed(seed, epochs, max_shift):
    """One seed of ``patient_part``: ``{name: (accuracy, parameters[, epochs])}``."""
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    X_train, X_test, y_train, y_test = shifted_digits(seed=seed)
    teacher = train_on_labels(X_train, y_train, widths=(32, 64, 64), epochs=30, seed=seed)
    rows = {PATIENT_TEACHER: (accuracy(teacher, X_test, y_test), n_parameters(teacher))}
    patient = dict(n_iter_no_change=None, max_epochs=epochs)
    contenders = {
        PATIENT_ALONE: dict(alpha=0.0),
        f"{PATIENT_ALONE}, {epochs} epochs": dict(alpha=0.0, **patient),
        f"student (4, 8, 16), alpha=1, T=1, fresh Mixup each epoch, {epochs} epochs": dict(
            alpha=1.0, transfer_set=Mixup(n_copies=1, fresh_each_epoch=True,
                                          random_state=seed), **patient),
        f"student (4, 8, 16), alpha=1, T=1, fresh Shift(max_shift={max_shift}, "
        f"concentration=0.4) each epoch, {epochs} epochs": dict(
            alpha=1.0, transfer_set=Shift(max_shift=max_shift, concentration=0.4,
                                          fresh_each_epoch=True, random_state=seed),
            **patient),
    }
    for name, params in contenders.items():
        clf = distil(teacher, X_train, y_train, (4, 8, 16), seed, **params)
        rows[name] = (clf.score(X_test, y_test), n_parameters(clf.student_.module_), clf.n_iter_)
        print(name, seed, rows[name], flush=True)
    by_hand = train_on_labels(X_train, y_train, widths=(4, 8, 16), epochs=epochs,
                              batch_size=256, seed=seed, max_shift=max_shift)
    rows[f"{PATIENT_SHIFTED_ALONE} {max_shift} pixels each epoch, {epochs} epochs"] = (
        accuracy(by_hand, X_test, y_test), n_parameters(by_hand), epochs)
    return rows


def patient_part(seeds, epochs, max_shift):
    """Function matching trained patiently: fresh transfer images each epoch, no early stopping.

    Beyer et al. (2022) find that a student matching its teacher on fresh augmentations
    keeps improving for many epochs; early stopping on the labels ends it long before.
    The labels-only student gets the same number of epochs, and images moved the same way
    (not mixed) with their labels, by a hand-written loop (the distillers train on labels
    only for the rows given) on every training image (the distillers hold 10 % out).
    Seeds run in parallel processes, one torch thread each.
    """
    rows = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(seeds, os.cpu_count()), mp_context=context) as pool:
        for by_seed in pool.map(patient_seed, range(seeds), [epochs] * seeds,
                                [max_shift] * seeds):
            for name, result in by_seed.items():
                rows.setdefault(name, []).append(result)

    def mean(name):
        return statistics.mean(r[0] for r in rows[name])

    names = list(rows)
    patient_alone, matching, shifted_alone = names[2], names[-2], names[-1]

    def closed(student, base):
        return 100 * (mean(student) - mean(base)) / (mean(PATIENT_TEACHER) - mean(base))

    return [
        f"Shifted, turned and noised digits on 16x16 canvases, {seeds} seeds, mean test "
        "accuracy; function matching trained without early stopping; gap closed = (student - "
        "labels alone) / (teacher - labels alone), labels alone with the default early stopping:",
        "",
        *gap_table(rows, PATIENT_TEACHER, PATIENT_ALONE),
        "",
        f"Against the labels-only student trained for the same {epochs} epochs, function "
        f"matching on moved and mixed images closes {closed(matching, patient_alone):.0f} % of "
        "the gap; against the labels-only student trained on images moved the same way (not "
        f"mixed) for as long, {closed(matching, shifted_alone):.0f} %.",
    ]


def epoch_part():
    X_train, _, y_train, _ = shifted_digits(seed=0)
    teacher = train_on_labels(X_train, y_train, widths=(32, 64, 64), epochs=2)
    clf = DistilledClassifier(teacher, student_module=ConvNet, module__widths=(4, 8, 16), T=4.0,
                              alpha=0.7, max_epochs=6, validation_fraction=None,
                              batch_size=256, random_state=0).fit(X_train, y_train)
    ours = statistics.median(e["dur"] for e in clf.student_.history[1:])
    with torch.inference_mode():
        logits = teacher(torch.as_tensor(X_train))
    module = ConvNet(X_train.shape[1:], 10, (4, 8, 16))
    optimizer = torch.optim.Adam(module.parameters(), 3e-3)
    criterion = DistillationLoss(T=4.0, alpha=0.7)
    inputs, labels = torch.as_tensor(X_train), torch.as_tensor(y_train)
    times = []
    for _ in range(6):
        start = time.perf_counter()
        for batch in torch.randperm(len(labels)).split(256):
            optimizer.zero_grad()
            criterion(module(inputs[batch]), logits[batch], labels[batch]).backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    by_hand = statistics.median(times[1:])
    return [
        "Per-epoch time on the harder task's 8,088 training images, batch 256, T=4, "
        "alpha=0.7 (median of 5 epochs):",
        "",
        "| training | seconds per epoch | ratio |",
        "|---|---|---|",
        f"| DistilledClassifier | {ours:.3f} | {ours / by_hand:.2f}x |",
        f"| hand-written torch loop | {by_hand:.3f} | 1.00x |",
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 4.0])
    parser.add_argument("--patient", type=int, metavar="EPOCHS", default=None,
                        help="only measure function matching trained for EPOCHS epochs "
                             "(saved to images_patient.md; about 7 minutes a seed per 100)")
    parser.add_argument("--max-shift", type=int, default=3,
                        help="with --patient: the largest move of the Shift transfer set")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    if args.patient:
        lines = [
            f"Command: python3 benchmarks/images.py --seeds {args.seeds} --patient {args.patient} "
            f"--max-shift {args.max_shift}",
            f"Machine: {machine('one thread')}",
            "",
            *patient_part(args.seeds, args.patient, args.max_shift),
        ]
        PATIENT_RESULTS.write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
        return
    lines = [
        f"Command: python3 benchmarks/images.py --seeds {args.seeds}",
        f"Machine: {machine('one thread')}",
        "",
    ]
    parts = (lambda: digits_part(args.seeds),
             lambda: shifted_part(args.seeds, args.temperatures), epoch_part)
    for measure in parts:
        part = measure()
        lines += part + [""]
        print("\n".join(part), flush=True)
    RESULTS.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
