"""scikit-learn's ``OneHotEncoder`` with infrequent categories, as ONNX operators.

skl2onnx converts a ``OneHotEncoder`` but not its grouping of rare categories
(``min_frequency`` / ``max_categories``) when its columns arrive as one input,
which is how :func:`~skdistill.make_student_encoder` feeds them: most real ID
or city columns have rare values. This converter takes over exactly there and
hands every other encoder to skl2onnx's own converter. Each column's strings
are mapped to their output column within the column's block (an ONNX
``LabelEncoder``: frequent categories to their own, infrequent ones to the
block's last, unknown ones to none) and compared with the block's positions.
The mapping is read from the fitted encoder's own ``transform``, so it is what
``predict_proba`` computes.
"""

import numpy as np

from ..students._column_reading import MISSING_AS_STRING, missing_mask
from ._onnx_graph import constant

__all__ = ["convert_one_hot", "groups_rare_categories", "one_hot_shape", "output_positions"]


def groups_rare_categories(encoder):
    """Whether a fitted ``OneHotEncoder`` groups some category as infrequent."""
    grouped = getattr(encoder, "infrequent_categories_", None) or []
    return any(group is not None for group in grouped)


def output_positions(encoder):
    """Per input column, ``{category as fed: its output column within the column's block}``.

    A category fed as a string (a missing one as ``"nan"``, as
    :func:`~skdistill.onnx_inputs` feeds it) maps to the column the encoder's
    own ``transform`` sets for it; categories it sets none for are left out.

    Examples
    --------
    >>> from sklearn.preprocessing import OneHotEncoder
    >>> X = np.array([["a"]] * 5 + [["b"]] * 5 + [["c"]], dtype=object)
    >>> encoder = OneHotEncoder(min_frequency=2, handle_unknown="ignore").fit(X)
    >>> output_positions(encoder)
    [{'a': 0, 'b': 1, 'c': 2}]
    """
    probe = np.array([[categories[0] for categories in encoder.categories_]], dtype=object)
    positions, offset = [], 0
    for column, (categories, width) in enumerate(
        zip(encoder.categories_, encoder._n_features_outs)
    ):
        rows = np.repeat(probe, len(categories), axis=0)
        rows[:, column] = categories
        block = _dense(encoder.transform(rows))[:, offset:offset + width]
        keys = np.where(missing_mask(categories), MISSING_AS_STRING, categories.astype(str))
        positions.append({
            str(key): int(row.argmax()) for key, row in zip(keys, block) if row.any()
        })
        offset += width
    return positions


def one_hot_shape(operator):
    """The output of an encoder that groups rare categories: float, one column per output."""
    from skl2onnx.common.data_types import FloatTensorType, Int64TensorType
    from skl2onnx.shape_calculators.one_hot_encoder import (
        calculate_sklearn_one_hot_encoder_output_shapes,
    )

    encoder = operator.raw_operator
    if not groups_rare_categories(encoder):
        calculate_sklearn_one_hot_encoder_output_shapes(operator)
        return
    kind = Int64TensorType if np.issubdtype(encoder.dtype, np.signedinteger) else FloatTensorType
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = kind([n_rows, int(sum(encoder._n_features_outs))])


def convert_one_hot(scope, operator, container):
    """One ``LabelEncoder`` and ``Equal`` per column; skl2onnx's converter where nothing is rare."""
    from onnx import TensorProto
    from skl2onnx.common.data_types import StringTensorType
    from skl2onnx.operator_converters.one_hot_encoder import convert_sklearn_one_hot_encoder

    encoder = operator.raw_operator
    if not (groups_rare_categories(encoder) and len(operator.inputs) == 1
            and isinstance(operator.inputs[0].type, StringTensorType)
            and getattr(encoder, "drop_idx_", None) is None):
        convert_sklearn_one_hot_encoder(scope, operator, container)
        return
    output_type = operator.outputs[0].type
    to = TensorProto.FLOAT if output_type.__class__.__name__ == "FloatTensorType" else (
        TensorProto.INT64)
    blocks = []
    for column, (positions, width) in enumerate(
        zip(output_positions(encoder), encoder._n_features_outs)
    ):
        names = {step: scope.get_unique_variable_name(step) for step in (
            "column", "strings", "position", "positions", "hit", "block")}
        index = constant(scope, container, "column_index", np.array([column], dtype=np.int64))
        container.add_node("Gather", [operator.inputs[0].full_name, index], [names["column"]],
                           axis=1, name=scope.get_unique_operator_name("Gather"))
        flat = constant(scope, container, "flat", np.array([-1], dtype=np.int64))
        container.add_node("Reshape", [names["column"], flat], [names["strings"]],
                           name=scope.get_unique_operator_name("Reshape"))
        container.add_node(
            "LabelEncoder", [names["strings"]], [names["position"]], op_domain="ai.onnx.ml",
            op_version=2, name=scope.get_unique_operator_name("LabelEncoder"),
            keys_strings=list(positions), values_int64s=list(positions.values()),
            default_int64=_unknown_position(encoder, column, width),
        )
        tall = constant(scope, container, "tall", np.array([-1, 1], dtype=np.int64))
        container.add_node("Reshape", [names["position"], tall], [names["positions"]],
                           name=scope.get_unique_operator_name("Reshape"))
        block = constant(scope, container, "block", np.arange(width, dtype=np.int64)[None])
        container.add_node("Equal", [names["positions"], block], [names["hit"]],
                           name=scope.get_unique_operator_name("Equal"))
        container.add_node("Cast", [names["hit"]], [names["block"]], to=to,
                           name=scope.get_unique_operator_name("Cast"))
        blocks.append(names["block"])
    container.add_node("Concat", blocks, [operator.outputs[0].full_name], axis=1,
                       name=scope.get_unique_operator_name("Concat"))


def _unknown_position(encoder, column, width):
    """Where an unseen category goes: the infrequent column where the encoder puts it
    there, else nowhere (-1: a block of zeros, as ``handle_unknown="ignore"``)."""
    to_infrequent = encoder.handle_unknown in ("infrequent_if_exist", "warn")
    return width - 1 if to_infrequent and (
        encoder.infrequent_categories_[column] is not None) else -1


def _dense(matrix):
    return matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)
