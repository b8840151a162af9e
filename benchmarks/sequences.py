"""Distilling a recurrent network on sequences made from scikit-learn's digits.

Each digit is read row by row as a sequence of 8 steps of 8 numbers, placed at a random
time in a 16-step sequence of light noise (several copies of each digit, split so that no
digit's copies are on both sides). A GRU teacher (64 hidden units) is trained by a
hand-written loop; a GRU student (6 units) is trained on the labels alone and distilled from
the teacher's logits through the plain call, over --seeds seeds. Test accuracy, parameters
and how much of the gap between the labels-only student and the teacher distillation closes.

Saves the table to ``benchmarks/results/sequences.md``.

Run:  python benchmarks/sequences.py            (about 5 minutes on 2 cores)
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import torch
from image_tasks import digits_images, gap_table, n_parameters
from results_log import machine
from torch import nn

from skdistill import DistilledClassifier

RESULTS = Path(__file__).parent / "results" / "sequences.md"


class GRUNet(nn.Module):
    """A GRU over ``(steps, features)`` sequences; its last state is read by a linear layer."""

    def __init__(self, input_shape, n_classes, hidden=6):
        super().__init__()
        self.gru = nn.GRU(input_shape[1], hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, X):
        return self.head(self.gru(X)[0][:, -1])


def shifted_sequences(n_copies=4, steps=16, noise=0.1, test_size=0.25, seed=0):
    images, labels = digits_images()
    rows = images[:, 0]  # (n, 8 steps, 8 numbers)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    n_test = int(round(test_size * len(labels)))
    parts = []
    for chosen in (order[n_test:], order[:n_test]):
        X = rng.normal(0.0, noise, size=(len(chosen) * n_copies, steps, 8)).astype(np.float32)
        for at, digit in enumerate(np.repeat(rows[chosen], n_copies, axis=0)):
            start = rng.integers(0, steps - 8 + 1)
            X[at, start:start + 8] += digit
        parts.append((X, np.repeat(labels[chosen], n_copies)))
    (X_train, y_train), (X_test, y_test) = parts
    return X_train, X_test, y_train, y_test


def train_teacher(X, y, hidden=64, epochs=30, seed=0):
    torch.manual_seed(seed)
    model = GRUNet(X.shape[1:], 10, hidden)
    optimizer = torch.optim.Adam(model.parameters(), 3e-3)
    inputs, labels = torch.as_tensor(X), torch.as_tensor(y)
    for _ in range(epochs):
        for batch in torch.randperm(len(y)).split(128):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(inputs[batch]), labels[batch]).backward()
            optimizer.step()
    return model.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    rows = {}
    for seed in range(args.seeds):
        X_train, X_test, y_train, y_test = shifted_sequences(seed=seed)
        teacher = train_teacher(X_train, y_train, seed=seed)
        with torch.no_grad():
            accuracy = float((teacher(torch.as_tensor(X_test)).argmax(1).numpy() == y_test).mean())
        rows.setdefault("teacher GRU (64 units)", []).append((accuracy, n_parameters(teacher)))
        for name, params in {
            "student GRU (6 units), labels alone (alpha=0)": dict(alpha=0.0),
            "student GRU (6 units), distilled (defaults)": dict(),
            "student GRU (6 units), logits, T=4, alpha=0.7": dict(T=4.0, alpha=0.7),
        }.items():
            clf = DistilledClassifier(teacher, student_module=GRUNet, random_state=seed, **params)
            clf.fit(X_train, y_train)
            rows.setdefault(name, []).append(
                (clf.score(X_test, y_test), n_parameters(clf.student_.module_), clf.n_iter_))
            print(name, seed, rows[name][-1], flush=True)
    lines = [
        f"Command: python3 benchmarks/sequences.py --seeds {args.seeds}",
        f"Machine: {machine('one thread')}",
        "Digits read row by row at a random time in 16-step noisy sequences; mean test accuracy; "
        "gap closed = (student - labels alone) / (teacher - labels alone).",
        "",
        *gap_table(rows, "teacher GRU (64 units)",
                   "student GRU (6 units), labels alone (alpha=0)"),
    ]
    print("\n".join(lines))
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
