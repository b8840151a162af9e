"""skdistill: knowledge distillation as a scikit-learn estimator.

Hand :class:`DistilledClassifier` (or :class:`DistilledRegressor`) a big,
accurate model and get back a small PyTorch network, trained through skorch on
the teacher's softened outputs mixed with the true labels.
"""

from ._classifier import DistilledClassifier
from ._cv import DistilledClassifierCV
from ._encoding import PiecewiseLinearEncoder
from ._export import export_onnx
from ._losses import (
    SOFT_LOSSES,
    DistillationLoss,
    RegressionDistillationLoss,
    decoupled_kd_loss,
    hard_label_loss,
    hinton_kd_loss,
    logit_matching_loss,
)
from ._plot import plot_history
from ._pruning import Pruning
from ._regressor import DistilledRegressor
from ._report import DistillationReport, report
from ._skl2onnx import register_onnx_converters
from ._strip import strip_teacher
from ._student import MLPStudent
from ._tabular import PeriodicEmbedding, TabularStudent
from ._transfer import Gibbs, Mixup, Munge, Spunge, TransferSampler

__all__ = [
    "SOFT_LOSSES",
    "DistillationLoss",
    "DistilledClassifier",
    "DistilledClassifierCV",
    "DistilledRegressor",
    "DistillationReport",
    "Gibbs",
    "MLPStudent",
    "Mixup",
    "Munge",
    "PeriodicEmbedding",
    "PiecewiseLinearEncoder",
    "Pruning",
    "RegressionDistillationLoss",
    "Spunge",
    "TabularStudent",
    "TransferSampler",
    "decoupled_kd_loss",
    "export_onnx",
    "hard_label_loss",
    "hinton_kd_loss",
    "logit_matching_loss",
    "plot_history",
    "register_onnx_converters",
    "report",
    "strip_teacher",
]

__version__ = "0.1.0"
