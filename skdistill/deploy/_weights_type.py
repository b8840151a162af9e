"""The type the file being written stores its weight matrices in, while a model is converted.

:func:`~skdistill.export_onnx` writes float32 weights by default, float16 ones with
``float16=True`` (:func:`~skdistill.deploy._half.half_weights`) and int8 ones with
``int8=True`` (onnxruntime's dynamic quantization). The converters shape the student's graph
for that type before it is stored:

* ``"float32"``: the encoding's division folded into the first layer, and a first layer on
  piecewise-linear bins rewritten as hinges (:mod:`._hinges`);
* ``"float16"``: every bin kept a clipped column -- adjacent hinges are two large terms that
  cancel, so their weights' rounding error would grow with the distance from the knots, where
  a clipped bin's stays bounded by its width;
* ``"int8"``: the first layer reads the encoding's scaled columns (the division not folded
  into the weights), whose common range int8 keeps.
"""

import contextlib
import contextvars

__all__ = ["WEIGHTS_TYPES", "stored_weights_type", "storing_weights_as"]

WEIGHTS_TYPES = ("float32", "float16", "int8")

_STORED = contextvars.ContextVar("stored_weights_type", default="float32")


@contextlib.contextmanager
def storing_weights_as(weights_type):
    """Within the block, the model being converted goes to a file of ``weights_type`` weights.

    Examples
    --------
    >>> with storing_weights_as("float16"):
    ...     print(stored_weights_type())
    float16
    >>> stored_weights_type()
    'float32'
    """
    if weights_type not in WEIGHTS_TYPES:
        raise ValueError(f"weights_type must be one of {WEIGHTS_TYPES}; got {weights_type!r}.")
    token = _STORED.set(weights_type)
    try:
        yield
    finally:
        _STORED.reset(token)


def stored_weights_type():
    """The weights type of the file the model being converted goes to (:func:`storing_weights_as`);
    ``"float32"`` outside an export."""
    return _STORED.get()
