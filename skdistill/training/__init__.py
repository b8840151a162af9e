"""Training the student: the skorch net, its callbacks and data, the engines, and pruning.

:class:`Pruning` is the public setting (the ``pruning`` parameter of the
distillers); the rest is the machinery behind ``fit``.
"""

from ._pruning import Pruning

__all__ = ["Pruning"]
