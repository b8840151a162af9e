"""Plot a fitted student's training history (needs matplotlib: ``pip install skdistill[plot]``)."""

from ..deploy._export import final_distiller

__all__ = ["plot_history"]

_SCORES = ("valid_acc", "valid_agreement", "valid_r2")
"""The held-out scores drawn on the right, as the history names them."""


def plot_history(estimator, path=None):
    """Plot train and validation loss, and the held-out scores, per epoch.

    A classifier's held-out scores are its accuracy and its agreement with the
    teacher; a regressor's, its R2.

    Parameters
    ----------
    estimator : DistilledClassifier, DistilledRegressor or Pipeline ending with one
        The fitted model.
    path : str or path-like, default=None
        If given, the figure is also saved there (PNG by extension).

    Returns
    -------
    figure : matplotlib.figure.Figure
        Loss on the left; the held-out scores on the right (titled "validation
        accuracy and agreement", or for a regressor "validation R2").

    See Also
    --------
    report : The teacher and the student side by side.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skdistill import DistilledClassifier, plot_history
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DistilledClassifier(LogisticRegression(max_iter=500), max_epochs=4,
    ...                           random_state=0).fit(X, y)
    >>> figure = plot_history(clf)
    >>> [axes.get_title() for axes in figure.axes]
    ['loss', 'validation accuracy and agreement']
    """
    try:  # the session's backend, as it is (Agg where no display is found)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plot_history needs matplotlib: pip install matplotlib (or skdistill[plot])."
        ) from exc
    distiller = final_distiller(estimator)
    history = distiller.student_.history
    scores = [key for key in _SCORES if _curve(history, key)[0]]
    figure, axes = plt.subplots(1, 2 if scores else 1, figsize=(10 if scores else 5, 3.5),
                                squeeze=False)
    loss_axes = axes[0][0]
    for key in ("train_loss", "valid_loss"):
        epochs, values = _curve(history, key)
        if epochs:
            loss_axes.plot(epochs, values, label=key)
    loss_axes.set(title="loss", xlabel="epoch")
    loss_axes.legend()
    if scores:
        score_axes = axes[0][1]
        for key in scores:
            score_axes.plot(*_curve(history, key), label=key)
        title = "validation R2" if scores == ["valid_r2"] else "validation accuracy and agreement"
        score_axes.set(title=title, xlabel="epoch")
        score_axes.legend()
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=100)
    return figure


def _curve(history, key):
    """``(epochs, values)`` of the epochs that recorded ``key`` (a warm start may have turned
    validation on or off)."""
    points = [(epoch["epoch"], epoch[key]) for epoch in history if key in epoch]
    return [epoch for epoch, _ in points], [value for _, value in points]
