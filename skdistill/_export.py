"""Export the student to ONNX, the artefact to ship.

The exported graph takes float32 rows ``X`` of shape ``(batch, n_features)``
with a dynamic batch dimension and returns class ``probabilities`` (softmax
included) or regression ``predictions`` (in the targets' units). When the
distiller ends a ``Pipeline`` whose earlier steps are ``StandardScaler``\\ s,
the scaling is folded into the graph, so the file takes raw features. An int8
variant (onnxruntime's dynamic quantization of the weights) is smaller and
often faster on CPUs and phones.

Needs the ``export`` extra: ``pip install skdistill[export]``.
"""

import contextlib
import copy
import logging
import os
import tempfile
import warnings

import numpy as np
import torch
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

__all__ = ["export_onnx", "unwrap_distiller"]


def unwrap_distiller(estimator):
    """Return ``(distiller, a, b)``: the fitted distiller and the affine map ``x * a + b``
    of the ``StandardScaler`` steps before it (``a = 1, b = 0`` for a bare distiller)."""
    from ._base import BaseDistiller

    steps = estimator.steps if isinstance(estimator, Pipeline) else [("model", estimator)]
    distiller = steps[-1][1]
    if not isinstance(distiller, BaseDistiller):
        raise TypeError(
            "Expected a fitted DistilledClassifier or DistilledRegressor, or a Pipeline "
            f"ending with one; got {type(distiller).__name__}."
        )
    check_is_fitted(distiller)
    width = getattr(distiller, "n_features_in_", distiller.n_student_features_)
    a, b = np.ones(width), np.zeros(width)
    for name, step in steps[:-1]:
        if step is None or step == "passthrough":
            continue
        if not isinstance(step, StandardScaler):
            raise ValueError(
                f"Pipeline step {name!r} ({type(step).__name__}) cannot be folded into the "
                "ONNX graph; only StandardScaler steps can. Export the distiller alone and "
                "apply that step before it, or convert it with skl2onnx."
            )
        mean = step.mean_ if step.mean_ is not None else 0.0
        scale = step.scale_ if step.scale_ is not None else 1.0
        a, b = a / scale, (b - mean) / scale
    return distiller, a, b


class _Deployable(torch.nn.Module):
    """Scaling, the student, and its output map, as one module."""

    def __init__(self, student, a, b, task, target_mean=0.0, target_scale=1.0):
        super().__init__()
        self.student = student
        self.register_buffer("a", torch.as_tensor(a, dtype=torch.float32))
        self.register_buffer("b", torch.as_tensor(b, dtype=torch.float32))
        self.task = task
        self.target_mean = float(target_mean)
        self.target_scale = float(target_scale)

    def forward(self, X):
        out = self.student(X * self.a + self.b)
        if self.task == "classifier":
            return torch.softmax(out, dim=-1)
        return out.reshape(-1) * self.target_scale + self.target_mean


def export_onnx(estimator, path, *, int8=False):
    """Write the fitted student (and any StandardScaler steps before it) as an ONNX model.

    Parameters
    ----------
    estimator : DistilledClassifier, DistilledRegressor or Pipeline ending with one
    path : str or path-like
        Where to write the ``.onnx`` file.
    int8 : bool, default=False
        Quantize the weights to int8 (onnxruntime dynamic quantization).

    Returns
    -------
    path : str

    Examples
    --------
    >>> import numpy as np, onnxruntime, tempfile, os
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skdistill import DistilledClassifier, export_onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DistilledClassifier(LogisticRegression(max_iter=500), max_epochs=5,
    ...                           random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = export_onnx(clf, os.path.join(folder, "student.onnx"))
    ...     session = onnxruntime.InferenceSession(path)
    ...     proba = session.run(None, {"X": X[:4].astype(np.float32)})[0]
    >>> np.allclose(proba, clf.predict_proba(X[:4]), atol=1e-5)
    True
    """
    distiller, a, b = unwrap_distiller(estimator)
    if getattr(distiller, "student_preprocessor_", None) is not None:
        raise ValueError(
            f"{type(distiller).__name__} has a student_preprocessor "
            f"({type(distiller.student_preprocessor_).__name__}), which cannot be folded into the "
            "ONNX graph: export_onnx writes only the network and StandardScaler steps. Convert "
            "the preprocessor with skl2onnx and chain it before the exported student."
        )
    student = copy.deepcopy(distiller.student_.module_).cpu().eval()
    deployable = _Deployable(
        student,
        a,
        b,
        distiller._task,
        getattr(distiller, "target_mean_", 0.0),
        getattr(distiller, "target_scale_", 1.0),
    ).eval()
    path = str(path)
    example = torch.zeros(2, distiller.n_student_features_)
    output = "probabilities" if distiller._task == "classifier" else "predictions"
    with _quiet_loggers("torch.onnx", "root"), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.export internals
        program = torch.onnx.export(
            deployable,
            (example,),
            dynamo=True,
            input_names=["X"],
            output_names=[output],
            dynamic_shapes={"X": {0: torch.export.Dim("batch", min=1)}},
            verbose=False,
        )
        if not int8:
            program.save(path, external_data=False)  # one self-contained file
            return path
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with tempfile.TemporaryDirectory() as folder:
            float_path = os.path.join(folder, "float.onnx")
            program.save(float_path, external_data=False)
            quantize_dynamic(float_path, path, weight_type=QuantType.QInt8)
    return path


@contextlib.contextmanager
def _quiet_loggers(*names):
    """Silence the exporter's and quantizer's advice for the duration of an export."""
    loggers = [logging.getLogger(None if name == "root" else name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
