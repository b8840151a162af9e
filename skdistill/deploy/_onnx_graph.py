"""Building blocks of the ONNX graphs the converters write."""

import numpy as np

__all__ = ["as_float", "concatenated", "constant", "filled"]


def constant(scope, container, prefix, values):
    """Add ``values`` (a numpy array) to the graph as an initializer; return its name."""
    from onnx import numpy_helper

    name = scope.get_unique_variable_name(prefix)
    tensor = numpy_helper.from_array(values, name)
    container.add_initializer(name, tensor.data_type, list(values.shape), values.ravel().tolist())
    return name


def as_float(scope, operator, container, variable=None):
    """The input variable (default: the first) as float32 (a preprocessor may output doubles,
    a frame's column integers)."""
    from onnx import TensorProto
    from skl2onnx.common.data_types import FloatTensorType

    variable = operator.inputs[0] if variable is None else variable
    if isinstance(variable.type, FloatTensorType):
        return variable.full_name
    cast = scope.get_unique_variable_name("features")
    container.add_node(
        "Cast",
        [variable.full_name],
        [cast],
        to=TensorProto.FLOAT,
        name=scope.get_unique_operator_name("Cast"),
    )
    return cast


def concatenated(scope, container, names):
    """The ``[n, 1]`` inputs ``names`` side by side (the one name where there is one)."""
    if len(names) == 1:
        return names[0]
    out = scope.get_unique_variable_name("columns")
    container.add_node("Concat", names, [out], axis=1,
                       name=scope.get_unique_operator_name("Concat"))
    return out


def filled(scope, container, features, fill):
    """``features`` with each NaN replaced by its column's ``fill`` (ai.onnx.ml's Imputer)."""
    filled = scope.get_unique_variable_name("filled")
    container.add_node(
        "Imputer", [features], [filled], op_domain="ai.onnx.ml", op_version=1,
        imputed_value_floats=fill.astype(np.float32).tolist(), replaced_value_float=np.nan,
        name=scope.get_unique_operator_name("Imputer"),
    )
    return filled
