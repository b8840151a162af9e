"""In-memory training data and the batch loader that feeds it to skorch.

skorch's default path builds every batch from a ``DataLoader`` that indexes one
row at a time and collates; for small tabular networks that per-row work costs
more than the forward and backward passes. Tabular data fit in memory, so the
rows live in tensors (on the training device) and a batch is one slice of a
shuffled index.

Sparse rows (a scipy CSR matrix) stay sparse on the CPU; each batch is cut from
them and handed to the student in the format it reads (see :func:`sparse_batch`),
so the whole matrix is never densified.
"""

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from .._inputs import EncodedRows
from ..students._devices import same_device

__all__ = [
    "DistillationDataset", "EncodedOnDevice", "RowBlocks", "TensorBatchLoader", "sparse_batch",
]


def sparse_batch(rows, device, as_sparse):
    """Turn scipy CSR ``rows`` into a float32 tensor batch on ``device``.

    Parameters
    ----------
    rows : scipy.sparse matrix of shape (n, n_features)
    device : torch.device or str
    as_sparse : bool
        True gives a coalesced ``torch.sparse_coo_tensor``, False a dense tensor.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> rows = sp.csr_matrix([[0.0, 2.0], [1.0, 0.0]])
    >>> sparse_batch(rows, "cpu", as_sparse=False)
    tensor([[0., 2.],
            [1., 0.]])
    >>> sparse_batch(rows, "cpu", as_sparse=True).to_dense().tolist()
    [[0.0, 2.0], [1.0, 0.0]]
    """
    if not as_sparse:
        return torch.from_numpy(rows.toarray().astype(np.float32, copy=False)).to(device)
    coo = sp.coo_matrix(rows)
    coo.sum_duplicates()
    index = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
    values = torch.from_numpy(coo.data.astype(np.float32, copy=False))
    return torch.sparse_coo_tensor(
        index, values, size=coo.shape, check_invariants=False, is_coalesced=True
    ).to(device)


class RowBlocks:
    """Dense row blocks read as one tensor of rows, without stacking them into a copy.

    The training rows and the transfer set's rows beside them: indexing with
    a slice or a LongTensor of row indices gathers the rows from whichever
    block holds each, in the order asked.

    Parameters
    ----------
    blocks : list of tensors of shape (n_i, n_features)

    Examples
    --------
    >>> import torch
    >>> rows = RowBlocks([torch.zeros(2, 1), torch.ones(1, 1)])
    >>> rows.shape, rows[torch.tensor([2, 0])].ravel().tolist()
    ((3, 1), [1.0, 0.0])
    """

    def __init__(self, blocks):
        self.blocks = list(blocks)
        sizes = [len(block) for block in self.blocks]
        self.starts = torch.tensor([0, *sizes]).cumsum(0)
        self.shape = (int(self.starts[-1]), *self.blocks[0].shape[1:])

    @property
    def device(self):
        return self.blocks[0].device

    def to(self, device):
        return RowBlocks([block.to(device) for block in self.blocks])

    def __getitem__(self, index):
        if isinstance(index, slice):
            index = torch.arange(self.shape[0], device=self.device)[index]
        out = torch.empty((len(index), *self.shape[1:]), dtype=torch.float32,
                          device=self.device)
        block_of = torch.bucketize(index, self.starts[1:-1].to(index.device), right=True)
        for b, block in enumerate(self.blocks):
            at = block_of == b
            if at.any():  # an encoded block cannot encode no rows
                out[at] = _take(block, index[at] - int(self.starts[b]))
        return out


class EncodedOnDevice:
    """Raw rows read through a torch encoding a batch at a time, where the rows are.

    The rows stay as given (a float32 tensor); indexing with a slice or a
    LongTensor of row positions gathers those rows and returns their
    encoding, computed by ``encoding`` (a torch module without parameters
    that gives itself on a device by ``on(device)``, e.g.
    :class:`~skdistill.students._encoding_module.NumericEncoding`) on the
    rows' device. ``to(device)`` moves the rows and the encoding once, so on a
    GPU the encoding of every batch is computed there.

    Examples
    --------
    >>> import torch
    >>> rows = EncodedOnDevice(torch.arange(6.0).reshape(3, 2), torch.nn.Identity(), 2)
    >>> rows.shape, rows[torch.tensor([2, 0])].tolist()
    ((3, 2), [[4.0, 5.0], [0.0, 1.0]])
    """

    def __init__(self, raw, encoding, n_features):
        if isinstance(raw, np.ndarray):
            with warnings.catch_warnings():  # read-only rows: the encoding never writes them
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                raw = torch.from_numpy(raw)
        self.raw = raw
        self.encoding = encoding
        self.shape = (raw.shape[0], n_features)

    def __len__(self):
        return self.shape[0]

    @property
    def device(self):
        return self.raw.device

    def to(self, device):
        if same_device(self.raw.device, torch.device(device)):
            return self
        return EncodedOnDevice(self.raw.to(device), self.encoding.on(device), self.shape[1])

    def __getitem__(self, index):
        if isinstance(index, slice):
            raw = self.raw[index]
        else:
            raw = torch.index_select(self.raw, 0, torch.as_tensor(index).to(self.raw.device))
        with torch.no_grad():
            return self.encoding(raw)


def _take(rows, index):
    """``rows[index]`` for a slice or a LongTensor of row indices (None stays None).

    ``index_select`` gathers rows several times faster than indexing with a
    tensor, which is what a shuffled pass does for every batch. Rows encoded
    when read (:class:`~skdistill._inputs.EncodedRows`) are encoded here.
    """
    if rows is None:
        return None
    if isinstance(rows, EncodedRows):
        return torch.from_numpy(rows[index]).to(rows.device)
    if isinstance(rows, EncodedOnDevice):
        return rows[index]
    if isinstance(index, slice) or not torch.is_tensor(rows):
        return rows[index]
    return torch.index_select(rows, 0, index.to(rows.device))


_GATHERED_ROWS = 8192
"""Rows a shuffled pass gathers at once (rounded to whole batches)."""


class DistillationDataset(Dataset):
    """Rows of ``X``, the teacher's logits for them, their targets and (optionally) weights.

    A dataset may stand for some of its arrays' rows only (``rows``): a
    training or validation part, or the rows of non-zero weight, read through
    their indices. Nothing is copied until a batch is gathered.

    Parameters
    ----------
    X : tensor of shape (n_samples, n_features), float32, RowBlocks, EncodedRows, \
EncodedOnDevice or CSR matrix
        Sparse rows stay on the CPU and are cut into batches there; EncodedRows
        are encoded a block at a time, EncodedOnDevice a batch at a time on the
        training device.
    teacher_logits : tensor of shape (n_samples, n_outputs), float32
    y : tensor of shape (n_samples,)
        Class indices (``-1`` for unlabelled rows) or regression targets.
    sample_weight : tensor of shape (n_samples,) or None, default=None
        Per-row weights of the loss; None weighs every row alike.
    sparse_as_tensor : bool, default=False
        With sparse ``X``: give the student sparse tensors (True) or dense ones.
    rows : LongTensor or None, default=None
        The indices of the rows this dataset holds, in its order (None: all).

    Examples
    --------
    >>> import torch
    >>> data = DistillationDataset(torch.zeros(3, 2), torch.zeros(3, 2), torch.tensor([0, 1, 1]))
    >>> len(data), data[2][1].item()
    (3, 1)
    >>> part = data.subset(torch.tensor([2, 0]))
    >>> len(part), part[0][1].item(), part.X is data.X
    (2, 1, True)
    """

    def __init__(self, X, teacher_logits, y, sample_weight=None, sparse_as_tensor=False,
                 rows=None):
        self.X = X
        self.teacher_logits = teacher_logits
        self.y = y
        self.sample_weight = sample_weight
        self.sparse_as_tensor = sparse_as_tensor
        self.rows = rows

    @classmethod
    def from_arrays(cls, X, teacher_logits, y, sample_weight=None, sparse_as_tensor=False):
        """A dataset over numpy arrays (``X`` dense, CSR, EncodedRows or a list), not copied.

        ``X``, the logits and the targets are not copied, even when read-only
        (the caller's own rows): training never writes them. ``sample_weight``
        becomes float32.
        """
        with warnings.catch_warnings():  # torch warns of read-only arrays; nothing writes them
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            as_tensor = torch.from_numpy

            def rows(block):
                lazy = isinstance(block, (EncodedRows, EncodedOnDevice))
                return block if lazy else as_tensor(block)

            if isinstance(X, list):
                X = RowBlocks([rows(block) for block in X])
            elif not sp.issparse(X):
                X = rows(X)
            return cls(
                X,
                as_tensor(teacher_logits),
                as_tensor(y),
                None if sample_weight is None else as_tensor(sample_weight.astype(np.float32)),
                sparse_as_tensor,
            )

    def __len__(self):
        return self.X.shape[0] if self.rows is None else len(self.rows)

    def __getitem__(self, i):
        Xb, yb = self.batch(torch.as_tensor([i]))
        return {key: value[0] for key, value in Xb.items()}, yb[0]

    @property
    def device(self):
        return self.teacher_logits.device

    def to(self, device):
        """Return the same rows on ``device`` (sparse ``X`` stays on the CPU)."""
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        X = self.X if sp.issparse(self.X) else self.X.to(device)
        return DistillationDataset(
            X, move(self.teacher_logits), move(self.y), move(self.sample_weight),
            self.sparse_as_tensor, move(self.rows),
        )

    def subset(self, index):
        """The rows at ``index`` (positions in this dataset), as a dataset over the same arrays."""
        rows = self._array_rows(torch.as_tensor(index, dtype=torch.long, device=self.device))
        return DistillationDataset(
            self.X, self.teacher_logits, self.y, self.sample_weight, self.sparse_as_tensor, rows
        )

    def gathered(self, index):
        """The rows at ``index`` (positions in this dataset), copied into a dataset of their own."""
        rows = self._array_rows(index)
        X = self.X[rows.cpu().numpy()] if sp.issparse(self.X) else _take(self.X, rows)
        return DistillationDataset(
            X, _take(self.teacher_logits, rows), _take(self.y, rows),
            _take(self.sample_weight, rows), self.sparse_as_tensor,
        )

    def _array_rows(self, index):
        """Positions in this dataset (a slice or LongTensor) as indices into its arrays."""
        return index if self.rows is None else self.rows[index]

    def batch(self, index):
        """``({"X", "teacher_logits"[, "sample_weight"]}, y)`` for the rows at ``index``."""
        index = self._array_rows(index)
        if sp.issparse(self.X):
            rows = self.X[index.cpu().numpy() if torch.is_tensor(index) else index]
            Xb = sparse_batch(rows, self.device, self.sparse_as_tensor)
        else:
            Xb = _take(self.X, index)
        features = {"X": Xb, "teacher_logits": _take(self.teacher_logits, index)}
        if self.sample_weight is not None:
            features["sample_weight"] = _take(self.sample_weight, index)
        return features, _take(self.y, index)

    def batches(self, batch_size, generator=None, drop_last=False):
        """Yield the batches of one pass: in a fresh random order when ``generator`` is given.

        A pass gathers the rows of many batches at once (about
        ``_GATHERED_ROWS``, whole batches) and slices each batch from them:
        one indexing per tensor for many batches instead of one per batch,
        the same batches in the same order, and one block's copy in memory.
        An unshuffled pass over all the arrays' rows slices them directly.
        """
        n = len(self)
        stop = n - n % batch_size if drop_last else n
        if generator is None and self.rows is None:
            for start in range(0, stop, batch_size):
                yield self.batch(slice(start, start + batch_size))
            return
        if generator is None:
            order = torch.arange(n, device=self.device)
        else:
            order = torch.randperm(n, generator=generator).to(self.device)
        block = max(1, _GATHERED_ROWS // batch_size) * batch_size
        for first in range(0, stop, block):
            rows = self.gathered(order[first:min(first + block, stop)])
            for start in range(0, len(rows), batch_size):
                yield rows.batch(slice(start, start + batch_size))


class TensorBatchLoader:
    """Yield ``({"X": ..., "teacher_logits": ...}, y)`` batches sliced from tensors.

    Used by skorch as ``iterator_train`` / ``iterator_valid``; the rows are
    gathered once per fit, then each epoch slices a fresh permutation (when
    ``shuffle``) drawn from a generator seeded by ``seed``. A
    :class:`~skdistill.training._stream.StreamedRows` streams its chunks instead. Any
    other dataset falls back to ``torch.utils.data.DataLoader``.

    Parameters
    ----------
    dataset : DistillationDataset, Subset of one, or StreamedRows
    batch_size : int
    shuffle : bool, default=False
    seed : int or None, default=None
        Seed of the shuffling generator; the same seed gives the same batches.
    drop_last : bool, default=False

    Examples
    --------
    >>> import torch
    >>> data = DistillationDataset(torch.arange(5.).view(5, 1), torch.zeros(5, 2), torch.zeros(5))
    >>> [len(y) for _, y in TensorBatchLoader(data, batch_size=2)]
    [2, 2, 1]
    """

    def __init__(self, dataset, batch_size, shuffle=False, seed=None, drop_last=False, **kwargs):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self._fallback = None
        rows = _batch_source(dataset)
        if rows is None:
            self._fallback = DataLoader(
                dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, **kwargs
            )
            return
        if kwargs:
            raise TypeError(
                f"TensorBatchLoader got unexpected argument(s) {sorted(kwargs)}; it takes "
                "batch_size, shuffle, seed and drop_last."
            )
        self.rows = rows
        self._generator = None
        if shuffle:
            self._generator = torch.Generator()
            if seed is None:
                self._generator.seed()
            else:
                self._generator.manual_seed(int(seed))

    def __len__(self):
        if self._fallback is not None:
            return len(self._fallback)
        n = len(self.rows)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        if self._fallback is not None:
            yield from self._fallback
            return
        yield from self.rows.batches(self.batch_size, self._generator, self.drop_last)


def _batch_source(dataset):
    """Return the rows of ``dataset`` as an object with ``batches`` (ours), or None."""
    if hasattr(dataset, "batches"):  # DistillationDataset, StreamedRows
        return dataset
    if isinstance(dataset, Subset):
        base = _batch_source(dataset.dataset)
        if base is None:
            return None
        return base.subset(torch.as_tensor(dataset.indices, dtype=torch.long))
    return None
