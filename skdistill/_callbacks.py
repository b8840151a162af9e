"""skorch callbacks that log how the student follows the labels and the teacher."""

from skorch.callbacks import Callback

__all__ = ["AgreementScoring"]


class AgreementScoring(Callback):
    """Log per epoch the student's accuracy and its agreement with the teacher.

    Agreement is the fraction of rows where the student's argmax equals the
    teacher's. Both are computed from the batches skorch already ran, so they
    cost no extra forward pass. History keys: ``valid_acc`` and
    ``valid_agreement`` from the validation rows (when there are any),
    ``train_agreement`` from the training batches (measured while training,
    i.e. before each batch's update). Rows without a label (``-1``) count for
    agreement only.
    """

    def on_epoch_begin(self, net, **kwargs):
        self._sums = {"train": [0, 0, 0, 0], "valid": [0, 0, 0, 0]}

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        Xb, yb = batch
        predicted = y_pred.detach().argmax(dim=1)
        labelled = yb >= 0
        sums = self._sums["train" if training else "valid"]
        sums[0] = sums[0] + (predicted == Xb["teacher_logits"].argmax(dim=1)).sum()
        sums[1] += len(yb)
        sums[2] = sums[2] + ((predicted == yb) & labelled).sum()
        sums[3] = sums[3] + labelled.sum()

    def on_epoch_end(self, net, **kwargs):
        for prefix, (agree, n, correct, n_labelled) in self._sums.items():
            if n:
                net.history.record(f"{prefix}_agreement", float(agree) / n)
            if prefix == "valid" and n:
                net.history.record("valid_acc", float(correct) / max(float(n_labelled), 1.0))
        del self._sums
