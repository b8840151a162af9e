"""Export a fitted distiller, or a whole pipeline ending in one, to ONNX: the artefact to ship.

A thin wrapper over ``skl2onnx.to_onnx`` with the distillers' converters
registered (:func:`skdistill.register_onnx_converters`), so every step skl2onnx
knows (scalers, PCA, imputers, ``ColumnTransformer`` with ``OneHotEncoder``,
``TfidfVectorizer``...) and a ``student_preprocessor`` go into the one file.
Inputs follow skl2onnx: one float32 input ``X`` for numeric arrays, one input
per column for a DataFrame. Outputs: ``label`` and ``probabilities`` for a
classifier, ``variable`` (shape ``(n, 1)``) for a regressor. An int8 variant
(onnxruntime's dynamic quantization of the weights) is smaller.

Needs the ``export`` extra: ``pip install skdistill[export]``.
"""

import os
import tempfile

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

__all__ = ["export_onnx", "final_distiller", "onnx_inputs"]

CUSTOM_CONVERTER_DOCS = "https://onnx.ai/sklearn-onnx/auto_tutorial/plot_icustom_converter.html"


def final_distiller(estimator):
    """The fitted distiller that ``estimator`` is or ends with (any earlier Pipeline steps).

    Raises TypeError for anything else and NotFittedError for an unfitted one.
    """
    from .._estimators._base import BaseDistiller

    distiller = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if not isinstance(distiller, BaseDistiller):
        raise TypeError(
            "Expected a fitted DistilledClassifier or DistilledRegressor, or a Pipeline "
            f"ending with one; got {type(distiller).__name__}."
        )
    check_is_fitted(distiller)
    return distiller


def export_onnx(estimator, path, *, X=None, int8=False, options=None):
    """Write a fitted distiller, or a pipeline ending in one, as one ONNX file.

    Parameters
    ----------
    estimator : DistilledClassifier, DistilledRegressor or Pipeline ending with one
    path : str or path-like
        Where to write the ``.onnx`` file.
    X : array-like or DataFrame, default=None
        A few rows as the model takes them, from which skl2onnx reads the input
        types (a DataFrame gives one input per column). Needed for DataFrames
        and documents; without it, the input is float32 ``X`` of the fitted width.
    int8 : bool, default=False
        Quantize the weights to int8 (onnxruntime dynamic quantization).
    options : dict, default=None
        skl2onnx conversion options, e.g. ``{TfidfVectorizer: {"locale": "C"}}``.

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
    ...     label, proba = session.run(None, {"X": X[:4].astype(np.float32)})
    >>> np.allclose(proba, clf.predict_proba(X[:4]), atol=1e-5)
    True
    """
    import skl2onnx
    from skl2onnx.common.data_types import FloatTensorType
    from skl2onnx.common.exceptions import MissingConverter, MissingShapeCalculator

    from ._skl2onnx import quiet_loggers, register_onnx_converters

    distiller = final_distiller(estimator)
    register_onnx_converters()
    if X is not None:
        sample = {"X": X.iloc[:1] if hasattr(X, "iloc") else np.asarray(X)[:1]}
        if hasattr(X, "iloc"):
            sample["X"] = sample["X"].astype(
                {c: np.float32 for c in X.columns if X[c].dtype.kind == "f"}
            )
        elif sample["X"].dtype.kind == "f":
            sample["X"] = sample["X"].astype(np.float32)
    else:
        first = estimator.steps[0][1] if isinstance(estimator, Pipeline) else distiller
        width = getattr(first, "n_features_in_", None)
        if width is None or hasattr(first, "feature_names_in_"):
            raise ValueError(
                "export_onnx needs X=<a few rows> to read the input types of this model "
                "(it takes a DataFrame or documents)."
            )
        sample = {"initial_types": [("X", FloatTensorType([None, width]))]}
    try:
        with quiet_loggers("torch.onnx", "root", "skl2onnx"):
            model = skl2onnx.to_onnx(estimator, options=options, **sample)
    except (MissingShapeCalculator, MissingConverter, RuntimeError) as exc:
        raise ValueError(
            f"skl2onnx cannot convert a step of this model: {str(exc).splitlines()[0]} "
            f"Register a converter for it (see {CUSTOM_CONVERTER_DOCS}) or leave it out of "
            "the exported pipeline."
        ) from exc
    path = str(path)
    if not int8:
        with open(path, "wb") as handle:
            handle.write(model.SerializeToString())
        return path
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as folder, quiet_loggers("root"):
        float_path = os.path.join(folder, "float.onnx")
        with open(float_path, "wb") as handle:
            handle.write(model.SerializeToString())
        quantize_dynamic(  # float is the type of every tensor shape inference cannot name
            float_path, path, weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": 1},  # onnx.TensorProto.FLOAT
        )
    return path


def onnx_inputs(session, X):
    """The feed for an onnxruntime ``session`` of an exported model: ``{input name: rows}``.

    One input (``X``, numbers or documents) gets ``X`` itself; a DataFrame gets
    one column per input, as skl2onnx declared them.
    """
    names = [inp.name for inp in session.get_inputs()]
    if hasattr(X, "iloc") and (len(names) > 1 or names[0] in X.columns):
        feed = {}
        for name in names:
            column = X[[name]].to_numpy()
            numeric = column.dtype.kind in "fiub"
            feed[name] = column.astype(np.float32 if numeric else object)
        return feed
    values = np.asarray(X)
    if values.ndim == 1:  # documents
        return {names[0]: values.reshape(-1, 1)}
    return {names[0]: values.astype(np.float32)}
