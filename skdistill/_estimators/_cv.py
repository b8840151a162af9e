"""DistilledClassifierCV: T, alpha and the student's width chosen by cross-validation.

Like ``LogisticRegressionCV`` next to ``GridSearchCV``: the same choice as
``GridSearchCV(estimator, param_grid, cv=cv)`` over a grid of ``T``, ``alpha``
and ``module__hidden_layer_sizes``, found faster. Per fold the teacher is
fitted once, and every candidate of one width trains side by side with the
others as one stacked model (see :mod:`skdistill.training._numpy._candidates`), on the rows,
seed, batches, early stopping and scoring (accuracy) a single fit would use.
Where that does not apply -- a student other than the built-in MLP, dropout,
another loss or optimizer, a transfer set, pruning, weights, callbacks,
sparse rows -- the candidates are fitted one by one through ``GridSearchCV``
and ``side_by_side_`` says so.
"""

import copy
import warnings
from collections import defaultdict

import numpy as np
import scipy.sparse as sp
import torch
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, ParameterGrid, check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_is_fitted

from ..students._mlp import build_student
from ..teachers._adapters import as_teacher
from ..training._data import DistillationDataset
from ..training._numpy._candidates import train_side_by_side
from ..training._solver import numpy_obstacle
from ..transfer._dask import is_dask_collection
from ._classifier import DistilledClassifier
from ._training import STUDENT_TRAINING, auto_batch_size

__all__ = ["DistilledClassifierCV"]

SEARCHED = ("T", "alpha", "module__hidden_layer_sizes")
"""The parameters DistilledClassifierCV searches."""


class DistilledClassifierCV(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """A :class:`DistilledClassifier` with ``T``, ``alpha`` and width chosen by cross-validation.

    Gives the choice ``GridSearchCV(estimator, param_grid, cv=cv)`` gives
    (accuracy, ties to the first candidate), then refits the best candidate on
    all rows. The teacher is fitted once per fold, and the candidates of one
    width train side by side as one stacked model.

    Parameters
    ----------
    estimator : DistilledClassifier
        The settings every candidate shares (teacher, epochs, early stopping,
        ``random_state``...).
    param_grid : dict
        Lists of values for ``"T"``, ``"alpha"`` and
        ``"module__hidden_layer_sizes"`` (any of them).
    cv : int, cross-validation generator or iterable, default=3
        As in ``GridSearchCV`` (an int is a ``StratifiedKFold``).

    Attributes
    ----------
    best_params_ : dict
    best_score_ : float
        Mean cross-validated accuracy of the best candidate.
    best_index_ : int
    best_estimator_ : DistilledClassifier
        The best candidate refitted on all rows; ``predict`` and friends use it.
    cv_results_ : dict of arrays
        ``params``, ``param_<name>``, ``split<i>_test_score``,
        ``mean_test_score``, ``std_test_score`` and ``rank_test_score``, as in
        ``GridSearchCV``.
    n_splits_ : int
    side_by_side_ : bool
        True when the candidates trained side by side; False when the
        estimator's settings needed ``GridSearchCV``'s one-by-one fits.
    classes_ : ndarray

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> search = DistilledClassifierCV(
    ...     DistilledClassifier(LogisticRegression(max_iter=500), max_epochs=20, random_state=0),
    ...     {"T": [1.0, 3.0], "alpha": [0.3, 0.9]},
    ... ).fit(X, y)
    >>> search.side_by_side_, sorted(search.best_params_)
    (True, ['T', 'alpha'])
    """

    def __init__(self, estimator, param_grid, *, cv=3):
        self.estimator = estimator
        self.param_grid = param_grid
        self.cv = cv

    def fit(self, X, y):
        """Score every candidate by cross-validation, then refit the best on all rows."""
        candidates = self._candidates()
        y = np.asarray(y)
        cv = check_cv(self.cv, y, classifier=True)
        folds = list(cv.split(X, y))
        reason = self._one_by_one_reason(X)
        scores = None
        if reason is None:
            try:
                scores = np.column_stack(
                    [self._fold_scores(X, y, train, test, candidates) for train, test in folds]
                )
            except _OneByOne as obstacle:
                reason = str(obstacle)
        self.side_by_side_ = scores is not None
        if scores is None:
            warnings.warn(
                f"DistilledClassifierCV cannot train these candidates side by side ({reason}); "
                "it fits them one by one through GridSearchCV.",
                UserWarning,
            )
            search = GridSearchCV(clone(self.estimator), self.param_grid, cv=folds).fit(X, y)
            scores = np.column_stack(
                [search.cv_results_[f"split{i}_test_score"] for i in range(len(folds))]
            )
        self.n_splits_ = len(folds)
        self.cv_results_ = _results(candidates, scores)
        self.best_index_ = int(self.cv_results_["rank_test_score"].argmin())
        self.best_params_ = candidates[self.best_index_]
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_).fit(X, y)
        self.classes_ = self.best_estimator_.classes_
        return self

    def predict(self, X):
        """Labels predicted by ``best_estimator_``."""
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    def predict_proba(self, X):
        """Class probabilities from ``best_estimator_``."""
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X)

    def predict_log_proba(self, X):
        """Log class probabilities from ``best_estimator_``."""
        check_is_fitted(self)
        return self.best_estimator_.predict_log_proba(X)

    # ---------------------------------------------------------------- helpers
    def _candidates(self):
        if not isinstance(self.estimator, DistilledClassifier):
            raise TypeError(
                "DistilledClassifierCV needs a DistilledClassifier as estimator; got "
                f"{type(self.estimator).__name__}. Use GridSearchCV for other estimators."
            )
        if not isinstance(self.param_grid, dict) or not self.param_grid:
            raise ValueError(
                f"param_grid must be a non-empty dict of lists over {list(SEARCHED)}; got "
                f"{self.param_grid!r}."
            )
        other = sorted(set(self.param_grid) - set(SEARCHED))
        if other:
            raise ValueError(
                f"DistilledClassifierCV searches {list(SEARCHED)}; param_grid also names "
                f"{other}. Search those with GridSearchCV."
            )
        for name, values in self.param_grid.items():
            if isinstance(values, str) or not hasattr(values, "__len__") or not len(values):
                raise ValueError(
                    f"param_grid[{name!r}] must be a non-empty list of values; got {values!r}."
                )
        return list(ParameterGrid(self.param_grid))

    def _one_by_one_reason(self, X):
        """Why the candidates cannot train side by side (a string), or None."""
        model = self.estimator
        checks = {
            "solver='torch'": model.solver == "torch",
            "a transfer set": model.transfer_set is not None,
            "pruning": model.pruning is not None,
            "warm_start": model.warm_start,
            "callbacks": bool(model.callbacks),
            "class weights": model.class_weight is not None,
            "an optimizer that is not Adam or AdamW": model.optimizer
            not in (torch.optim.Adam, torch.optim.AdamW),
            "routed iterator or callback parameters": any(
                model._routed_params(prefix)
                for prefix in ("iterator_train", "iterator_valid", "callbacks")
            ),
            "dask X": is_dask_collection(X),
        }
        return next((reason for reason, applies in checks.items() if applies), None)

    def _fold_scores(self, X, y, train, test, candidates):
        """Each candidate's accuracy on ``test`` after training on ``train``."""
        model = clone(self.estimator)
        model._validate_params()
        model._check_extra_params()
        task = model._task_class.for_estimator(model)
        teacher = as_teacher(model.teacher)
        teacher.check(task.name)
        training = model._student_training_set(
            task, teacher, _safe_indexing(X, train), y[train], None, None
        )
        X_rows, outputs, target, _ = training.rows
        device = model._check_device()
        rows = DistillationDataset(
            torch.from_numpy(X_rows), torch.from_numpy(outputs), torch.from_numpy(target)
        ).to(device)
        train_rows = torch.utils.data.Subset(rows, training.train_idx)
        valid_rows = None
        if training.valid_idx is not None:
            valid_rows = torch.utils.data.Subset(rows, training.valid_idx)
        test_rows = torch.from_numpy(model._validate_predict_data(_safe_indexing(X, test)))
        optimizer_params = {
            **{k.removeprefix("optimizer__"): v for k, v in model._fused_optimizer().items()},
            **model._routed_params("optimizer"),
        }
        scores = np.empty(len(candidates))
        for hidden, members in _by_width(candidates).items():
            module_params = model._routed_params("module")
            if hidden is not None:
                module_params["hidden_layer_sizes"] = hidden
            with STUDENT_TRAINING, torch.random.fork_rng(devices=_cuda(device)):
                torch.manual_seed(training.seed)
                student = build_student(
                    model.student_module, module_params, model.n_student_features_,
                    task.n_outputs, task.name,
                ).to(device)
                obstacle = numpy_obstacle(
                    student, task.criterion(), model.optimizer(student.parameters(), lr=model.lr),
                    sp.issparse(X_rows),
                )
                if obstacle is not None:
                    raise _OneByOne(obstacle)
                students = [copy.deepcopy(student) for _ in members]
                train_side_by_side(
                    students,
                    [candidates[i].get("T", model.T) for i in members],
                    [candidates[i].get("alpha", model.alpha) for i in members],
                    train_rows, valid_rows,
                    max_epochs=model.max_epochs,
                    batch_size=auto_batch_size(model.batch_size, len(train_rows)),
                    optimizer=lambda params: model.optimizer(
                        params, lr=model.lr, **optimizer_params
                    ),
                    seed=training.seed,
                    patience=model.n_iter_no_change,
                )
            with torch.no_grad():
                for index, student in zip(members, students):
                    logits = student.eval()(test_rows.to(device))
                    predicted = model.classes_[logits.argmax(dim=1).cpu().numpy()]
                    scores[index] = accuracy_score(y[test], predicted)
        return scores


class _OneByOne(Exception):
    """The student or its rows turned out not to suit side-by-side training; says why."""


def _cuda(device):
    return [device] if device.type == "cuda" else []


def _by_width(candidates):
    """Candidate indices grouped by their searched hidden layer sizes (None: not searched)."""
    groups = defaultdict(list)
    for index, params in enumerate(candidates):
        hidden = params.get("module__hidden_layer_sizes")
        groups[None if hidden is None else tuple(hidden)].append(index)
    return groups


def _results(candidates, scores):
    """``cv_results_`` as GridSearchCV lays it out, for the test scores."""
    results = {"params": candidates}
    for name in sorted({name for params in candidates for name in params}):
        column = np.empty(len(candidates), dtype=object)
        column[:] = [params.get(name) for params in candidates]
        results[f"param_{name}"] = column
    for split in range(scores.shape[1]):
        results[f"split{split}_test_score"] = scores[:, split]
    results["mean_test_score"] = scores.mean(axis=1)
    results["std_test_score"] = scores.std(axis=1)
    results["rank_test_score"] = rankdata(-results["mean_test_score"], method="min").astype(
        np.int32
    )
    return results
