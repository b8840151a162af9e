"""The student's nodes in a converter's graph: its torch module exported, then copied in.

:func:`add_student` adds a student reading an array (its encoding of numbers,
if any, as its first nodes); :func:`add_frame_student` one reading a table's
columns (:mod:`._frame_student`). Both export the module with
``torch.onnx.export`` (:func:`exported_graph`) and copy its nodes and
initializers into skl2onnx's container.
"""

import contextlib
import logging

import torch

from ..students._column_reading import MISSING_AS_STRING
from ..students._fitted_encoder import table_encoding
from ..training._solver import plain_relu_linears
from ._columns_first import columns_first_student
from ._onnx_graph import as_float, concatenated, filled
from ._weights_type import stored_weights_type

__all__ = ["add_frame_student", "add_student", "quiet_loggers", "student_encoding"]


def add_student(scope, container, model, features, encoding):
    """Copy the student's torch-exported graph into the container; return its output's name.

    ``encoding``: the student's torch encoding, its graph's first nodes (None: the features
    are encoded already)."""
    fill_first = encoding is not None and not len(encoding.flagged)
    if fill_first:  # onnxruntime's Imputer fills a few times faster than IsNaN and Where
        features = filled(scope, container, features, encoding.fill.numpy())
    graph = _student_graph(model, container.target_opset, encoding, rows_filled=fill_first)
    return _copied(scope, container, graph, [features])


def add_frame_student(scope, operator, container):
    """Add the student of a table's columns (:mod:`._frame_student`): the numeric inputs side
    by side as float32, the categorical ones as codes; return its output's name."""
    model, columns = operator.raw_operator, operator.frame_columns
    inputs, examples = [], []
    if columns.numbers:
        numbers = concatenated(scope, container, [
            as_float(scope, operator, container, operator.inputs[at]) for at in columns.numbers
        ])
        if columns.rows_filled:
            encoding, _ = table_encoding(model.student_preprocessor_)
            numbers = filled(scope, container, numbers, encoding.numbers.fill.cpu().numpy())
        inputs.append(numbers)
        examples.append(torch.zeros(2, len(columns.numbers)))
    codes = []
    for at, (strings, values) in zip(columns.strings, columns.lookups):
        code = scope.get_unique_variable_name("code")
        container.add_node(
            "LabelEncoder", [operator.inputs[at].full_name], [code], op_domain="ai.onnx.ml",
            op_version=2, keys_strings=strings or [MISSING_AS_STRING],
            values_int64s=values or [-1], default_int64=-1,
            name=scope.get_unique_operator_name("LabelEncoder"),
        )
        codes.append(code)
    student = columns.student
    if codes:
        inputs.append(concatenated(scope, container, codes))
        examples.append(torch.zeros(2, len(codes), dtype=torch.int64))
        if not columns.numbers:
            student = _CodesOnly(student)
    graph = exported_graph(student, examples, container.target_opset)
    return _copied(scope, container, graph, inputs)


class _CodesOnly(torch.nn.Module):
    """The student of a table without numeric columns, taking the codes alone."""

    def __init__(self, student):
        super().__init__()
        self.student = student

    def forward(self, codes):
        return self.student(codes=codes)


def _copied(scope, container, graph, inputs):
    """Copy an exported ``graph`` into the container, reading ``inputs`` (names, in its inputs'
    order); return its output's name."""
    from onnx import helper, numpy_helper

    rename = dict(zip((each.name for each in graph.input), inputs))

    def renamed(name):
        if not name:
            return name
        if name not in rename:
            rename[name] = scope.get_unique_variable_name(f"student_{name}")
        return rename[name]

    for tensor in graph.initializer:
        values = numpy_helper.to_array(tensor)
        container.add_initializer(
            renamed(tensor.name), tensor.data_type, list(values.shape), values.ravel().tolist()
        )
    for node in graph.node:
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        container.add_node(
            node.op_type,
            [renamed(n) for n in node.input],
            [renamed(n) for n in node.output],
            op_domain=node.domain,
            op_version=container.target_opset if not node.domain else 1,
            name=scope.get_unique_operator_name(f"student_{node.op_type}"),
            **attributes,
        )
    return renamed(graph.output[0].name)


def student_encoding(model):
    """The torch encoding of numbers the student reads its rows through, as one input, or None.

    Rows of numbers; or a DataFrame of numbers alone, its columns in the input's order (what
    an earlier step of a pipeline set to output pandas gives it).
    """
    from ..stages._encoding import reads_own_encoding
    from ..students._fitted_encoder import numbers_in_order, numeric_encoding

    if not reads_own_encoding(vars(model)):
        return None
    encoding = numeric_encoding(model.student_preprocessor_)
    names = getattr(model, "feature_names_in_", None)
    if encoding is None and names is not None:
        encoding = numbers_in_order(model.student_preprocessor_, names)
    return encoding


class _FilledRows(torch.nn.Module):
    """The encoding of rows whose missing values are filled already (by the file's Imputer)."""

    def __init__(self, encoding):
        super().__init__()
        self.encoding = encoding

    def forward(self, x):
        return self.encoding(x, finite=True)


def _student_graph(model, target_opset, encoding, rows_filled=False):
    """The student module exported by torch.onnx, checked to be one plain graph.

    ``encoding``: its first stage (None: none); ``rows_filled``: the graph reads rows whose
    missing values are filled already, so the encoding's fill is left out."""
    import copy

    module = copy.deepcopy(model.student_.module_).cpu().eval()
    shape = getattr(model, "input_shape_", None) or (model.n_student_features_,)
    if encoding is not None:  # its first nodes: the same computation as predict's
        encoding = copy.deepcopy(encoding).cpu()
        shape = (encoding.n_features_in,)
        # int8 weights on unscaled inputs would lose small columns
        quantized = stored_weights_type() == "int8"
        transposed = None if quantized else columns_first_student(encoding, module, rows_filled)
        if transposed is not None:  # lines and hinges, on the rows' transpose
            module = transposed
        else:
            encoding.columns_first = True
            linears = plain_relu_linears(module)
            if linears is not None and not quantized:  # one pass fewer
                encoding.fold_division_into(linears[0])
            module = torch.nn.Sequential(
                _FilledRows(encoding) if rows_filled else encoding, module)
    return exported_graph(module, [torch.zeros(2, *shape)], target_opset)


def exported_graph(module, examples, target_opset):
    """``module`` exported by torch.onnx (its inputs shaped as ``examples``, any number of
    rows), checked to be one plain graph."""
    import warnings

    opset = min(int(target_opset or 18), 21) if not isinstance(target_opset, dict) else 18
    batch = torch.export.Dim("batch", min=1)
    with quiet_loggers("torch.onnx", "root"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.export internals
        program = torch.onnx.export(
            module,
            tuple(examples),
            dynamo=True,
            input_names=[f"X{at}" for at in range(len(examples))],
            output_names=["logits"],
            dynamic_shapes=tuple({0: batch} for _ in examples),  # whatever the arguments' names
            opset_version=max(opset, 18),
            verbose=False,
        )
    proto = program.model_proto
    if len(proto.functions) or any(node.domain not in ("", "ai.onnx") for node in proto.graph.node):
        raise ValueError(
            "The student exports to ONNX with functions or custom domains, which cannot be "
            "copied into a scikit-learn pipeline's graph; use torch.onnx.export on "
            "student_.module_ directly."
        )
    return proto.graph


@contextlib.contextmanager
def quiet_loggers(*names):
    """Silence the exporters' and quantizer's advice for the duration of an export."""
    loggers = [logging.getLogger(None if name == "root" else name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
