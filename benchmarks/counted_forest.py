"""A random forest that counts its fits in a file (workers of n_jobs=2 share the count).

Kept in its own importable module rather than in a script's ``__main__``, so that
worker processes can unpickle it and ``joblib.Memory`` can hash it.
"""

from sklearn.ensemble import RandomForestClassifier


class CountedForest(RandomForestClassifier):
    """A random forest that appends a line to ``log_path`` at each fit."""

    def __init__(self, n_estimators=300, log_path=None, random_state=0):
        super().__init__(n_estimators=n_estimators, random_state=random_state, n_jobs=1)
        self.log_path = log_path

    def fit(self, X, y, **kwargs):
        with open(self.log_path, "a") as handle:
            handle.write("fit\n")
        return super().fit(X, y, **kwargs)
