"""Building blocks of the ONNX graphs the converters write."""

__all__ = ["constant"]


def constant(scope, container, prefix, values):
    """Add ``values`` (a numpy array) to the graph as an initializer; return its name."""
    from onnx import numpy_helper

    name = scope.get_unique_variable_name(prefix)
    tensor = numpy_helper.from_array(values, name)
    container.add_initializer(name, tensor.data_type, list(values.shape), values.ravel().tolist())
    return name
