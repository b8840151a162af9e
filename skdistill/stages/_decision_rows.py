"""On many rows, the fit's choices are made on a sample, and only the kept student sees them all.

The two choices a default fit makes -- the encoding of
``student_preprocessor="auto"`` (:mod:`._encoding_choice`) and the alpha of
``alpha="auto"`` (:mod:`._alpha`) -- each train a student per option. On a
few thousand rows that costs a few seconds; on millions it would cost whole
fits. Above :data:`DECISION_ROWS` training rows the options' students train
on a random :data:`DECISION_ROWS` of them and are judged on the same share of
the held-out rows; then one student, with the kept encoding and alpha, trains
on every row. Ctrl-C during the choices ends the fit with a student
trained so far on the sample.
"""

from contextlib import contextmanager

import numpy as np

__all__ = ["DECISION_ROWS", "decision_rows", "on_rows"]

DECISION_ROWS = 100_000
"""Training rows the students that make a fit's choices train on, at most."""


def decision_rows(params, training, choices, continued):
    """``(train_idx, valid_idx)``: the sample a fit's choices are made on, or None for every row.

    A sample where a choice is to be made (``choices``: encodings or alpha),
    rows are held out, there are more than :data:`DECISION_ROWS` training
    rows, and the fit starts afresh with no transfer set (whose rows are
    labelled for the students that make the choices). Drawn from the fit's
    seed: the same share of the training and of the held-out rows, each kept
    in order.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> training = SimpleNamespace(train_idx=np.arange(300_000), valid_idx=np.arange(300_000,
    ...     330_000), seed=0)
    >>> params = SimpleNamespace(transfer_set=None)
    >>> train, valid = decision_rows(params, training, True, None)
    >>> len(train), len(valid), bool((np.diff(train) > 0).all())
    (100000, 10000, True)
    >>> decision_rows(params, training, False, None) is None
    True
    """
    n_train = len(training.train_idx)
    if (not choices or training.valid_idx is None or n_train <= DECISION_ROWS
            or continued is not None or params.transfer_set is not None):
        return None
    share = DECISION_ROWS / n_train
    rng = np.random.default_rng(training.seed)
    return tuple(
        np.sort(rng.choice(rows, max(1, round(share * len(rows))), replace=False))
        for rows in (training.train_idx, training.valid_idx)
    )


@contextmanager
def on_rows(training, rows):
    """Train and validate ``training``'s students on ``rows`` (``(train_idx, valid_idx)``;
    None: every row) within the block."""
    if rows is None:
        yield training
        return
    every_row = training.train_idx, training.valid_idx
    training.train_idx, training.valid_idx = rows
    try:
        yield training
    finally:
        training.train_idx, training.valid_idx = every_row
