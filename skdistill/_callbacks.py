"""skorch callbacks that log how the student follows the labels and the teacher."""

from skorch.callbacks import Callback

__all__ = ["AgreementScoring"]


class AgreementScoring(Callback):
    """Log per epoch the student's validation accuracy and its agreement with the teacher.

    Agreement is the fraction of held-out rows where the student's argmax
    equals the teacher's. Both come from the validation batches skorch already
    ran, so they cost no extra forward pass and nothing on training batches.
    History keys: ``valid_acc`` (hard-label accuracy) and ``valid_agreement``;
    absent when there is no validation split.
    """

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
