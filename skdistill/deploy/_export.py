"""Export a fitted distiller, or a whole pipeline ending in one, to ONNX: the artefact to ship.

A thin wrapper over ``skl2onnx.to_onnx`` with the distillers' converters
registered (:func:`skdistill.register_onnx_converters`), so every step skl2onnx
knows (scalers, PCA, imputers, ``ColumnTransformer`` with ``OneHotEncoder``,
``TfidfVectorizer``...) and a ``student_preprocessor`` go into the one file.
Inputs follow skl2onnx: one float32 input ``X`` for numeric arrays, one input
per column for a DataFrame. Outputs: ``label`` and ``probabilities`` for a
classifier, ``variable`` (shape ``(n, 1)``) for a regressor. A float16 variant
(the weight matrices stored in half precision, computed in float32) is about
two thirds of the size; an int8 variant (onnxruntime's dynamic quantization of the
weights) smaller still, for more of the accuracy.

Needs the ``export`` extra: ``pip install skdistill[export]``.
"""

import io
import os
import re
import tempfile
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..students._column_reading import MISSING_AS_STRING, CategoriesAsStrings, missing_mask

__all__ = ["export_onnx", "final_distiller", "frame_input_types", "onnx_inputs"]

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


def export_onnx(estimator, path, *, X=None, float16=False, int8=False, options=None):
    """Write a fitted distiller, or a pipeline ending in one, as one ONNX file.

    Parameters
    ----------
    estimator : DistilledClassifier, DistilledRegressor or Pipeline ending with one
        The fitted model.
    path : str, path-like or binary file object
        Where to write the ``.onnx`` file: a path, or an object opened for
        writing bytes (an ``io.BytesIO``, a file opened with ``"wb"``).
    X : array-like or DataFrame, default=None
        A few rows as the model takes them, from which skl2onnx reads the input
        types (a pandas or polars DataFrame gives one input per column). Needed for DataFrames
        and documents; without it, the input is float32 ``X`` of the fitted width
        (or, for images and sequences, of the fitted sample shape, any number
        of samples). Numbers (integers and sparse rows too) make a float32
        input, which :func:`onnx_inputs` feeds dense.
    float16 : bool, default=False
        Store the weight matrices in float16 (divided by powers of two, per
        input column where the columns' scales differ widely) and read them
        back to float32 in the file (a convolution's kernels too): about two
        thirds of the bytes of an MLP student's file, an image student's as
        much (on a student of a few hundred weights the conversion nodes can
        outweigh what they save), the same
        float32 computation on weights rounded to 11 significant bits
        (onnxruntime folds the conversion when it loads the file). Biases and
        the encoding's constants stay float32, and the student's first layer
        reads clipped bins rather than the hinges a float32 file uses (their
        rounding would grow away from the knots): one row about as fast, many
        rows up to two fifths slower. Probabilities move by up to a few hundredths; on
        the peer benchmark's tables the file's accuracy is within 0.05 points
        of the student's (``benchmarks/results/peers.md``).
    int8 : bool, default=False
        Quantize the weights to int8 (onnxruntime dynamic quantization):
        smaller still for all but the smallest students (its scale and
        zero-point nodes can outweigh a few hundred weights), for about 0.3
        points of retention on the peer
        benchmark's tables; a few labels may change. The student reads the
        encoding's scaled columns (a DataFrame's through skl2onnx's converters
        of the fitted encoder), whose common range int8 keeps.
    options : dict, default=None
        Conversion options for skl2onnx, e.g. ``{TfidfVectorizer: {"locale": "C"}}``.

    Returns
    -------
    path : str or file object
        The path written (a str), or the file object given.

    See Also
    --------
    onnx_inputs : Feed new rows to the exported file.
    strip_teacher : A small pickle for a Python service.
    register_onnx_converters : Convert with skl2onnx yourself.

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

    from ._half import half_weights
    from ._skl2onnx import register_onnx_converters
    from ._student_nodes import quiet_loggers
    from ._weights_type import storing_weights_as

    if float16 and int8:
        raise ValueError("Pass float16=True or int8=True, not both: each stores the weights "
                         "in its own type.")
    _check_destination(path)
    distiller = final_distiller(estimator)
    register_onnx_converters()
    shape = getattr(distiller, "input_shape_", None)  # images, sequences
    X = _as_pandas(X)
    if _is_frame(X):
        sample = {"initial_types": frame_input_types(X)}
    elif shape is not None and not isinstance(estimator, Pipeline):
        sample = {"initial_types": [("X", FloatTensorType([None, *shape]))]}
    elif X is not None:
        sample = {"X": _first_row(X)}
    else:
        first = estimator.steps[0][1] if isinstance(estimator, Pipeline) else distiller
        width = getattr(first, "n_features_in_", None)
        if width is None or hasattr(first, "feature_names_in_"):
            raise ValueError(
                "export_onnx needs X=<a few rows> to read the input types of this model "
                "(it takes a DataFrame or documents)."
            )
        sample = {"initial_types": [("X", FloatTensorType([None, width]))]}
    weights_type = "int8" if int8 else "float16" if float16 else "float32"
    try:
        with quiet_loggers("torch.onnx", "root", "skl2onnx"), storing_weights_as(weights_type):
            model = skl2onnx.to_onnx(estimator, options=options, **sample)
    except (MissingShapeCalculator, MissingConverter, RuntimeError) as exc:
        raise ValueError(
            f"skl2onnx cannot convert a step of this model: {str(exc).splitlines()[0]} "
            f"Register a converter for it (see {CUSTOM_CONVERTER_DOCS}) or leave it out of "
            "the exported pipeline."
        ) from exc
    if float16 and not half_weights(model):
        warnings.warn("float16=True found no weight matrix to store in float16 (a product's "
                      "float32 operand of two axes); the file is written in float32.",
                      UserWarning, stacklevel=2)
    if int8:
        model = _quantized(model)
    data = model.SerializeToString()
    if hasattr(path, "write"):
        path.write(data)
        return path
    with open(path, "wb") as handle:
        handle.write(data)
    return os.fspath(path)


def _check_destination(path):
    """TypeError where ``path`` is neither a path nor an object to write bytes to."""
    if isinstance(path, io.TextIOBase):
        raise TypeError(f"path is a text file object ({type(path).__name__}); an ONNX file is "
                        "bytes: open the file with 'wb', or pass an io.BytesIO.")
    if hasattr(path, "write") or isinstance(path, (str, os.PathLike)):
        return
    raise TypeError(f"path must be a str, a path-like object or a binary file object with a "
                    f"write method; got {type(path).__name__}.")


def _quantized(model):
    """``model`` with its weights quantized to int8 (onnxruntime's dynamic quantization)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from ._student_nodes import quiet_loggers

    with tempfile.TemporaryDirectory() as folder, quiet_loggers("root"):
        float_path = os.path.join(folder, "float.onnx")
        int8_path = os.path.join(folder, "int8.onnx")
        with open(float_path, "wb") as handle:
            handle.write(model.SerializeToString())
        quantize_dynamic(  # float is the type of every tensor shape inference cannot name
            float_path, int8_path, weight_type=QuantType.QInt8,
            extra_options={"DefaultTensorType": 1},  # onnx.TensorProto.FLOAT
        )
        return onnx.load(int8_path)


def frame_input_types(X):
    """skl2onnx's input types for a DataFrame: one input per column, ``[None, 1]``.

    Numeric columns as the student's encoding reads them (missing values
    allowed; an ``object`` column holding only numbers too) are float32 -- a
    numpy signed integer column int64 --, categorical ones (strings, categories of
    any values, booleans, other objects) strings.
    """
    from skl2onnx.common.data_types import (
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    from ..students._student_encoder import column_kinds

    types = []
    for name in X.columns:
        dtype = X[name].dtype
        try:
            column_kind = column_kinds(X[[name]])[0]
        except TypeError:  # dates, durations: read by a preprocessor of the user's, as strings
            column_kind = "categorical"
        if column_kind == "categorical":
            kind = StringTensorType
        elif isinstance(dtype, np.dtype) and dtype.kind == "i":
            kind = Int64TensorType  # uint64 beyond 2**63 would wrap: fed as floats
        else:
            kind = FloatTensorType
        types.append((str(name), kind([None, 1])))
    return types


def onnx_inputs(session, X):
    """The feed for an onnxruntime ``session`` of an exported model: ``{input name: rows}``.

    One input (``X``, numbers or documents) gets ``X`` itself; a DataFrame
    (pandas, or polars, read through ``to_pandas``) gets one column per input,
    converted to the type the file declares: numbers as float32 (missing as
    NaN) or int64, anything else as strings (a missing value as ``"nan"``), as
    the student's encoding read them in fit. A column the file takes as int64
    (it held integers in the ``X`` given to :func:`export_onnx`) that now
    holds a missing value or a fraction, and a column of categories that now
    holds numbers, are a ValueError naming it.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        A session of a file written by :func:`export_onnx`.
    X : array-like or DataFrame
        New rows, as the exported model took them.

    Returns
    -------
    feed : dict
        ``{input name: array}``, ready for ``session.run(None, feed)``.

    See Also
    --------
    export_onnx : Writes the file.

    Examples
    --------
    >>> import numpy as np, onnxruntime, pandas as pd, tempfile, os
    >>> from skdistill import DistilledClassifier, export_onnx, onnx_inputs
    >>> frame = pd.DataFrame({"size": [1.0, 2.0, np.nan, 4.0] * 10,
    ...                       "colour": ["red", "blue", "red", None] * 10})
    >>> y = [0, 1, 0, 1] * 10
    >>> clf = DistilledClassifier("precomputed", student_preprocessor="auto", max_epochs=2,
    ...                           random_state=0)
    >>> clf = clf.fit(frame, y, teacher_proba=np.tile([[0.8, 0.2], [0.3, 0.7]], (20, 1)))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     session = onnxruntime.InferenceSession(
    ...         export_onnx(clf, os.path.join(folder, "student.onnx"), X=frame))
    ...     label, proba = session.run(None, onnx_inputs(session, frame))
    >>> np.allclose(proba, clf.predict_proba(frame), atol=1e-5)
    True
    """
    inputs = session.get_inputs()
    names = [inp.name for inp in inputs]
    X = _as_pandas(X)
    if _is_frame(X) and (len(names) > 1 or names[0] in X.columns):
        columns = _input_columns(names, X)
        return {inp.name: _column_as(X.iloc[:, at], inp.type) for inp, at in zip(inputs, columns)}
    if len(names) > 1:
        raise ValueError(
            f"The exported model takes one input per column ({names}); pass X as a DataFrame "
            "with those columns."
        )
    values = X.toarray() if sp.issparse(X) else np.asarray(X)  # the file reads dense rows
    if values.ndim == 1:  # documents: a column of them, or one string per row as declared
        rank = len(inputs[0].shape) if isinstance(inputs[0].shape, (list, tuple)) else 2
        return {names[0]: values.reshape(-1, 1) if rank != 1 else values}
    return {names[0]: values.astype(np.float32)}


def _first_row(X):
    """The first row of ``X`` (numbers, a sparse matrix or documents) as the file's sample:
    numbers as float32, the type :func:`onnx_inputs` feeds them in."""
    row = X[:1].toarray() if sp.issparse(X) else np.asarray(X)[:1]
    return row.astype(np.float32) if row.dtype.kind in "biuf" else row


def _is_frame(X):
    """Whether ``X`` is a pandas DataFrame (a Series of documents is one column, not a frame)."""
    return hasattr(X, "iloc") and hasattr(X, "columns")


def _as_pandas(X):
    """A polars (or pyarrow) frame as a pandas one; anything else as it is."""
    if hasattr(X, "to_pandas") and hasattr(X, "columns") and not hasattr(X, "iloc"):
        return X.to_pandas()
    return X


def _input_columns(names, X):
    """The position in ``X`` of each input's column.

    By name; an input skl2onnx renamed (``"my col"`` becomes ``"my_col"``,
    ``0`` becomes ``"_0"``, and a name taken already gets a number) is matched
    with the column whose name it was made from. ValueError naming the inputs
    no column matches.
    """
    columns = [str(column) for column in X.columns]
    sanitised = [_onnx_name(column) for column in columns]
    generated = _unique_names(sanitised)  # "my col", "my_col": inputs my_col, my_col1
    positions, unmatched = [], []
    for name in names:
        for candidates in (generated, columns, sanitised):
            if candidates.count(name) == 1:
                positions.append(candidates.index(name))
                break
        else:
            unmatched.append(name)
    if unmatched:
        raise ValueError(
            f"The exported model takes columns {unmatched}, which X does not have (its "
            f"columns: {columns}); pass a DataFrame with the columns the model was exported with."
        )
    return positions


def _unique_names(names):
    """``names`` made unique as skl2onnx makes its inputs' names: a name taken already gets
    the first number that makes it new."""
    taken, unique = set(), []
    for name in names:
        number, made = 1, name
        while made in taken:
            made, number = f"{name}{number}", number + 1
        taken.add(made)
        unique.append(made)
    return unique


def _onnx_name(column):
    """The input name skl2onnx makes of a column name (its ``_generate_unique_name``)."""
    name = re.sub(r"[^\w+]", "_", column)
    return "_" + name if re.match("^[0-9]", name) else name


FIXED_WIDTH = 16
"""Categorical columns whose strings are all at most this long are fed as a fixed-width numpy
string array, which onnxruntime reads faster than an array of ``str`` objects (0.1-0.6 ms
less for 30,000 short strings); at 4 bytes a character, at most 64 bytes a row. Longer ones
stay objects."""


def _column_as(column, onnx_type):
    """A frame's column as the ``[n, 1]`` array an input of ``onnx_type`` takes."""
    if onnx_type == "tensor(string)":  # as the encoding read them in fit: missing as "nan"
        if getattr(column.dtype, "kind", "O") in "iuf":  # 101.0 would read as "101.0", not "101"
            raise ValueError(
                f"The exported file takes column {column.name!r} as categories, but this X "
                f"holds numbers ({column.dtype}) in it, which would read as other categories "
                "than fit saw; predict_proba refuses them too. Pass the column with the dtype "
                f"it had in fit, e.g. X.astype({{{column.name!r}: 'category'}})."
            )
        strings = CategoriesAsStrings().read(column, 0)
        strings[missing_mask(strings)] = MISSING_AS_STRING
        if len(strings) and max(map(len, strings)) <= FIXED_WIDTH:
            strings = strings.astype(str)  # onnxruntime reads these faster than str objects
        return strings[:, None]
    dtype = {"tensor(int64)": np.int64, "tensor(double)": np.float64}.get(onnx_type, np.float32)
    if dtype is np.int64:
        return _whole_numbers(column)[:, None]
    return column.to_numpy(dtype=dtype, na_value=np.nan)[:, None]


def _whole_numbers(column):
    """A column fed to an ``int64`` input, as int64; ValueError where it holds a missing value
    or a fraction, which an integer input cannot take (a cast would change it silently)."""
    if column.dtype.kind in "iu" and not column.hasnans:  # integers: exactly as they are
        return column.to_numpy(dtype=np.int64)
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.array_equal(values, np.rint(values)):  # NaN is never equal
        raise ValueError(
            f"The exported file takes whole numbers in column {column.name!r} (X held "
            "integers there when it was exported), but this X holds missing values or "
            "fractions in it. Export with that column as floats (X.astype({"
            f"{column.name!r}: float}})) to feed such values."
        )
    return values.astype(np.int64)
