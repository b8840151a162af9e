"""How :class:`~skdistill.DistillerGridSearchCV` scores: its scorer, and the metadata of a fit.

A search scores its candidates as ``GridSearchCV`` does, on the rows that
carry a label (:class:`LabelledRowsScorer`). The metadata given to its ``fit``
reach the estimator, the scorer and the splitter as ``GridSearchCV`` sends
them (:func:`search_metadata`): with scikit-learn's metadata routing on, as
each one requests them (``set_fit_request``, ``set_score_request``); off,
every parameter to the estimator's ``fit`` and ``sample_weight`` to the scorer
too where it takes weights.
"""

import warnings
from inspect import signature

from sklearn import get_config
from sklearn.metrics import check_scoring
from sklearn.utils.metadata_routing import get_routing_for_object, process_routing

__all__ = ["LabelledRowsScorer", "search_metadata", "search_scorer", "takes_sample_weight",
           "warn_unweighted"]


class LabelledRowsScorer:
    """A scorer that reads the rows holding a label, as a distiller's ``score`` does.

    ``scorer``: a scikit-learn scorer; ``distiller``: the estimator whose
    ``unlabeled_label`` (a regressor: NaN) marks the others. A search that
    scores with a named metric scores its folds and itself through one. It
    takes weights, and requests metadata, as ``scorer`` does.
    """

    def __init__(self, scorer, distiller):
        self.scorer = scorer
        self.distiller = distiller

    def __call__(self, estimator, X, y, sample_weight=None, **kwargs):
        X, y, sample_weight = self.distiller._labelled_only(X, y, sample_weight)
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return self.scorer(estimator, X, y, **kwargs)

    def __repr__(self):
        return repr(self.scorer)

    def _accept_sample_weight(self):
        """Whether the scorer takes ``sample_weight``: ``GridSearchCV`` passes it the fit's
        weights only then (scikit-learn's scorers answer this method)."""
        return takes_sample_weight(self.scorer)

    def get_metadata_routing(self):
        """The metadata the scorer requests (scikit-learn's routing)."""
        return get_routing_for_object(self.scorer)


def takes_sample_weight(scorer):
    """Whether ``scorer`` takes ``sample_weight``, as ``GridSearchCV`` judges it: a
    scikit-learn scorer by its metric (or its estimator's ``score``), a function by its
    signature.

    Examples
    --------
    >>> from sklearn.metrics import get_scorer
    >>> takes_sample_weight(get_scorer("accuracy")), takes_sample_weight(lambda m, X, y: 1.0)
    (True, False)
    """
    accepts = getattr(scorer, "_accept_sample_weight", None)
    return accepts() if accepts is not None else "sample_weight" in signature(scorer).parameters


def search_scorer(search, estimator, distiller):
    """``search.scoring``'s scorer of ``estimator``: a named metric reads the rows holding a
    label, as the distiller's own ``score`` (``scoring=None``) does; several metrics are a
    ValueError (the search chooses by one)."""
    if isinstance(search.scoring, (list, tuple, set, dict)):
        raise ValueError(
            f"{type(search).__name__} chooses by one metric; scoring={search.scoring!r} names "
            "several. Pass one (a name or a scorer), or search with GridSearchCV(..., "
            "scoring=[...], refit=<the metric that chooses>)."
        )
    scorer = check_scoring(estimator, search.scoring)
    return scorer if search.scoring is None else LabelledRowsScorer(scorer, distiller)


def search_metadata(search, scorer, groups, params):
    """``(fit parameters, score parameters, split parameters)`` of ``search.fit(X, y,
    groups, **params)``, as ``GridSearchCV`` sends them.

    With metadata routing on, each goes where the estimator, the scorer and
    the splitter request it (``search.get_metadata_routing()``); off, every
    parameter to the estimator's ``fit``, ``sample_weight`` also to
    ``scorer`` where it takes weights (:func:`warn_unweighted` says when it
    does not), ``groups`` to the splitter.
    """
    if get_config()["enable_metadata_routing"]:
        given = params if groups is None else {**params, "groups": groups}
        routed = process_routing(search, "fit", **given)
        return dict(routed.estimator.fit), dict(routed.scorer.score), dict(routed.splitter.split)
    weights = params.get("sample_weight")
    score_params = {} if weights is None or not takes_sample_weight(scorer) else {
        "sample_weight": weights}
    return dict(params), score_params, {"groups": groups}


def warn_unweighted(search, scorer, fit_params, score_params):
    """``GridSearchCV``'s warning where the fit's weights do not reach a scorer that takes
    none (metadata routing off)."""
    if (fit_params.get("sample_weight") is not None and "sample_weight" not in score_params
            and not get_config()["enable_metadata_routing"]):
        warnings.warn(
            f"The scoring {scorer} does not support sample_weight, which may lead to "
            f"statistically incorrect results when fitting {search} with sample_weight.",
            UserWarning,
        )
