"""skl2onnx converters for the distillers: whole pipelines to ONNX.

:func:`register_onnx_converters` teaches skl2onnx the two distillers, so
``skl2onnx.to_onnx(pipeline, X)`` converts any pipeline whose other steps
skl2onnx supports (scalers, PCA, imputers, ``ColumnTransformer`` with
``OneHotEncoder``, ``TfidfVectorizer``...), a ``student_preprocessor``
included. The student network itself is exported by ``torch.onnx.export``
and its nodes are copied into skl2onnx's graph (:mod:`._student_nodes`); the
head follows skl2onnx's conventions:

* a classifier gives ``label`` (int64 or string, one per row) and
  ``probabilities`` (float, one column per class of ``classes_``), never a
  ZipMap (the ``zipmap`` option skl2onnx passes to classifiers is accepted and
  ignored);
* a regressor gives ``variable`` (float, shape ``(n, 1)``) in the targets' units.

Needs the ``export`` extra (onnx, onnxscript, skl2onnx).
"""

import numpy as np
from sklearn.base import is_classifier, is_regressor

from ._frame_student import frame_columns
from ._onnx_graph import as_float as _as_float
from ._onnx_graph import constant as _constant
from ._student_nodes import add_frame_student, add_student, student_encoding
from ._weights_type import stored_weights_type

__all__ = ["register_onnx_converters"]

_ALIASES = {
    "DistilledClassifier": "SkdistillDistilledClassifier",
    "DistilledRegressor": "SkdistillDistilledRegressor",
    "PiecewiseLinearEncoder": "SkdistillPiecewiseLinearEncoder",
    "MissingIndicator": "SkdistillMissingIndicator",
    "NumbersAsFloat": "SkdistillNumbersAsFloat",
    "CategoriesAsStrings": "SkdistillCategoriesAsStrings",
}


def register_onnx_converters():
    """Register the distillers and the encoders they may read through with skl2onnx.

    :class:`PiecewiseLinearEncoder`, scikit-learn's ``MissingIndicator``
    (which skl2onnx does not convert itself), the steps that read each
    column as numbers or strings, for :func:`make_student_encoder`, and
    ``OneHotEncoder`` where it groups rare categories as infrequent (which
    skl2onnx refuses for columns fed as one input; other encoders go to
    skl2onnx's own converter).

    Idempotent; call once before ``skl2onnx.to_onnx``.

    See Also
    --------
    export_onnx : Registers them and writes the file in one call.

    Examples
    --------
    >>> import numpy as np, onnxruntime, skl2onnx
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skdistill import DistilledClassifier, register_onnx_converters
    >>> X, y = load_iris(return_X_y=True)
    >>> model = make_pipeline(MinMaxScaler(), DistilledClassifier(
    ...     LogisticRegression(), max_epochs=5, random_state=0)).fit(X, y)
    >>> register_onnx_converters()
    >>> onx = skl2onnx.to_onnx(model, X[:1].astype(np.float32))
    >>> session = onnxruntime.InferenceSession(onx.SerializeToString())
    >>> label, proba = session.run(None, {"X": X[:3].astype(np.float32)})
    >>> np.allclose(proba, model.predict_proba(X[:3]), atol=1e-5)
    True
    """
    from skl2onnx import update_registered_converter
    from sklearn.impute import MissingIndicator
    from sklearn.preprocessing import OneHotEncoder

    from .._estimators._classifier import DistilledClassifier
    from .._estimators._regressor import DistilledRegressor
    from ..students._column_reading import CategoriesAsStrings, NumbersAsFloat
    from ..students._encoding import PiecewiseLinearEncoder
    from ._one_hot import convert_one_hot, one_hot_shape

    for model in (DistilledClassifier, DistilledRegressor):
        update_registered_converter(
            model,
            _ALIASES[model.__name__],
            _shape_calculator,
            _convert,
            parser=_parse,
            # skl2onnx passes its classifiers' zipmap option along; there is never a ZipMap
            options={"zipmap": [True, False, "columns"]},
        )
    update_registered_converter(
        PiecewiseLinearEncoder,
        _ALIASES["PiecewiseLinearEncoder"],
        _encoder_shape,
        _convert_encoder,
    )
    update_registered_converter(
        MissingIndicator, _ALIASES["MissingIndicator"], _indicator_shape, _convert_indicator
    )
    update_registered_converter(
        NumbersAsFloat, _ALIASES["NumbersAsFloat"], _numbers_shape, _convert_numbers
    )
    update_registered_converter(
        CategoriesAsStrings, _ALIASES["CategoriesAsStrings"], _strings_shape, _convert_strings
    )
    # skl2onnx's own converter, extended to rare categories grouped as infrequent
    update_registered_converter(OneHotEncoder, "SklearnOneHotEncoder", one_hot_shape,
                                convert_one_hot)


def _parse(scope, model, inputs, custom_parsers=None):
    """Declare the preprocessor's operators (if any), then the distiller's."""
    from skl2onnx._parse import _parse_sklearn
    from skl2onnx.common.data_types import (
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    preprocessor = getattr(model, "student_preprocessor_", None)
    # the student's own encoding of numbers reads one input of the fitted width; its encoding
    # of a table, one input per column (not for an int8 file, whose quantized first layer
    # reads the scaled encoding: see ._weights_type); anything else goes through the fitted
    # encoder's converters
    encoding = student_encoding(model) if len(inputs) == 1 else None
    int8 = stored_weights_type() == "int8"
    columns = None if encoding is not None or int8 else frame_columns(model, inputs)
    if preprocessor is not None and encoding is None and columns is None:
        width = getattr(model, "n_features_in_", None)
        shape = inputs[0].type.shape if len(inputs) == 1 else [0, 0]
        if width is not None and (len(shape) != 2 or shape[1] is None):
            # an earlier pipeline step's output, not shaped yet: a ColumnTransformer
            # picks its columns now
            inputs[0].type = type(inputs[0].type)([None, width])
        inputs = _parse_sklearn(scope, preprocessor, inputs, custom_parsers)
    operator = scope.declare_local_operator(_ALIASES[type(model).__name__], model)
    operator.inputs = list(inputs)
    operator.student_encoding = encoding
    operator.frame_columns = columns
    if is_classifier(model):
        label_type = StringTensorType if model.classes_.dtype.kind in "OUS" else Int64TensorType
        operator.outputs.append(scope.declare_local_variable("label", label_type()))
        operator.outputs.append(scope.declare_local_variable("probabilities", FloatTensorType()))
    else:
        operator.outputs.append(scope.declare_local_variable("variable", FloatTensorType()))
    return list(operator.outputs)


def _shape_calculator(operator):
    from skl2onnx.common.data_types import FloatTensorType

    model = operator.raw_operator
    n_rows = operator.inputs[0].get_first_dimension()
    if is_classifier(model):
        operator.outputs[0].type = operator.outputs[0].type.__class__([n_rows])
        operator.outputs[1].type = FloatTensorType([n_rows, len(model.classes_)])
    else:
        operator.outputs[0].type = FloatTensorType([n_rows, 1])


def _convert(scope, operator, container):
    from onnx import TensorProto

    model = operator.raw_operator
    if operator.frame_columns is not None:
        logits = add_frame_student(scope, operator, container)
    else:
        features = _as_float(scope, operator, container)
        logits = add_student(scope, container, model, features, operator.student_encoding)
    if is_regressor(model):
        scale = _constant(scope, container, "scale", np.array([model.target_scale_], np.float32))
        mean = _constant(scope, container, "mean", np.array([model.target_mean_], np.float32))
        scaled = scope.get_unique_variable_name("scaled")
        column = scope.get_unique_variable_name("column")
        shape = _constant(scope, container, "shape", np.array([-1, 1], np.int64))
        container.add_node(
            "Reshape", [logits, shape], [column], name=scope.get_unique_operator_name("Reshape")
        )
        container.add_node(
            "Mul", [column, scale], [scaled], name=scope.get_unique_operator_name("Mul")
        )
        container.add_node(
            "Add",
            [scaled, mean],
            [operator.outputs[0].full_name],
            name=scope.get_unique_operator_name("Add"),
        )
        return
    label, probabilities = (variable.full_name for variable in operator.outputs)
    container.add_node(
        "Softmax", [logits], [probabilities], axis=1, name=scope.get_unique_operator_name("Softmax")
    )
    classes = model.classes_
    # labels 0, 1, ..., k - 1 are the positions themselves: no lookup (on 10,000 rows, a
    # Gather of about 80 us)
    positions = classes.dtype.kind in "iu" and np.array_equal(classes, np.arange(len(classes)))
    index = label if positions else scope.get_unique_variable_name("index")
    container.add_node(
        "ArgMax",
        [probabilities],
        [index],
        axis=1,
        keepdims=0,
        name=scope.get_unique_operator_name("ArgMax"),
    )
    if positions:
        return
    if classes.dtype.kind in "OUS":
        name = scope.get_unique_variable_name("classes")
        container.add_initializer(
            name, TensorProto.STRING, [len(classes)], [str(c).encode() for c in classes]
        )
    elif classes.dtype.kind in "iu":
        name = _constant(scope, container, "classes", classes.astype(np.int64))
    else:
        raise ValueError(
            f"ONNX export needs integer or string class labels; {type(model).__name__}.classes_ "
            f"has dtype {classes.dtype}. Refit with integer or string labels."
        )
    container.add_node(
        "Gather", [name, index], [label], axis=0, name=scope.get_unique_operator_name("Gather")
    )


def _encoder_shape(operator):
    from skl2onnx.common.data_types import FloatTensorType

    n_columns = len(operator.raw_operator.onnx_constants()[0])
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([n_rows, n_columns])


def _convert_encoder(scope, operator, container):
    """``min(max((X[:, columns] - lower) / width, low_clip), high_clip)`` in float32.

    Computed on the rows' transpose, one column per row: onnxruntime gathers rows many times
    faster than columns (on 10,000 rows of four numbers, 16 bins each: 4.2 ms a column at a
    time), and the constants broadcast down each row.
    """
    columns, *arrays = operator.raw_operator.onnx_constants()
    features = _as_float(scope, operator, container)
    index = _constant(scope, container, "columns", columns)
    lower, width, low_clip, high_clip = (
        _constant(scope, container, name, values.astype(np.float32)[:, None])
        for name, values in zip(("lower", "width", "low_clip", "high_clip"), arrays)
    )
    names = [scope.get_unique_variable_name(name) for name in ("columns_first", "gathered")]
    container.add_node("Transpose", [features], [names[0]], perm=[1, 0],
                       name=scope.get_unique_operator_name("Transpose"))
    container.add_node("Gather", [names[0], index], [names[1]], axis=0,
                       name=scope.get_unique_operator_name("Gather"))
    value = names[1]
    for op, constant in [("Sub", lower), ("Div", width), ("Max", low_clip), ("Min", high_clip)]:
        out = scope.get_unique_variable_name(op.lower())
        container.add_node(op, [value, constant], [out], name=scope.get_unique_operator_name(op))
        value = out
    container.add_node("Transpose", [value], [operator.outputs[0].full_name], perm=[1, 0],
                       name=scope.get_unique_operator_name("Transpose"))


def _indicator_shape(operator):
    from skl2onnx.common.data_types import FloatTensorType

    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([n_rows, len(operator.raw_operator.features_)])


def _convert_indicator(scope, operator, container):
    """scikit-learn's ``MissingIndicator``: ``isnan(X[:, features_])`` as 0/1 floats."""
    from onnx import TensorProto

    marker = operator.raw_operator.missing_values
    if not (isinstance(marker, float) and np.isnan(marker)):
        raise RuntimeError(
            f"MissingIndicator(missing_values={marker!r}) cannot be converted; only NaN "
            "marks a missing value in the exported file."
        )

    features = _as_float(scope, operator, container)
    index = _constant(scope, container, "flagged", operator.raw_operator.features_.astype(np.int64))
    names = [scope.get_unique_variable_name(name) for name in ("flagged_values", "is_missing")]
    container.add_node("Gather", [features, index], [names[0]], axis=1,
                       name=scope.get_unique_operator_name("Gather"))
    container.add_node("IsNaN", [names[0]], [names[1]],
                       name=scope.get_unique_operator_name("IsNaN"))
    container.add_node("Cast", [names[1]], [operator.outputs[0].full_name], to=TensorProto.FLOAT,
                       name=scope.get_unique_operator_name("Cast"))


def _numbers_shape(operator):
    from skl2onnx.common.data_types import FloatTensorType

    operator.outputs[0].type = FloatTensorType(operator.inputs[0].type.shape)


def _convert_numbers(scope, operator, container):
    """The columns as float32: numbers are fed as floats (missing as NaN) or integers."""
    container.add_node("Identity", [_as_float(scope, operator, container)],
                       [operator.outputs[0].full_name],
                       name=scope.get_unique_operator_name("Identity"))


def _strings_shape(operator):
    from skl2onnx.common.data_types import StringTensorType

    if not isinstance(operator.inputs[0].type, StringTensorType):
        raise RuntimeError(
            "The categorical columns must be fed as strings (a missing value as 'nan'), as "
            "onnx_inputs feeds them; export with X=<a few rows of the DataFrame>."
        )
    operator.outputs[0].type = StringTensorType(operator.inputs[0].type.shape)


def _convert_strings(scope, operator, container):
    """Categories are fed as strings already (onnx_inputs writes them as the fit read them)."""
    container.add_node("Identity", [operator.inputs[0].full_name],
                       [operator.outputs[0].full_name],
                       name=scope.get_unique_operator_name("Identity"))
