"""A smaller exported file: the weight matrices stored in float16.

A student's file is mostly its weight matrices. :func:`half_weights` stores
each in float16, divided by a power of two, and reads it back through ``Cast``
and ``Mul`` to float32: the file computes in float32 as before, on weights
rounded to 11 significant bits, and a tabular student's file is about two
thirds of its size; a convolution's kernels are stored so too (a recurrent
student's kernels, read by other operators, stay float32). onnxruntime folds the two operators
into a float32 constant when it loads the file: the conversion costs nothing
per prediction.

The file's first layer reads raw numbers: its weights are the student's
divided by each column's width, so a column counted in millions has weights a
million times smaller than one counted in units -- below float16's smallest
normal number, where rounding would lose most of their digits. Such a matrix
is scaled per input column, each column's largest weight to (1/2, 1]; others
by one power of two for the whole matrix (exactly, in float32). Every weight
matrix in the file is stored so, an earlier pipeline step's (a PCA's) too.
Everything else stays float32: biases, the encoding's centres, widths and bin
edges (an edge moved would move what a number reads as), imputation values.
"""

import numpy as np

__all__ = ["NORMAL_SPAN", "half_weights"]

NORMAL_SPAN = 2.0**14
"""Float16 holds 11 significant bits from 2**-14 up: a matrix in which an input's largest
weight would fall below that once divided by the matrix's scale is scaled input by input."""

_OPERANDS = {"MatMul": (0, 1), "Gemm": (0, 1)}
"""Where (input positions) an operator reads a weight matrix; not Gemm's bias."""

KERNEL = "kernel"
"""What :func:`_contracted_axis` says of a convolution's kernel (``Conv``'s input 1): stored in
float16 divided by one power of two for the whole kernel (its inputs are pixels or feature
maps of one scale, not columns counted in different units)."""


def half_weights(model):
    """Store ``model``'s weight matrices in float16, each divided by powers of two (see the
    module) and read back to float32 through ``Cast`` and ``Mul``; in place.

    A weight matrix is a finite float32 initializer of two axes that the graph
    reads only as an operand of ``MatMul`` or ``Gemm``, the same way round
    wherever it is read.

    Parameters
    ----------
    model : onnx.ModelProto

    Returns
    -------
    n_halved : int
        The number of matrices stored in float16.

    Examples
    --------
    >>> import numpy as np, onnx, onnxruntime
    >>> from onnx import TensorProto, helper, numpy_helper
    >>> W = np.array([[3.0, 1e-7], [-0.5, 2e-7]], np.float32)  # columns of inputs 1e7 apart
    >>> graph = helper.make_graph(
    ...     [helper.make_node("MatMul", ["W", "X"], ["y"])], "g",
    ...     [helper.make_tensor_value_info("X", TensorProto.FLOAT, [2, None])],
    ...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, None])],
    ...     [numpy_helper.from_array(W, "W")])
    >>> model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    >>> half_weights(model)
    1
    >>> [node.op_type for node in model.graph.node]
    ['Cast', 'Mul', 'MatMul']
    >>> session = onnxruntime.InferenceSession(model.SerializeToString())
    >>> x = np.array([[1.0], [1e7]], np.float32)
    >>> bool(np.allclose(session.run(None, {"X": x})[0], W @ x, rtol=1e-3))
    True
    >>> float(W[0, 1].astype(np.float16)) * 1e7  # unscaled, 1e-7 itself: 19 % off
    1.1920928955078125
    """
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    # initializer name -> the axis its products sum over; None: not only a weight (a graph
    # input's default value is replaced by the caller's: kept as it is)
    contracted = {value.name: None for value in graph.input}
    for node in graph.node:
        for position, name in enumerate(node.input):
            axis = _contracted_axis(node, position)
            contracted[name] = axis if contracted.get(name, axis) == axis else None
    taken = {value for node in graph.node for value in (*node.input, *node.output, node.name)}
    taken.update(value.name for value in (*graph.input, *graph.initializer))
    nodes = []
    for initializer in graph.initializer:
        axis = contracted.get(initializer.name)
        shape_fits = len(initializer.dims) >= 3 if axis == KERNEL else len(initializer.dims) == 2
        if axis is None or initializer.data_type != TensorProto.FLOAT or not shape_fits:
            continue
        weights = numpy_helper.to_array(initializer)
        if not np.isfinite(weights).all():
            continue
        if axis == KERNEL:
            scale = _power_of_two_above(np.abs(weights).max(keepdims=True))
        else:
            scale = _column_scale(weights, axis)
        if not np.isfinite(scale).all():  # a magnitude beyond 2**127
            continue
        name = initializer.name
        stored, scale_name, cast = (_unused(taken, f"{name}_{part}")
                                    for part in ("float16", "scale", "float32"))
        initializer.CopyFrom(numpy_helper.from_array((weights / scale).astype(np.float16), stored))
        graph.initializer.append(numpy_helper.from_array(scale, scale_name))
        nodes += [
            helper.make_node("Cast", [stored], [cast], to=TensorProto.FLOAT,
                             name=_unused(taken, f"{name}_cast")),
            helper.make_node("Mul", [cast, scale_name], [name], name=_unused(taken, f"{name}_mul")),
        ]
    for node in reversed(nodes):  # first: they read only initializers
        graph.node.insert(0, node)
    return len(nodes) // 2


def _contracted_axis(node, position):
    """The axis of input ``position`` that ``node``'s product sums over, :data:`KERNEL` for a
    convolution's kernel; None where that input is not a weight operand of a product."""
    if node.op_type == "Conv" and position == 1:
        return KERNEL
    if position not in _OPERANDS.get(node.op_type, ()):
        return None
    transposed = any(attribute.name == ("transA", "transB")[position] and attribute.i
                     for attribute in node.attribute)
    return (1 - position) ^ transposed  # A (rows x k) sums over axis 1, B (k x columns) over 0


def _column_scale(weights, axis):
    """The powers of two ``weights`` are divided by before rounding to float16: one for the
    matrix, at or above its largest magnitude, where every input's largest magnitude (but
    zero) stays within float16's normal range after the division (at least
    1 / :data:`NORMAL_SPAN`);
    else one per input (each index along ``axis``), at or above its own largest (1 for
    zeros). Shaped to broadcast against ``weights``."""
    largest = np.abs(weights).max(axis=1 - axis, keepdims=True)
    whole = _power_of_two_above(largest.max(keepdims=True))
    if np.all((largest == 0) | (largest >= whole / NORMAL_SPAN)):  # a zero column: any scale
        return whole
    return _power_of_two_above(largest)


def _power_of_two_above(values):
    """The least power of two at or above each of ``values`` (1 for zeros), float32."""
    exponent = np.ceil(np.log2(values, where=values > 0, out=np.zeros_like(values)))
    return np.ldexp(np.float32(1.0), exponent.astype(np.int32)).astype(np.float32)


def _unused(taken, name):
    """``name``, or ``name_2``, ``name_3``..., the first not in ``taken``; added to it."""
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}_{number}"
    taken.add(candidate)
    return candidate
