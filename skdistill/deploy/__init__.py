"""Deployment: ONNX export, skl2onnx converters and lean pickles of fitted distillers."""

from ._export import export_onnx, onnx_inputs
from ._skl2onnx import register_onnx_converters
from ._strip import strip_teacher

__all__ = ["export_onnx", "onnx_inputs", "register_onnx_converters", "strip_teacher"]
