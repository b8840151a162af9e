"""The held-out labels' loss after temperature scaling: what early stopping watches at T != 1.

A student distilled at a temperature other than 1 learns the teacher's logits
as they are, sharper or softer than the labels' own confidence, so its
cross-entropy against the held-out labels can rise while its ranking of the
classes still improves. Rescaling its logits by the one number that minimises
that cross-entropy (temperature scaling, Guo et al., 2017) removes the
difference of confidence: what remains judges the ranking, and is a fair
stopping rule at every temperature.
"""

import numpy as np
from scipy.special import softmax

__all__ = ["calibrated_label_loss"]

NEWTON_STEPS = 30
"""Most Newton steps on the scale (the loss is convex in it; a few usually suffice)."""


def calibrated_label_loss(logits, target, sample_weight=None):
    """The weighted cross-entropy of ``scale * logits`` against ``target`` at its best scale.

    Parameters
    ----------
    logits : ndarray of shape (n_rows, n_classes)
    target : ndarray of shape (n_rows,)
        Class indices; negative ones (unlabelled rows) are left out.
    sample_weight : ndarray of shape (n_rows,), default=None

    Returns
    -------
    loss : float
        The lowest weighted mean cross-entropy over scales in [1e-3, 1e3]
        (NaN when a logit is not finite, as the raw loss would be).

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.array([[2.0, 0.0], [0.0, 2.0], [1.0, 0.0]])
    >>> y = np.array([0, 1, 1])
    >>> raw = calibrated_label_loss(logits, y) <= calibrated_label_loss(logits / 10, y) + 1e-9
    >>> bool(raw), round(calibrated_label_loss(logits / 10, y), 6) == round(
    ...     calibrated_label_loss(logits, y), 6)
    (True, True)
    """
    logits = np.asarray(logits, dtype=np.float64)
    target = np.asarray(target).astype(np.int64)
    labelled = target >= 0
    weights = np.ones(len(target)) if sample_weight is None else np.asarray(sample_weight, float)
    logits, target, weights = logits[labelled], target[labelled], weights[labelled]
    if not len(target) or weights.sum() <= 0:
        return float("nan")
    if not np.isfinite(logits).all():
        return float("nan")
    weights = weights / weights.sum()
    chosen = logits[np.arange(len(target)), target]
    scale = 1.0
    for _ in range(NEWTON_STEPS):
        p = softmax(scale * logits, axis=1)
        mean = (p * logits).sum(axis=1)
        gradient = weights @ (mean - chosen)
        curvature = weights @ ((p * logits**2).sum(axis=1) - mean**2)
        if curvature <= 1e-12:
            break
        step = gradient / curvature
        scale = float(np.clip(scale - step, 1e-3, 1e3))
        if abs(step) <= 1e-7 * scale:
            break
    return float(min(_loss(scale * logits, target, weights), _loss(logits, target, weights)))


def _loss(z, target, weights):
    top = z.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
    return float(weights @ (log_norm - z[np.arange(len(target)), target]))
