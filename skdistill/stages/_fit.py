"""The order of a fit on rows in memory, stage by stage.

Each stage is a function that takes values and returns values: the candidate
encodings (:mod:`._encoding`), the checked data, the teacher's outputs and
the split (:mod:`._training_set`), a student per encoding, the best kept
(:mod:`._encoding_choice`), the labels-only twin of ``alpha="auto"``
(:mod:`._alpha`) -- both on a sample of many rows, then the kept student on
all of them (:mod:`._decision_rows`). :func:`fit_in_memory` returns the fitted attributes; the
estimator assigns them in one place. A fit on dask collections has its own
order (:mod:`._dask`).
"""

import time
import warnings

import numpy as np
from skorch.callbacks import Checkpoint

from ._alpha import chooses_alpha, labels_only_twin
from ._decision_rows import decision_rows, on_rows
from ._encoding import candidate_encoders
from ._encoding_choice import choose_encoding
from ._student import train_student
from ._teacher import warn_if_teacher_far_below
from ._times import fit_times
from ._training_set import training_set
from ._transfer import with_transfer_set

__all__ = ["fit_in_memory"]


def fit_in_memory(params, task, teacher, X, y, precomputed, sample_weight, previous):
    """Fit the teacher once, then the student; return the fitted attributes.

    ``params``: the distiller, whose parameters are read (it is not changed);
    ``task``: the task of this fit; ``teacher``: the teacher's adapter;
    ``precomputed``: the teacher outputs given to fit (or None);
    ``previous``: the fitted attributes a warm start continues (empty: none).
    """
    started = time.perf_counter()
    X, encoders = candidate_encoders(params, X, previous.get("student_encoding_"))
    training = training_set(
        params, task, teacher, X, y, precomputed, sample_weight, encoders, previous
    )
    labelled_at = time.perf_counter()
    continued = previous.get("student_")
    labelled = {}  # the transfer rows, labelled once for every student of this fit
    trained_last = []

    def train(task, training, continued=None, race=None):
        trained_last[:] = [None]  # a student that fails to train leaves no checkpoint of its own
        result = _trained_on(params, task, training, labelled, continued, race)
        trained_last[:] = [result[0]["student_"]]
        return result

    twin = chooses_alpha(params, training, previous)
    sample = decision_rows(params, training, len(training.encodings) > 1 or twin, continued)
    with on_rows(training, sample):
        choice = choose_encoding(
            params, training, lambda training, race: train(task, training, continued, race),
            epochs_before=0 if continued is None else len(continued.history),
        )
        fitted = {**choice.fitted, "alpha_": task.alpha}
        if choice.complete and twin:
            fitted = labels_only_twin(
                params, task, training, fitted, lambda task, training: train(task, training)[0]
            )
    if sample is not None and choice.complete and (not twin or "alpha_scores_" in fitted):
        fitted = _kept_on_every_row(task, training, fitted, train)
    if trained_last and fitted["student_"] is not trained_last[0]:
        _checkpoint_the_kept(fitted["student_"])
    warn_if_teacher_far_below(training.teacher_score, fitted["student_"], training.labels_only)
    fitted["fit_times_"] = fit_times(
        started, labelled_at, labelled_at + choice.transfer_seconds, choice.chunks
    )
    return fitted


def _kept_on_every_row(task, training, chosen, train):
    """Train the student the choices made on a sample kept (its encoding, its alpha) on every
    row; its fitted attributes, with what the choices measured."""
    try:
        if training.fitted.get("student_encoding_") != chosen["student_encoding_"]:
            training.encode_with(chosen["student_encoding_"])
        fitted = train(task.with_alpha(chosen["alpha_"]), training)[0]
    except KeyboardInterrupt:  # before its first epoch: the student of the choices stays
        warnings.warn("Interrupted before the student on every row had completed an epoch; "
                      "keeping the one the choices trained on a sample of the rows.",
                      UserWarning)
        return chosen
    measured = ("alpha_", "alpha_scores_", "student_encoding_losses_")
    return {**fitted, **{name: chosen[name] for name in measured if name in chosen}}


def _checkpoint_the_kept(net):
    """Save the kept student through the user's ``Checkpoint`` callbacks, which every student
    of the fit went through: their files hold whichever trained last, and it was another."""
    for _, callback in net.callbacks_:
        if isinstance(callback, Checkpoint):
            callback.save_model(net)


def _trained_on(params, task, training, labelled, continued, race):
    """Add the transfer set to a training set's rows and train a student on them.

    ``labelled`` carries the transfer rows the teacher has labelled from one
    student to the next; ``continued``: the net a warm start continues;
    ``race``: the callback that stops a candidate trailing another (or None).
    Returns ``(fitted attributes, streamed chunks, seconds spent on the
    transfer set)``.
    """
    started = time.perf_counter()
    rows, chunks = with_transfer_set(
        params, task, training.fitted, training.teacher, training.X_teacher, training.rows,
        training.train_idx, training.seed, labelled,
    )
    n_rows = len(training.target)
    train_idx = np.concatenate([training.train_idx, np.arange(n_rows, len(rows[2]))])
    seconds = time.perf_counter() - started
    trained = train_student(
        params, task, training.fitted, rows, train_idx, training.valid_idx, training.seed,
        chunks=chunks, previous=continued, race=race,
    )
    return {**training.fitted, **trained}, chunks, seconds
