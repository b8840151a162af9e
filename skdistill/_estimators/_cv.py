"""A grid search over a distiller's T, alpha and student width, found faster.

:class:`DistillerGridSearchCV` makes the choice
``GridSearchCV(estimator, param_grid, scoring=scoring, cv=cv)`` makes over a
grid of ``T``, ``alpha`` and ``module__hidden_layer_sizes``, and is used as
``GridSearchCV`` is: one search for every distiller, a classifier or a
regressor as its estimator is. Per fold
the teacher is fitted once (:meth:`~skdistill.DistilledClassifier.fit_teacher`),
and every candidate of one width trains side by side with the others as one
stacked model (:mod:`skdistill.training._candidates`), on the rows,
seed, batches and early stopping a single fit would use, by the engine it
would use -- numpy, or torch on a GPU, with ``solver="torch"`` or a loss the
numpy engine has no gradient of (:mod:`skdistill.stages._search_folds`).
Where that cannot apply -- a student other than a plain
:class:`~skdistill.MLPStudent`
(:func:`~skdistill.training._solver.stacking_obstacle`), sparse rows,
feature distillation, a transfer set, pruning, warm start, callbacks, routed
iterator settings, an optimizer other than Adam or AdamW, or dask rows -- the
candidates are fitted one by one through ``GridSearchCV``, with a warning
that says why.
"""

import time
import warnings

import numpy as np
from scipy.stats import rankdata
from numbers import Integral

from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV, ParameterGrid, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags, indexable
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping
from sklearn.utils.metaestimators import available_if
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from ..stages._alpha import DISTILLED_ALPHA
from ..stages._auto import is_auto
from ..stages._search_folds import fold_scores, one_by_one_reason
from ..stages._targets import stratifiable
from ._base import BaseDistiller
from ._search_scoring import search_metadata, search_scorer, warn_unweighted

__all__ = ["DistillerGridSearchCV"]

SEARCHED = ("T", "alpha", "module__hidden_layer_sizes")
"""The parameters searched side by side (a regressor has no ``T``)."""


def _estimator_has(method):
    """Whether the search's estimator (and so its best estimator) has ``method``."""
    return lambda search: hasattr(search.estimator, method)


class DistillerGridSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Grid search over a distiller's ``T``, ``alpha`` and width, candidates side by side.

    Gives the choice ``GridSearchCV(estimator, param_grid, scoring=scoring,
    cv=cv)`` gives (ties go to the first candidate), then refits the best
    candidate on all rows. The teacher is fitted once per fold, and the
    candidates of one width train side by side as one stacked model (in
    numpy, or through torch where a single fit would train through torch: on
    a GPU, ``solver="torch"``, a loss other than ``"hinton"``). Where they
    cannot (see the module's notes), they are fitted one by one through
    ``GridSearchCV`` and a ``UserWarning`` says why. Like
    ``GridSearchCV`` it is a classifier or a regressor as its estimator is,
    and has the prediction methods its estimator has.

    Parameters
    ----------
    estimator : DistilledClassifier, DistilledRegressor or Pipeline ending in one
        The settings every candidate shares (teacher, epochs, early stopping,
        ``random_state``...). In a Pipeline, the steps before the distiller are
        fitted on each fold's training rows, as ``GridSearchCV`` fits them. A
        classifier's default ``alpha="auto"`` is read as 0.5 by candidates
        trained side by side and by the refit when the grid sets no alpha
        (search ``"alpha": [0.0, 0.5]`` to choose by cross-validation); an
        ``"auto"`` in the grid sends the search through ``GridSearchCV``.
    param_grid : dict or list of dict
        Lists of values for any of ``"T"`` (a classifier's), ``"alpha"`` and
        ``"module__hidden_layer_sizes"`` (prefixed by the last step's name,
        ``"<name>__"``, for a Pipeline); a list of such dicts searches each
        grid, as in ``GridSearchCV``.
    scoring : str, callable or None, default=None
        One metric, as in ``GridSearchCV``; None uses the estimator's
        ``score`` (accuracy, or R2). Several (a list or dict) are refused: the
        search chooses by one.
    cv : int, cross-validation generator or iterable, default=3
        As in ``GridSearchCV`` (an int is a ``StratifiedKFold`` for a
        classifier, a ``KFold`` for a regressor).
    n_jobs : int or None, default=None
        Folds trained in parallel (joblib processes); the one-by-one fallback
        passes it to ``GridSearchCV``.

    Attributes
    ----------
    best_params_ : dict
    best_score_ : float
        Mean cross-validated score of the best candidate.
    best_index_ : int
    best_estimator_ : estimator
        The best candidate refitted on all rows; ``predict`` and friends use it.
    cv_results_ : dict of arrays
        The keys of ``GridSearchCV``'s: ``mean_fit_time``, ``std_fit_time``,
        ``mean_score_time``, ``std_score_time``, ``param_<name>``, ``params``,
        ``split<i>_test_score``, ``mean_test_score``, ``std_test_score`` and
        ``rank_test_score``. Side by side, a candidate's fit time is an
        equal share of its fold's whole time (the teacher's fit, every
        encoding and every width's stack included).
    refit_time_ : float
        Seconds spent refitting the best candidate on all rows.
    scorer_ : callable
        The scorer of the folds and of :meth:`score` (a named metric reads
        the labelled rows only).
    multimetric_ : bool
        False: the search chooses by one metric.
    n_splits_ : int
    side_by_side_ : bool
        True when the candidates trained side by side; False when they were
        fitted one by one through ``GridSearchCV``.
    classes_ : ndarray of shape (n_classes,)
        For a classifier, as the best estimator has them.
    n_features_in_ : int
        As the best estimator has it.

    See Also
    --------
    sklearn.model_selection.GridSearchCV : Any grid, one fit per candidate and fold.
    TrainingSet : What the search trains its candidates on (``fit_teacher``).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skdistill import DistilledClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> search = DistillerGridSearchCV(
    ...     DistilledClassifier(LogisticRegression(max_iter=500), max_epochs=20, random_state=0),
    ...     {"T": [1.0, 3.0], "alpha": [0.3, 0.9]},
    ... ).fit(X, y)
    >>> search.side_by_side_, sorted(search.best_params_), search.predict_proba(X).shape
    (True, ['T', 'alpha'], (150, 3))
    """

    _distiller = BaseDistiller
    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "param_grid": [dict, list],
        "scoring": [None, str, callable, list, tuple, set, dict],
        "cv": ["cv_object"],
        "n_jobs": [None, Integral],
    }

    def __init__(self, estimator, param_grid, *, scoring=None, cv=3, n_jobs=None):
        self.estimator = estimator
        self.param_grid = param_grid
        self.scoring = scoring
        self.cv = cv
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=False)  # the estimator is validated in its fit
    def fit(self, X, y, groups=None, **fit_params):
        """Score every candidate by cross-validation, then refit the best on all rows.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            The training rows, as the estimator's ``fit`` takes them.
        y : array-like of shape (n_samples,)
            Their labels (or targets).
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group splitter (``cv=GroupKFold(5)``), as
            ``GridSearchCV`` takes them; they split the rows (with metadata
            routing on, they also reach an estimator that requests them).
        **fit_params : dict
            Passed to the estimator's ``fit`` (``sample_weight``, precomputed
            teacher outputs), split with the rows of each fold; for a
            Pipeline, routed by step name as ``Pipeline.fit`` routes them
            (``distilledclassifier__sample_weight=w``). ``sample_weight``
            also reaches the scorer where it takes weights. With
            scikit-learn's metadata routing on, each goes where the
            estimator, the scorer and the splitter request it, as in
            ``GridSearchCV``.

        Returns
        -------
        self : object
            The fitted search.
        """
        distiller, prefix = self._final_distiller()
        candidates = self._candidates(prefix)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X, y = indexable(X, y)
        y = np.asarray(y)
        scorer = search_scorer(self, self.estimator, distiller)
        estimator_params, score_params, split_params = search_metadata(
            self, scorer, groups, fit_params)
        labels = stratifiable(y, getattr(distiller, "unlabeled_label", None))
        folds = list(check_cv(self.cv, labels, classifier=is_classifier(self)).split(
            X, labels, **split_params))
        reason = one_by_one_reason(distiller, X)
        if any(is_auto(candidate.get(prefix + "alpha")) for candidate in candidates):
            reason = "alpha='auto' chooses inside each fit"
        results = None
        if reason is None:
            valid = _valid_candidates(self.estimator, candidates)
            per_fold = Parallel(n_jobs=self.n_jobs)(
                delayed(fold_scores)(
                    self.estimator, prefix, X, y, estimator_params, score_params, train, test,
                    [candidates[i] for i in valid], scorer,
                )
                for train, test in folds
            )
            reason = next((r for r in per_fold if isinstance(r, str)), None)
            if reason is None:
                results = _results(candidates, _with_failures(per_fold, valid, len(candidates)))
                warn_unweighted(self, scorer, fit_params, score_params)  # else GridSearchCV's
        self.side_by_side_ = results is not None
        if results is None:
            warnings.warn(
                f"{type(self).__name__} cannot train these candidates side by side ({reason}); "
                "it fits them one by one through GridSearchCV.",
                UserWarning,
            )
            search = GridSearchCV(  # the folds are made: the rest of the metadata, as given
                self.estimator, self.param_grid, cv=folds,
                scoring=None if self.scoring is None else scorer,
                n_jobs=self.n_jobs, refit=False,
            ).fit(X, y, **fit_params)
            results = search.cv_results_
        self.n_splits_ = len(folds)
        self.cv_results_ = results
        self.best_index_ = int(np.argmin(results["rank_test_score"]))
        self.best_params_ = results["params"][self.best_index_]
        self.best_score_ = float(results["mean_test_score"][self.best_index_])
        started = time.perf_counter()
        best = clone(self.estimator).set_params(**self.best_params_)
        if self.side_by_side_ and is_auto(getattr(distiller, "alpha", None)) and (
                prefix + "alpha" not in self.best_params_):
            best.set_params(**{prefix + "alpha": DISTILLED_ALPHA})  # as its folds were scored
        self.best_estimator_ = best.fit(X, y, **estimator_params)
        self.refit_time_ = time.perf_counter() - started
        self.scorer_, self.multimetric_ = scorer, False
        if is_classifier(self):
            self.classes_ = self.best_estimator_.classes_
        if hasattr(self.best_estimator_, "n_features_in_"):  # a Pipeline may not say
            self.n_features_in_ = self.best_estimator_.n_features_in_
        if hasattr(self.best_estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.best_estimator_.feature_names_in_
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        estimator = get_tags(self.estimator)
        tags.estimator_type = estimator.estimator_type  # a classifier or a regressor, as it is
        tags.input_tags = estimator.input_tags  # what the estimator reads
        tags.target_tags = estimator.target_tags
        tags.classifier_tags = estimator.classifier_tags
        tags.regressor_tags = estimator.regressor_tags
        return tags

    def predict(self, X):
        """Predictions of ``best_estimator_``.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            The rows to predict, as ``fit`` took them.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Classes, or predicted targets.
        """
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    def score(self, X, y, sample_weight=None):
        """``scoring`` of ``best_estimator_`` on ``X``, ``y`` (its own ``score`` without one).

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            Held-out rows.
        y : array-like of shape (n_samples,)
            Their targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, passed to the scorer.

        Returns
        -------
        score : float
            The score; higher is better, as for every scikit-learn scorer.
        """
        check_is_fitted(self)
        if self.scoring is None:
            return self.best_estimator_.score(X, y, sample_weight=sample_weight)
        if sample_weight is None:
            return self.scorer_(self.best_estimator_, X, y)
        return self.scorer_(self.best_estimator_, X, y, sample_weight=sample_weight)

    def get_metadata_routing(self):
        """Where the metadata given to ``fit`` go when scikit-learn routes metadata.

        As ``GridSearchCV`` routes them: to the estimator's ``fit``, the
        scorer and the splitter, as each requests them.

        Returns
        -------
        routing : MetadataRouter
            The estimator's, the scorer's and the splitter's requests.
        """
        scorer = search_scorer(self, self.estimator, self._final_distiller()[0])
        router = MetadataRouter(owner=self)
        router.add(estimator=self.estimator,
                   method_mapping=MethodMapping().add(caller="fit", callee="fit"))
        router.add(scorer=scorer, method_mapping=MethodMapping()
                   .add(caller="score", callee="score").add(caller="fit", callee="score"))
        router.add(splitter=self.cv,
                   method_mapping=MethodMapping().add(caller="fit", callee="split"))
        return router

    def _final_distiller(self):
        """``(the distiller, the prefix of its parameters)``: itself, or a Pipeline's last step."""
        estimator, prefix = self.estimator, ""
        if isinstance(estimator, Pipeline):
            name, estimator = estimator.steps[-1]
            prefix = f"{name}__"
        if not isinstance(estimator, self._distiller):
            wanted = (
                "DistilledClassifier or DistilledRegressor" if self._distiller is BaseDistiller
                else self._distiller.__name__
            )
            raise TypeError(
                f"{type(self).__name__} needs a {wanted} (or a Pipeline ending in one) as "
                f"estimator; got {type(self.estimator).__name__}. Use GridSearchCV for other "
                "estimators."
            )
        return estimator, prefix

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from ``best_estimator_``.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            The rows to predict, as ``fit`` took them.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """The decision function of ``best_estimator_`` (its logits).

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            The rows to score, as ``fit`` took them.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            As :meth:`DistilledClassifier.decision_function` gives them.
        """
        check_is_fitted(self)
        return self.best_estimator_.decision_function(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from ``best_estimator_``.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
            The rows to predict, as ``fit`` took them.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        return self.best_estimator_.predict_log_proba(X)

    def _candidates(self, prefix):
        distiller, _ = self._final_distiller()
        own = SEARCHED if is_classifier(distiller) else SEARCHED[1:]
        searched = [prefix + name for name in own]
        grids = [self.param_grid] if isinstance(self.param_grid, dict) else self.param_grid
        if not grids or not all(isinstance(grid, dict) and grid for grid in grids):
            raise ValueError(
                f"param_grid must be a non-empty dict of lists over {searched} (or a list of "
                f"such dicts); got {self.param_grid!r}."
            )
        for grid in grids:
            other = sorted(set(grid) - set(searched))
            if other:
                raise ValueError(
                    f"{type(self).__name__} searches {searched}; param_grid also names "
                    f"{other}. Search those with GridSearchCV."
                )
            for name, values in grid.items():
                if isinstance(values, str) or not hasattr(values, "__len__") or not len(values):
                    raise ValueError(
                        f"param_grid[{name!r}] must be a non-empty list of values; got "
                        f"{values!r}."
                    )
        return list(ParameterGrid(grids))


def _valid_candidates(estimator, candidates):
    """Indices of the candidates whose parameters pass validation.

    The others are not trained: they score NaN, with a ``FitFailedWarning``, as
    ``GridSearchCV`` scores a fit that fails (``error_score=np.nan``).
    """
    valid, failures = [], []
    for index, params in enumerate(candidates):
        model = clone(estimator).set_params(**params)
        distiller = model[-1] if isinstance(model, Pipeline) else model
        try:
            distiller._validate_params()
        except ValueError as exc:
            failures.append(f"{params}: {exc}")
        else:
            valid.append(index)
    if not valid:
        raise ValueError(f"Every candidate has invalid parameters: {'; '.join(failures)}")
    if failures:
        warnings.warn(
            f"{len(failures)} of {len(candidates)} candidates have invalid parameters and "
            f"score NaN: {'; '.join(failures)}",
            FitFailedWarning,
        )
    return valid


def _with_failures(per_fold, valid, n_candidates):
    """Each fold's ``(scores, fit_times, score_times)`` over all candidates, NaN for the invalid."""
    expanded = []
    for fold in per_fold:
        arrays = [np.full(n_candidates, np.nan), np.zeros(n_candidates), np.zeros(n_candidates)]
        for full, part in zip(arrays, fold):
            full[valid] = part
        expanded.append(arrays)
    return expanded


def _results(candidates, per_fold):
    """``cv_results_`` with ``GridSearchCV``'s keys, from the folds' scores and times."""
    scores = np.column_stack([fold[0] for fold in per_fold])
    fit_times = np.column_stack([fold[1] for fold in per_fold])
    score_times = np.column_stack([fold[2] for fold in per_fold])
    results = {
        "mean_fit_time": fit_times.mean(axis=1),
        "std_fit_time": fit_times.std(axis=1),
        "mean_score_time": score_times.mean(axis=1),
        "std_score_time": score_times.std(axis=1),
    }
    for name in sorted({name for params in candidates for name in params}):
        column = np.ma.MaskedArray(np.empty(len(candidates), dtype=object), mask=True)
        for index, params in enumerate(candidates):
            if name in params:
                column[index] = params[name]
        results[f"param_{name}"] = column
    results["params"] = candidates
    for split in range(scores.shape[1]):
        results[f"split{split}_test_score"] = scores[:, split]
    results["mean_test_score"] = scores.mean(axis=1)
    results["std_test_score"] = scores.std(axis=1)
    means = np.nan_to_num(results["mean_test_score"], nan=-np.inf)  # a failed fit ranks last
    results["rank_test_score"] = rankdata(-means, method="min").astype(np.int32)
    return results
