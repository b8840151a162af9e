"""Students and their input encodings: the small networks a distiller trains.

:class:`MLPStudent` is the default student; :class:`TabularStudent` embeds each
numeric feature (:class:`PeriodicEmbedding`) before its MLP;
:class:`PiecewiseLinearEncoder` is a scikit-learn transformer that encodes each
feature piecewise-linearly for a plain MLP (pass it as ``student_preprocessor``).
"""

from ._encoding import PiecewiseLinearEncoder
from ._mlp import MLPStudent
from ._tabular import PeriodicEmbedding, TabularStudent

__all__ = ["MLPStudent", "PeriodicEmbedding", "PiecewiseLinearEncoder", "TabularStudent"]
