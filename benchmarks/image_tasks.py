"""Image tasks made from scikit-learn's digits, and the networks the image benchmark uses.

* ``digits_images()``: the 1,797 digits as ``(n, 1, 8, 8)`` float32 images in [0, 1].
* ``shifted_digits()``: a harder task from the same digits: each digit placed at a random
  position on a larger canvas, half of them turned by a random multiple of 90 degrees, light
  Gaussian noise; several copies of each digit, split so that no digit's copies are on both
  sides of the split.
* ``ConvNet``: a plain convolutional classifier (conv 3x3 blocks, each followed by ReLU and
  2x2 max-pooling, then a linear layer on the last feature map), teacher or student by its
  widths.
* ``train_on_labels()``: a hand-written torch training loop on the labels (the teachers, and
  a labels-only student trained on moved copies of the images).
* ``gap_table()``: the rows of a results table, with the share of the teacher's lead that
  each student closes.
"""

import statistics

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

from skdistill import Shift


def digits_images():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8), y


def shifted_digits(n_copies=6, canvas=16, noise=0.1, test_size=0.25, seed=0):
    """``(X_train, X_test, y_train, y_test)`` of digits moved about a ``canvas``-wide image."""
    images, labels = digits_images()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    n_test = int(round(test_size * len(labels)))
    parts = []
    for rows in (order[n_test:], order[:n_test]):
        X = np.zeros((len(rows) * n_copies, 1, canvas, canvas), dtype=np.float32)
        y = np.repeat(labels[rows], n_copies)
        for at, image in enumerate(np.repeat(images[rows], n_copies, axis=0)):
            if rng.random() < 0.5:
                image = np.rot90(image, k=int(rng.integers(1, 4)), axes=(1, 2))
            top, left = rng.integers(0, canvas - 8 + 1, size=2)
            X[at, :, top:top + 8, left:left + 8] = image
        X += rng.normal(0.0, noise, size=X.shape).astype(np.float32)
        parts.append((np.clip(X, 0.0, 1.0), y))
    (X_train, y_train), (X_test, y_test) = parts
    return X_train, X_test, y_train, y_test


class ConvNet(nn.Module):
    """Conv 3x3 + ReLU + max-pool 2x2 blocks of the given widths, then a linear layer.

    ``input_shape`` and ``n_classes`` are what the distillers pass a student class.
    """

    def __init__(self, input_shape, n_classes, widths=(4, 8)):
        super().__init__()
        layers, (depth, height, width) = [], input_shape
        for channels in widths:
            layers += [nn.Conv2d(depth, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            depth, height, width = channels, height // 2, width // 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(depth * height * width, n_classes)

    def forward(self, X):
        return self.head(self.features(X).flatten(1))


def n_parameters(module):
    return sum(p.numel() for p in module.parameters())


def train_on_labels(X, y, widths=(32, 64, 64), epochs=30, batch_size=128, lr=3e-3, seed=0,
                    max_shift=0):
    """A ConvNet trained on the labels by a hand-written loop (Adam, cross-entropy).

    ``max_shift``: each epoch also trains on a new copy of the images moved by up to that
    many pixels (``skdistill.Shift``), with their labels.
    """
    torch.manual_seed(seed)
    model = ConvNet(X.shape[1:], int(y.max()) + 1, widths)
    optimizer = torch.optim.Adam(model.parameters(), lr)
    inputs, labels = torch.as_tensor(X), torch.as_tensor(y)
    generator = torch.Generator().manual_seed(seed)
    moves = Shift(max_shift=max_shift).prepare(X) if max_shift else None
    rng = np.random.RandomState(seed)
    if moves is not None:
        labels = torch.cat([labels, labels])
    for _ in range(epochs):
        if moves is not None:
            inputs = torch.as_tensor(np.concatenate([X, moves.draw(rng, n_copies=1)]))
        for batch in torch.randperm(len(labels), generator=generator).split(batch_size):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(inputs[batch]), labels[batch]).backward()
            optimizer.step()
    return model.eval()


def accuracy(model, X, y):
    with torch.no_grad():
        return float((model(torch.as_tensor(X)).argmax(1).numpy() == y).mean())


def gap_table(rows, teacher, alone):
    """Markdown rows: name, parameters, epochs, test accuracy and the share of the gap closed.

    ``rows`` maps a name to one ``(accuracy, parameters[, epochs])`` per seed; ``teacher``
    and ``alone`` name the teacher's row and the labels-only student's. Gap closed =
    (student - labels alone) / (teacher - labels alone), in the means over seeds.
    """
    def mean(name, at):
        return statistics.mean(r[at] for r in rows[name])

    top, base = mean(teacher, 0), mean(alone, 0)
    lines = [
        "| model | parameters | epochs (mean) | test accuracy | gap closed |",
        "|---|---|---|---|---|",
    ]
    for name, results in rows.items():
        epochs = f"{mean(name, 2):.0f}" if len(results[0]) > 2 else ""
        closed = "" if name == teacher else f"{100 * (mean(name, 0) - base) / (top - base):.0f} %"
        lines.append(f"| {name} | {results[0][1]:,} | {epochs} | {mean(name, 0):.4f} | {closed} |")
    return lines
