"""skdistill: knowledge distillation as a scikit-learn estimator.

Hand :class:`DistilledClassifier` (or :class:`DistilledRegressor`) a big,
accurate model and get back a small PyTorch network, trained through skorch on
the teacher's softened outputs mixed with the true labels.

The estimators live here; the rest is grouped by concept, and its main names
are also importable from here:

* :mod:`skdistill.losses` -- the soft losses, the criteria and their registry;
* :mod:`skdistill.students` -- the student networks and input encodings;
* :mod:`skdistill.transfer` -- synthetic transfer sets;
* :mod:`skdistill.training` -- pruning (and the training machinery behind ``fit``);
* :mod:`skdistill.deploy` -- ONNX export, converters, lean pickles;
* :mod:`skdistill.inspection` -- the report and the training history plot.
"""

from ._estimators._classifier import DistilledClassifier
from ._estimators._cv import DistillerGridSearchCV
from ._estimators._cv_deprecated import DistilledClassifierCV, DistilledRegressorCV
from ._estimators._regressor import DistilledRegressor
from .stages._training_set import TrainingSet
from .deploy import export_onnx, onnx_inputs, register_onnx_converters, strip_teacher
from .inspection import DistillationReport, plot_history, report
from .losses import (
    SOFT_LOSSES,
    DistillationLoss,
    FeatureDistillation,
    RegressionDistillationLoss,
    decoupled_kd_loss,
    hard_label_loss,
    hinton_kd_loss,
    logit_matching_loss,
    register_soft_loss,
)
from .students import (
    ConvStudent,
    MLPStudent,
    PeriodicEmbedding,
    PiecewiseLinearEncoder,
    TabularStudent,
    make_student_encoder,
)
from .teachers import IntegerLabels, user_cache_dir
from .training import Pruning
from .transfer import Gibbs, Mixup, Munge, Shift, Spunge, TransferSampler

__all__ = [
    "SOFT_LOSSES",
    "ConvStudent",
    "DistillationLoss",
    "DistilledClassifier",
    "DistilledClassifierCV",
    "DistilledRegressor",
    "DistilledRegressorCV",
    "DistillerGridSearchCV",
    "DistillationReport",
    "FeatureDistillation",
    "Gibbs",
    "IntegerLabels",
    "MLPStudent",
    "Mixup",
    "Munge",
    "PeriodicEmbedding",
    "PiecewiseLinearEncoder",
    "Pruning",
    "RegressionDistillationLoss",
    "Shift",
    "Spunge",
    "TabularStudent",
    "TrainingSet",
    "TransferSampler",
    "decoupled_kd_loss",
    "export_onnx",
    "hard_label_loss",
    "hinton_kd_loss",
    "logit_matching_loss",
    "make_student_encoder",
    "onnx_inputs",
    "plot_history",
    "register_onnx_converters",
    "register_soft_loss",
    "report",
    "strip_teacher",
    "user_cache_dir",
]

__version__ = "0.1.0"
