"""Per-epoch cost on small data: DistilledClassifier against MLPClassifier and a hand-written loop.

The workload where most scikit-learn users live: 4,000 rows x 20 features, 4 classes, a 32-unit
student, teacher logits precomputed (the teacher's own fit is excluded), a fixed number of
epochs, no validation split, batch sizes from 32 to 1024. Every contender runs on one thread
(torch and BLAS), and the contenders take turns, --repeats rounds; the table gives the median
milliseconds per epoch (whole fit / epochs) and the ratios.

Contenders:

* ``DistilledClassifier`` as shipped: closed-form steps for the built-in MLP and loss (see
  ``skdistill._closed_form``) and fused Adam;
* the same with autograd steps and the unfused Adam (``student_module`` a subclass of
  ``MLPStudent``, ``optimizer__foreach=False``): what the estimator did before;
* a hand-written torch loop (autograd, Adam, ``DistillationLoss``), as in ``speed.py``;
* ``MLPClassifier`` (adam, same width, batch and learning rate, no early stopping).

Run:  python benchmarks/epoch_speed.py            (about 3 minutes on 2 cores)
"""

import argparse
import statistics
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from speed import hand_loop_seconds
from threadpoolctl import threadpool_limits

from skdistill import DistilledClassifier, MLPStudent

HIDDEN = (32,)


class AutogradMLP(MLPStudent):
    """``MLPStudent`` under another name: the closed-form step applies to the class itself only."""


def make_data(n_rows=4000, n_features=20, n_classes=4, seed=0):
    X, y = make_classification(
        n_samples=n_rows, n_features=n_features, n_informative=10, n_classes=n_classes,
        random_state=seed,
    )
    rng = np.random.RandomState(seed)
    logits = (3 * np.eye(n_classes)[y] + rng.normal(size=(n_rows, n_classes))).astype(np.float32)
    return X.astype(np.float32), y, logits


def distilled(X, y, logits, batch_size, epochs, **settings):
    model = DistilledClassifier(
        "precomputed", T=2.0, alpha=0.5, module__hidden_layer_sizes=HIDDEN, max_epochs=epochs,
        batch_size=batch_size, validation_fraction=None, random_state=0, **settings,
    )
    start = time.perf_counter()
    model.fit(X, y, teacher_logits=logits)
    return time.perf_counter() - start


def mlp_classifier(X, y, logits, batch_size, epochs):
    model = MLPClassifier(
        HIDDEN, batch_size=batch_size, learning_rate_init=1e-3, max_iter=epochs, tol=0.0,
        n_iter_no_change=10**6, random_state=0,
    )
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


CONTENDERS = {
    "DistilledClassifier": distilled,
    "DistilledClassifier, autograd": lambda *a: distilled(
        *a, student_module=AutogradMLP, optimizer__foreach=False
    ),
    "hand-written loop": lambda X, y, logits, batch_size, epochs: hand_loop_seconds(
        X, y, logits, HIDDEN, epochs, batch_size
    ),
    "MLPClassifier": mlp_classifier,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", default="32,64,128,256,512,1024")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", ConvergenceWarning)  # fixed epochs, on purpose
    X, y, logits = make_data()
    print(f"torch {torch.__version__}, 1 thread; {X.shape[0]} x {X.shape[1]}, 4 classes, "
          f"hidden {HIDDEN}, {args.epochs} epochs, median of {args.repeats}; ms per epoch")
    names = ("ours", "ours autograd", "hand loop", "MLPClassifier")
    header = " ".join(f"{name:>14s}" for name in names)
    print(f"{'batch':>6s} {header}  {'ours/MLP':>9s} {'ours/hand':>9s}")
    with threadpool_limits(1):
        for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
            times = {name: [] for name in CONTENDERS}
            for _ in range(args.repeats + 1):  # the first round warms up and is dropped
                for name, contender in CONTENDERS.items():
                    times[name].append(contender(X, y, logits, batch_size, args.epochs))
            ms = {name: 1000 * statistics.median(t[1:]) / args.epochs for name, t in times.items()}
            cells = " ".join(f"{ms[name]:14.1f}" for name in CONTENDERS)
            ours = ms["DistilledClassifier"]
            print(f"{batch_size:6d} {cells}  {ours / ms['MLPClassifier']:8.2f}x "
                  f"{ours / ms['hand-written loop']:8.2f}x", flush=True)


if __name__ == "__main__":
    main()
