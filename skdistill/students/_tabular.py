"""A student built for tabular data: periodic embeddings of each numerical feature.

A plain MLP reads each feature as one number through one weight per unit, which
makes sharp, irregular functions of a single feature -- the kind trees fit
easily -- hard to learn. Gorishniy, Rubachev & Babenko (2022, "On Embeddings
for Numerical Features in Tabular Deep Learning") give each feature ``x_j`` its
own small embedding::

    e_j = ReLU(W_j [cos(2 pi c_j x_j), sin(2 pi c_j x_j)] + b_j)

with ``k`` learned frequencies ``c_j`` (initialised from ``N(0, sigma)``) and a
per-feature linear map ``W_j`` to ``embedding_dim`` numbers ("PLR"). The
embeddings are concatenated and read by an :class:`MLPStudent`.
"""

import math
import numbers

import torch
from torch import nn

from ._mlp import MLPStudent

__all__ = ["PeriodicEmbedding", "TabularStudent"]


class PeriodicEmbedding(nn.Module):
    """Per-feature periodic embeddings: ``(n, n_features)`` to ``(n, n_features, embedding_dim)``.

    Parameters
    ----------
    n_features : int
        Features of each row.
    n_frequencies : int, default=8
        Frequencies ``k`` per feature.
    embedding_dim : int, default=8
        Output numbers per feature.
    sigma : float, default=0.5
        Standard deviation of the initial frequencies, in cycles per unit of
        the (standardised) feature: larger values let each feature bend faster.

    See Also
    --------
    TabularStudent : The student built on it.

    Examples
    --------
    >>> import torch
    >>> PeriodicEmbedding(3, n_frequencies=4, embedding_dim=5)(torch.zeros(2, 3)).shape
    torch.Size([2, 3, 5])
    """

    def __init__(self, n_features, n_frequencies=8, embedding_dim=8, sigma=0.5):
        super().__init__()
        for name, value in (("n_frequencies", n_frequencies), ("embedding_dim", embedding_dim)):
            if not (isinstance(value, numbers.Integral) and value >= 1):
                raise ValueError(f"{name}={value!r} must be a whole number of at least 1 (each "
                                 "feature's embedding would be empty).")
        self.frequencies = nn.Parameter(torch.randn(n_features, n_frequencies) * sigma)
        bound = 1 / math.sqrt(2 * n_frequencies)
        self.weight = nn.Parameter(
            torch.empty(n_features, 2 * n_frequencies, embedding_dim).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(torch.empty(n_features, embedding_dim).uniform_(-bound, bound))

    def forward(self, X):
        """Embed each feature of a batch.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            A dense batch of standardised rows.

        Returns
        -------
        embedded : torch.Tensor of shape (n_samples, n_features, embedding_dim)
            ``ReLU(W_j [cos 2 pi c_j x_j, sin 2 pi c_j x_j] + b_j)`` per feature.
        """
        angles = 2 * math.pi * self.frequencies * X.unsqueeze(-1)
        periodic = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
        return torch.relu(torch.einsum("nfk,fkd->nfd", periodic, self.weight) + self.bias)


class TabularStudent(nn.Module):
    """An MLP over periodic embeddings of each feature (Gorishniy et al., 2022).

    Use it as ``student_module=TabularStudent`` with ``module__*`` parameters
    routed as for :class:`MLPStudent`. Its ``Linear`` layers are those of the
    inner :class:`MLPStudent`, so it can be pruned, and it exports to ONNX
    (cos, sin and a batched matrix product). Its frequencies are learnt for
    standardised features: ``encodes_numbers = True`` has
    ``student_preprocessor="auto"`` give it standardised numbers (and one-hot
    categories) only, not their piecewise-linear encoding.

    Parameters
    ----------
    n_features : int
        Features of each row (given by the distiller).
    n_outputs : int
        Classes, or 1 for regression (given by the distiller).
    hidden_layer_sizes : tuple of int, default=(64,)
        Widths of the MLP's hidden layers.
    n_frequencies : int, default=8
        Frequencies per feature (see :class:`PeriodicEmbedding`).
    embedding_dim : int, default=8
        Numbers per feature after the embedding.
    sigma : float, default=0.5
        Standard deviation of the initial frequencies.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.

    See Also
    --------
    MLPStudent : The plain MLP.
    PiecewiseLinearEncoder : The other road to piecewise shapes, as an encoding.

    References
    ----------
    .. [1] Y. Gorishniy, I. Rubachev, A. Babenko. "On Embeddings for Numerical Features in
       Tabular Deep Learning". NeurIPS 2022.

    Examples
    --------
    >>> import torch
    >>> net = TabularStudent(n_features=4, n_outputs=3, hidden_layer_sizes=(16,))
    >>> net(torch.zeros(5, 4)).shape
    torch.Size([5, 3])
    """

    encodes_numbers = True
    """It embeds each number itself: "auto" reads numeric columns only scaled for it."""

    def __init__(self, n_features, n_outputs, hidden_layer_sizes=(64,), n_frequencies=8,
                 embedding_dim=8, sigma=0.5, dropout=0.0):
        super().__init__()
        self.embedding = PeriodicEmbedding(n_features, n_frequencies, embedding_dim, sigma)
        self.mlp = MLPStudent(n_features * embedding_dim, n_outputs, hidden_layer_sizes, dropout)

    def forward(self, X):
        """Return the logits (or predictions) of a dense batch.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)
            A dense batch of standardised rows.

        Returns
        -------
        out : torch.Tensor of shape (n_samples, n_outputs)
            The outputs of the inner MLP.
        """
        return self.mlp(self.embedding(X).flatten(1))
