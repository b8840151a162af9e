"""
Quickstart: a random forest distilled into a 32-unit network
============================================================

Distil a 200-tree random forest into a 32-unit network on the digits data.

The teacher's soft targets come from its log-probabilities (not a softmax of
its probabilities) and are computed for exactly the rows the student trains on.
It prints the teacher's and the student's test accuracy, their agreement, sizes
and latencies side by side, saves the training history as a PNG, then tunes T and
alpha with GridSearchCV (the teacher fitted once per fold, thanks to memory=).

Run: python examples/distill_digits.py
"""

import pathlib
import sys
import tempfile

from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV, train_test_split

from skdistill import DistilledClassifier, plot_history, report

OUTPUT = pathlib.Path(sys.argv[0]).resolve().parent / "output"  # also under sphinx-gallery


def main():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    with tempfile.TemporaryDirectory() as cache:
        model = DistilledClassifier(  # the student reads its own encoding: no scaler in front
            RandomForestClassifier(n_estimators=200, random_state=0),
            module__hidden_layer_sizes=(32,),
            random_state=0,
            memory=cache,
        )
        model.fit(X_train, y_train)
        print("Teacher (random forest, 200 trees) vs student (MLP, 32 hidden units), test rows:")
        print(report(model, X_test, y_test, onnx=True))

        OUTPUT.mkdir(exist_ok=True)
        plot_history(model, OUTPUT / "digits_history.png")
        print(f"training history saved to {OUTPUT / 'digits_history.png'}")

        grid = {"T": [1.0, 2.0, 4.0], "alpha": [0.0, 0.5, 0.9]}
        search = GridSearchCV(model, grid, cv=3, n_jobs=2).fit(X_train, y_train)
    best = search.best_params_
    print(
        f"GridSearchCV best T={best['T']}, alpha={best['alpha']} "
        f"(cv accuracy {search.best_score_:.4f}); "
        f"test accuracy {search.score(X_test, y_test):.4f}"
    )


if __name__ == "__main__":
    main()
