"""skorch callbacks that log how the student follows the labels and the teacher."""

import math
import re
import sys

from skorch.callbacks import Callback

__all__ = ["AgreementScoring", "R2Scoring", "TrainingGuard", "print_plain"]

_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


class AgreementScoring(Callback):
    """Log per epoch the student's validation accuracy and its agreement with the teacher.

    Agreement is the fraction of held-out rows where the student's argmax
    equals the teacher's. Both come from the validation batches skorch already
    ran, so they cost no extra forward pass and nothing on training batches.
    History keys: ``valid_acc`` (hard-label accuracy) and ``valid_agreement``;
    absent when there is no validation split.
    """

    reads_training_batches = False
    """Its ``on_batch_end`` ignores training batches: a training epoch may skip it."""

    def on_epoch_begin(self, net, **kwargs):
        self._agree = self._correct = self._rows = 0

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if training:
            return
        Xb, yb = batch
        predicted = y_pred.argmax(dim=1)
        self._agree = self._agree + (predicted == Xb["teacher_logits"].argmax(dim=1)).sum()
        self._correct = self._correct + (predicted == yb).sum()
        self._rows += len(yb)

    def on_epoch_end(self, net, **kwargs):
        if self._rows:
            net.history.record("valid_agreement", float(self._agree) / self._rows)
            net.history.record("valid_acc", float(self._correct) / self._rows)
        # the sums may be tensors on the training device: keep none in a fitted (pickled) model
        self._agree = self._correct = self._rows = 0


class R2Scoring(Callback):
    """Log per epoch a regression student's R2 on the held-out rows (``valid_r2``).

    The coefficient of determination of the validation batches skorch already
    ran (no extra forward pass), over the rows with a target; R2 does not
    depend on the targets' standardisation. Absent without a validation split
    or with fewer than two distinct held-out targets.

    Examples
    --------
    >>> import torch
    >>> from types import SimpleNamespace
    >>> net = SimpleNamespace(history=SimpleNamespace(record=lambda key, value: print(key, value)))
    >>> scoring = R2Scoring()
    >>> scoring.on_epoch_begin(net)
    >>> target = torch.tensor([0.0, 1.0, 2.0, float("nan")])
    >>> scoring.on_batch_end(net, ({}, target), y_pred=torch.tensor([[0.0], [1.0], [1.0], [5.0]]))
    >>> scoring.on_epoch_end(net)  # 1 - 1 / 2
    valid_r2 0.5
    """

    reads_training_batches = False
    """Its ``on_batch_end`` ignores training batches: a training epoch may skip it."""

    def on_epoch_begin(self, net, **kwargs):
        self._sums = [0.0, 0.0, 0.0, 0]  # squared errors, targets, squared targets, rows

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if training:
            return
        _, target = batch
        labelled = ~target.isnan()
        predicted = y_pred.reshape(len(target), -1)[:, 0][labelled].double()
        target = target[labelled].double()
        sums = self._sums  # tensors on the training device: read once, at the epoch's end
        sums[0] = sums[0] + ((predicted - target) ** 2).sum()
        sums[1] = sums[1] + target.sum()
        sums[2] = sums[2] + (target ** 2).sum()
        sums[3] = sums[3] + labelled.sum()

    def on_epoch_end(self, net, **kwargs):
        errors, total, squares, rows = (float(value) for value in self._sums)
        spread = squares - total * total / rows if rows else 0.0
        if rows and spread > 0:
            net.history.record("valid_r2", 1.0 - errors / spread)
        self._sums = [0.0, 0.0, 0.0, 0]


class TrainingGuard(Callback):
    """Keep the last completed epoch's weights and stop a diverging fit with advice.

    * At the start of training and after every completed epoch the module's
      weights are copied (on their device), so an interrupted fit (Ctrl-C) can
      fall back to the last completed epoch instead of a half-updated one.
    * When an epoch's training or validation loss is not finite (an exploding
      learning rate, unscaled features), training stops with a ValueError that
      says what to change, instead of leaving NaN weights behind.
    """

    def on_train_begin(self, net, **kwargs):
        self.snapshot_ = _copy_state(net.module_)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for key in ("train_loss", "valid_loss"):
            value = row.get(key)
            if value is not None and not math.isfinite(value):
                raise ValueError(
                    f"Training diverged in epoch {row['epoch']}: {key} became {value}. "
                    f"Lower the learning rate (lr={net.lr:g}), let the student read standardised "
                    "features (student_preprocessor='auto', the default, or a scaler as "
                    "student_preprocessor: the teacher keeps reading X as given) or clip large "
                    "inputs; the estimator was left as it was before this fit."
                )
        self.snapshot_ = _copy_state(net.module_)

    def restore_last_completed_epoch(self, net):
        """Load the last completed epoch's weights and drop a half-run epoch from the history."""
        net.module_.load_state_dict(self.snapshot_)
        if len(net.history) and "train_loss" not in net.history[-1]:
            del net.history[-1]

    def __getstate__(self):
        state = dict(vars(self))
        state.pop("snapshot_", None)  # weights are in the module already; keep pickles small
        return state


def _copy_state(module):
    return {name: value.detach().clone() for name, value in module.state_dict().items()}


def print_plain(text):
    """``print(text)``, without skorch's colour codes unless stdout is a terminal.

    skorch colours the best scores with ANSI escape codes; in a file, a pipe or
    a CI log they show up as ``\x1b[32m`` noise. The net's log prints through
    this sink (``PrintLog(sink=print_plain)``).
    """
    isatty = getattr(sys.stdout, "isatty", None)
    print(text if isatty is not None and isatty() else _ANSI_CODE.sub("", text))
