"""Students and their input encodings: the small networks a distiller trains.

:class:`MLPStudent` is the default student; :class:`TabularStudent` embeds each
numeric feature (:class:`PeriodicEmbedding`) before its MLP;
:class:`PiecewiseLinearEncoder` is a scikit-learn transformer that encodes each
feature piecewise-linearly for a plain MLP (pass it as ``student_preprocessor``);
:func:`make_student_encoder` builds a whole encoding for the columns of a table
(numbers scaled and/or piecewise-linear, categories one-hot, missing values flagged);
:class:`ConvStudent` is a small convolutional student for images.
"""

from ._conv import ConvStudent
from ._encoding import PiecewiseLinearEncoder
from ._mlp import MLPStudent
from ._student_encoder import make_student_encoder
from ._tabular import PeriodicEmbedding, TabularStudent

__all__ = [
    "ConvStudent", "MLPStudent", "PeriodicEmbedding", "PiecewiseLinearEncoder", "TabularStudent",
    "make_student_encoder",
]
