"""The teacher stage of a fit: its outputs for the training rows, and checks on them.

:func:`teacher_outputs` fits the teacher (through the cache) and reads its
outputs; :func:`row_weights` combines ``sample_weight`` with the class
weights; the warnings say when a teacher reads other features than it was
trained on, and :func:`labels_only_accuracy` measures what the labels reach
without it.
"""

import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from ..teachers._adapters import Teacher
from ..teachers._cache import cached_call
from ..teachers._outputs import fit_and_score
from ._tasks import scale_outputs

__all__ = [
    "labels_only_accuracy", "row_weights", "teacher_outputs", "warn_if_teacher_at_chance",
    "warn_if_teacher_far_below",
]


def teacher_outputs(params, task, teacher, X_teacher, y, labelled, weights):
    """``(the fitted teacher's adapter, its training targets for every row)``.

    A teacher that refits is fitted (cross-fitted with ``teacher_cv``) through
    the ``memory`` cache; a frozen or prefit one only reads the rows.
    """
    call = (task.asked, teacher, X_teacher, y, labelled, weights, params.teacher_cv)
    if teacher.refits:
        fitted, outputs = cached_call(
            params.memory, fit_and_score, *call, valid=lambda entry: _is_fit(entry, len(y))
        )
    else:  # frozen or prefit: nothing to fit, cross-fit or cache
        if params.teacher_cv is not None:
            warnings.warn(
                f"teacher_cv={params.teacher_cv!r} is ignored: the teacher is not refitted "
                "(frozen, prefit, a torch module or a skorch net), so there are no folds to "
                "cross-fit it on. Set teacher_cv=None, or give an unfitted teacher.",
                UserWarning,
            )
        fitted, outputs = fit_and_score(*call)
    return fitted, scale_outputs(outputs, task.output_scaling)


def _is_fit(entry, n_rows):
    """Whether a cache entry holds what :func:`fit_and_score` returns for ``n_rows`` rows."""
    return (
        isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], Teacher)
        and isinstance(entry[1], np.ndarray) and entry[1].shape[:1] == (n_rows,)
    )


def row_weights(task, sample_weight, target, labelled):
    """Return (weights for the teacher's fit, normalised weights for the student).

    Both are None without ``sample_weight`` and class weights. The teacher
    gets ``sample_weight`` times the class weights, as given (equal weights
    too: their scale may matter to it); the student's weights are the same
    rescaled to mean 1 over the rows, so that their scale does not matter
    and synthetic rows (weight 1) keep their share -- None where every row
    weighs the same, so that a soft loss without a ``sample_weight``
    keyword takes them.
    """
    weights = sample_weight
    class_weights = task.class_weights(target, labelled)
    if class_weights is not None:
        weights = class_weights if weights is None else weights * class_weights
    if weights is None:
        return None, None
    if not (weights > 0).any():
        raise ValueError(
            "sample_weight and class_weight leave every row with weight zero; at least "
            "one row needs a non-zero weight."
        )
    if np.all(weights == weights[0]):
        return weights, None
    task.check_weighted_loss()
    return weights, weights / weights[weights > 0].mean()


def warn_if_teacher_at_chance(task, outputs, target, labelled):
    """Warn when the teacher does no better than chance on the labelled training rows.

    Returns ``(score, metric)`` of the teacher on those rows, for
    :func:`warn_if_teacher_far_below`: None with fewer than two, and where this
    warning was given (it says what that one would).
    """
    rows = np.flatnonzero(labelled)
    if len(rows) < 2:
        return None
    score, chance, metric = task.asked.teacher_score(outputs[rows], target[rows])
    if score <= chance:
        warnings.warn(
            f"The teacher's {metric} on the labelled training rows is {score:.3g}, no better "
            f"than chance ({chance:.3g}). It may be reading other features than it was "
            "trained on, e.g. a prefit teacher behind a scaler in a Pipeline: give it the "
            "raw X and put the student's preprocessing in student_preprocessor instead.",
            UserWarning,
        )
        return None
    return score, metric


FAR_BELOW = 0.2
"""How far (in accuracy) the teacher may fall below the student before a warning."""


def warn_if_teacher_far_below(teacher_score, net, labels_only=None):
    """Warn when the teacher is far less accurate on its training rows than the labels allow.

    A teacher is at its best on rows it was fitted on. When the student, or
    ``labels_only`` (:func:`labels_only_accuracy`: a linear model on the labels
    alone), beats it on rows they never trained on by ``FAR_BELOW`` or more,
    the teacher most likely reads other features than it was trained on
    (above chance, so the first check stays silent) -- or is too weak to
    teach this student. A student that imitates such a teacher closely
    (a high ``alpha``) falls with it, which is why the labels-only reference
    is there.
    """
    if teacher_score is None or teacher_score[1] != "accuracy":
        return
    scores = [(row["valid_acc"], "the student") for row in net.history if "valid_acc" in row]
    if labels_only is not None:
        scores.append((labels_only, "a linear model on the labels alone"))
    if not scores:
        return
    best, whose = max(scores, key=lambda score: score[0])
    if best - teacher_score[0] >= FAR_BELOW:
        warnings.warn(
            f"The teacher's accuracy on the training rows is {teacher_score[0]:.3g}, far below "
            f"the {best:.3g} {whose} reaches on held-out rows. The teacher may read other "
            "features than it was trained on (e.g. a prefit teacher behind a scaler in a "
            "Pipeline: give it the raw X and put the student's preprocessing in "
            "student_preprocessor), or be too weak to teach this student.",
            UserWarning,
        )


LABELS_ONLY_ROWS = 2000
"""Most training (and held-out) rows the labels-only reference reads."""


def labels_only_accuracy(rows, target, train_idx, valid_idx, seed):
    """Held-out accuracy of a logistic regression on the student's rows and the labels alone.

    What the labels reach without the teacher, cheaply: at most
    :data:`LABELS_ONLY_ROWS` training and held-out rows (drawn with ``seed``),
    images and sequences flattened, on one BLAS thread. None without held-out rows or with
    fewer than two classes among the training rows.
    """
    if valid_idx is None or len(valid_idx) == 0:
        return None
    draw = np.random.RandomState(seed)
    train, valid = (
        np.sort(draw.choice(idx, LABELS_ONLY_ROWS, replace=False))
        if len(idx) > LABELS_ONLY_ROWS else idx
        for idx in (train_idx[target[train_idx] >= 0], valid_idx[target[valid_idx] >= 0])
    )
    if len(valid) == 0 or len(np.unique(target[train])) < 2:
        return None
    X_train, X_valid = (_flat(rows[idx]) for idx in (train, valid))
    # one BLAS thread: on products this small, BLAS threads beside torch's own can take
    # many times as long on a machine with few cores
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore")  # a few iterations suffice for a reference
        model = LogisticRegression(max_iter=100).fit(X_train, target[train])
    return float(model.score(X_valid, target[valid]))


def _flat(rows):
    return rows if rows.ndim == 2 else np.asarray(rows).reshape(len(rows), -1)
