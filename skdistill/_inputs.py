"""What the teacher and the student read: checked rows, views and padding.

The teacher reads ``X`` as the caller gave it, through a view it cannot write
into the caller's data by (:func:`read_only_view`). The student reads float32
rows -- a dense array, or CSR when ``X`` is sparse -- made from the checked
``X`` (:func:`as_student_rows`) or from a ``student_preprocessor``'s output
(:func:`preprocessed_rows`).
"""

import contextlib
import threading

import numpy as np
import scipy.sparse as sp
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_array

__all__ = [
    "ACCEPTED_SPARSE",
    "DENSE_CHUNK_ELEMENTS",
    "ENCODED_IN_MEMORY_BYTES",
    "EncodedRows",
    "ROW_TILE",
    "as_student_rows",
    "encoded_rows",
    "padded_float32",
    "preprocessed_rows",
    "frame_locked",
    "is_shaped",
    "read_only_view",
]

ACCEPTED_SPARSE = ("csr", "csc", "coo")
"""Sparse formats accepted for X (turned into CSR for the student)."""

DENSE_CHUNK_ELEMENTS = 2**22
"""Sparse rows densified for a network (student or torch teacher) are cut into chunks of at
most this many values (16 MB in float32)."""

ENCODED_IN_MEMORY_BYTES = 2**26
"""A dense encoding of the rows larger than this (64 MiB) is not stored: the student reads
the rows through :class:`EncodedRows`, encoded a block at a time."""

ROW_TILE = 16
"""Dense prediction batches are zero-padded to a multiple of this many rows.

BLAS kernels compute tiles of rows and the remainder rows in different orders,
so in float32 a row's outputs would change in the last bits with the number of
rows predicted together (scikit-learn's check_methods_subset_invariance sees
it). With every batch a whole number of tiles, each row's result is the same
alone or among many; the padding costs a few microseconds.
"""


def is_shaped(X):
    """Whether ``X`` holds samples of more than one axis (an array of 3 or more axes).

    Examples
    --------
    >>> import numpy as np
    >>> is_shaped(np.zeros((5, 1, 8, 8))), is_shaped(np.zeros((5, 64)))
    (True, False)
    >>> is_shaped([[[0.0, 1.0]], [[2.0, 3.0]]])
    True
    """
    if sp.issparse(X) or hasattr(X, "columns"):
        return False
    if isinstance(X, (list, tuple)):  # nested lists of numbers, as scikit-learn takes them
        try:
            return np.ndim(X) >= 3
        except ValueError:  # ragged
            return False
    return getattr(X, "ndim", 0) >= 3


def read_only_view(X):
    """X as a teacher or transformer may see it: nothing can write into the caller's data.

    Arrays and CSR/CSC matrices become read-only views (no copy); a DataFrame a
    shallow copy (pandas' copy-on-write copies a column only if it is written).
    Anything else (lists, documents) was already copied by validation or is
    given as is.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((2, 2))
    >>> view = read_only_view(X)
    >>> np.shares_memory(view, X), view.flags.writeable
    (True, False)
    """
    if isinstance(X, np.ndarray):
        view = X.view()
        view.flags.writeable = False
        return view
    if sp.issparse(X) and X.format in ("csr", "csc"):
        parts = []
        for array in (X.data, X.indices, X.indptr):
            view = array.view()
            view.flags.writeable = False
            parts.append(view)
        return type(X)(tuple(parts), shape=X.shape, copy=False)
    if sp.issparse(X):
        return X.copy()
    if hasattr(X, "copy") and hasattr(X, "columns"):
        return X.copy(deep=False)
    return X


@contextlib.contextmanager
def frame_locked(X):
    """While inside, a DataFrame's numpy columns cannot be written, through any view of them.

    A shallow copy protects a frame from pandas-level writes only: scikit-learn
    turns the read-only array it gets from a frame back into a writeable one
    when the memory under it is writeable, so a transformer with ``copy=False``
    would write into the caller's frame. Marking that memory -- and the views of
    it pandas already holds (its blocks, which without copy-on-write, before
    pandas 3, hand out writeable views) -- read-only for the duration makes such
    a transformer copy instead, at no cost when it does not write. Anything but
    a pandas DataFrame passes through unchanged.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.preprocessing import StandardScaler
    >>> X = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    >>> with frame_locked(X):
    ...     _ = StandardScaler(copy=False).fit_transform(read_only_view(X))
    >>> X["a"].tolist()
    [1.0, 2.0, 3.0]
    """
    locked = []  # every writeable array under the frame's columns, the owner of the memory first
    if type(X).__module__.split(".")[0] == "pandas" and hasattr(X, "columns"):
        for j in range(X.shape[1]):
            column = X.iloc[:, j]
            if not isinstance(column.dtype, np.dtype) or column.dtype.kind == "O":
                continue
            owner = column.to_numpy()
            while isinstance(owner.base, np.ndarray):
                owner = owner.base
            _lock_once(owner, locked)
        for block in getattr(getattr(X, "_mgr", None), "blocks", ()):  # views made before keep
            values = getattr(block, "values", None)  # their own flag: pandas' blocks too
            if isinstance(values, np.ndarray) and values.dtype.kind != "O":
                _lock_once(values, locked)
    try:
        yield X
    finally:
        _unlock(locked)


_STILL_LOCKED = []
"""Views whose memory another ``frame_locked`` still held when theirs ended (frames sharing
memory, e.g. ``X`` and a transfer set sliced from one array): made writeable again once it
ends too."""

_UNLOCKING = threading.Lock()


def _lock_once(array, locked):
    """Make ``array`` read-only (listing it in ``locked``) unless it already is."""
    if array.flags.writeable and all(array is not seen for seen in locked):
        array.flags.writeable = False
        locked.append(array)


def _unlock(locked):
    """Make ``locked`` writeable again, the owners of memory first (numpy refuses a view while
    its base is read-only); a view whose base is still locked waits in :data:`_STILL_LOCKED`."""
    with _UNLOCKING:
        waiting = list(locked) + _STILL_LOCKED
        _STILL_LOCKED.clear()
        for array in waiting:
            try:
                array.flags.writeable = True
            except ValueError:  # its base is held by an enclosing or concurrent lock
                _STILL_LOCKED.append(array)


def padded_float32(rows, multiple):
    """A new float32 C-ordered copy of ``rows``, zero rows added up to a multiple of ``multiple``.

    Always a fresh allocation: BLAS kernels may round differently for input
    at another memory alignment, and the caller's rows (or a partition
    unpickled on a dask worker) can sit anywhere.

    Examples
    --------
    >>> import numpy as np
    >>> padded = padded_float32(np.ones((3, 2)), 4)
    >>> padded.shape, padded.dtype, padded[3].tolist()
    ((4, 2), dtype('float32'), [0.0, 0.0])
    """
    out = np.zeros((rows.shape[0] - rows.shape[0] % -multiple, *rows.shape[1:]), np.float32)
    out[: rows.shape[0]] = rows
    return out


def as_student_rows(X):
    """Checked numeric X as the student's float32 rows (CSR when sparse).

    Dense float32 C-ordered rows are used as they are, through a read-only
    view (no copy); other dense rows are converted once. Sparse rows are
    copied to canonical CSR. Refuses values float32 cannot hold.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.ones((2, 3), dtype=np.float32)
    >>> rows = as_student_rows(X)
    >>> np.shares_memory(rows, X), rows.flags.writeable
    (True, False)
    >>> as_student_rows(X.astype(np.float64)).dtype
    dtype('float32')
    """
    if sp.issparse(X):
        with np.errstate(over="ignore"):
            rows = sp.csr_matrix(X, dtype=np.float32, copy=True)
        rows.sum_duplicates()
        values = rows.data
    else:
        with np.errstate(over="ignore"):
            rows = values = np.asarray(X, dtype=np.float32, order="C")
        if np.may_share_memory(rows, X):  # the caller's own rows: never written
            rows = values = read_only_view(rows)
    # a sum in float64 is finite exactly when every float32 value is: no full-size temporary
    if not np.isfinite(np.sum(values, dtype=np.float64)):
        raise ValueError(
            "X has values too large for float32 (the student computes in float32, whose "
            "largest value is about 3.4e38); rescale the features, e.g. with StandardScaler."
        )
    return rows


def preprocessed_rows(out, preprocessor, n_rows):
    """Check a student_preprocessor's output and return it as the student's float32 rows."""
    name = type(preprocessor).__name__
    try:
        out = check_array(
            out,
            accept_sparse=ACCEPTED_SPARSE,
            dtype=(np.float64, np.float32),
            input_name="the student_preprocessor's output",
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"The student_preprocessor {name} must output numbers for the student (a numeric "
            f"array or sparse matrix without NaN); {exc} Encode text or categories inside it "
            "(e.g. OneHotEncoder, TfidfVectorizer) and impute missing values."
        ) from None
    if out.shape[0] != n_rows:
        raise ValueError(
            f"The student_preprocessor {name} returned {out.shape[0]} rows for {n_rows} rows of X."
        )
    return as_student_rows(out)


def encoded_rows(X, encoder, n_rows, n_features=None):
    """``X`` through a fitted ``encoder`` as the student's rows, stored or read lazily.

    A sparse ``X``, or an encoding of at most :data:`ENCODED_IN_MEMORY_BYTES`
    (dense, or sparse where the encoder outputs sparse rows), is encoded and
    returned (CSR or float32); a larger one becomes :class:`EncodedRows`, so
    the encoding of all rows is never held at once. ``n_features``: the
    encoding's width, if known.
    """
    transform = encoder.transform
    if n_features is None and not sp.issparse(X):
        first = transform(_safe_indexing(X, slice(0, 1)))
        n_features = preprocessed_rows(first, encoder, 1).shape[1]
    if sp.issparse(X):
        return preprocessed_rows(transform(X), encoder, n_rows)
    size = n_rows * n_features * 4  # bytes, dense
    if size > ENCODED_IN_MEMORY_BYTES and getattr(encoder, "sparse_output_", False):
        sample = transform(_safe_indexing(X, slice(0, 100)))  # sparse: its values and indices
        size = n_rows * sample.nnz / sample.shape[0] * 8 if sp.issparse(sample) else size
    if size <= ENCODED_IN_MEMORY_BYTES:
        return preprocessed_rows(transform(X), encoder, n_rows)
    return EncodedRows(X, encoder, n_features)


class EncodedRows:
    """Rows of ``X`` encoded for the student when read, never all at once.

    Indexing with a slice or an array of row positions encodes those rows and
    returns them as a float32 array; the student's training and prediction
    read blocks of a few thousand rows this way. The encoder must not write
    into the rows it reads (the package's own encoders do not).

    Parameters
    ----------
    X : ndarray or DataFrame of shape (n_samples, n_columns)
    encoder : fitted transformer
        Encodes rows like ``X`` as ``n_features`` numbers.
    n_features : int
    device : str or torch.device, default="cpu"
        Where a reader should put the blocks (they are made on the CPU).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> rows = EncodedRows(X, StandardScaler().fit(X), 2)
    >>> block = rows[[2, 0]]
    >>> rows.shape, block.dtype
    ((3, 2), dtype('float32'))
    >>> (block * np.sqrt(1.5)).round(3).tolist()  # rows 2 and 0, standardised
    [[1.5, 1.5], [-1.5, -1.5]]
    """

    def __init__(self, X, encoder, n_features, device="cpu"):
        self.X = X
        self.encoder = encoder
        self.shape = (X.shape[0], n_features)
        self.device = device

    def __len__(self):
        return self.shape[0]

    def to(self, device):
        return EncodedRows(self.X, self.encoder, self.shape[1], device)

    def __getitem__(self, index):
        if isinstance(index, slice):
            n_rows = len(range(*index.indices(self.shape[0])))
        else:
            index = np.asarray(index.cpu() if hasattr(index, "cpu") else index)
            n_rows = len(index)
        raw = _safe_indexing(self.X, index)
        rows = preprocessed_rows(self.encoder.transform(raw), self.encoder, n_rows)
        if sp.issparse(rows):  # a sparse encoding, read a dense block at a time
            rows = rows.toarray()
        if rows.shape[1] != self.shape[1]:
            raise ValueError(
                f"The student's encoding gave {rows.shape[1]} features for some rows and "
                f"{self.shape[1]} for others."
            )
        return rows
