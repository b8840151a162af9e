"""Rows streamed chunk by chunk: training on more rows than one process holds.

A :class:`StreamedRows` is a training set made of *chunks* -- the partitions of
a dask collection, labelled on the cluster, or any other source that can load
a slice of rows on demand -- optionally mixed with *resident* rows held in
memory (the labelled training rows). Each epoch it loads the chunks in a fresh
random order, one ahead in a background thread, and passes them through a
shuffle buffer, so a batch mixes rows of the current chunk, earlier chunks and
the resident rows. The memory it holds is about three chunks, whatever the
number of rows.

A chunk is any object with ``n_rows`` (int) and ``load()``, which returns
``(X, teacher_logits, y, sample_weight)`` as numpy arrays (``X`` float32,
dense or CSR; ``sample_weight`` may be None).
"""

import concurrent.futures
import contextlib

import numpy as np
import scipy.sparse as sp
import torch
from torch.utils.data import Dataset

from ._data import sparse_batch

__all__ = ["StreamedRows", "unlabelled_targets"]


def unlabelled_targets(n_rows, unlabelled_target):
    """The targets of ``n_rows`` rows without label: ``-1`` (int64) or NaN (float32).

    Examples
    --------
    >>> unlabelled_targets(2, -1)
    array([-1, -1])
    """
    dtype = np.int64 if isinstance(unlabelled_target, int) else np.float32
    return np.full(n_rows, unlabelled_target, dtype=dtype)


class StreamedRows(Dataset):
    """A training or validation set read chunk by chunk, for :class:`TensorBatchLoader`.

    Parameters
    ----------
    chunks : list of chunk objects
        Each has ``n_rows`` and ``load()`` (see the module's docstring).
    resident : DistillationDataset or None, default=None
        Rows held in memory, spread at random over the chunks each epoch.
    device : torch.device or str, default="cpu"
        Where batches are sent.
    sparse_as_tensor : bool, default=False
        For sparse rows: give the student sparse tensors (True) or dense ones.

    Examples
    --------
    >>> import numpy as np
    >>> class Ones:
    ...     n_rows = 5
    ...     def load(self):
    ...         return np.ones((5, 2), np.float32), np.zeros((5, 3), np.float32), -np.ones(5), None
    >>> rows = StreamedRows([Ones(), Ones()])
    >>> len(rows), [len(y) for _, y in rows.batches(4)]
    (10, [4, 4, 2])
    """

    def __init__(self, chunks, resident=None, device="cpu", sparse_as_tensor=False):
        if not chunks:
            raise ValueError("StreamedRows needs at least one chunk of rows.")
        self.chunks = list(chunks)
        self.resident = resident
        self.device = torch.device(device)
        self.sparse_as_tensor = sparse_as_tensor

    def __len__(self):
        resident = 0 if self.resident is None else len(self.resident)
        return sum(chunk.n_rows for chunk in self.chunks) + resident

    def __getitem__(self, i):
        raise TypeError(
            "StreamedRows is read in batches (StreamedRows.batches), not row by row."
        )

    def batches(self, batch_size, generator=None, drop_last=False):
        """Yield the batches of one pass over every chunk and resident row.

        With a ``generator`` the chunks come in a random order and rows are
        shuffled through a buffer of about one chunk; without one, in order.
        """
        order = np.arange(len(self.chunks))
        if generator is not None:
            order = torch.randperm(len(order), generator=generator).numpy()
        shares = self._resident_shares([self.chunks[i].n_rows for i in order], generator)
        leftover = None
        with _prefetching([self.chunks[i] for i in order]) as loaded:
            for k, part in enumerate(loaded):
                share = None if shares[k] is None else _resident_rows(self.resident, shares[k])
                parts = [p for p in (leftover, part, share) if p is not None]
                rows = _concat(parts)
                n = _n_rows(rows)
                if generator is not None:
                    rows = _take(rows, torch.randperm(n, generator=generator).numpy())
                last = k == len(order) - 1
                keep = 0 if last or generator is None else min(n, _n_rows(part)) // 2
                emit = n if last else (n - keep) // batch_size * batch_size
                if last and drop_last:
                    emit = n // batch_size * batch_size
                for start in range(0, emit, batch_size):
                    yield self._batch(_take(rows, slice(start, start + batch_size)))
                leftover = None if emit >= n else _take(rows, slice(emit, n))

    def _resident_shares(self, sizes, generator):
        """Indices of the resident rows for each chunk, proportional to their sizes (or None)."""
        if self.resident is None or len(self.resident) == 0:
            return [None] * len(sizes)
        n = len(self.resident)
        index = (
            torch.randperm(n, generator=generator).numpy() if generator is not None
            else np.arange(n)
        )
        bounds = np.rint(np.cumsum(sizes) / max(1, sum(sizes)) * n).astype(int)
        pieces = np.split(index, bounds[:-1])
        return [piece if len(piece) else None for piece in pieces]

    def _batch(self, rows):
        X, logits, y, weights = rows
        if sp.issparse(X):
            Xb = sparse_batch(X, self.device, self.sparse_as_tensor)
        else:  # a copy: the chunk may be the caller's read-only rows
            Xb = torch.tensor(X, device=self.device)
        features = {"X": Xb, "teacher_logits": torch.from_numpy(logits).to(self.device)}
        if weights is not None:
            features["sample_weight"] = torch.from_numpy(weights).to(self.device)
        return features, torch.from_numpy(y).to(self.device)


@contextlib.contextmanager
def _prefetching(chunks):
    """Iterate over the loaded chunks, each loaded in a thread while the previous one trains."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="skdistill-load")
    try:
        def loaded():
            pending = pool.submit(_loaded_chunk, chunks[0])
            for k in range(len(chunks)):
                part = pending.result()
                pending = pool.submit(_loaded_chunk, chunks[k + 1]) if k + 1 < len(chunks) else None
                yield part

        yield loaded()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _loaded_chunk(chunk):
    X, logits, y, weights = chunk.load()
    n = X.shape[0]
    if not (len(logits) == len(y) == n and (weights is None or len(weights) == n)):
        raise ValueError(
            f"A chunk of rows holds {n} rows but {len(logits)} teacher outputs and "
            f"{len(y)} targets; the partitions of X, y and the teacher's outputs must align."
        )
    return (
        X,
        np.asarray(logits, dtype=np.float32),
        y,
        None if weights is None else np.asarray(weights, dtype=np.float32),
    )


def _resident_rows(resident, index):
    """The resident dataset's rows at ``index`` as numpy arrays (CPU)."""
    rows = resident.gathered(torch.as_tensor(index, dtype=torch.long, device=resident.device))
    weights = rows.sample_weight
    return (
        rows.X if sp.issparse(rows.X) else rows.X.cpu().numpy(),
        rows.teacher_logits.cpu().numpy(),
        rows.y.cpu().numpy(),
        None if weights is None else weights.cpu().numpy(),
    )


def _n_rows(rows):
    return rows[0].shape[0]


def _take(rows, index):
    return tuple(None if part is None else part[index] for part in rows)


def _concat(parts):
    """Row-wise concatenation of ``(X, logits, y, weights)`` tuples."""
    if len(parts) == 1:
        return parts[0]
    Xs = [p[0] for p in parts]
    X = sp.vstack(Xs, format="csr") if any(sp.issparse(x) for x in Xs) else np.concatenate(Xs)
    weighted = any(p[3] is not None for p in parts)
    weights = (
        np.concatenate(
            [p[3] if p[3] is not None else np.ones(_n_rows(p), np.float32) for p in parts]
        )
        if weighted
        else None
    )
    return (
        X,
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
        weights,
    )
