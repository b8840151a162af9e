"""The soft (teacher) terms, the hard-label term, and the registry of soft terms by name.

Every soft loss has the signature ``loss(student_logits, teacher_logits, target, *, T)``
and returns a scalar tensor averaged over the rows of the batch:

* ``student_logits`` -- ``(n, k)`` raw student outputs,
* ``teacher_logits`` -- ``(n, k)`` teacher logits, columns aligned with the student's,
* ``target`` -- ``(n,)`` class indices, ``-1`` for rows without a label,
* ``T`` -- the softmax temperature,
* ``sample_weight`` -- ``(n,)`` row weights or None (keyword; the built-in losses
  take the weighted mean over rows, so a weight of 0 drops a row and 2 counts it twice).
"""

import functools
import math
import numbers

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import StrOptions

__all__ = [
    "SOFT_LOSSES",
    "RegisteredLossName",
    "decoupled_kd_loss",
    "hard_label_loss",
    "hinton_kd_loss",
    "logit_matching_loss",
    "register_soft_loss",
    "resolve_soft_loss",
    "takes_sample_weight",
    "check_loss_params",
]


def _row_mean(per_row, sample_weight):
    """Mean of per-row values, weighted when ``sample_weight`` is given."""
    if sample_weight is None:
        return per_row.mean()
    return (per_row * sample_weight).sum() / sample_weight.sum().clamp(min=1e-12)


def hinton_kd_loss(student_logits, teacher_logits, target, *, T, sample_weight=None):
    """Hinton et al. (2015) knowledge-distillation loss.

    ``T**2 * KL(softmax(teacher / T) || softmax(student / T))`` with
    ``reduction="batchmean"``; the ``T**2`` factor keeps the gradient size
    comparable across temperatures. ``target`` is not used.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
        The student's raw outputs.
    teacher_logits : torch.Tensor of shape (n_samples, n_classes)
        The teacher's logits, columns aligned with the student's.
    target : torch.Tensor of shape (n_samples,) or None
        Class indices, ``-1`` for rows without a label. Not used.
    T : float
        The softmax temperature.
    sample_weight : torch.Tensor of shape (n_samples,), default=None
        Row weights; the loss is their weighted mean over rows.

    Returns
    -------
    loss : torch.Tensor
        A scalar.

    See Also
    --------
    logit_matching_loss, decoupled_kd_loss : The other soft terms.
    register_soft_loss : Add a soft term of your own.
    DistillationLoss : Mixes a soft term with the hard-label term.

    References
    ----------
    .. [1] G. Hinton, O. Vinyals, J. Dean. "Distilling the Knowledge in a Neural Network". 2015.

    Examples
    --------
    >>> import torch
    >>> s = torch.tensor([[0.0, 0.0]])
    >>> t = torch.log(torch.tensor([[0.75, 0.25]]))
    >>> round(hinton_kd_loss(s, t, None, T=1.0).item(), 6)  # 0.75 ln 1.5 + 0.25 ln 0.5
    0.130812
    """
    log_p_student = F.log_softmax(student_logits / T, dim=-1)
    log_p_teacher = F.log_softmax(teacher_logits / T, dim=-1)
    if sample_weight is None:
        kl = F.kl_div(log_p_student, log_p_teacher, reduction="batchmean", log_target=True)
    else:
        per_row = F.kl_div(log_p_student, log_p_teacher, reduction="none", log_target=True)
        kl = _row_mean(per_row.sum(dim=-1), sample_weight)
    return kl * (T * T)


def hard_label_loss(student_logits, target, sample_weight=None):
    """Cross-entropy against the true labels, ignoring rows whose target is -1.

    The (weighted) mean is taken over the labelled rows; a batch with no
    labelled row contributes 0 (never NaN).

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
        The student's raw outputs.
    target : torch.Tensor of shape (n_samples,)
        Class indices, ``-1`` for rows without a label.
    sample_weight : torch.Tensor of shape (n_samples,), default=None
        Row weights.

    Returns
    -------
    loss : torch.Tensor
        A scalar.

    See Also
    --------
    DistillationLoss : Mixes it with a soft term.

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([[0.0, 0.0], [5.0, 0.0]])
    >>> round(hard_label_loss(z, torch.tensor([0, -1])).item(), 6)  # ln 2
    0.693147
    """
    labelled = target >= 0
    per_row = F.cross_entropy(student_logits, target.clamp(min=0), reduction="none")
    if sample_weight is None:
        return (per_row * labelled).sum() / labelled.sum().clamp(min=1)
    return _row_mean(per_row, sample_weight * labelled)


def logit_matching_loss(student_logits, teacher_logits, target, *, T=1.0, sample_weight=None):
    """Ba & Caruana (2014) logit matching: mean squared error to the teacher's logits.

    The teacher's logits are centred per row first (logits from probabilities
    are only defined up to a constant per row). ``T`` and ``target`` are not used.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
        The student's raw outputs.
    teacher_logits : torch.Tensor of shape (n_samples, n_classes)
        The teacher's logits, columns aligned with the student's.
    target : torch.Tensor of shape (n_samples,) or None
        Class indices, ``-1`` for rows without a label. Not used.
    T : float, default=1.0
        Not used (the logits are matched as they are).
    sample_weight : torch.Tensor of shape (n_samples,), default=None
        Row weights; the loss is their weighted mean over rows.

    Returns
    -------
    loss : torch.Tensor
        A scalar.

    See Also
    --------
    hinton_kd_loss, decoupled_kd_loss : The other soft terms.
    register_soft_loss : Add a soft term of your own.
    DistillationLoss : Mixes a soft term with the hard-label term.

    References
    ----------
    .. [1] J. Ba, R. Caruana. "Do Deep Nets Really Need to be Deep?" NeurIPS 2014.

    Examples
    --------
    >>> import torch
    >>> s = torch.tensor([[1.0, 0.0]])
    >>> t = torch.tensor([[5.0, 3.0]])  # centred: [1, -1]
    >>> logit_matching_loss(s, t, None).item()  # ((1 - 1)^2 + (0 + 1)^2) / 2
    0.5
    """
    centred = teacher_logits - teacher_logits.mean(dim=-1, keepdim=True)
    if sample_weight is None:
        return F.mse_loss(student_logits, centred)
    return _row_mean(((student_logits - centred) ** 2).mean(dim=-1), sample_weight)


_MASK = 1e4  # subtracted from the target logit to take it out of a softmax


def decoupled_kd_loss(
    student_logits, teacher_logits, target, *, T, tckd_weight=1.0, nckd_weight=8.0,
    sample_weight=None,
):
    """Zhao et al. (2022) decoupled KD: target-class and non-target-class terms.

    ``tckd_weight * TCKD + nckd_weight * NCKD``, both ``T**2``-scaled and
    batch-averaged. TCKD is the KL between the binary distributions
    ``[p(target), 1 - p(target)]`` of teacher and student; NCKD the KL between
    their distributions over the non-target classes. Rows without a label
    (``target == -1``) use the teacher's argmax as target.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
        The student's raw outputs.
    teacher_logits : torch.Tensor of shape (n_samples, n_classes)
        The teacher's logits, columns aligned with the student's.
    target : torch.Tensor of shape (n_samples,)
        Class indices, ``-1`` for rows without a label (the teacher's argmax
        stands in for it).
    T : float
        The softmax temperature.
    tckd_weight : float, default=1.0
        Weight of the target-class term.
    nckd_weight : float, default=8.0
        Weight of the non-target-class term.
    sample_weight : torch.Tensor of shape (n_samples,), default=None
        Row weights; the loss is their weighted mean over rows.

    Returns
    -------
    loss : torch.Tensor
        A scalar.

    See Also
    --------
    hinton_kd_loss, logit_matching_loss : The other soft terms.
    register_soft_loss : Add a soft term of your own.
    DistillationLoss : Mixes a soft term with the hard-label term.

    References
    ----------
    .. [1] B. Zhao, Q. Cui, R. Song, Y. Qiu, J. Liang. "Decoupled Knowledge
       Distillation". CVPR 2022.

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([[2.0, 1.0, 0.0]])
    >>> decoupled_kd_loss(z, z, torch.tensor([0]), T=2.0).item()
    0.0
    """
    target = torch.where(target >= 0, target, teacher_logits.argmax(dim=-1))
    mask = F.one_hot(target, student_logits.shape[-1]).to(student_logits.dtype)
    zs, zt = student_logits / T, teacher_logits / T

    def binary_and_rest(z):
        log_all = torch.logsumexp(z, dim=-1)
        log_rest = torch.logsumexp(z - _MASK * mask, dim=-1)
        log_target = (z * mask).sum(dim=-1) - log_all
        binary = torch.stack([log_target, log_rest - log_all], dim=-1)
        return binary, F.log_softmax(z - _MASK * mask, dim=-1)

    bs, rest_s = binary_and_rest(zs)
    bt, rest_t = binary_and_rest(zt)
    tckd = _row_mean(F.kl_div(bs, bt, reduction="none", log_target=True).sum(-1), sample_weight)
    nckd = _row_mean(
        F.kl_div(rest_s, rest_t, reduction="none", log_target=True).sum(-1), sample_weight
    )
    return (tckd_weight * tckd + nckd_weight * nckd) * (T * T)


SOFT_LOSSES = {
    "hinton": hinton_kd_loss,
    "logit_matching": logit_matching_loss,
    "dkd": decoupled_kd_loss,
}
"""The soft losses by the name ``loss`` accepts; :func:`register_soft_loss` adds one."""

_BUILT_IN = frozenset(SOFT_LOSSES)


def register_soft_loss(name, loss=None, *, replace=False):
    """Make ``loss`` available as ``DistilledClassifier(loss=name)``.

    The name is checked against this registry when the estimator is fitted,
    so a loss registered after import is accepted like a built-in one (and
    by ``GridSearchCV``'s clones in this process). The registry belongs to
    the process: the workers of a parallel search (``n_jobs > 1``) or of a
    dask cluster start with the built-in losses only, so there pass the
    function itself (``loss=cosine_loss``, pickled by reference). Registered
    losses train through autograd (``solver="torch"``); only ``"hinton"`` has
    a numpy engine.

    Parameters
    ----------
    name : str
        The name to pass as ``loss``.
    loss : callable, default=None
        ``loss(student_logits, teacher_logits, target, *, T, **loss_params)``
        returning a scalar tensor; accept ``sample_weight=None`` to support
        weighted rows. Its other keyword parameters are set as ``loss__<name>``.
        None: return a decorator that registers the function it decorates
        (``@register_soft_loss("cosine")``).
    replace : bool, default=False
        Allow replacing an entry already registered under ``name``.

    Returns
    -------
    loss : callable
        ``loss`` itself; without ``loss``, the decorator.

    See Also
    --------
    SOFT_LOSSES : The registry.
    hinton_kd_loss : The default soft term, an example of the signature.

    Examples
    --------
    >>> import torch
    >>> def cosine_loss(student_logits, teacher_logits, target, *, T, sample_weight=None):
    ...     return (1 - torch.cosine_similarity(student_logits, teacher_logits)).mean()
    >>> register_soft_loss("cosine", cosine_loss)  # doctest: +ELLIPSIS
    <function cosine_loss at ...>
    >>> resolve_soft_loss("cosine") is cosine_loss
    True
    >>> @register_soft_loss("l2")
    ... def l2_loss(student_logits, teacher_logits, target, *, T, sample_weight=None):
    ...     return ((student_logits - teacher_logits) ** 2).mean()
    >>> resolve_soft_loss("l2") is l2_loss
    True
    >>> del SOFT_LOSSES["cosine"], SOFT_LOSSES["l2"]
    """
    if callable(name):  # @register_soft_loss, without the name
        raise TypeError(
            f"register_soft_loss takes the name first: decorate with "
            f"@register_soft_loss({getattr(name, '__name__', 'name')!r}), or call "
            "register_soft_loss(name, loss)."
        )
    if not isinstance(name, str) or not name:
        raise TypeError(f"A loss is registered under a non-empty string; got {name!r}.")
    if loss is None:
        return functools.partial(_registered, name, replace=replace)
    return _registered(name, loss, replace=replace)


def _registered(name, loss, *, replace):
    """Register ``loss`` under the checked ``name`` (see :func:`register_soft_loss`); return
    it."""
    if not callable(loss):
        raise TypeError(f"The loss registered as {name!r} must be callable; got {loss!r}.")
    if name in SOFT_LOSSES and SOFT_LOSSES[name] is not loss and not replace:
        raise ValueError(
            f"A soft loss named {name!r} is already registered ({SOFT_LOSSES[name].__name__}); "
            "pass replace=True to replace it."
        )
    SOFT_LOSSES[name] = loss
    return loss


class RegisteredLossName(StrOptions):
    """A ``_parameter_constraints`` entry: a name in :data:`SOFT_LOSSES` as it is when checked."""

    def __init__(self):
        super().__init__(set(SOFT_LOSSES))

    @property
    def options(self):
        return set(SOFT_LOSSES)

    @options.setter
    def options(self, value):
        pass  # the registry is the one source of the names

    def __str__(self):
        built_in = _BUILT_IN == set(SOFT_LOSSES)
        return super().__str__() + (
            " (the names registered in this process: if you registered the name in "
            "another, such as the process that started a parallel search's workers, pass "
            "the registered function itself as loss)"
            if built_in else ""
        )


def resolve_soft_loss(loss):
    """Return the soft-loss callable named by ``loss`` (a key of SOFT_LOSSES or a callable).

    Examples
    --------
    >>> resolve_soft_loss("dkd").__name__
    'decoupled_kd_loss'
    """
    if callable(loss):
        return loss
    try:
        return SOFT_LOSSES[loss]
    except (KeyError, TypeError):
        raise ValueError(
            f"loss={loss!r} is not a known distillation loss; use one of "
            f"{sorted(SOFT_LOSSES)} or a callable "
            "loss(student_logits, teacher_logits, target, *, T)."
        ) from None


def takes_sample_weight(loss):
    """True when the soft loss ``loss`` (a name or callable) accepts ``sample_weight=``.

    Examples
    --------
    >>> takes_sample_weight("hinton"), takes_sample_weight(lambda s, t, y, *, T: s.sum())
    (True, False)
    """
    import inspect

    try:
        parameters = inspect.signature(resolve_soft_loss(loss)).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.name == "sample_weight" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters
    )


def check_loss_params(loss, loss_params):
    """Raise ValueError naming ``loss__<name>`` parameters the soft loss does not take (or, for
    ``"dkd"``, a term's weight that is not a finite number >= 0).

    Examples
    --------
    >>> check_loss_params("dkd", {"nckd_weight": 4.0})
    >>> check_loss_params("dkd", {"tckd_weight": -1})
    Traceback (most recent call last):
    ...
    ValueError: loss__tckd_weight weighs a term of the loss; it must be a finite number >= 0, ...
    >>> check_loss_params("hinton", {"nckd_weight": 4.0})
    Traceback (most recent call last):
    ...
    ValueError: loss__nckd_weight is not a parameter of the loss hinton_kd_loss; it takes none.
    """
    import inspect

    function = resolve_soft_loss(loss)
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    fixed = {"student_logits", "teacher_logits", "target", "T", "sample_weight"}
    own = [name for name in list(parameters)[3:] if name not in fixed]
    for name in loss_params:
        if name not in own:
            takes = ", ".join(f"loss__{p}" for p in own) or "none"
            raise ValueError(
                f"loss__{name} is not a parameter of the loss "
                f"{getattr(function, '__name__', function)}; it takes {takes}."
            )
    if function is decoupled_kd_loss:  # weights of its two terms: a negative one rewards
        for name, value in loss_params.items():  # diverging from the teacher
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
                0 <= value < math.inf
            ):
                raise ValueError(
                    f"loss__{name} weighs a term of the loss; it must be a finite number "
                    f">= 0, got {value!r}."
                )
