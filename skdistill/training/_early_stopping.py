"""Early stopping, for every engine: which loss is watched, when to stop, which weights stay.

A fit with held-out rows and ``n_iter_no_change`` watches the held-out label
loss (:func:`monitored_loss`: the cross-entropy against the labels, after
temperature scaling at ``T != 1``), stops once it has not improved by a
relative :data:`THRESHOLD` for ``n_iter_no_change`` epochs, and keeps the
mean of the best epoch's weights and those of every epoch after it (the
epochs it waited; see :class:`StopEarly`), scored on the held-out rows
(:func:`score_the_average`). One student keeps that rule through skorch's
``EarlyStopping`` (:func:`early_stopping_callback`), side-by-side candidates
through :class:`StackedEarlyStopping`, each candidate exactly as one
student. The loss a fit's choice compares (:func:`kept_held_out_loss`) is
that of the weights it keeps; :func:`still_improving` tells when
``max_epochs`` ended a fit early stopping would have continued.
"""

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping

__all__ = [
    "THRESHOLD", "StackedEarlyStopping", "StopEarly", "StopWhenBehind", "StoppedEarly",
    "early_stopping_callback", "score_the_average",
    "kept_epoch", "kept_held_out_loss", "monitored_loss", "still_improving",
]

THRESHOLD = 1e-4
"""An epoch improves on the best when its loss is lower by more than this share of it
(skorch's ``EarlyStopping`` default, relative)."""


def monitored_loss(loss_settings):
    """The history key early stopping watches for a student trained with ``loss_settings``.

    ``"valid_calibrated_loss"`` (the held-out labels' cross-entropy after
    temperature scaling) for a classifier at ``T != 1``, else
    ``"valid_label_loss"``.

    Examples
    --------
    >>> from skdistill.losses._settings import LossSettings
    >>> monitored_loss(LossSettings("classifier", 0.5)), monitored_loss(
    ...     LossSettings("classifier", 0.5, T=4.0))
    ('valid_label_loss', 'valid_calibrated_loss')
    """
    calibrates = loss_settings.classifies and float(loss_settings.T) != 1.0
    return "valid_calibrated_loss" if calibrates else "valid_label_loss"


class StoppedEarly(KeyboardInterrupt):
    """Raised by :class:`StopEarly`: skorch ends training on any KeyboardInterrupt."""


class StopEarly(EarlyStopping):
    """skorch's EarlyStopping, stopping with :class:`StoppedEarly`, keeping averaged weights.

    skorch stops a fit by raising KeyboardInterrupt, as Ctrl-C does; a distinct
    subclass lets the net tell the two apart wherever the interrupt arrives
    (Ctrl-C inside another callback's ``on_epoch_end`` included).

    With ``load_best`` and ``average`` (the default), the weights kept at
    the end are the mean of the best epoch's and those of every epoch
    trained after it (up to ``patience`` of them: the epochs early stopping
    waited, or fewer where ``max_epochs`` or another callback ended the
    fit): one network that averages the snapshots from the best on, in
    the way of stochastic weight averaging (Izmailov et al., 2018).
    Floating-point state is averaged; integer buffers keep the best
    epoch's values (``averaged_``: whether the mean was loaded). A
    distiller then scores the mean on the held-out rows
    (:func:`score_the_average`); ``benchmarks/weight_averaging.py``
    measures it against the best epoch alone on public tables.
    ``average=False`` (``callbacks__early_stopping__average=False`` on a
    distiller) keeps the best epoch's weights as they were. After Ctrl-C
    (the net's ``interrupted_``) neither is loaded: the weights of the last
    completed epoch stay, as the net's warning says.

    Examples
    --------
    >>> import torch
    >>> from skorch.history import History
    >>> class Net:
    ...     verbose, interrupted_ = 0, False
    ...     module_ = torch.nn.Linear(1, 1, bias=False)
    ...     history = History()
    >>> net, stopping = Net(), StopEarly(monitor="loss", patience=2, load_best=True)
    >>> stopping.on_train_begin(net)
    >>> try:  # the best loss in epoch 2; weights 1, 2, 3, 4
    ...     for epoch, loss in enumerate((0.5, 0.3, 0.4, 0.4), start=1):
    ...         net.history.new_epoch()
    ...         net.history.record("epoch", epoch)
    ...         net.history.record("loss", loss)
    ...         _ = torch.nn.init.constant_(net.module_.weight, epoch)
    ...         stopping.on_epoch_end(net)
    ... except StoppedEarly:
    ...     stopping.on_train_end(net)
    >>> net.module_.weight.item()  # the mean of epochs 2, 3 and 4
    3.0
    """

    def __init__(self, monitor="valid_loss", patience=5, threshold=1e-4, threshold_mode="rel",
                 lower_is_better=True, sink=print, load_best=False, average=True):
        super().__init__(monitor=monitor, patience=patience, threshold=threshold,
                         threshold_mode=threshold_mode, lower_is_better=lower_is_better,
                         sink=sink, load_best=load_best)
        self.average = average

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.summed_weights_, self.summed_epochs_ = None, 0
        self.averaged_, self.kept_figures_ = False, None

    def on_epoch_end(self, net, **kwargs):
        if self.load_best and self.average:
            improved = self._is_score_improved(net.history[-1, self.monitor])
            self._sum_weights(net.module_.state_dict(), restart=improved)
        try:
            super().on_epoch_end(net, **kwargs)
        except StoppedEarly:
            raise
        except KeyboardInterrupt:
            raise StoppedEarly() from None

    def _sum_weights(self, state, restart):
        """Restart the sum of floating-point weights at an improved epoch; add to it after."""
        if restart:
            self.summed_weights_ = {  # half precision summed in float32
                name: value.detach().to(torch.promote_types(value.dtype, torch.float32),
                                        copy=True)
                for name, value in state.items() if value.is_floating_point()
            }
            self.summed_epochs_ = 1
        elif self.summed_weights_ is not None:
            for name, summed in self.summed_weights_.items():
                summed += state[name]
            self.summed_epochs_ += 1

    def on_train_end(self, net, **kwargs):
        summed, self.summed_weights_ = self.summed_weights_, None  # not kept in a pickle
        if getattr(net, "interrupted_", False):
            return None  # Ctrl-C: the last completed epoch's weights stay, as the net warns
        if self.summed_epochs_ < 2:
            return super().on_train_end(net, **kwargs)
        state = {**self.best_model_weights_}
        state.update({name: total / self.summed_epochs_ for name, total in summed.items()})
        net.module_.load_state_dict(state)
        self.averaged_ = True
        self._sink(f"Keeping the mean of the weights of epoch {self.best_epoch_} and the "
                   f"{self.summed_epochs_ - 1} after it.", verbose=net.verbose)


class StopWhenBehind(Callback):
    """Stop a student that, at its recent pace, would not catch a leader's held-out loss in time.

    ``target``: the held-out loss (``monitor``) of the best epoch of a student
    trained before on the same rows, split and seed. After each epoch, this
    student's lowest loss so far is compared with it; while above, its pace is
    how much that lowest loss fell over the last ``patience`` epochs. It stops
    (:class:`StoppedEarly`) once, at that pace, it would need more epochs than
    it has trained to reach the target (or it has not improved at all). Loss
    curves flatten, so a straight line overstates what is still to come: the
    rule rather lets a loser run on than stops a student that would win.

    Examples
    --------
    >>> class Net:
    ...     history = []
    >>> race, net = StopWhenBehind(0.5, 2, "valid_label_loss"), Net()
    >>> race.initialize() is race
    True
    >>> try:  # at last 0.04 short at 0.005 an epoch: 8 epochs more, after 6
    ...     for loss in (1.0, 0.8, 0.6, 0.55, 0.54, 0.54):
    ...         net.history.append({"valid_label_loss": loss})
    ...         race.on_epoch_end(net)
    ... except StoppedEarly:
    ...     print(f"stopped after epoch {len(net.history)}")
    stopped after epoch 6
    """

    def __init__(self, target, patience, monitor):
        self.target = target
        self.patience = patience
        self.monitor = monitor

    def initialize(self):
        self.lowest_ = []  # the lowest loss after each epoch
        return self

    def on_epoch_end(self, net, **kwargs):
        loss = _finite_or_inf(net.history[-1].get(self.monitor, np.inf))
        self.lowest_.append(min(loss, self.lowest_[-1]) if self.lowest_ else loss)
        epochs, lowest = len(self.lowest_), self.lowest_[-1]
        if epochs <= self.patience or lowest <= self.target:
            return
        pace = (self.lowest_[-1 - self.patience] - lowest) / self.patience
        if not pace > 0 or (lowest - self.target) / pace > epochs:
            raise StoppedEarly()


def early_stopping_callback(loss_settings, patience):
    """The callback that stops a student trained with ``loss_settings``; best weights restored."""
    return StopEarly(monitor=monitored_loss(loss_settings), patience=patience,
                     threshold=THRESHOLD, load_best=True)


def kept_epoch(net, epochs_before=0, best_restored=True, mean=True):
    """The history row of the epoch whose weights a trained net keeps (None: none held out).

    Among the epochs of this fit (after ``epochs_before``, those a warm start
    continued) that logged the watched loss: where early stopping restored
    the best epoch's weights, the last epoch that improved on the best by
    more than :data:`THRESHOLD` (the one whose weights it restored; a
    non-finite loss never improves), else the last. Where the net keeps the
    mean of the weights from that epoch on (:func:`score_the_average`), the
    row's held-out figures are the mean's (``mean=False``: the epoch's own).

    Examples
    --------
    >>> from skdistill.losses._settings import LossSettings
    >>> class Net:
    ...     loss_settings = LossSettings("classifier", alpha=0.5)
    ...     history = [{"valid_label_loss": loss} for loss in (0.5, 0.3, 0.29999, 0.4)]
    >>> kept_epoch(Net())["valid_label_loss"], kept_epoch(Net(), best_restored=False)
    (0.3, {'valid_label_loss': 0.4})
    """
    key = monitored_loss(net.loss_settings)
    epochs = [epoch for epoch in net.history[epochs_before:] if key in epoch]
    if not epochs:
        return None
    if not best_restored:
        return epochs[-1]
    kept, threshold = epochs[0], np.inf
    for epoch in epochs:
        loss = _finite_or_inf(epoch[key])
        if loss < threshold:
            kept, threshold = epoch, loss * (1 - THRESHOLD)
    figures = getattr(_stopping_of(net), "kept_figures_", None) if mean else None
    return kept if figures is None else {**kept, **figures}


def _stopping_of(net):
    """The net's :class:`StopEarly` callback, or None."""
    stopping = dict(getattr(net, "callbacks_", None) or []).get("early_stopping")
    return stopping if isinstance(stopping, StopEarly) else None


def score_the_average(net, dataset_valid):
    """Score the mean of weights a fit's early stopping kept; the fit's choices then read it.

    Where :class:`StopEarly` loaded the mean of the best and later epochs'
    weights, that mean is scored on ``dataset_valid``
    (``net.held_out_figures``: the figures the history logs each epoch), and
    :func:`kept_epoch` gives the best epoch's row with those figures: the
    encoding and ``alpha="auto"`` compare the weights each student keeps, not
    the best epoch's. Nothing happens where no mean was loaded.
    """
    stopping = _stopping_of(net)
    if stopping is not None and stopping.averaged_:
        stopping.kept_figures_ = net.held_out_figures(dataset_valid)


def kept_held_out_loss(net, epochs_before=0, best_restored=True, mean=True):
    """The held-out label loss of the weights a trained net keeps (inf without one).

    The watched loss of :func:`kept_epoch` (``mean=False``: of the epoch the
    kept mean starts from); a non-finite loss counts as inf.
    """
    epoch = kept_epoch(net, epochs_before, best_restored, mean)
    if epoch is None:
        return float("inf")
    return _finite_or_inf(epoch[monitored_loss(net.loss_settings)])


def _finite_or_inf(loss):
    return float(loss) if np.isfinite(loss) else float("inf")


def still_improving(losses, patience):
    """Whether a fit's per-epoch ``losses`` reached their lowest in the last ``patience`` epochs.

    Examples
    --------
    >>> still_improving([0.5, 0.4, 0.3], patience=2), still_improving([0.3, 0.4, 0.5], 2)
    (True, False)
    """
    patience = min(patience, len(losses))
    return int(np.argmin(losses)) >= len(losses) - patience


class StackedEarlyStopping:
    """:func:`early_stopping_callback`'s rule kept for each candidate of a stacked model.

    ``weights`` are the stacked tensors (candidates on the leading axis);
    ``epoch_end`` takes each candidate's monitored loss, copies an improved
    candidate's weights into ``best`` and stops one that has missed
    ``patience`` epochs in a row (``running``; ``epochs``: when it stopped).
    ``stop_diverged`` stops a candidate whose weights or held-out loss are no
    longer finite (``diverged``), where a single fit's guard stops with an error.
    ``averaged()`` gives each candidate's weights as :class:`StopEarly` loads
    a single fit's: the mean of its best epoch's and those it trained after
    it.
    """

    def __init__(self, n_candidates, patience, weights):
        self.patience = patience
        self.threshold = np.full(n_candidates, np.inf)
        self.misses = np.zeros(n_candidates, dtype=int)
        self.running = np.ones(n_candidates, dtype=bool)
        self.epochs = np.zeros(n_candidates, dtype=int)
        self.best = [tensor.detach().clone() for tensor in weights]
        self.lowest = np.full(n_candidates, np.inf)  # over the epochs each one ran
        self.diverged = np.zeros(n_candidates, dtype=bool)
        self.summed = [tensor.detach().clone() for tensor in weights]  # from the best epoch on
        self.summed_epochs = np.zeros(n_candidates, dtype=int)

    def stop_diverged(self, epoch, finite):
        """Stop the running candidates that are not ``finite`` (a boolean per candidate)."""
        diverged = self.running & ~finite
        self.diverged |= diverged
        self.epochs[diverged] = epoch
        self.running &= ~diverged

    def epoch_end(self, epoch, losses, weights):
        finite = np.where(np.isfinite(losses), losses, np.inf)
        self.lowest[self.running] = np.minimum(self.lowest, finite)[self.running]
        improved = self.running & (losses < self.threshold)
        waiting = self.running & ~improved & (self.summed_epochs > 0)
        if improved.any():
            index = torch.as_tensor(np.flatnonzero(improved), device=weights[0].device)
            for best, summed, current in zip(self.best, self.summed, weights):
                best[index] = current.detach()[index]
                summed[index] = current.detach()[index]
        if waiting.any():
            index = torch.as_tensor(np.flatnonzero(waiting), device=weights[0].device)
            for summed, current in zip(self.summed, weights):
                summed[index] += current.detach()[index]
        self.summed_epochs[improved] = 1
        self.summed_epochs[waiting] += 1
        self.threshold[improved] = losses[improved] * (1 - THRESHOLD)
        self.misses[improved] = 0
        self.misses[self.running & ~improved] += 1
        stopped = self.running & (self.misses >= self.patience)
        self.epochs[stopped] = epoch
        self.running &= ~stopped

    def averaged(self):
        """Each candidate's mean of its best and later epochs' weights (its best alone where it
        trained none after it); also which candidates were averaged."""
        kept = [best.clone() for best in self.best]
        averaged = self.summed_epochs > 1
        for candidate in np.flatnonzero(averaged):
            epochs = int(self.summed_epochs[candidate])  # divided as a single fit divides
            for tensor, summed in zip(kept, self.summed):
                tensor[candidate] = summed[candidate] / epochs
        return kept, averaged
