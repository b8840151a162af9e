"""Transfer sets: rows the teacher labels for the student beyond the training rows.

Pass a sampler as ``transfer_set``: :class:`Munge`, :class:`Spunge`,
:class:`Mixup` and :class:`Gibbs` draw synthetic rows from the training rows
(once, or afresh each epoch), :class:`Shift` moved copies of images and
sequences; :class:`TransferSampler` is their base class.
Unlabelled rows given as an array, DataFrame or dask collection need no sampler.
"""

from ._samplers import Gibbs, Mixup, Munge, Spunge, TransferSampler
from ._shift import Shift

__all__ = ["Gibbs", "Mixup", "Munge", "Shift", "Spunge", "TransferSampler"]
