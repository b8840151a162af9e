"""A teacher that appends a line to a file on every fit: counts fits across processes."""

import os

from sklearn.tree import DecisionTreeClassifier


class FileCountingTree(DecisionTreeClassifier):
    def __init__(self, log_path=None, max_depth=3, random_state=0):
        super().__init__(max_depth=max_depth, random_state=random_state)
        self.log_path = log_path

    def fit(self, X, y, **kwargs):
        with open(self.log_path, "a") as handle:
            handle.write(f"{os.getpid()} {len(X)}\n")
        return super().fit(X, y, **kwargs)


def count_fits(path):
    return len(path.read_text().splitlines()) if path.exists() else 0
