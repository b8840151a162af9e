"""Training speed: distillation overhead, skorch's default path and a hand-written loop.

Measures, side by side in one run (medians over --repeats runs):

* ``DistilledClassifier.fit`` with precomputed teacher logits (so the teacher's
  own fit is excluded) versus skorch's ``NeuralNetClassifier`` training the same
  module on the same data, epochs and batch size (target: within 1.10x);
* the same fit versus a hand-written PyTorch loop over tensors computing the
  same distillation loss (the practical limit; target: within 1.3x);
* how the fit time grows from 10 000 to 1 000 000 rows.

The distiller reads X as given (``student_preprocessor=None``), as skorch and the
loop do; a second row times the default ``student_preprocessor="auto"``, which
also trains a student for each candidate encoding to choose one.

Workload: 50 000 rows x 50 features, 10 classes, a 2 x 256 MLP student.

Run:  python benchmarks/speed.py            (CPU, about 5 minutes on 2 cores)
      python benchmarks/speed.py --device cuda --batch-size 1024
"""

import argparse
import statistics
import time

import numpy as np
import torch
from results_log import ResultsLog
from sklearn.datasets import make_classification
from skorch import NeuralNetClassifier

from skdistill import DistillationLoss, DistilledClassifier, MLPStudent


def make_data(n_rows, seed=0):
    X, y = make_classification(
        n_samples=n_rows, n_features=50, n_informative=30, n_classes=10,
        n_clusters_per_class=1, random_state=seed,
    )
    rng = np.random.RandomState(seed)
    teacher_logits = (np.eye(10)[y] * 3 + rng.normal(size=(n_rows, 10))).astype(np.float32)
    return X.astype(np.float32), y, teacher_logits


def module_factory():
    return dict(student_module=MLPStudent, module__hidden_layer_sizes=(256, 256))


def time_distilled(X, y, logits, args, student_preprocessor=None):
    """The fit; ``student_preprocessor=None`` reads X as given, as skorch and the loop do."""
    clf = DistilledClassifier(
        "precomputed", T=2.0, alpha=0.5, max_epochs=args.epochs, batch_size=args.batch_size,
        validation_fraction=None, device=args.device, random_state=0,
        student_preprocessor=student_preprocessor, **module_factory(),
    )
    start = time.perf_counter()
    clf.fit(X, y, teacher_logits=logits)
    _sync(args.device)
    return time.perf_counter() - start


def time_skorch(X, y, logits, args):
    torch.manual_seed(0)
    net = NeuralNetClassifier(
        MLPStudent, module__n_features=X.shape[1], module__n_outputs=10,
        module__hidden_layer_sizes=(256, 256), criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam, lr=1e-3, max_epochs=args.epochs, batch_size=args.batch_size,
        iterator_train__shuffle=True, train_split=None, device=args.device, verbose=0,
    )
    start = time.perf_counter()
    net.fit(X, y)
    _sync(args.device)
    return time.perf_counter() - start


def time_distilled_auto(X, y, logits, args):
    return time_distilled(X, y, logits, args, student_preprocessor="auto")


def time_hand_loop(X, y, logits, args):
    return hand_loop_seconds(X, y, logits, (256, 256), args.epochs, args.batch_size, args.device)


def hand_loop_seconds(X, y, logits, hidden, epochs, batch_size, device="cpu"):
    """The practical limit: tensors resident on the device, one slice per batch, autograd, Adam."""
    torch.manual_seed(0)
    device = torch.device(device)
    module = MLPStudent(X.shape[1], logits.shape[1], hidden).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    criterion = DistillationLoss(T=2.0, alpha=0.5)
    start = time.perf_counter()
    Xt = torch.from_numpy(X).to(device)
    Lt = torch.from_numpy(logits).to(device)
    yt = torch.from_numpy(y.astype(np.int64)).to(device)
    for _ in range(epochs):
        order = torch.randperm(len(Xt), device=device)
        total = torch.zeros((), device=device)
        for i in range(0, len(Xt), batch_size):
            index = order[i : i + batch_size]
            optimizer.zero_grad()
            loss = criterion(module(Xt[index]), Lt[index], yt[index])
            loss.backward()
            optimizer.step()
            total += loss.detach()
        total.item()
    _sync(device)
    return time.perf_counter() - start


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def median_time(fn, data, args):
    fn(*data, args)  # warm-up (allocations, lazy initialisation)
    return statistics.median(fn(*data, args) for _ in range(args.repeats))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scaling", default="10000,100000,1000000",
                        help="comma-separated row counts for the growth table ('' to skip)")
    args = parser.parse_args()
    log = ResultsLog("speed.txt" if args.device == "cpu" else "speed_gpu.txt")
    log(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, "
        f"batch {args.batch_size}, {args.epochs} epochs, median of {args.repeats}")

    data = make_data(args.rows)
    samples = args.rows * args.epochs
    results = {}
    for name, fn in [("hand-written loop", time_hand_loop),
                     ("skorch NeuralNetClassifier", time_skorch),
                     ("DistilledClassifier", time_distilled),
                     ("DistilledClassifier, 'auto'", time_distilled_auto)]:
        results[name] = median_time(fn, data, args)
        log(f"{name:28s} {results[name]:7.3f} s  {samples / results[name] / 1e6:6.3f} M samples/s")
    ours = results["DistilledClassifier"]
    log(f"ratio DistilledClassifier / NeuralNetClassifier: {ours / results['skorch NeuralNetClassifier']:.2f}x"
        "  (target <= 1.10)")
    log(f"ratio DistilledClassifier / hand-written loop:   {ours / results['hand-written loop']:.2f}x"
        "  (target <= 1.30)")
    auto = results["DistilledClassifier, 'auto'"]
    log(f"ratio with the default student_preprocessor='auto' / hand-written loop: "
        f"{auto / results['hand-written loop']:.2f}x  (it also trains a student per candidate "
        "encoding on held-out rows)")

    sizes = [int(s) for s in args.scaling.split(",") if s]
    if sizes:
        log("\nfit time growth, 1 epoch, DistilledClassifier:")
        one_epoch = argparse.Namespace(**{**vars(args), "epochs": 1})
        base = None
        for n in sizes:
            t = time_distilled(*make_data(n), one_epoch)
            base = base or t / n
            log(f"  {n:>9,} rows  {t:8.2f} s  {n / t / 1e6:6.3f} M samples/s  "
                f"time per row vs smallest: {t / n / base:.2f}x")
    log.save()


if __name__ == "__main__":
    main()
