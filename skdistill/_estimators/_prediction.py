"""Prediction: the student's rows for new data, checked as at fit, and its raw outputs.

:class:`PredictionMixin` gives a fitted distiller its inference path. The
common case -- a float ndarray of the fitted width, no feature names, and
no preprocessor or the package's own encoding of numbers -- skips
scikit-learn's input checks, which cost several times
a small network's forward pass on one row. Outputs are computed in chunks of
:data:`PREDICT_CHUNK_ROWS` rows, so no full-size intermediate exists beside
the output.
"""

import contextlib
import math

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.validation import (
    _num_samples,
    check_is_fitted,
    validate_data,
)

from .._inputs import (
    ACCEPTED_SPARSE,
    DENSE_CHUNK_ELEMENTS,
    ROW_TILE,
    as_student_rows,
    encoded_rows,
    frame_locked,
    is_shaped,
    padded_float32,
    preprocessed_rows,
    read_only_view,
)
from .._openmp import one_openmp_thread
from ..students._column_reading import FLOAT32_MAX
from ..students._fitted_encoder import encodable_rows, numeric_encoding
from ..students._mlp import student_reads_sparse
from ..training._data import sparse_batch
from ..transfer._dask import predict_lazily
from ..stages._encoding import (
    check_encoded_input,
    check_no_missing,
    checked_table,
    reads_own_encoding,
)
from ..stages._shaped_input import check_shaped

__all__ = ["PREDICT_CHUNK_ROWS", "PredictionMixin", "RowsToEncode"]

PREDICT_CHUNK_ROWS = 16384
"""Most rows per forward pass at prediction time (bounds the memory of one call).

Chunks of a few megabytes are reused by the allocator from one to the next;
much larger ones are not, and a call's peak memory grows with them
(``benchmarks/fit_memory.py`` measures it)."""

CACHED_CHUNK_ELEMENTS = 2**20
"""On the CPU, rows read through the student's encoding are encoded and passed on about this
many encoded values at a time (4 MB in float32; at least 16 rows): a chunk then stays in the
processor's cache from the encoding's passes to the first layer, which on wide encodings is
faster than larger chunks (``benchmarks/single_row.py``)."""


class RowsToEncode:
    """Float rows as the caller gave them, and the torch encoding the student reads them
    through: each chunk is encoded on the student's device just before its forward pass.
    ``finite``: the rows are known to hold no missing value (nothing to fill)."""

    def __init__(self, rows, encoding, finite=False):
        self.rows = rows
        self.encoding = encoding
        self.finite = finite
        self.shape = (rows.shape[0], encoding.n_features_out)

    def chunk(self, rows, device):
        """``rows`` (some of these) as the student reads them: a fresh float32 tensor on
        ``device``, encoded, with zero rows added up to a multiple of :data:`ROW_TILE` (after the
        encoding, which computes the real rows only).

        At most :data:`ROW_TILE` rows on the CPU are encoded by numpy where
        the encoding has a numpy forward pass (the same bits, at a fraction
        of torch's cost per call); others by the encoding's torch forward
        pass, on ``device``.
        """
        if self.finite:
            rows = np.array(rows, dtype=np.float32, order="C")  # a fresh copy: never X in place
        else:  # a read column beyond float32 is refused before: this is one left out (empty)
            with np.errstate(over="ignore"):
                rows = np.array(rows, dtype=np.float32, order="C")
        numpy_forward = getattr(self.encoding, "numpy_forward", None)
        if device.type == "cpu" and len(rows) <= ROW_TILE and numpy_forward is not None:
            out = np.zeros((ROW_TILE, self.shape[1]), np.float32)
            numpy_forward(rows, finite=self.finite, out=out)
            return torch.from_numpy(out)
        encoding = self.encoding.on(device)
        chunk = torch.from_numpy(rows)
        chunk = chunk if device.type == "cpu" else chunk.to(device)
        encoded = encoding.forward(chunk, finite=True) if self.finite else encoding.forward(chunk)
        missing = -len(encoded) % ROW_TILE
        return torch.nn.functional.pad(encoded, (0, 0, 0, missing)) if missing else encoded


class PredictionMixin:
    """The inference path of a fitted distiller (``student_`` and its input checks)."""

    def _validate_predict_data(self, X):
        """The student's rows for X, checked as at fit: float32 (dense or CSR), or the caller's
        float32 / float64 array on the fast path (converted a chunk at a time)."""
        rows = self._plain_rows(X)
        if rows is not None:
            return rows
        check_is_fitted(self)
        if hasattr(X, "shape") and len(X.shape) and X.shape[0] == 0:  # a frame, as an array
            raise ValueError(
                f"Found array with 0 sample(s) (shape={tuple(X.shape)}) while a minimum of 1 "
                f"is required by {type(self).__name__}."
            )
        if "input_shape_" in self.__dict__ or is_shaped(X) and (
            reads_own_encoding(vars(self)) or getattr(self, "student_preprocessor_", None) is None
        ):
            return as_student_rows(check_shaped(self, X, reset=False))
        if getattr(self, "student_preprocessor_", None) is None:
            X = validate_data(
                self, X, reset=False, dtype=(np.float64, np.float32), accept_sparse=ACCEPTED_SPARSE
            )
            return as_student_rows(X)
        rows = self._student_rows(X)
        if rows.shape[1] != self.n_student_features_:
            raise ValueError(
                f"The student_preprocessor made {rows.shape[1]} features from X; the student "
                f"was trained on {self.n_student_features_}."
            )
        return rows

    def _lazily(self, method, X, n_columns, dtype):
        """``method`` over a dask collection, partition by partition, as a lazy dask array."""
        check_is_fitted(self)
        return predict_lazily(self, method, X, n_columns, dtype)

    def _plain_rows(self, X):
        """Fast path for the common case, or None: a finite float ndarray of the fitted shape.

        For a float32/float64 ndarray of the fitted width (or sample shape, for
        images and sequences), to a model fitted without feature names, the
        checks that matter (fitted, width, finite in float32) are done here
        directly, by two reductions that allocate nothing, and ``X`` itself is
        returned (each chunk is converted to float32 as the student reads it)
        -- or, where the model reads X through the package's own encoding of
        numbers, ``X`` with that encoding (:class:`RowsToEncode`). Anything
        else -- and any failure, for its message -- takes the full path.
        """
        fitted_shape = self.__dict__.get("input_shape_") or (self.__dict__.get("n_features_in_"),)
        if not (
            type(X) is np.ndarray
            and X.dtype in (np.float32, np.float64)
            and X.shape[0] > 0
            and "student_" in self.__dict__
            and "feature_names_in_" not in self.__dict__
            and X.shape[1:] == fitted_shape
        ):
            return None
        preprocessor = self.__dict__.get("student_preprocessor_")
        if preprocessor is not None:
            return self._encoded_plain_rows(X, preprocessor)
        if X.size and not (-FLOAT32_MAX <= X.min() and X.max() <= FLOAT32_MAX):
            return None  # NaN, infinite or beyond float32: the full path says which
        return X

    def _encoded_plain_rows(self, X, preprocessor):
        """The fast path through the package's own encoding of numbers, with nothing infinite
        or beyond float32 (NaN is filled where the teacher reads it too); else None."""
        encoding = numeric_encoding(preprocessor)
        if encoding is None or not reads_own_encoding(vars(self)):
            return None
        finite = bool(-FLOAT32_MAX <= X.min() and X.max() <= FLOAT32_MAX)  # False for NaN too
        if not finite:
            if not self._fills_missing() or np.isinf(X).any():
                return None  # infinite, or missing where the teacher reads none: the full path
            if X.dtype == np.float64 and not np.nanmax(np.abs(X), initial=0.0) <= FLOAT32_MAX:
                return None  # beyond float32: the full path says which column
        return RowsToEncode(X, encoding, finite)

    def _fills_missing(self):
        """Whether the fit read missing numbers, so predict fills them (else refuses them)."""
        return self.__dict__.get("fills_missing_", False)

    def _student_rows(self, X):
        """X (in the caller's space) as the student's float32 rows, through the fitted
        ``student_preprocessor_`` (:meth:`_validate_predict_data` reads X without one)."""
        preprocessor = self.student_preprocessor_
        if reads_own_encoding(vars(self)):
            X = checked_table(self, X, reset=False)
            if not self._fills_missing():  # first: the teacher reads none, whatever the encoding
                check_no_missing(X)
            check_encoded_input(X, self.__dict__.get("feature_kinds_"), self.student_encoding_,
                                preprocessor)
            encoding, numbers = encodable_rows(preprocessor, X)
            if encoding is not None:
                return RowsToEncode(numbers, encoding)
            return encoded_rows(
                read_only_view(X), preprocessor, _num_samples(X), self.n_student_features_
            )
        with frame_locked(X):  # never the caller's rows in place
            out = preprocessor.transform(read_only_view(X))
        return preprocessed_rows(out, preprocessor, _num_samples(X))

    def _student_output(self, X, transform=None):
        """Raw student outputs for rows of the fitted width (dense or CSR), as a float64 ndarray.

        Dense rows may be float32 or float64; each chunk of
        :data:`PREDICT_CHUNK_ROWS` is turned into float32 as the student reads
        it. ``transform`` (a row-wise torch function, e.g. a softmax) is applied
        chunk by chunk, so the only full-size array is the returned one. At
        most :data:`ROW_TILE` dense rows on the CPU are one padded tile and one
        forward pass (:meth:`_tile_output`).
        """
        net = self.student_
        module = net.module_
        if module.training:
            module.eval()
        device = torch.device(net.device)
        on_cpu = device.type == "cpu"
        if on_cpu and X.shape[0] <= ROW_TILE and not sp.issparse(X):
            return self._tile_output(module, X, transform)
        encode = None
        as_sparse = student_reads_sparse(module)
        step = PREDICT_CHUNK_ROWS
        if not (sp.issparse(X) and as_sparse):  # dense chunks: at most so many values
            values = CACHED_CHUNK_ELEMENTS if (
                on_cpu and isinstance(X, RowsToEncode)) else DENSE_CHUNK_ELEMENTS
            step = min(step, values // max(1, math.prod(X.shape[1:])))
            step = max(ROW_TILE, step - step % ROW_TILE)  # only the last chunk is padded
        if isinstance(X, RowsToEncode):  # the encoding's first stage, on the student's device
            X, encode = X.rows, X.chunk
        out, bad = None, []
        # a few sparse rows on the CPU (dense ones: _tile_output): one OpenMP thread
        few = on_cpu and X.shape[0] <= ROW_TILE
        with torch.inference_mode(), one_openmp_thread() if few else contextlib.nullcontext():
            for start in range(0, X.shape[0], step):
                rows = X[start:start + step]
                n_rows = rows.shape[0]
                if sp.issparse(rows):
                    chunk = sparse_batch(rows, device, as_sparse)
                else:
                    chunk = _dense_chunk(rows, encode, device)
                values, finite = _chunk_outputs(module, chunk, n_rows, transform, on_cpu)
                if finite is not None:
                    bad.append(start + np.flatnonzero(~finite))
                if n_rows == X.shape[0]:  # one chunk: its outputs are the result
                    out = values
                    continue
                if out is None:
                    out = np.empty((X.shape[0], *values.shape[1:]), dtype=np.float64)
                out[start:start + n_rows] = values
        if bad:
            raise _not_finite(X, np.concatenate(bad), len(out))
        return out

    def _tile_output(self, module, X, transform):
        """:meth:`_student_output` of at most :data:`ROW_TILE` dense rows on the CPU.

        The same tile and forward pass as the first chunk of the general path,
        the same bits, without its bookkeeping: on one row that bookkeeping
        cost about a sixth of the call.
        """
        encode = None
        if isinstance(X, RowsToEncode):
            X, encode = X.rows, X.chunk
        # one OpenMP thread: a padded tile split over busy cores stalls
        with torch.inference_mode(), one_openmp_thread():
            chunk = _dense_chunk(X, encode, _CPU)
            values, finite = _chunk_outputs(module, chunk, X.shape[0], transform)
        if finite is not None:
            raise _not_finite(X, np.flatnonzero(~finite), len(values))
        return values


_CPU = torch.device("cpu")


def _dense_chunk(rows, encode, device):
    """Dense ``rows`` as the student reads them on ``device``, padded to whole tiles:
    ``encode(rows, device)`` (:meth:`RowsToEncode.chunk`), or without it a float32 copy."""
    if encode is not None:
        return encode(rows, device)
    # a fresh float32 copy: the result must not depend on the rows' alignment
    chunk = torch.from_numpy(padded_float32(rows, ROW_TILE))
    return chunk if device.type == "cpu" else chunk.to(device)


def _chunk_outputs(module, chunk, n_rows, transform, on_cpu=True):
    """``(values, finite)``: the float64 outputs of ``module`` on the first ``n_rows`` rows of
    ``chunk`` (``transform`` applied), and which of them are finite -- None where all are."""
    raw = module(chunk)[:n_rows].double()  # the padding rows sliced off: row-wise from here
    raw = raw if on_cpu else raw.cpu()
    logits = raw.numpy()  # checked by numpy: faster than torch here
    # one sum (float64 sums of float32 values cannot overflow): NaN or infinite where any
    # is, for a fraction of isfinite().all()'s cost on a few rows
    finite = None
    if not math.isfinite(logits.sum()):  # which rows: only when some are not
        finite = np.isfinite(logits.reshape(len(logits), -1)).all(axis=1)
    values = logits if transform is None else transform(raw).numpy()
    return values, finite


def _not_finite(X, bad, n_rows):
    """The ValueError for rows ``bad`` of ``X`` (of ``n_rows``), whose outputs are not finite."""
    rows = X[bad]
    largest = np.nanmax(np.abs(rows.data if sp.issparse(rows) else rows), initial=0.0)
    return ValueError(
        f"The student's outputs are not finite for {len(bad)} of {n_rows} rows "
        f"(first: row {bad[0]}); their features lie far outside the range it was "
        f"trained on (largest |x| among them: {largest:.3g}). Scale or "
        "clip the inputs as in training."
    )
