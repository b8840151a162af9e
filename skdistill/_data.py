"""In-memory training data and the batch loader that feeds it to skorch.

skorch's default path builds every batch from a ``DataLoader`` that indexes one
row at a time and collates; for small tabular networks that per-row work costs
more than the forward and backward passes. Tabular data fit in memory, so the
rows live in tensors (on the training device) and a batch is one slice of a
shuffled index.
"""

import torch
from torch.utils.data import DataLoader, Dataset, Subset

__all__ = ["DistillationDataset", "TensorBatchLoader"]


class DistillationDataset(Dataset):
    """Rows of ``X``, the teacher's logits for them, and their class indices.

    Parameters
    ----------
    X : tensor of shape (n_samples, n_features), float32
    teacher_logits : tensor of shape (n_samples, n_outputs), float32
    y : tensor of shape (n_samples,)
        Class indices (``-1`` for unlabelled rows) or regression targets.

    Examples
    --------
    >>> import torch
    >>> data = DistillationDataset(torch.zeros(3, 2), torch.zeros(3, 2), torch.tensor([0, 1, 1]))
    >>> len(data), data[2][1].item()
    (3, 1)
    """

    def __init__(self, X, teacher_logits, y):
        self.X = X
        self.teacher_logits = teacher_logits
        self.y = y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return {"X": self.X[i], "teacher_logits": self.teacher_logits[i]}, self.y[i]

    def to(self, device):
        """Return the same rows on ``device``."""
        return DistillationDataset(
            self.X.to(device), self.teacher_logits.to(device), self.y.to(device)
        )


class TensorBatchLoader:
    """Yield ``({"X": ..., "teacher_logits": ...}, y)`` batches sliced from tensors.

    Used by skorch as ``iterator_train`` / ``iterator_valid``; the rows are
    gathered once per fit, then each epoch slices a fresh permutation (when
    ``shuffle``) drawn from a generator seeded by ``seed``. Any other dataset
    falls back to ``torch.utils.data.DataLoader``.

    Parameters
    ----------
    dataset : DistillationDataset or Subset of one
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
        rows = _as_distillation_dataset(dataset)
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
        rows = self.rows
        n = len(rows)
        order = None
        if self.shuffle:
            order = torch.randperm(n, generator=self._generator).to(rows.X.device)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            if order is None:
                index = slice(start, start + self.batch_size)
            else:
                index = order[start : start + self.batch_size]
            yield (
                {"X": rows.X[index], "teacher_logits": rows.teacher_logits[index]},
                rows.y[index],
            )


def _as_distillation_dataset(dataset):
    """Return a DistillationDataset holding exactly ``dataset``'s rows, or None."""
    if isinstance(dataset, DistillationDataset):
        return dataset
    if isinstance(dataset, Subset):
        base = _as_distillation_dataset(dataset.dataset)
        if base is None:
            return None
        index = torch.as_tensor(dataset.indices, dtype=torch.long, device=base.X.device)
        return DistillationDataset(base.X[index], base.teacher_logits[index], base.y[index])
    return None
