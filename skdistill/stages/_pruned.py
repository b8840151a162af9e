"""The pruning stage of a fit: the trained student's hidden units cut, fine-tuned after each cut.

:func:`prune_student` runs after :func:`~skdistill.stages._student.train_student`
has trained a student with ``pruning=`` set. The net keeps the widths its
student had before the first cut (``unpruned_``), so that a warm start prunes
to a share of those rather than again and again.
"""

import warnings

from ..training._early_stopping import score_the_average
from ..training._net import InterruptedBeforeFirstEpoch
from ..training._pruning import hidden_widths, module_figures, prune_hidden_units
from ._shaped_input import sample_shape

__all__ = ["prune_student", "unpruned_widths"]


def prune_student(params, data, net, train, valid):
    """Cut the trained student's hidden layers step by step, fine-tuning after each.

    The widths are ``pruning``'s share of those the student had before it was
    first pruned: a warm start of a pruned student cuts no further than that
    (and, at the same ``amount``, not at all). Returns ``pruning_``: hidden
    widths, parameters, bytes of the weights and one-row forward latency (ms,
    measured here) before the first cut and now.
    """
    pruning = params.pruning
    if getattr(net, "unpruned_", None) is None:  # kept on the net: a warm start prunes from it
        net.unpruned_ = (hidden_widths(net.module_), module_figures(net.module_,
                                                                    sample_shape(data)))
    original, before = net.unpruned_
    for step in range(1, pruning.steps + 1):
        now = hidden_widths(net.module_)
        widths = [min(target, width) for target, width in zip(pruning.widths(original, step), now)]
        if widths == now:  # a warm start's student already cut this far: trained as it is
            continue
        prune_hidden_units(net.module_, widths)
        net.module = net.module_
        net.initialize_optimizer()
        if pruning.fine_tune_epochs:
            try:
                net.partial_fit(train, epochs=pruning.fine_tune_epochs)
            except InterruptedBeforeFirstEpoch:
                pass  # Ctrl-C before a fine-tuning epoch: keep the cut, untuned, and stop
            if net.interrupted_:
                warnings.warn(
                    f"Pruning interrupted in step {step} of {pruning.steps}; the "
                    "student keeps the widths and weights it had then.",
                    UserWarning,
                )
                break
            score_the_average(net, valid)
    after = module_figures(net.module_, sample_shape(data))
    figures = {"hidden_before": original, "hidden_after": hidden_widths(net.module_)}
    names = ("parameters", "bytes", "latency_ms")
    for name, value_before, value_after in zip(names, before, after):
        figures[f"{name}_before"] = value_before
        figures[f"{name}_after"] = value_after
    return figures


def unpruned_widths(net):
    """The hidden widths of ``net``'s student before it was first pruned (its own where it
    never was): what ``Pruning``'s amount is a share of."""
    return (getattr(net, "unpruned_", None) or (hidden_widths(net.module_),))[0]
