"""
A mixed-type DataFrame: a category-native teacher, a one-hot student
====================================================================

Distil a category-native gradient-boosting teacher into a one-hot MLP student.

The teacher (``HistGradientBoostingClassifier(categorical_features="from_dtype")``)
reads a pandas DataFrame with numeric and category columns as it is;
the student, a 32-unit network, reads a one-hot + standardised encoding of the
same rows made by its ``student_preprocessor``. A Munge transfer set draws
extra rows in the DataFrame's own space (nominal values are swapped with a
neighbour's) and the teacher labels them there.

The data are synthetic (generated below: thresholds on numbers chosen by a
category), so nothing is downloaded. The script prints the test accuracy of the
teacher, of the student trained on the labels alone (``alpha=0``) and of the
distilled student, over ``n_seeds`` splits (one by default).

Run: python examples/real_data_mixed.py [n_seeds]
"""

import sys

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skdistill import DistilledClassifier, Munge


def mixed_frame(seed, n_rows=3000):
    """Five numbers, a 30-level 'city' and a 3-level 'plan' (both category columns).

    Which number decides the label depends on the city's (hidden) group, and the
    'pro' plan adds a class above a threshold of a third number; 10% of the
    labels are noise. Trees split on such rules directly; a small network must
    learn them from one-hot columns.
    """
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_rows, 5))
    city = rng.randint(0, 30, n_rows)
    plan = rng.choice(["basic", "plus", "pro"], n_rows)
    group = rng.randint(0, 2, 30)[city]
    label = np.where(group == 1, X[:, 0] > 0.3, X[:, 1] > -0.2).astype(int)
    label += (plan == "pro") & (X[:, 2] > 0.5)
    y = np.where(rng.random_sample(n_rows) < 0.1, rng.randint(0, 3, n_rows), label)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(5)])
    frame["city"] = pd.Categorical([f"city-{c:02d}" for c in city])
    frame["plan"] = pd.Categorical(plan)
    return frame, y


def student_features():
    return ColumnTransformer(
        [
            (
                "nominal",
                OneHotEncoder(handle_unknown="ignore"),
                make_column_selector(dtype_include="category"),
            ),
            ("numeric", StandardScaler(), make_column_selector(dtype_include="number")),
        ]
    )


STUDENTS = {
    "student, labels only (alpha=0)": dict(alpha=0.0),
    "student, defaults (alpha=0.5)": dict(alpha=0.5),
    "student, Munge x2, alpha=0.9": dict(alpha=0.9, transfer_set=Munge(n_copies=2)),
}


def main(n_seeds=1):
    rows = []
    for seed in range(n_seeds):
        X, y = mixed_frame(seed)
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed, stratify=y)
        # trained once, elsewhere, on the raw frame: frozen, never refitted by the distiller
        teacher = HistGradientBoostingClassifier(
            categorical_features="from_dtype", random_state=seed
        )
        teacher = FrozenEstimator(teacher.fit(X_train, y_train))
        scores = {"teacher (gradient boosting)": teacher.score(X_test, y_test)}
        for name, settings in STUDENTS.items():
            student = DistilledClassifier(
                teacher,
                student_preprocessor=student_features(),
                module__hidden_layer_sizes=(32,),
                batch_size=128,
                lr=3e-3,
                max_epochs=100,
                random_state=seed,
                **settings,
            )
            scores[name] = student.fit(X_train, y_train).score(X_test, y_test)
        rows.append(scores)
    table = pd.DataFrame(rows).agg(["mean", "std"] if n_seeds > 1 else ["mean"]).T.round(4)
    seeds = f"{n_seeds} seed" + "s" * (n_seeds > 1)
    print(f"Mixed-type DataFrame, 3 classes, {len(X)} rows, test accuracy over {seeds}:")
    print(table.to_string())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
