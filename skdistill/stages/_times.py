"""Where a fit's time went: ``fit_times_``."""

import time

__all__ = ["fit_times"]


def fit_times(started, labelled_at, transferred_at, chunks):
    """``fit_times_``: seconds spent on the teacher, the transfer set and the student.

    ``started``, ``labelled_at`` (the teacher's outputs ready) and
    ``transferred_at`` (the transfer set labelled) are ``time.perf_counter()``
    readings; the student's share runs until now. Chunks labelled during
    training (fresh synthetic copies) add their labelling time to
    ``"transfer_set"``; it overlapped ``"student"``.

    Examples
    --------
    >>> import time
    >>> now = time.perf_counter()
    >>> sorted(fit_times(now - 3.0, now - 2.0, now - 1.5, []))
    ['student', 'teacher', 'transfer_set']
    """
    during_training = sum(getattr(chunk, "labelling_seconds", 0.0) for chunk in chunks)
    return {
        "teacher": labelled_at - started,
        "transfer_set": transferred_at - labelled_at + during_training,
        "student": time.perf_counter() - transferred_at,
    }
