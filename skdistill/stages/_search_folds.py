"""One fold of a distiller's cross-validated search: every candidate trained side by side.

:func:`fold_scores` fits the teacher once on the fold's training rows
(:meth:`~skdistill.DistilledClassifier.fit_teacher`), trains the candidates
of each student width as one stacked model
(:func:`~skdistill.training._candidates.train_side_by_side`) on the
rows, seed, batches and early stopping a single fit would use, by the engine
a single fit would use (numpy, or torch: on a GPU, with ``solver="torch"``, or
for a loss the numpy engine has no gradient of), and scores each on the fold's
test rows.
:func:`one_by_one_reason` says why a search cannot train side by side, before
any fit.
"""

import time
import warnings
from collections import defaultdict
from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from sklearn import get_config
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing
from sklearn.utils.metadata_routing import process_routing
from sklearn.utils.validation import _num_samples

from ..training._data import DistillationDataset
from ..training._candidates import train_side_by_side
from ..training._solver import choose_solver, numpy_obstacle, stacking_obstacle
from ..transfer._dask import is_dask_collection
from ._encoding_choice import each_encoding
from ._student import feature_obstacle

__all__ = ["fold_scores", "one_by_one_reason"]


def one_by_one_reason(model, X):
    """Why the candidates cannot train side by side, known before any fit (a phrase), or None."""
    routed = model.get_params(deep=False)
    checks = {
        "a transfer set": model.transfer_set is not None,
        "pruning": model.pruning is not None,
        "warm_start": model.warm_start,
        "callbacks": bool(model.callbacks),
        "an optimizer that is not Adam or AdamW": model.optimizer
        not in (torch.optim.Adam, torch.optim.AdamW),
        "routed iterator or callback parameters": any(
            name.startswith(("iterator_train__", "iterator_valid__", "callbacks__"))
            for name in routed
        ),
        "dask X": is_dask_collection(X),
    }
    return next((reason for reason, applies in checks.items() if applies), None)


def fold_scores(estimator, prefix, X, y, fit_params, score_params, train, test, candidates,
                scorer):
    """Each candidate's score on ``test`` after training on ``train``, and the times.

    ``fit_params`` go to the estimator's ``fit`` (split by step in a
    Pipeline), ``score_params`` to ``scorer``, each split with the rows where
    it has a value per row.
    Returns ``(scores, fit_times, score_times)``, or the reason (a string) why
    the candidates cannot train side by side.
    """
    started = time.perf_counter()
    estimator = clone(estimator)
    X_train, y_train = _safe_indexing(X, train), y[train]
    own, steps = _routed(estimator, fit_params, prefix)
    own_params, steps_params = (
        {name: _rows_of(value, train, len(y)) for name, value in routed.items()}
        for routed in (own, steps)
    )
    if prefix:
        transformers, model = estimator[:-1], estimator[-1]
        X_train = transformers.fit_transform(X_train, y_train, **steps_params)
    else:
        transformers, model = None, estimator
    training = model.fit_teacher(X_train, y_train, **own_params)
    groups, students, unbuilt = _buildable(training, _by_width(candidates, prefix))
    solvers = set()
    for hidden, student in students.items():  # what cannot train side by side: say so first
        sparse_input = sp.issparse(training.X)
        solvers.add(choose_solver(model.solver, numpy_obstacle(  # solver="numpy": its error
            student, training.task.loss_settings, training.new_optimizer(student.parameters()),
            sparse_input,
        ) or feature_obstacle(model)))
        obstacle = stacking_obstacle(student, sparse_input) or feature_obstacle(model)
        if obstacle is not None:
            return obstacle
    solver = "torch" if "torch" in solvers else "numpy"  # one engine for the whole grid
    lowest, fitted = np.full(len(candidates), np.nan), [None] * len(candidates)
    diverged = np.zeros(len(candidates), dtype=bool)
    for _ in each_encoding(training):  # "auto": each candidate keeps its encoding of lower loss
        _train_candidates(
            model, training, groups, candidates, prefix, lowest, fitted, diverged, solver
        )
    if diverged.any():
        warnings.warn(
            f"{diverged.sum()} of {len(candidates)} candidates diverged in training on this "
            "fold and score NaN, as GridSearchCV scores a fit that fails: "
            f"{[candidates[i] for i in np.flatnonzero(diverged)]}. Lower the learning rate "
            f"(lr={model.lr:g}) or standardise the features.",
            FitFailedWarning,
        )
    if unbuilt:
        warnings.warn(
            f"{len(unbuilt)} of {len(candidates)} candidates score NaN, as GridSearchCV scores "
            f"a fit that fails: their student cannot be built. {_reasons(unbuilt)}",
            FitFailedWarning,
        )
    unscored = diverged.copy()
    unscored[list(unbuilt)] = True
    fit_times = np.full(len(candidates), (time.perf_counter() - started) / len(candidates))
    X_test, y_test = _safe_indexing(X, test), y[test]
    test_params = {name: _rows_of(value, test, len(y)) for name, value in score_params.items()}
    scores, score_times = np.empty(len(candidates)), np.empty(len(candidates))
    for index, candidate in enumerate(fitted):
        if unscored[index]:  # nothing to score
            scores[index], score_times[index] = np.nan, 0.0
            continue
        if transformers is not None:
            candidate = Pipeline([*transformers.steps, (estimator.steps[-1][0], candidate)])
        started = time.perf_counter()
        scores[index] = scorer(candidate, X_test, y_test, **test_params)
        score_times[index] = time.perf_counter() - started
    return scores, fit_times, score_times


def _buildable(training, groups):
    """``(groups, students, unbuilt)``: the width groups whose student ``training`` builds,
    a student of each, and ``{candidate index: why not}`` for the others' candidates; a
    ValueError where none builds (as ``GridSearchCV`` raises where every fit fails)."""
    students, unbuilt = {}, {}
    for hidden, members in list(groups.items()):
        try:
            students[hidden] = training.new_student(**_width(hidden))
        except ValueError as exc:
            del groups[hidden]
            unbuilt.update(dict.fromkeys(members, f"hidden_layer_sizes={hidden!r}: {exc}"))
    if not groups:
        raise ValueError(f"No candidate's student can be built. {_reasons(unbuilt)}")
    return groups, students, unbuilt


def _reasons(unbuilt):
    """The distinct reasons of :func:`_buildable`'s ``unbuilt``, one sentence each."""
    return " ".join(dict.fromkeys(unbuilt.values()))


def _train_candidates(model, training, groups, candidates, prefix, lowest, fitted, diverged,
                      solver):
    """Train every candidate on ``training``'s rows, width by width, side by side, by ``solver``.

    A candidate's fitted model goes to ``fitted`` where its held-out label
    loss is lower than the one in ``lowest`` (NaN: none yet; a tie keeps the
    earlier), as ``fit`` chooses among its encodings; one that diverges is
    marked in ``diverged`` (a single fit would fail).
    """
    rows = DistillationDataset.from_arrays(*training.rows).to(torch.device(model.device))
    train_rows = rows.subset(training.train_idx)
    valid_rows = None if training.valid_idx is None else rows.subset(training.valid_idx)
    for hidden, members in groups.items():
        settings = [
            training.task.loss_settings.replace(**_settings(candidates[i], prefix))
            for i in members
        ]
        students = [training.new_student(**_width(hidden)) for _ in members]
        epochs, losses = train_side_by_side(
            students, settings, train_rows, valid_rows,
            max_epochs=model.max_epochs, batch_size=training.batch_size,
            optimizer=training.new_optimizer, seed=training.seed,
            patience=model.n_iter_no_change, solver=solver,
        )
        for index, module, n_iter, loss in zip(members, students, epochs, losses):
            if np.isnan(loss):
                diverged[index] = True
            elif np.isnan(lowest[index]) or loss < lowest[index]:
                lowest[index] = loss
                fitted[index] = training.with_student(module.eval(), int(n_iter))


def _routed(estimator, fit_params, prefix):
    """``(the distiller's fit parameters, the earlier steps' ones)``, as a Pipeline routes them.

    Without a Pipeline (``prefix`` empty) every parameter is the distiller's.
    In one (``estimator``), with scikit-learn's metadata routing on, each
    step's are those it requests; off, ``"<last step>__name"`` is the
    distiller's ``name`` and ``"<step>__name"`` an earlier step's, and an
    unprefixed name is a TypeError, as ``Pipeline.fit`` raises.
    """
    if not prefix:
        return dict(fit_params), {}
    if get_config()["enable_metadata_routing"]:
        own = process_routing(estimator, "fit", **fit_params)[estimator.steps[-1][0]].fit
        earlier = estimator[:-1].get_metadata_routing().consumes("fit_transform", fit_params)
        return dict(own), {name: fit_params[name] for name in earlier}
    unrouted = sorted(name for name in fit_params if "__" not in name)
    if unrouted:
        raise TypeError(
            f"In a Pipeline, fit parameters are routed by the name of their step: pass "
            f"{', '.join(prefix + name + '=...' for name in unrouted)} rather than "
            f"{', '.join(name + '=...' for name in unrouted)}."
        )
    own = {name[len(prefix):]: value for name, value in fit_params.items()
           if name.startswith(prefix)}
    steps = {name: value for name, value in fit_params.items() if not name.startswith(prefix)}
    return own, steps


def _rows_of(value, rows, n_samples):
    """A fit parameter's values for ``rows`` when it has one per sample, else the value."""
    try:
        sample_aligned = _num_samples(value) == n_samples
    except TypeError:
        sample_aligned = False
    return _safe_indexing(value, rows) if sample_aligned else value


def _width(hidden):
    """The ``module__*`` override of a searched width (None: not searched)."""
    return {} if hidden is None else {"hidden_layer_sizes": hidden}


def _settings(candidate, prefix):
    """The criterion settings (``T``, ``alpha``) a candidate sets."""
    return {
        name: candidate[prefix + name] for name in ("T", "alpha") if prefix + name in candidate
    }


def _by_width(candidates, prefix):
    """Candidate indices grouped by their searched hidden layer sizes (None: not searched; a
    whole number is one layer, as :class:`~skdistill.MLPStudent` reads it)."""
    groups = defaultdict(list)
    for index, params in enumerate(candidates):
        hidden = params.get(prefix + "module__hidden_layer_sizes")
        if isinstance(hidden, Integral):
            hidden = (hidden,)
        groups[None if hidden is None else tuple(hidden)].append(index)
    return groups
