"""A table's student as one exported graph: its numeric columns and category codes in.

A DataFrame's file takes one input per column. For the package's own encoding
of a table (numbers, then one-hot categories) the file concatenates the
numeric columns, looks each categorical column's strings up as the codes the
encoding reads (ai.onnx.ml's ``LabelEncoder``), and computes the student on
both (:class:`~skdistill.deploy._columns_first.ColumnsFirstStudent`): the first
layer's part on the numbers through lines and hinges, its part on the
categories from one-hot rows made of the codes on the rows' transpose. The
same function as ``predict_proba``'s, to float32 rounding;
:func:`frame_columns` says where it applies, and anything else goes through
the scikit-learn encoder's converters.
"""

import copy
from dataclasses import dataclass

import numpy as np
import torch

from ..students._column_reading import MISSING_AS_STRING
from ..students._fitted_encoder import table_encoding
from ..training._solver import plain_relu_linears
from ._columns_first import ColumnsFirstStudent
from ._hinges import hinged_student

__all__ = ["FrameColumns", "frame_columns"]


@dataclass
class FrameColumns:
    """How the exported graph reads a table's columns.

    Attributes
    ----------
    numbers, strings : list of int
        The positions among the converter's inputs of the numeric columns and
        of the categorical ones, in the encoding's order.
    lookups : list of (list of str, list of int)
        Per categorical column, the strings the file's ``LabelEncoder`` knows
        and their codes; any other string reads -1 (it sets no one-hot column).
    rows_filled : bool
        The numbers reach the student with their missing values filled (by the
        file's Imputer: the encoding flags none).
    student : ColumnsFirstStudent
        The student on the numbers (float32, side by side) and the codes
        (int64, side by side), on the CPU.
    """

    numbers: list
    strings: list
    lookups: list
    rows_filled: bool
    student: ColumnsFirstStudent


def frame_columns(model, inputs):
    """The :class:`FrameColumns` of a fitted distiller whose converter has ``inputs``; or None.

    None where the distiller does not read its rows through the package's
    encoding of a table, its student is not a plain ReLU
    :class:`~skdistill.MLPStudent`, its first layer cannot be read through
    lines and hinges as precisely, or an encoded column is not one input of
    the expected type (numbers for a numeric column, strings for a categorical
    one), matched by name, or by position for a table read by position.
    """
    from skl2onnx.common.data_types import StringTensorType

    found = table_encoding(getattr(model, "student_preprocessor_", None))
    if found is None or plain_relu_linears(model.student_.module_) is None:
        return None
    encoding, reader = found
    positions = [_input_of(model, inputs, name) for name in reader.numeric + reader.categorical]
    if None in positions:
        return None
    numbers, strings = positions[:len(reader.numeric)], positions[len(reader.numeric):]
    if any(isinstance(inputs[at].type, StringTensorType) for at in numbers) or not all(
        isinstance(inputs[at].type, StringTensorType) for at in strings
    ):
        return None
    rows_filled = encoding.numbers is not None and not len(encoding.numbers.flagged)
    student = _student(encoding, model.student_.module_, rows_filled)
    if student is None:
        return None
    return FrameColumns(numbers, strings, _lookups(encoding, reader), rows_filled, student)


def _input_of(model, inputs, name):
    """The position of column ``name``'s input (by name; a position by position), or None."""
    if isinstance(name, str):
        matches = [at for at, variable in enumerate(inputs) if variable.raw_name == name]
        return matches[0] if len(matches) == 1 else None
    names = getattr(model, "feature_names_in_", None)
    if len(inputs) != getattr(model, "n_features_in_", None) or not 0 <= int(name) < len(inputs):
        return None
    if names is not None and inputs[int(name)].raw_name != str(names[int(name)]):
        return None
    return int(name)


def _lookups(encoding, reader):
    """Per categorical column, ``(strings, codes)`` for the file's ``LabelEncoder``: the codes
    :class:`~skdistill.students._table_encoding.TableReader` reads (-1, the code of a category
    the fit never saw, for any other string). The file is fed a missing value as ``"nan"``."""
    lookups = []
    for _, by_string, _, missing_code in reader.lookups:
        by_string = dict(by_string)  # a category spelled "nan" reads as a missing value
        by_string[MISSING_AS_STRING] = missing_code
        known = [(value, code) for value, code in by_string.items() if code >= 0]
        lookups.append(([value for value, _ in known], [code for _, code in known]))
    return lookups


def _student(encoding, module, rows_filled):
    """The :class:`ColumnsFirstStudent` of ``module`` on a table's numbers and codes, or None
    where its part on the numbers would lose precision as hinges."""
    module = copy.deepcopy(module).cpu().eval()
    linears = plain_relu_linears(module)
    weight, bias = linears[0].weight.detach(), linears[0].bias
    bias = torch.zeros(weight.shape[0]) if bias is None else bias.detach()
    numbers, n_numbers = None, 0
    if encoding.numbers is not None:
        n_numbers = encoding.numbers.n_features_out
        proxy = copy.deepcopy(module)  # the student where every category is unknown
        # uninitialised (its weights are copied in): the caller's random state is not drawn on
        proxy.layers[0] = torch.nn.utils.skip_init(torch.nn.Linear, n_numbers, weight.shape[0])
        with torch.no_grad():
            proxy.layers[0].weight.copy_(weight[:, :n_numbers])
            proxy.layers[0].bias.copy_(bias)
        hinged = hinged_student(copy.deepcopy(encoding.numbers).cpu(), proxy, rows_filled)
        if hinged is None:
            return None
        numbers, bias = hinged[0], hinged[0].bias
    if encoding.categories is None:
        return ColumnsFirstStudent(numbers, bias, linears[1:])
    offsets = encoding.categories.offsets.cpu().numpy()
    n_one_hot = encoding.categories.n_features_out
    columns = np.searchsorted(offsets, np.arange(n_one_hot), side="right") - 1
    return ColumnsFirstStudent(
        numbers, bias, linears[1:], weight[:, n_numbers:].contiguous(),
        torch.as_tensor(columns, dtype=torch.int64),
        torch.as_tensor(np.arange(n_one_hot) - offsets[columns], dtype=torch.int64),
    )
