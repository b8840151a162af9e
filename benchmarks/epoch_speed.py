"""Per-epoch cost on small data: DistilledClassifier against MLPClassifier and a hand-written loop.

The workload where most scikit-learn users live: 4,000 rows x 20 features, 4 classes, a 32-unit
student, teacher logits precomputed (the teacher's own fit is excluded), a fixed number of
epochs, no validation split, batch sizes from 32 to 1024. Every contender runs on one thread
(torch and BLAS), and the contenders take turns, --repeats rounds. Each is timed fitting
--epochs and twice as many epochs: the cost of an epoch is the difference over --epochs
(medians), without the setup a fit pays once; the last column is the whole longer fit's time,
setup included, against ``MLPClassifier``'s.

Contenders:

* ``DistilledClassifier`` as shipped (``solver="auto"``, which picks the numpy engine here): no
  callback reads training batches, so each epoch runs quietly and each step in numpy, Adam's
  update included (``skdistill.training._numpy``);
* the same watched by a callback with an ``on_batch_end``: skorch's per-batch notifications,
  closed-form gradients (in numpy) and torch's fused Adam;
* ``solver="torch"``: skorch's steps through autograd, with the fused Adam;
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
from skorch.callbacks import Callback
from speed import hand_loop_seconds
from threadpoolctl import threadpool_limits

from skdistill import DistilledClassifier

HIDDEN = (32,)


class WatchBatches(Callback):
    """A callback that reads every batch (and does nothing): the epoch notifies it."""

    def on_batch_end(self, net, **kwargs):
        pass


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
    "DistilledClassifier, watched": lambda *a: distilled(
        *a, callbacks=[("watch", WatchBatches())]
    ),
    "DistilledClassifier, solver='torch'": lambda *a: distilled(*a, solver="torch"),
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
          f"hidden {HIDDEN}, fits of {args.epochs} and {2 * args.epochs} epochs, median of "
          f"{args.repeats}; ms per epoch = the difference / {args.epochs}; whole fit = the "
          f"{2 * args.epochs}-epoch fits' ratio")
    names = ("ours", "ours watched", "ours torch", "hand loop", "MLPClassifier")
    header = " ".join(f"{name:>14s}" for name in names)
    print(f"{'batch':>6s} {header}  {'ours/MLP':>9s} {'ours/hand':>9s} {'whole fit/MLP':>14s}")
    with threadpool_limits(1):
        for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
            times = {(name, e): [] for name in CONTENDERS for e in (1, 2)}
            for _ in range(args.repeats + 1):  # the first round warms up and is dropped
                for name, contender in CONTENDERS.items():
                    for e in (1, 2):
                        seconds = contender(X, y, logits, batch_size, e * args.epochs)
                        times[name, e].append(seconds)
            fit = {key: statistics.median(t[1:]) for key, t in times.items()}
            ms = {name: 1000 * (fit[name, 2] - fit[name, 1]) / args.epochs for name in CONTENDERS}
            cells = " ".join(f"{ms[name]:14.1f}" for name in CONTENDERS)
            ours, whole = ms["DistilledClassifier"], fit["DistilledClassifier", 2]
            print(f"{batch_size:6d} {cells}  {ours / ms['MLPClassifier']:8.2f}x "
                  f"{ours / ms['hand-written loop']:8.2f}x "
                  f"{whole / fit['MLPClassifier', 2]:13.2f}x", flush=True)

if __name__ == "__main__":
    main()
