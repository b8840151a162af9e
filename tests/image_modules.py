"""Small convolutional and recurrent modules for the image and sequence tests (importable by
the fresh processes that unpickle fitted models)."""

import torch
from torch import nn


class TinyCNN(nn.Module):
    """conv 3x3 -> ReLU -> max-pool 2 -> linear; built from the input shape it is given."""

    def __init__(self, input_shape, n_classes, channels=4):
        super().__init__()
        depth, height, width = input_shape
        self.features = nn.Sequential(
            nn.Conv2d(depth, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)
        )
        self.head = nn.Linear(channels * (height // 2) * (width // 2), n_classes)

    def forward(self, X):
        return self.head(self.features(X).flatten(1))


class TinyGRU(nn.Module):
    """A GRU over ``(steps, features)`` sequences; its last state is read by a linear layer."""

    def __init__(self, input_shape, n_outputs, hidden=8):
        super().__init__()
        self.gru = nn.GRU(input_shape[1], hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_outputs)

    def forward(self, X):
        return self.head(self.gru(X)[0][:, -1])


def trained_cnn(X, y, channels=16, steps=60, seed=0):
    """A TinyCNN teacher trained full-batch on (X, y)."""
    torch.manual_seed(seed)
    model = TinyCNN(X.shape[1:], int(y.max()) + 1, channels=channels)
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    inputs, labels = torch.as_tensor(X), torch.as_tensor(y)
    for _ in range(steps):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(inputs), labels).backward()
        optimizer.step()
    return model.eval()
