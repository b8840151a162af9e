"""What a teacher is asked for: logits for a classifier's student, predictions for a regressor's.

:class:`LogitOutputs` and :class:`PredictionOutputs` turn a teacher adapter's
answers into the array a student trains on (float32 logits; float64
predictions, scaled later), cross-fit them, and judge
whether they beat chance. :func:`fit_and_score` is the cacheable unit that
fits a teacher and reads its outputs; it depends on the classes only, never
on the student's settings, so one cache entry serves a whole grid over ``T``
and ``alpha``.
"""

import numpy as np
from sklearn.utils import _safe_indexing

__all__ = ["LogitOutputs", "PredictionOutputs", "fit_and_score"]


class LogitOutputs:
    """The teacher's logits, one column per class of the student.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        The student's labels, in its column order.

    Examples
    --------
    >>> import numpy as np
    >>> asked = LogitOutputs(np.array(["a", "b"]))
    >>> asked.teacher_score(np.array([[2.0, 0.0], [0.0, 1.0]]), np.array([0, 0]))
    (0.5, 1.0, 'accuracy')
    """

    def __init__(self, classes):
        self.classes = classes

    def outputs(self, teacher, X):
        """The teacher's logits for ``X`` (float32)."""
        return teacher.logits(X, self.classes).astype(np.float32)

    def out_of_fold(self, teacher, X, y, cv, sample_weight):
        """Cross-fitted logits of the rows of ``X`` (float32)."""
        return teacher.out_of_fold_logits(X, y, self.classes, cv, sample_weight).astype(np.float32)

    @staticmethod
    def teacher_score(outputs, target):
        """``(accuracy of the teacher's argmax, majority-class rate, "accuracy")``."""
        accuracy = float(np.mean(np.argmax(outputs, axis=1) == target))
        majority = float(np.bincount(target).max() / len(target))
        return accuracy, majority, "accuracy"


class PredictionOutputs:
    """The teacher's predictions, one column in the targets' units.

    Examples
    --------
    >>> import numpy as np
    >>> PredictionOutputs.teacher_score(np.array([[1.0], [1.0]]), np.array([0.0, 2.0]))
    (0.0, 0.0, 'R2')
    """

    classes = None

    def outputs(self, teacher, X):
        """The teacher's predictions for ``X`` as a float64 column.

        float64, not float32: targets of any scale are standardised before
        they are rounded to the student's precision (1e40 is past float32).
        """
        return teacher.predictions(X).astype(np.float64)

    def out_of_fold(self, teacher, X, y, cv, sample_weight):
        """Cross-fitted predictions as a float64 column."""
        return teacher.out_of_fold_predictions(X, y, cv, sample_weight).astype(np.float64)

    @staticmethod
    def teacher_score(outputs, target):
        """``(R2 of the teacher's predictions, 0.0 -- the R2 of the mean, "R2")``."""
        target = np.asarray(target, dtype=np.float64)
        residual = np.sum((target - outputs[:, 0]) ** 2)
        total = np.sum((target - target.mean()) ** 2)
        r2 = 1.0 - residual / total if total > 0 else 0.0
        return float(r2), 0.0, "R2"


def fit_and_score(asked, teacher, X, y, labelled, sample_weight, cv):
    """Fit ``teacher`` on the labelled rows; return ``(fitted teacher, outputs for every row)``.

    With ``cv`` set, the labelled rows' outputs are cross-fitted (out of fold).
    A module-level function of hashable arguments, so ``joblib.Memory`` can cache it.

    Parameters
    ----------
    asked : LogitOutputs or PredictionOutputs
    teacher : skdistill.teachers._adapters.Teacher
        The adapter (unfitted for a teacher that refits).
    X : array-like, sparse matrix or DataFrame
        The rows as the caller gave them.
    y : ndarray of shape (n_samples,)
    labelled : bool ndarray of shape (n_samples,)
    sample_weight : None or ndarray of shape (n_samples,)
    cv : None, int or splitter
    """
    rows = np.flatnonzero(labelled)
    every_row = len(rows) == len(y)
    X_lab = X if every_row else _safe_indexing(X, rows)
    y_lab = y[rows]
    w_lab = None if sample_weight is None else sample_weight[rows]
    fitted = teacher.fit(X_lab, y_lab, w_lab)
    outputs = asked.outputs(fitted, X)
    if cv is not None and teacher.refits:
        outputs[rows] = asked.out_of_fold(teacher, X_lab, y_lab, cv, w_lab)
    return fitted, outputs
