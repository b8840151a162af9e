"""A distiller without fitted attributes, for scikit-learn checks that record on an estimator."""

import copy

__all__ = ["blank_copy", "fitted_attributes"]


def fitted_attributes(estimator):
    """``{name: value}`` of the fitted attributes of ``estimator`` (public, ending in ``_``)."""
    return {k: v for k, v in vars(estimator).items() if k.endswith("_") and not k.startswith("_")}


def blank_copy(estimator):
    """A shallow copy of ``estimator`` without its fitted attributes.

    scikit-learn's ``validate_data`` records a table's width and column names
    on the estimator it checks for; a fit checks on a blank copy, reads what
    was recorded, and leaves the estimator itself unchanged until its fitted
    attributes are assigned together.

    Examples
    --------
    >>> from sklearn.preprocessing import StandardScaler
    >>> scaler = StandardScaler().fit([[0.0], [2.0]])
    >>> sorted(fitted_attributes(blank_copy(scaler))), blank_copy(scaler).with_mean
    ([], True)
    """
    blank = copy.copy(estimator)
    for name in fitted_attributes(blank):
        delattr(blank, name)
    return blank
